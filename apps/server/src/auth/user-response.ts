import type { UserResponse } from "@robo402/protocol";
import type { User } from "./store.ts";

/** The account as every route shows it (the plan's snake_case). */
export function userResponse(user: User): UserResponse {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    wallet_address: user.walletAddress,
    total_spent: user.totalSpent,
    created_at: user.createdAt.toISOString(),
  };
}
