import type { RobotResponse } from "@robo402/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client.ts";
import { usdc } from "../x402/networks.ts";
import { ErrorMessage } from "./ErrorMessage.tsx";
import { Button, Card, Field, inputClass } from "./ui.tsx";

interface ExecuteAnswer {
  success: true;
  data: unknown;
  service: string;
  response_time: number;
  payment_tx: string | null;
}

// A first input that works, so the form is never a blank box.
const EXAMPLES: Record<string, unknown> = {
  "data-analysis": { values: [3, 1, 4, 1, 5, 9, 2, 6] },
  snapshot: {},
};

/** A pay-per-call service: JSON input, pay when the 402 comes (the modal), the result shown. */
export function ExecuteForm({ robot }: { robot: RobotResponse }) {
  const queries = useQueryClient();
  const [service, setService] = useState(robot.services[0] ?? "");
  const [input, setInput] = useState(() => JSON.stringify(EXAMPLES[service] ?? {}, null, 2));
  const run = useMutation({
    mutationFn: () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(input || "{}");
      } catch (error) {
        throw new Error(`The input is not valid JSON: ${(error as Error).message}`);
      }
      return api<ExecuteAnswer>(`/api/execute/${robot.id}`, {
        method: "POST",
        body: { service, input: parsed },
      });
    },
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["payments"] }),
  });
  // The snapshot service answers a base64 JPEG: shown as a picture, not as text.
  const { image, ...rest } =
    run.data && typeof run.data.data === "object" && run.data.data !== null
      ? (run.data.data as { image?: unknown })
      : { image: undefined };

  return (
    <Card className="max-w-2xl">
      <h2 className="mb-3 text-xl font-semibold">Run a service</h2>
      <form
        className="space-y-3"
        onSubmit={(event) => {
          event.preventDefault();
          run.mutate();
        }}
      >
        {robot.services.length > 1 && (
          <Field label="Service">
            {(id) => (
              <select
                id={id}
                className={inputClass}
                value={service}
                onChange={(event) => {
                  setService(event.target.value);
                  setInput(JSON.stringify(EXAMPLES[event.target.value] ?? {}, null, 2));
                }}
              >
                {robot.services.map((name) => (
                  <option key={name}>{name}</option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field label="Input (JSON)">
          {(id) => (
            <textarea
              id={id}
              className={`${inputClass} h-40 font-mono text-sm`}
              value={input}
              onChange={(event) => setInput(event.target.value)}
            />
          )}
        </Field>
        <Button type="submit" className="w-full" disabled={run.isPending}>
          {run.isPending ? "Running…" : `Run ${service} (${usdc(robot.price)} USDC)`}
        </Button>
      </form>
      <div className="mt-4">
        <ErrorMessage error={run.error} />
      </div>
      {run.data && (
        <div className="mt-4 rounded-lg border border-green-300 bg-green-50 p-4" data-testid="result">
          <h3 className="mb-2 font-semibold">
            Result ({run.data.response_time} ms{run.data.payment_tx ? ", paid" : ""})
          </h3>
          {typeof image === "string" && (
            <img
              src={`data:image/jpeg;base64,${image}`}
              alt="The robot's snapshot"
              className="mb-2 max-w-full rounded"
            />
          )}
          <pre className="overflow-x-auto text-sm">
            {JSON.stringify(typeof image === "string" ? rest : run.data.data, null, 2)}
          </pre>
        </div>
      )}
    </Card>
  );
}
