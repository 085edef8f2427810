import type {
  MotorCommand,
  PurchaseResponse,
  RobotResponse,
  RobotStatusResponse,
  Velocity,
} from "@robo402/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { api } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import { useAccessConfig, useDriveAvailability } from "../api/queries.ts";
import { type DriveSession, driveSessions } from "../drive/session.ts";
import { stopLast } from "../drive/stopLast.ts";
import { clock, useCountdown } from "../drive/useCountdown.ts";
import { useHoldToDrive } from "../drive/useHoldToDrive.ts";
import { useVelocityDrive } from "../drive/useVelocityDrive.ts";
import { useWallet } from "../wallet/WalletProvider.tsx";
import { usdc } from "../x402/networks.ts";
import { ErrorMessage } from "./ErrorMessage.tsx";
import { Button, Card } from "./ui.tsx";
import { VelocityPad } from "./VelocityPad.tsx";

const PAD: Array<{ command: Exclude<MotorCommand, "stop">; label: string; symbol: string; area: string }> = [
  { command: "forward", label: "Forward", symbol: "▲", area: "col-start-2 row-start-1" },
  { command: "left", label: "Left", symbol: "◀", area: "col-start-1 row-start-2" },
  { command: "right", label: "Right", symbol: "▶", area: "col-start-3 row-start-2" },
  { command: "back", label: "Back", symbol: "▼", area: "col-start-2 row-start-3" },
];

