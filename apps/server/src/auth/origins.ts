/**
 * The origins a sign-in (SIGN-IN-WITH-X, SIWE) may be bound to, fixed by configuration at start. Never a
 * request's own: its Host header is the caller's to write, so a sign-in made for another site would pass
 * simply by claiming to be that site.
 */
export class SignInOrigins {
  readonly #origins: readonly URL[];

  /** `origins` are URLs; only their origin counts. The first is the one the server's own messages name. */
  constructor(origins: readonly string[]) {
    if (origins.length === 0) throw new Error("SignInOrigins needs at least one origin");
    this.#origins = origins.map((origin) => new URL(new URL(origin).origin));
  }

  /** The origin a message the server writes (a SIWE challenge) names. */
  get primary(): URL {
    return this.#origins[0] as URL;
  }

  /** The configured origin whose host (`domain` in EIP-4361 and CAIP-122) is `host`, if any. */
  byHost(host: string): URL | undefined {
    return this.#origins.find((origin) => origin.host === host);
  }

  /** "'localhost:8000' or '127.0.0.1:8000'": the hosts a refusal names. */
  describe(): string {
    return this.#origins.map((origin) => `'${origin.host}'`).join(" or ");
  }
}
