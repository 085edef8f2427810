import type { RobotResponse } from "@robo402/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { api } from "../api/client.ts";
import { RequireRole } from "../auth/RequireRole.tsx";
import { ErrorMessage } from "../components/ErrorMessage.tsx";
import { Button, Card, Field, inputClass, Loading, PageTitle } from "../components/ui.tsx";

interface Draft {
  name: string;
  description: string;
  price: string;
  wallet_address: string;
  services: string;
  endpoint: string;
  status: RobotResponse["status"];
}

const EMPTY: Draft = {
  name: "",
  description: "",
  price: "0.05",
  wallet_address: "",
  services: "",
  endpoint: "",
  status: "active",
};

const draftOf = (robot: RobotResponse): Draft => ({
  name: robot.name,
  description: robot.description ?? "",
  price: robot.price,
  wallet_address: robot.wallet_address,
  services: robot.services.join(", "),
  endpoint: robot.endpoint ?? "",
  status: robot.status,
});

const bodyOf = (draft: Draft) => ({
  name: draft.name,
  description: draft.description || null,
  price: draft.price,
  wallet_address: draft.wallet_address,
  services: draft.services
    .split(",")
    .map((service) => service.trim())
    .filter(Boolean),
  endpoint: draft.endpoint,
  status: draft.status,
});

function RobotForm({ robot }: { robot?: RobotResponse }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [draft, setDraft] = useState<Draft>(robot ? draftOf(robot) : EMPTY);
  useEffect(() => {
    if (robot) setDraft(draftOf(robot));
  }, [robot]);
  const done = () => {
    void queries.invalidateQueries({ queryKey: ["robots"] });
    navigate("/dashboard/robots");
  };
  const save = useMutation({
    mutationFn: () =>
      robot
        ? api<RobotResponse>(`/api/robots/${robot.id}`, { method: "PATCH", body: bodyOf(draft) })
        : api<RobotResponse>("/api/robots", { method: "POST", body: bodyOf(draft) }),
    onSuccess: done,
  });
  const remove = useMutation({
    mutationFn: () => api(`/api/robots/${robot?.id}`, { method: "DELETE" }),
    onSuccess: done,
  });
  const text = (
    key: keyof Draft,
    label: string,
    props: { hint?: string; type?: string; required?: boolean } = {},
  ) => (
    <Field label={label} hint={props.hint}>
      {(id) => (
        <input
          id={id}
          type={props.type ?? "text"}
          required={props.required ?? true}
          className={inputClass}
          value={draft[key]}
          onChange={(event) => setDraft({ ...draft, [key]: event.target.value })}
        />
      )}
    </Field>
  );
  return (
    <Card className="max-w-2xl">
      <form
        className="space-y-4"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        {text("name", "Name")}
        <Field label="Description">
          {(id) => (
            <textarea
              id={id}
              className={inputClass}
              value={draft.description}
              onChange={(event) => setDraft({ ...draft, description: event.target.value })}
            />
          )}
        </Field>
        {text("price", "Price per call (USDC)", { hint: "At most 6 decimals, e.g. 0.05" })}
        {text("wallet_address", "Payout wallet", { hint: "The EVM address payments go to (0x…)" })}
        {text("services", "Services", { hint: "Comma-separated, e.g. data-analysis, snapshot" })}
        {text("endpoint", "Endpoint", { type: "url", hint: "The public http(s) URL the platform calls" })}
        <Field label="Status">
          {(id) => (
            <select
              id={id}
              className={inputClass}
              value={draft.status}
              onChange={(event) => setDraft({ ...draft, status: event.target.value as Draft["status"] })}
            >
              <option value="active">Active</option>
              <option value="inactive">Inactive</option>
              <option value="maintenance">Maintenance</option>
            </select>
          )}
        </Field>
        <ErrorMessage error={save.error ?? remove.error} />
        <div className="flex flex-wrap gap-2">
          <Button type="submit" disabled={save.isPending}>
            {robot ? "Save changes" : "Register robot"}
          </Button>
          {robot && (
            <Button tone="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
              Delete robot
            </Button>
          )}
        </div>
      </form>
    </Card>
  );
}

function EditRobot({ id }: { id: string }) {
  const robot = useQuery({ queryKey: ["robot", id], queryFn: () => api<RobotResponse>(`/api/robots/${id}`) });
  if (robot.error) return <ErrorMessage error={robot.error} />;
  if (!robot.data) return <Loading what="the robot" />;
  return <RobotForm robot={robot.data} />;
}

export function RobotFormPage() {
  const { id } = useParams();
  return (
    <RequireRole roles={["robot_owner", "admin"]}>
      <PageTitle>{id ? "Edit robot" : "Register a robot"}</PageTitle>
      {id ? <EditRobot id={id} /> : <RobotForm />}
    </RequireRole>
  );
}
