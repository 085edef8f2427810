import type { RobotDriver, RobotResponse } from "@robo402/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { api } from "../api/client.ts";
import { RequireRole } from "../auth/RequireRole.tsx";
import { ErrorMessage } from "../components/ErrorMessage.tsx";
import { Button, Card, Field, inputClass, Loading, PageTitle } from "../components/ui.tsx";

/** The kinds an owner registers here; a velocity rover takes its limits as settings, through the API. */
const REGISTERABLE = {
  link: "Driven live, over the robot link (recommended: a robot at home, no port to open)",
  tumbller: "Driven live, at a public address the platform calls",
  "http-service": "A service, paid per call",
} as const satisfies Partial<Record<RobotDriver, string>>;
type Registerable = keyof typeof REGISTERABLE;

interface Draft {
  kind: RobotDriver;
  name: string;
  description: string;
  price: string;
  wallet_address: string;
  services: string;
  host: string;
  endpoint: string;
  camera_url: string;
  status: RobotResponse["status"];
}

const EMPTY: Draft = {
  kind: "link",
  name: "",
  description: "",
  price: "0.10",
  wallet_address: "",
  services: "",
  host: "",
  endpoint: "",
  camera_url: "",
  status: "active",
};

const draftOf = (robot: RobotResponse): Draft => ({
  kind: robot.driver,
  name: robot.name,
  description: robot.description ?? "",
  price: robot.price,
  wallet_address: robot.wallet_address,
  services: robot.services.join(", "),
  host: robot.host ?? "",
  endpoint: robot.endpoint ?? "",
  camera_url: robot.camera_url ?? "",
  status: robot.status,
});

// What each kind takes: a service its services and endpoint; a robot the platform calls its addresses; a
// robot on the link neither (it dials in). Drive robots sell "drive" only, named once at registration.
const sellsCalls = (kind: RobotDriver) => kind === "http-service";
const calledByUrl = (kind: RobotDriver) => kind !== "link";
const hasCamera = (kind: RobotDriver) => kind === "tumbller" || kind === "velocity";

function bodyOf(draft: Draft, creating: boolean) {
  return {
    name: draft.name,
    description: draft.description || null,
    price: draft.price,
    wallet_address: draft.wallet_address,
    status: draft.status,
    ...(sellsCalls(draft.kind)
      ? {
          services: draft.services
            .split(",")
            .map((service) => service.trim())
            .filter(Boolean),
        }
      : creating && { services: ["drive"] }),
    ...(calledByUrl(draft.kind) && { endpoint: draft.endpoint }),
    ...(hasCamera(draft.kind) && { camera_url: draft.camera_url || null }),
    ...(creating && { driver: draft.kind, ...(!sellsCalls(draft.kind) && { host: draft.host }) }),
  };
}

/** A link robot's device token, shown once, and how its bridge uses it. */
function ConnectOverLink({ robot, onDone }: { robot: RobotResponse; onDone: () => void }) {
  const host = robot.host ?? "your-robot";
  return (
    <Card className="max-w-2xl space-y-3">
      <h2 className="text-xl font-semibold">Connect {robot.name}</h2>
      <p>
        This is its device token. It is shown only now: keep it, or make a new one later on this robot's page
        (the old one then stops working).
      </p>
      <code data-testid="device-token" className="block break-all rounded bg-slate-100 p-2">
        {robot.device_token}
      </code>
      <p>On a machine on the robot's network (a Raspberry Pi, a laptop), from a checkout of robo402:</p>
      <pre className="whitespace-pre-wrap break-all rounded bg-slate-900 p-3 text-sm text-slate-100">
        {`export ROBO402_LINK_TOKEN=${robot.device_token}\nnpx robo402-link --platform ${window.location.origin} --motor http://${host}.local`}
      </pre>
      <p className="text-sm text-slate-600">
        The robot is online while the bridge holds its link; the bridge stops it by itself if the link drops.
      </p>
      <Button onClick={onDone}>Done</Button>
    </Card>
  );
}

function RobotForm({ robot }: { robot?: RobotResponse }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [draft, setDraft] = useState<Draft>(robot ? draftOf(robot) : EMPTY);
  // A robot whose new device token is on screen (just registered, or its token replaced).
  const [connecting, setConnecting] = useState<RobotResponse | null>(null);
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
        ? api<RobotResponse>(`/api/robots/${robot.id}`, { method: "PATCH", body: bodyOf(draft, false) })
        : api<RobotResponse>("/api/robots", { method: "POST", body: bodyOf(draft, true) }),
    onSuccess: (saved) => (saved.device_token ? setConnecting(saved) : done()),
  });
  const rotate = useMutation({
    mutationFn: () =>
      api<{ device_token: string }>(`/api/robots/${robot?.id}/device-token`, { method: "POST" }),
    onSuccess: ({ device_token }) => robot && setConnecting({ ...robot, device_token }),
  });
  const remove = useMutation({
    mutationFn: () => api(`/api/robots/${robot?.id}`, { method: "DELETE" }),
    onSuccess: done,
  });
  if (connecting) return <ConnectOverLink robot={connecting} onDone={done} />;

  const text = (
    key: Exclude<keyof Draft, "kind" | "status">,
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
  const kind = draft.kind;
  return (
    <Card className="max-w-2xl">
      <form
        className="space-y-4"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        {robot ? (
          <p>
            <span className="font-medium">Kind:</span>{" "}
            {REGISTERABLE[kind as Registerable] ?? `${kind} (its settings change through the API)`}
          </p>
        ) : (
          <Field
            label="Kind"
            hint={
              kind === "link"
                ? "The robot, or a small bridge beside it, dials out to robo402: it works behind a home router."
                : undefined
            }
          >
            {(id) => (
              <select
                id={id}
                className={inputClass}
                value={kind}
                onChange={(event) => setDraft({ ...draft, kind: event.target.value as Registerable })}
              >
                {Object.entries(REGISTERABLE).map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
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
        {sellsCalls(kind)
          ? text("price", "Price per call (USDC)", { hint: "At most 6 decimals, e.g. 0.05" })
          : text("price", "Price per session (USDC)", { hint: "What a buyer pays for a session of driving" })}
        {text("wallet_address", "Payout wallet", { hint: "The EVM address payments go to (0x…)" })}
        {sellsCalls(kind) &&
          text("services", "Services", { hint: "Comma-separated, e.g. data-analysis, snapshot" })}
        {!robot &&
          !sellsCalls(kind) &&
          text("host", "Robot name", {
            hint: "The name buyers pick it by, like finland-tumbller-01 (its mDNS name on your network)",
          })}
        {calledByUrl(kind) &&
          text("endpoint", sellsCalls(kind) ? "Endpoint" : "Motor board address", {
            type: "url",
            hint: sellsCalls(kind)
              ? "The public http(s) URL the platform calls"
              : "The public http(s) address of its motor board, no path, like http://203.0.113.7:8080",
          })}
        {hasCamera(kind) &&
          text("camera_url", "Camera address", {
            type: "url",
            required: false,
            hint: "Its camera board's public address; empty: the same as the motor board",
          })}
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
        <ErrorMessage error={save.error ?? rotate.error ?? remove.error} />
        <div className="flex flex-wrap gap-2">
          <Button type="submit" disabled={save.isPending}>
            {robot ? "Save changes" : "Register robot"}
          </Button>
          {robot?.driver === "link" && (
            <Button tone="secondary" disabled={rotate.isPending} onClick={() => rotate.mutate()}>
              New device token
            </Button>
          )}
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
