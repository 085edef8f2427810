import { errors, jwtVerify, SignJWT } from "jose";
import { ROLES, type Role } from "../db/schema.ts";

/** Why a bearer token was refused; the message says it to the caller. */
export type TokenProblem = "malformed" | "expired" | "invalid_signature" | "invalid_claims";

export class TokenError extends Error {
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

export interface AccessTokenClaims {
  readonly userId: string;
  /** What the role was at login; never trusted for permissions (the database's is). */
  readonly role: Role;
  /** The account's token version at login: a password or role change moves it on, and this token is refused. */
  readonly version: number;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
}

const ALGORITHM = "HS256";
const ISSUER = "robo402";

/** HS256 access tokens: `sub` is the user id, `role`, `ver` (the token version) and `exp` ride along. */
export class AccessTokens {
  readonly #key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.#key = new TextEncoder().encode(secret);
  }

  async issue(user: { id: string; role: Role; tokenVersion: number }): Promise<IssuedToken> {
    const token = await new SignJWT({ role: user.role, ver: user.tokenVersion })
      .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.#key);
    return { token, expiresIn: this.ttlSeconds };
  }

  /** The token's claims, or a TokenError saying what is wrong with it. */
  async verify(token: string): Promise<AccessTokenClaims> {
    let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
    try {
      ({ payload } = await jwtVerify(token, this.#key, { algorithms: [ALGORITHM], issuer: ISSUER }));
    } catch (error) {
      throw refusal(error);
    }
    const role = ROLES.find((known) => known === payload.role);
    const version = payload.ver;
    if (!payload.sub || !role || !Number.isSafeInteger(version) || payload.exp === undefined) {
      throw new TokenError(
        "invalid_claims",
        "Token refused: it lacks the subject, role, version or expiry it needs.",
      );
    }
    return { userId: payload.sub, role, version: version as number };
  }
}

function refusal(error: unknown): TokenError {
  if (error instanceof errors.JWTExpired) {
    return new TokenError("expired", "Token refused: it has expired; log in again.");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenError("invalid_signature", "Token refused: invalid signature.");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new TokenError(
      "invalid_signature",
      `Token refused: invalid signature (only ${ALGORITHM} tokens are accepted).`,
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new TokenError("invalid_claims", `Token refused: claim '${error.claim}' is not valid here.`);
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new TokenError("malformed", "Token refused: malformed (expected a signed JWT).");
  }
  throw error;
}
