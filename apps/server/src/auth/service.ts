import type { Db } from "../db/client.ts";
import type { Role } from "../db/schema.ts";
import type { Kv } from "../kv/kv.ts";
import { Refusal } from "../refusal.ts";
import { bootstrapAdmin } from "./bootstrap.ts";
import type { SignInOrigins } from "./origins.ts";
import { hashPassword, verifyAgainstDecoy, verifyPassword } from "./passwords.ts";
import { jwtSecret } from "./secret.ts";
import { type User, type UserFilter, UserStore } from "./store.ts";
import { AccessTokens } from "./tokens.ts";
import { type WalletChallenge, WalletProof } from "./wallet-proof.ts";

/** The caller a request speaks for, as routes see it. */
export interface AuthUser {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly walletAddress: string | null;
}

export interface SignedIn {
  readonly token: string;
  readonly expiresIn: number;
  readonly user: User;
}

export interface AuthOptions {
  /** JWT_SECRET; without it one is made once and kept in the database. */
  readonly jwtSecret?: string;
  readonly ttlMinutes: number;
  /** The chain id SIWE messages name; default anvil's 31337. */
  readonly chainId?: number;
  /** The origins SIWE messages are bound to (PUBLIC_URL, or the local server's own). */
  readonly origins: SignInOrigins;
}

const REGISTERABLE: readonly Role[] = ["user", "robot_owner"];

/** Accounts: sign-up, log-in, bearer tokens, wallet linking and roles. */
export class AuthService {
  constructor(
    readonly users: UserStore,
    private readonly tokens: AccessTokens,
    private readonly wallets: WalletProof,
  ) {}

  static async open(db: Db, kv: Kv, options: AuthOptions): Promise<AuthService> {
    const secret = await jwtSecret(db, options.jwtSecret);
    return new AuthService(
      new UserStore(db),
      new AccessTokens(secret, options.ttlMinutes * 60),
      new WalletProof(kv, { chainId: options.chainId ?? 31337, origins: options.origins }),
    );
  }

  /** `email` arrives lower-cased (the protocol's Email does it). */
  async register(input: { email: string; password: string; role?: Role }): Promise<SignedIn> {
    const role = input.role ?? "user";
    if (!REGISTERABLE.includes(role)) {
      throw new Refusal(
        "forbidden",
        `Cannot register as ${role}: choose user or robot_owner; an admin promotes accounts.`,
      );
    }
    const user = await this.users.create({
      email: input.email,
      passwordHash: await hashPassword(input.password),
      role,
    });
    if (!user) throw new Refusal("conflict", "An account with this email already exists.");
    return this.#signIn(user);
  }

  async login(email: string, password: string): Promise<SignedIn> {
    const user = await this.users.byEmail(email);
    const valid = user
      ? await verifyPassword(user.passwordHash, password)
      : await verifyAgainstDecoy(password);
    if (!user || !valid) throw new Refusal("unauthenticated", "Incorrect email or password.");
    return this.#signIn(user);
  }

  /**
   * The account behind an access token, with its role as the database has it now. Throws TokenError for a
   * bad token, 401 for a deleted account or a token issued before the password or role last changed.
   */
  async authenticate(token: string): Promise<AuthUser> {
    const { userId, version } = await this.tokens.verify(token);
    const user = await this.users.byId(userId);
    if (!user) throw new Refusal("unauthenticated", "Token refused: its account no longer exists.");
    if (user.tokenVersion !== version) {
      throw new Refusal("unauthenticated", "Token refused: your password or role changed; log in again.");
    }
    return { id: user.id, email: user.email, role: user.role, walletAddress: user.walletAddress };
  }

  async account(id: string): Promise<User> {
    const user = await this.users.byId(id);
    if (!user) throw new Refusal("not_found", `No account with id ${id}.`);
    return user;
  }

  walletChallenge(user: AuthUser, address: `0x${string}`): Promise<WalletChallenge> {
    return this.wallets.challenge(user, address);
  }

  /** Links the wallet that signed `message` (a SIWE message from walletChallenge) to `user`. */
  async linkWallet(user: AuthUser, message: string, signature: `0x${string}`): Promise<User> {
    const address = await this.wallets.verify(user.id, message, signature);
    const change = await this.users.setWallet(user.id, address);
    if (change.ok) return change.user;
    if (change.reason === "wallet_taken") {
      throw new Refusal("conflict", `Wallet ${address} is already linked to another account.`);
    }
    throw new Refusal("unauthenticated", "Your account no longer exists.");
  }

  async unlinkWallet(user: AuthUser): Promise<User> {
    const change = await this.users.setWallet(user.id, null);
    if (!change.ok) throw new Refusal("unauthenticated", "Your account no longer exists.");
    return change.user;
  }

  listUsers(filter: UserFilter): Promise<{ users: User[]; total: number }> {
    return this.users.list(filter);
  }

  async setRole(id: string, role: Role): Promise<User> {
    const change = await this.users.setRole(id, role);
    if (change.ok) return change.user;
    if (change.reason === "not_found") throw new Refusal("not_found", `No account with id ${id}.`);
    throw new Refusal(
      "conflict",
      "This is the last admin account: promote another account to admin before changing this one.",
    );
  }

  /** The first admin (ADMIN_EMAIL/ADMIN_PASSWORD): created, never promoted from someone's account. */
  bootstrapAdmin(email: string, password: string): Promise<User> {
    return bootstrapAdmin(this.users, email, password);
  }

  /** The wallet linked to the account (lower case), or null: a transfer paying for its calls must come from it. */
  async walletOf(userId: string): Promise<string | null> {
    return (await this.users.byId(userId))?.walletAddress ?? null;
  }

  /** Adds a paid call to the account's total, inside the caller's transaction (the payment's outcome). */
  addSpent(userId: string, amount: string, db: Db): Promise<void> {
    return this.users.addSpent(userId, amount, db);
  }

  async #signIn(user: User): Promise<SignedIn> {
    const { token, expiresIn } = await this.tokens.issue(user);
    return { token, expiresIn, user };
  }
}
