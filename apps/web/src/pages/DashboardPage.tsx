import type { PaymentSessionResponse } from "@robo402/protocol";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api } from "../api/client.ts";
import { useAuth } from "../auth/AuthProvider.tsx";
import { RequireRole } from "../auth/RequireRole.tsx";
import { ErrorMessage } from "../components/ErrorMessage.tsx";
import { PaymentsTable } from "../components/PaymentsTable.tsx";
import { Card, Loading, PageTitle } from "../components/ui.tsx";
import { driveSessions } from "../drive/session.ts";

function Sessions() {
  const sessions = driveSessions.all();
  if (sessions.length === 0) return <p>No drive session in this browser now.</p>;
  return (
    <ul className="space-y-1">
      {sessions.map((session) => (
        <li key={session.robotHost}>
          <span className="font-semibold">{session.robotHost}</span> until{" "}
          {new Date(session.expiresAt).toLocaleTimeString()}
        </li>
      ))}
    </ul>
  );
}

function Account() {
  const { user } = useAuth();
  const payments = useQuery({
    queryKey: ["payments", "mine"],
    queryFn: () => api<{ payments: PaymentSessionResponse[] }>("/api/payments?limit=100"),
    select: (answer) => answer.payments,
  });
  if (!user) return null;
  return (
    <div className="space-y-4">
      <Card>
        <h2 className="mb-2 text-xl font-semibold">Account</h2>
        <dl className="grid gap-1 sm:grid-cols-[10rem_1fr]">
          <dt className="text-slate-600">Email</dt>
          <dd>{user.email}</dd>
          <dt className="text-slate-600">Role</dt>
          <dd>{user.role.replace("_", " ")}</dd>
          <dt className="text-slate-600">Linked wallet</dt>
          <dd className="break-all font-mono text-sm">{user.wallet_address ?? "none"}</dd>
          <dt className="text-slate-600">Total spent</dt>
          <dd>{user.total_spent} USDC</dd>
        </dl>
      </Card>
      <Card>
        <h2 className="mb-2 text-xl font-semibold">Drive sessions</h2>
        <Sessions />
        <Link to="/robots" className="mt-2 inline-block text-blue-800 underline">
          Find a robot to drive
        </Link>
      </Card>
      <Card>
        <h2 className="mb-2 text-xl font-semibold">Payments</h2>
        <ErrorMessage error={payments.error} />
        {payments.data ? (
          <PaymentsTable payments={payments.data} caption="Your payments" />
        ) : (
          !payments.error && <Loading what="payments" />
        )}
      </Card>
    </div>
  );
}

export function DashboardPage() {
  return (
    <RequireRole>
      <PageTitle>Dashboard</PageTitle>
      <Account />
    </RequireRole>
  );
}
