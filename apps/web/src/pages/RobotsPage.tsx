import { useState } from "react";
import { useCatalog } from "../api/queries.ts";
import { ErrorMessage } from "../components/ErrorMessage.tsx";
import { RobotList } from "../components/RobotList.tsx";
import { Field, inputClass, Loading, PageTitle } from "../components/ui.tsx";

export function RobotsPage() {
  const robots = useCatalog();
  const [service, setService] = useState("");
  const services = [...new Set(robots.data?.flatMap((robot) => robot.services) ?? [])].sort();
  const shown = robots.data?.filter((robot) => !service || robot.services.includes(service));
  return (
    <>
      <PageTitle>Robots</PageTitle>
      <div className="mb-4 max-w-xs">
        <Field label="Service">
          {(id) => (
            <select
              id={id}
              className={inputClass}
              value={service}
              onChange={(e) => setService(e.target.value)}
            >
              <option value="">All services</option>
              {services.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <ErrorMessage error={robots.error} />
      {shown ? <RobotList robots={shown} /> : !robots.error && <Loading what="robots" />}
    </>
  );
}
