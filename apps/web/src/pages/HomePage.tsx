import { Link } from "react-router";
import { useAccessConfig, useCatalog } from "../api/queries.ts";
import { ErrorMessage } from "../components/ErrorMessage.tsx";
import { RobotList } from "../components/RobotList.tsx";
import { Loading, PageTitle } from "../components/ui.tsx";
import { networkName } from "../x402/networks.ts";

export function HomePage() {
  const robots = useCatalog();
  const config = useAccessConfig();
  return (
    <>
      <PageTitle>Pay a robot, drive it</PageTitle>
      <p className="mb-6 max-w-2xl text-slate-700">
        Buy {config.data?.session_duration_minutes ?? 10} minutes of a real robot, or pay per call for a
        robot's service. Payments use x402 (HTTP 402)
        {config.data?.network ? ` on ${networkName(config.data.network)}` : ""}.{" "}
        <Link to="/robots" className="text-blue-800 underline">
          See every robot
        </Link>
        .
      </p>
      <ErrorMessage error={robots.error} />
      {robots.data ? <RobotList robots={robots.data} /> : !robots.error && <Loading what="robots" />}
    </>
  );
}
