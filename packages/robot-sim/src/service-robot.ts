import { createServer } from "node:http";
import { z } from "zod";
import { dataAnalysisService } from "./data-analysis.ts";
import { type BoardFaults, checkFaults, FaultInputError, withFaults } from "./faults.ts";
import {
  closeServer,
  guard,
  type Handler,
  listen,
  PayloadTooLargeError,
  readBody,
  requestUrl,
  send,
  sendJson,
} from "./http.ts";
import { describeIssues, type Service, ServiceError } from "./service.ts";
import { snapshotService } from "./snapshot.ts";

export const SERVICE_KINDS = ["snapshot", "data-analysis"] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

export interface ServiceFaults extends BoardFaults {
  /** Answer 200, labelled JSON, with a body that is not JSON, like a robot whose software broke. */
  invalid?: boolean;
}

export interface ServiceRobotOptions {
  kind: ServiceKind;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The Tumbller camera board a `snapshot` robot takes its pictures from, e.g. a RobotSim's `cameraUrl`. */
  cameraUrl?: string;
}

export interface ServiceRobot {
  /** Where it takes `POST /` service calls, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  readonly kind: ServiceKind;
  /** Its current faults; assign new ones to break it, `{}` heals it. Throws on values that make no sense. */
  faults: ServiceFaults;
  /** Closes the server, aborts slow answers and camera calls, destroys open sockets. */
  close(): Promise<void>;
}

// 100,000 numbers written out in full fit comfortably.
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const ServiceRequest = z.object({ service: z.string().min(1), input: z.unknown().optional() });

/** Checks faults from an untyped caller, as the motor and camera boards' faults are checked. */
export function checkServiceFaults(input: unknown): ServiceFaults {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new FaultInputError("faults must be an object");
  }
  const { invalid, ...boardFaults } = input as Record<string, unknown>;
  if (invalid !== undefined && typeof invalid !== "boolean") {
    throw new FaultInputError("invalid must be true or false");
  }
  const faults: ServiceFaults = checkFaults(boardFaults);
  if (invalid !== undefined) faults.invalid = invalid;
  return faults;
}

function servicesOf(options: ServiceRobotOptions): Service[] {
  if (options.kind === "data-analysis") return [dataAnalysisService];
  if (options.kind === "snapshot") {
    if (!options.cameraUrl || !URL.canParse(options.cameraUrl)) {
      throw new TypeError("a snapshot robot needs cameraUrl, its camera board's URL");
    }
    return [snapshotService({ cameraUrl: options.cameraUrl })];
  }
  throw new TypeError(`kind must be one of ${SERVICE_KINDS.join(", ")}`);
}

function parseServiceRequest(body: string): z.infer<typeof ServiceRequest> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new ServiceError(400, `the body is not JSON (${(error as SyntaxError).message})`);
  }
  const parsed = ServiceRequest.safeParse(json);
  if (!parsed.success) throw new ServiceError(422, describeIssues(parsed.error, "body"));
  return parsed.data;
}

/** `GET /` describes the services, `POST /` runs one. */
function serviceApi(kind: ServiceKind, services: Service[], closing: AbortSignal): Handler {
  const byName = new Map(services.map((service) => [service.name, service]));
  return async (req, res) => {
    const { pathname } = requestUrl(req);
    if (pathname !== "/") {
      return sendJson(res, 404, {
        detail: `no route ${pathname}; GET / lists the services, POST / runs one`,
      });
    }
    if (req.method === "GET") {
      return sendJson(res, 200, { kind, services: services.map((service) => service.describe()) });
    }
    if (req.method !== "POST") {
      res.setHeader("Allow", "GET, POST");
      return sendJson(res, 405, { detail: "use GET or POST" });
    }
    try {
      const request = parseServiceRequest(await readBody(req, MAX_BODY_BYTES));
      const service = byName.get(request.service);
      if (!service) {
        const sold = [...byName.keys()].map((name) => `"${name}"`).join(", ");
        throw new ServiceError(404, `this robot does not sell "${request.service}"; it sells ${sold}`);
      }
      sendJson(res, 200, await service.run(request.input, closing));
    } catch (error) {
      if (error instanceof ServiceError) return sendJson(res, error.status, { detail: error.detail });
      if (error instanceof PayloadTooLargeError) {
        return sendJson(res, 413, { detail: `request ${error.message}` });
      }
      throw error;
    }
  };
}

/** `POST /_sim/fault` with the new faults: lets tests in other processes break the robot. */
function faultApi(setFaults: (faults: unknown) => ServiceFaults): Handler {
  return async (req, res) => {
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      return sendJson(res, 405, { detail: "use POST" });
    }
    try {
      sendJson(res, 200, { faults: setFaults(JSON.parse(await readBody(req, 16 * 1024))) });
    } catch (error) {
      if (
        error instanceof SyntaxError ||
        error instanceof FaultInputError ||
        error instanceof PayloadTooLargeError
      ) {
        return sendJson(res, 400, { detail: error.message });
      }
      throw error;
    }
  };
}

function withInvalidAnswers(invalid: () => boolean, handler: Handler): Handler {
  return (req, res) => {
    if (invalid()) send(res, 200, '{"result": <html>Internal error</html>', "application/json");
    else return handler(req, res);
  };
}

/** Starts a robot that sells a service per call over HTTP, as the marketplace's robots do. */
export async function startServiceRobot(options: ServiceRobotOptions): Promise<ServiceRobot> {
  const { kind, host = "127.0.0.1", port = 0 } = options;
  const services = servicesOf(options);
  let faults: ServiceFaults = {};
  const setFaults = (next: unknown) => {
    faults = checkServiceFaults(next);
    return { ...faults };
  };
  // Aborted by close(), so no slowMs delay or camera call outlives the robot.
  const closing = new AbortController();

  const api = withFaults(
    () => faults,
    closing.signal,
    withInvalidAnswers(() => faults.invalid === true, serviceApi(kind, services, closing.signal)),
  );
  const control = faultApi(setFaults);
  const server = createServer(
    guard(
      (req, res) => (requestUrl(req).pathname === "/_sim/fault" ? control : api)(req, res),
      closing.signal,
    ),
  );
  const close = async () => {
    closing.abort();
    await closeServer(server);
  };
  let boundPort: number;
  try {
    boundPort = await listen(server, port, host);
  } catch (error) {
    await close();
    throw error;
  }
  const base = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${base}:${boundPort}/`,
    kind,
    get faults() {
      return { ...faults };
    },
    set faults(next: ServiceFaults) {
      setFaults(next);
    },
    close,
  };
}
