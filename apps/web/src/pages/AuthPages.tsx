import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { useAuth } from "../auth/AuthProvider.tsx";
import { ErrorMessage } from "../components/ErrorMessage.tsx";
import { Button, Card, Field, inputClass, PageTitle } from "../components/ui.tsx";

function AccountForm({ mode }: { mode: "login" | "register" }) {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<"user" | "robot_owner">("user");
  const submit = useMutation({
    mutationFn: () =>
      mode === "login"
        ? signIn("/api/auth/login", { email, password })
        : signIn("/api/auth/register", { email, password, role }),
    onSuccess: (user) => navigate(user.role === "robot_owner" ? "/dashboard/robots" : "/dashboard"),
  });
  return (
    <Card className="max-w-md">
      <form
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          submit.mutate();
        }}
      >
        <Field label="Email">
          {(id) => (
            <input
              id={id}
              type="email"
              autoComplete="email"
              required
              className={inputClass}
              value={email}
              onChange={(event) => setEmail(event.target.value)}
            />
          )}
        </Field>
        <Field label="Password" hint={mode === "register" ? "At least 8 characters" : undefined}>
          {(id) => (
            <input
              id={id}
              type="password"
              autoComplete={mode === "login" ? "current-password" : "new-password"}
              required
              className={inputClass}
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          )}
        </Field>
        {mode === "register" && (
          <Field label="Account type">
            {(id) => (
              <select
                id={id}
                className={inputClass}
                value={role}
                onChange={(event) => setRole(event.target.value as "user" | "robot_owner")}
              >
                <option value="user">User: run and pay robots</option>
                <option value="robot_owner">Robot owner: also list my robots</option>
              </select>
            )}
          </Field>
        )}
        <ErrorMessage error={submit.error} />
        <Button type="submit" className="w-full" disabled={submit.isPending}>
          {mode === "login" ? "Sign in" : "Create account"}
        </Button>
      </form>
    </Card>
  );
}

export function LoginPage() {
  return (
    <>
      <PageTitle>Sign in</PageTitle>
      <AccountForm mode="login" />
      <p className="mt-4">
        No account?{" "}
        <Link to="/register" className="text-blue-800 underline">
          Register
        </Link>
      </p>
    </>
  );
}

export function RegisterPage() {
  return (
    <>
      <PageTitle>Register</PageTitle>
      <AccountForm mode="register" />
      <p className="mt-4">
        Have an account?{" "}
        <Link to="/login" className="text-blue-800 underline">
          Sign in
        </Link>
      </p>
    </>
  );
}
