import type { PaymentSessionResponse, RobotResponse, Role, UserListResponse } from "@robo402/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client.ts";
import { RequireRole } from "../auth/RequireRole.tsx";
import { ErrorMessage } from "../components/ErrorMessage.tsx";
import { PaymentsTable } from "../components/PaymentsTable.tsx";
import { Button, Card, Field, inputClass, Loading, PageTitle } from "../components/ui.tsx";

const ROLES: Role[] = ["user", "robot_owner", "admin"];

function Users() {
  const queries = useQueryClient();
  const [q, setQ] = useState("");
  const users = useQuery({
    queryKey: ["admin-users", q],
    queryFn: () =>
      api<UserListResponse>(`/api/admin/users?limit=100${q ? `&q=${encodeURIComponent(q)}` : ""}`),
  });
  const setRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) =>
      api(`/api/admin/users/${id}`, { method: "PATCH", body: { role } }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["admin-users"] }),
  });
  return (
    <Card>
      <h2 className="mb-3 text-xl font-semibold">Users and roles</h2>
      <div className="mb-3 max-w-sm">
        <Field label="Search by email">
          {(id) => (
            <input
              id={id}
              type="search"
              className={inputClass}
              value={q}
              onChange={(e) => setQ(e.target.value)}
            />
          )}
        </Field>
      </div>
      <ErrorMessage error={users.error ?? setRole.error} />
      {users.data ? (
        <>
          <p className="mb-2 text-sm text-slate-600">{users.data.total} accounts</p>
          <ul className="divide-y divide-slate-200" data-testid="admin-users">
            {users.data.users.map((user) => (
              <li key={user.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                <span className="break-all">{user.email}</span>
                <label className="flex items-center gap-2 text-sm">
                  <span className="sr-only">Role of {user.email}</span>
                  <select
                    className={inputClass}
                    value={user.role}
                    disabled={setRole.isPending}
                    onChange={(event) => setRole.mutate({ id: user.id, role: event.target.value as Role })}
                  >
                    {ROLES.map((role) => (
                      <option key={role} value={role}>
                        {role.replace("_", " ")}
                      </option>
                    ))}
                  </select>
                </label>
              </li>
            ))}
          </ul>
        </>
      ) : (
        !users.error && <Loading what="users" />
      )}
    </Card>
  );
}

function Robots() {
  const queries = useQueryClient();
  const robots = useQuery({
    queryKey: ["admin-robots"],
    queryFn: () => api<{ robots: RobotResponse[] }>("/api/admin/robots"),
    select: (answer) => answer.robots,
  });
  const toggle = useMutation({
    mutationFn: (robot: RobotResponse) =>
      api(`/api/admin/robots/${robot.id}/${robot.suspended ? "unsuspend" : "suspend"}`, { method: "POST" }),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["admin-robots"] });
      void queries.invalidateQueries({ queryKey: ["robots"] });
    },
  });
  return (
    <Card>
      <h2 className="mb-3 text-xl font-semibold">Robots</h2>
      <ErrorMessage error={robots.error ?? toggle.error} />
      {robots.data ? (
        <ul className="divide-y divide-slate-200">
          {robots.data.map((robot) => (
            <li key={robot.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <span>
                <span className="font-semibold">{robot.name}</span>{" "}
                <span className="text-sm text-slate-600">
                  {robot.services.join(", ")} · {robot.suspended ? "suspended" : robot.status}
                </span>
              </span>
              <Button
                tone={robot.suspended ? "secondary" : "danger"}
                className="px-2 py-1 text-sm"
                disabled={toggle.isPending}
                onClick={() => toggle.mutate(robot)}
              >
                {robot.suspended ? `Unsuspend ${robot.name}` : `Suspend ${robot.name}`}
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        !robots.error && <Loading what="robots" />
      )}
    </Card>
  );
}

function Payments() {
  const payments = useQuery({
    queryKey: ["admin-payments"],
    queryFn: () => api<{ payments: PaymentSessionResponse[] }>("/api/admin/payments?limit=100"),
    select: (answer) => answer.payments,
  });
  return (
    <Card>
      <h2 className="mb-3 text-xl font-semibold">Payments</h2>
      <ErrorMessage error={payments.error} />
      {payments.data ? (
        <PaymentsTable payments={payments.data} caption="All payments" />
      ) : (
        !payments.error && <Loading what="payments" />
      )}
    </Card>
  );
}

export function AdminPage() {
  return (
    <RequireRole roles={["admin"]}>
      <PageTitle>Admin</PageTitle>
      <div className="space-y-4">
        <Users />
        <Robots />
        <Payments />
      </div>
    </RequireRole>
  );
}
