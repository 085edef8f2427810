import type { RobotMetricsResponse, RobotResponse } from "@robo402/protocol";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api } from "../api/client.ts";
import { useCatalog } from "../api/queries.ts";
import { RequireRole } from "../auth/RequireRole.tsx";
import { type Bar, BarChart } from "../components/BarChart.tsx";
import { ErrorMessage } from "../components/ErrorMessage.tsx";
import { Card, Loading, PageTitle } from "../components/ui.tsx";
import { usdc } from "../x402/networks.ts";

interface Execution {
  robot_id: string;
  status: "success" | "failed" | "timeout";
  response_time: number;
  executed_at: string;
}

const day = (iso: string) => iso.slice(5, 10);

/** Groups rows by day (oldest first) and reduces each day to one number. */
function perDay<T>(rows: T[], when: (row: T) => string | null, reduce: (rows: T[]) => number): Bar[] {
  const days = new Map<string, T[]>();
  for (const row of rows) {
    const at = when(row);
    if (!at) continue;
    days.set(day(at), [...(days.get(day(at)) ?? []), row]);
  }
  return [...days.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(-14)
    .map(([label, group]) => ({ label, value: reduce(group) }));
}

function RobotMetrics({ robot }: { robot: RobotResponse }) {
  const metrics = useQuery({
    queryKey: ["metrics", robot.id],
    queryFn: () => api<RobotMetricsResponse>(`/api/robots/${robot.id}/metrics`),
  });
  const executions = useQuery({
    queryKey: ["executions", "owned", robot.id],
    queryFn: () =>
      api<{ executions: Execution[] }>(`/api/executions?scope=owned&robot_id=${robot.id}&limit=500`),
    select: (answer) => answer.executions,
  });
  if (metrics.error || executions.error) return <ErrorMessage error={metrics.error ?? executions.error} />;
  if (!metrics.data || !executions.data) return <Loading what="metrics" />;
  const m = metrics.data;
  const runs = executions.data;
  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        {[
          ["Executions", String(m.total_executions)],
          ["Revenue", `${m.total_revenue} USDC`],
          ["Success rate", `${Math.round(m.success_rate * 100)}%`],
          ["Avg response", `${Math.round(m.avg_response_time)} ms`],
        ].map(([label, value]) => (
          <div key={label} className="rounded-lg border border-slate-200 bg-white p-3">
            <dt className="text-sm text-slate-600">{label}</dt>
            <dd className="text-xl font-bold">{value}</dd>
          </div>
        ))}
      </dl>
      <div className="grid gap-4 md:grid-cols-2">
        <BarChart
          title="Executions per day"
          bars={perDay(
            runs,
            (r) => r.executed_at,
            (g) => g.length,
          )}
          format={String}
        />
        <BarChart
          title="Revenue per day (recent payments, USDC)"
          bars={perDay(
            m.recent_payments,
            (p) => p.paid_at,
            (g) => g.reduce((sum, p) => sum + Number(p.amount), 0),
          )}
          format={(v) => v.toFixed(2)}
        />
        <BarChart
          title="Success rate per day"
          bars={perDay(
            runs,
            (r) => r.executed_at,
            (g) => g.filter((r) => r.status === "success").length / g.length,
          )}
          format={(v) => `${Math.round(v * 100)}%`}
        />
        <BarChart
          title="Average response time per day"
          bars={perDay(
            runs,
            (r) => r.executed_at,
            (g) => g.reduce((sum, r) => sum + r.response_time, 0) / g.length,
          )}
          format={(v) => `${Math.round(v)} ms`}
        />
      </div>
    </div>
  );
}

function OwnerRobots() {
  const robots = useCatalog(true);
  const [selected, setSelected] = useState<string>();
  if (robots.error) return <ErrorMessage error={robots.error} />;
  if (!robots.data) return <Loading what="your robots" />;
  const current = robots.data.find((robot) => robot.id === selected) ?? robots.data[0];
  return (
    <div className="space-y-6">
      {robots.data.length === 0 ? (
        <p>You have not registered a robot yet.</p>
      ) : (
        <ul
          className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white"
          data-testid="my-robots"
        >
          {robots.data.map((robot) => (
            <li key={robot.id} className="flex flex-wrap items-center justify-between gap-2 p-3">
              <div>
                <span className="font-semibold">{robot.name}</span>{" "}
                <span className="text-sm text-slate-600">
                  {robot.services.join(", ")} · {usdc(robot.price)} USDC ·{" "}
                  {robot.suspended ? "suspended" : robot.status}
                  {robot.linked !== null &&
                    (robot.linked ? " · online over its link" : " · offline: its bridge is not connected")}
                </span>
              </div>
              <div className="flex gap-3 text-sm">
                <button
                  type="button"
                  className="text-blue-800 underline"
                  onClick={() => setSelected(robot.id)}
                >
                  Metrics
                </button>
                <Link to={`/dashboard/robots/${robot.id}`} className="text-blue-800 underline">
                  Edit
                </Link>
              </div>
            </li>
          ))}
        </ul>
      )}
      {current && (
        <Card>
          <h2 className="mb-3 text-xl font-semibold">Metrics of {current.name}</h2>
          <RobotMetrics robot={current} />
        </Card>
      )}
    </div>
  );
}

export function OwnerRobotsPage() {
  return (
    <RequireRole roles={["robot_owner", "admin"]}>
      <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
        <PageTitle>My robots</PageTitle>
        <Link
          to="/dashboard/robots/new"
          className="rounded-md bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800"
        >
          Register a robot
        </Link>
      </div>
      <OwnerRobots />
    </RequireRole>
  );
}