const credentialsOf = (session: DriveSession | null) =>
  session?.token ? { bearer: session.token } : { wallet: session?.wallet ?? undefined };

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** Buy time on a drive robot, then drive it: live camera, hold-to-drive, stop, countdown, release. */
export function DrivePanel({ robot }: { robot: RobotResponse }) {
  const host = robot.host ?? robot.name;
  const queries = useQueryClient();
  const wallet = useWallet();
  const config = useAccessConfig();
  const [session, setSession] = useState<DriveSession | null>(() => driveSessions.get(host));
  const [ended, setEnded] = useState<string | null>(null);
  const [commandError, setCommandError] = useState<unknown>(null);
  const remaining = useCountdown(session?.expiresAt);
  const live = session !== null && remaining !== 0 && ended === null;

  const status = useQuery({
    queryKey: ["robot-status", host],
    queryFn: () => api<RobotStatusResponse>(`/api/v1/robot/status?robot_host=${encodeURIComponent(host)}`),
    refetchInterval: 5000,
  });
  const availability = useDriveAvailability();
  const entry = availability.data?.find((item) => item.robot_host === host);

  const end = useCallback(
    (why: string) => {
      driveSessions.clear(host);
      setEnded(why);
      void queries.invalidateQueries({ queryKey: ["v1-robots"] });
    },
    [host, queries],
  );

  const buy = useMutation({
    mutationFn: () => {
      const free = config.data?.payment_enabled === false;
      if (free && !wallet.address)
        throw new Error("Connect a wallet first: free mode drives by wallet address.");
      return api<PurchaseResponse>("/api/v1/access/purchase", {
        method: "POST",
        body: { robot_host: host },
        wallet: free ? wallet.address : undefined,
      });
    },
    onSuccess: (answer) => {
      const bought: DriveSession = {
        robotHost: host,
        token: answer.session.token ?? null,
        wallet: answer.session.token ? null : (wallet.address ?? null),
        expiresAt: answer.session.expires_at ?? new Date().toISOString(),
      };
      driveSessions.set(bought);
      setSession(bought);
      setEnded(null);
      setCommandError(null);
      void queries.invalidateQueries({ queryKey: ["v1-robots"] });
      void queries.invalidateQueries({ queryKey: ["payments"] });
    },
  });

  const call = useCallback(
    async (path: string, velocity?: Velocity) => {
      if (!session) return;
      const body = velocity && { method: "POST" as const, body: velocity };
      await api(path, { ...body, ...credentialsOf(session) })
        .then(() => setCommandError(null))
        .catch((error: unknown) => {
          if (error instanceof ApiError && (error.status === 401 || error.status === 403)) end(error.message);
          else setCommandError(error);
        });
    },
    [session, end],
  );
  const drive = useMemo(
    () =>
      stopLast(
        (move: Exclude<MotorCommand, "stop"> | Velocity) =>
          typeof move === "string"
            ? call(`/api/v1/robot/motor/${move}`)
            : call("/api/v1/robot/velocity", move),
        () => call("/api/v1/robot/motor/stop"),
      ),
    [call],
  );
  const send = useCallback(
    (command: MotorCommand) => (command === "stop" ? drive.stop() : drive.move(command)),
    [drive],
  );
  const velocityDriven = robot.control === "velocity";
  const { press, release, stop } = useHoldToDrive(send, live && !velocityDriven);
  const { setPad, letGo } = useVelocityDrive(drive.move, drive.stop, live && velocityDriven);

  const releaseSession = useMutation({
    mutationFn: () => api("/api/v1/access/release", { method: "POST", ...credentialsOf(session) }),
    onSettled: () => end("You released the robot."),
  });

  const streamUrl = session
    ? `/api/v1/robot/camera/stream?${session.token ? `token=${encodeURIComponent(session.token)}` : `wallet=${encodeURIComponent(session.wallet ?? "")}`}`
    : null;
  const offline = status.data && !status.data.motor_online;

  return (
    <div className="grid gap-4 lg:grid-cols-[2fr_1fr]">
      <Card>
        <h2 className="mb-2 text-xl font-semibold">Camera</h2>
        {live && streamUrl ? (
          <img
            src={streamUrl}
            alt={`Live camera of ${host}`}
            data-testid="camera"
            className="aspect-[4/3] w-full rounded bg-slate-900 object-contain"
          />
        ) : (
          <div className="flex aspect-[4/3] w-full items-center justify-center rounded bg-slate-800 p-4 text-center text-white">
            {ended ? "Session ended" : "The camera shows once you have bought time."}
          </div>
        )}
      </Card>
      <Card>
        <h2 className="mb-2 text-xl font-semibold">Drive</h2>
        <div aria-live="polite" className="mb-3 space-y-1 text-sm" data-testid="robot-state">
          {offline && <p className="font-medium text-red-800">The robot is offline: it does not answer.</p>}
          {!offline && status.data && <p>The robot is online.</p>}
          {!live && entry && !entry.available && (
            <p className="font-medium text-amber-900">
              In use by {entry.locked_by}
              {entry.free_at ? `; it frees up at ${time(entry.free_at)}` : ""}.
            </p>
          )}
          {ended && <p className="font-medium">Your session has ended: {ended}</p>}
          {live && remaining !== null && (
            <p>
              Time left:{" "}
              <span data-testid="countdown" className="font-mono text-lg font-bold">
                {clock(remaining)}
              </span>
            </p>
          )}
          {session && remaining === 0 && !ended && (
            <p className="font-medium">Your session has ended: time is up.</p>
          )}
        </div>
        <ErrorMessage error={status.error} />
        {!live && (
          <div className="space-y-2">
            <Button
              className="w-full"
              disabled={buy.isPending || Boolean(offline) || entry?.available === false}
              onClick={() => buy.mutate()}
            >
              {buy.isPending
                ? "Buying…"
                : `Buy ${config.data?.session_duration_minutes ?? 10} minutes for ${usdc(robot.price)} USDC`}
            </Button>
            <ErrorMessage error={buy.error} />
          </div>
        )}
        {live && (
          <>
            {velocityDriven ? (
              <>
                <p className="mb-2 text-sm text-slate-700">
                  Hold arrow keys or W A S D (two at once drive an arc), or hold and drag on the pad: the
                  further from its centre, the faster. Letting go stops the robot.
                </p>
                <VelocityPad onChange={setPad} />
                <Button tone="secondary" className="mt-2 w-full" onClick={letGo}>
                  STOP
                </Button>
              </>
            ) : (
              <>
                <p className="mb-2 text-sm text-slate-700">
                  Hold an arrow key, W A S D, or a button below. Letting go stops the robot.
                </p>
                <div className="mx-auto grid w-56 grid-cols-3 grid-rows-3 gap-2">
                  {PAD.map((pad) => (
                    <button
                      key={pad.command}
                      type="button"
                      aria-label={`Drive ${pad.label.toLowerCase()} (hold)`}
                      className={`${pad.area} h-16 touch-none select-none rounded-md bg-blue-700 text-2xl text-white active:bg-blue-900`}
                      onPointerDown={(event) => {
                        event.currentTarget.setPointerCapture(event.pointerId);
                        press(pad.command);
                      }}
                      onPointerUp={release}
                      onPointerCancel={release}
                      onLostPointerCapture={release}
                      onKeyDown={(event) => {
                        if (event.key === " " || event.key === "Enter") {
                          event.preventDefault();
                          if (!event.repeat) press(pad.command);
                        }
                      }}
                      onKeyUp={(event) => (event.key === " " || event.key === "Enter") && release()}
                      onContextMenu={(event) => event.preventDefault()}
                    >
                      {pad.symbol}
                    </button>
                  ))}
                  <button
                    type="button"
                    className="col-start-2 row-start-2 h-16 rounded-md bg-red-700 font-bold text-white"
                    onClick={stop}
                  >
                    STOP
                  </button>
                </div>
              </>
            )}
            <ErrorMessage error={commandError} />
            <Button
              tone="secondary"
              className="mt-4 w-full"
              disabled={releaseSession.isPending}
              onClick={() => releaseSession.mutate()}
            >
              Release the robot
            </Button>
          </>
        )}
      </Card>
    </div>
  );
}
