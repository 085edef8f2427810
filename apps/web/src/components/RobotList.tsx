import type { RobotResponse } from "@robo402/protocol";
import { Link } from "react-router";
import { useDriveAvailability } from "../api/queries.ts";
import { usdc } from "../x402/networks.ts";

const isDrive = (robot: RobotResponse) => robot.sells === "time";

/**
 * The robots as cards: what each sells, its price, and whether a drive robot is free now (a robot on the
 * link is offline while its bridge is not connected, as of the list's loading).
 */
export function RobotList({ robots }: { robots: RobotResponse[] }) {
  const availability = useDriveAvailability();
  const held = new Map(availability.data?.map((entry) => [entry.robot_host, entry]) ?? []);
  if (robots.length === 0) return <p>No robots are listed yet.</p>;
  return (
    <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
      {robots.map((robot) => {
        const state = robot.host ? held.get(robot.host) : undefined;
        const status = robot.suspended
          ? "Suspended"
          : robot.status !== "active"
            ? robot.status === "maintenance"
              ? "In maintenance"
              : "Inactive"
            : robot.linked === false
              ? "Offline"
              : isDrive(robot) && state && !state.available
                ? "In use"
                : "Available";
        return (
          <li key={robot.id}>
            <Link
              to={`/robots/${robot.id}`}
              className="block h-full rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-blue-600 focus-visible:outline-2 focus-visible:outline-blue-700"
            >
              <h2 className="text-lg font-semibold">{robot.name}</h2>
              <p className="text-sm text-slate-600">{robot.description ?? robot.services.join(", ")}</p>
              <p className="mt-2 flex flex-wrap gap-2 text-sm">
                <span className="rounded bg-slate-100 px-2 py-0.5">
                  {isDrive(robot) ? "Drive" : robot.services.join(", ")}
                </span>
                <span className="rounded bg-slate-100 px-2 py-0.5">
                  {usdc(robot.price)} USDC{isDrive(robot) ? " per session" : " per call"}
                </span>
                <span
                  className={`rounded px-2 py-0.5 ${status === "Available" ? "bg-green-100 text-green-900" : "bg-amber-100 text-amber-900"}`}
                >
                  {status}
                </span>
              </p>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
