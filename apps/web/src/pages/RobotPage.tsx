import { useParams } from "react-router";
import { useRobot } from "../api/queries.ts";
import { DrivePanel } from "../components/DrivePanel.tsx";
import { ErrorMessage } from "../components/ErrorMessage.tsx";
import { ExecuteForm } from "../components/ExecuteForm.tsx";
import { Loading, PageTitle } from "../components/ui.tsx";

export function RobotPage() {
  const { id = "" } = useParams();
  const robot = useRobot(id);
  if (robot.error) return <ErrorMessage error={robot.error} />;
  if (!robot.data) return <Loading what="the robot" />;
  const data = robot.data;
  return (
    <>
      <PageTitle>{data.name}</PageTitle>
      {data.description && <p className="mb-4 text-slate-700">{data.description}</p>}
      {data.suspended && (
        <p role="alert" className="mb-4 font-medium text-red-800">
          An admin suspended this robot: it cannot be bought now.
        </p>
      )}
      {data.sells === "time" ? <DrivePanel robot={data} /> : <ExecuteForm robot={data} />}
    </>
  );
}
