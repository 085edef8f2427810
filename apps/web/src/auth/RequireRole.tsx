import type { Role } from "@robo402/protocol";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { Loading, PageTitle } from "../components/ui.tsx";
import { useAuth } from "./AuthProvider.tsx";

/** Shows `children` to a signed-in account with one of `roles` (any role when empty); says why not otherwise. */
export function RequireRole({ roles = [], children }: { roles?: Role[]; children: ReactNode }) {
  const { user, loading } = useAuth();
  if (loading) return <Loading what="your account" />;
  if (!user)
    return (
      <>
        <PageTitle>Sign in first</PageTitle>
        <p>
          This page belongs to an account.{" "}
          <Link to="/login" className="text-blue-800 underline">
            Sign in
          </Link>{" "}
          or{" "}
          <Link to="/register" className="text-blue-800 underline">
            register
          </Link>
          .
        </p>
      </>
    );
  if (roles.length > 0 && !roles.includes(user.role))
    return (
      <>
        <PageTitle>Not for this account</PageTitle>
        <p>
          This page is for {roles.join(" or ").replace("robot_owner", "robot owners")} accounts; yours is a{" "}
          {user.role.replace("_", " ")} account.
        </p>
      </>
    );
  return children;
}
