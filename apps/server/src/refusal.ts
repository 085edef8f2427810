/**
 * Why the platform will not do what it was asked, in the platform's own words. Services throw these and
 * know nothing of HTTP; `http/errors.ts` alone decides which status each kind answers with.
 */
export type RefusalKind =
  /** The request cannot be read as what it claims to be (a payment header that is not x402…). */
  | "malformed"
  /** Who is asking is unknown or not proven. */
  | "unauthenticated"
  /** Who is asking is known, and may not do this. */
  | "forbidden"
  | "not_found"
  /** The current state does not allow it: a robot in use, a payment already used, a race lost. */
  | "conflict"
  /** Readable, but breaks a rule of what it may say (a robot that does not sell that service…). */
  | "invalid"
  /** A robot, the facilitator or a store is away for now; asking again later may work. */
  | "unavailable"
  /** The robot answered, with a failure. */
  | "robot_failed"
  /** The robot did not answer in time. */
  | "robot_timeout";

export class Refusal extends Error {
  constructor(
    readonly kind: RefusalKind,
    /** A sentence the caller can act on. */
    readonly detail: string,
  ) {
    super(detail);
    this.name = "Refusal";
  }
}

/** True when `error` is a refusal of this kind. */
export const isRefusal = (error: unknown, kind: RefusalKind): error is Refusal =>
  error instanceof Refusal && error.kind === kind;
