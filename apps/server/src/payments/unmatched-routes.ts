import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  RefundRequest,
  UnmatchedTransferListResponse,
  UnmatchedTransferQuery,
  UnmatchedTransferResponse,
} from "@robo402/protocol";
import { type AuthEnv, signedIn } from "../auth/middleware.ts";
import { validationHook } from "../http/errors.ts";
import { bearer, errors, json } from "../http/openapi.ts";
import { Refusal } from "../refusal.ts";
import type { Caller, RobotCatalog } from "../robots/catalog.ts";
import type { UnmatchedTransfer, UnmatchedTransfers } from "./unmatched.ts";

const TransferId = z.object({ id: z.uuid({ message: "must be an unmatched transfer's id (a UUID)" }) });

const LIST_DESCRIPTION =
  "Money that reached a robot's wallet through the plan's transfer flow (`POST /api/payments/verify`) but paid nothing: a transfer that did not prove its session (`unproven_payer`, `wrong_memo`), paid too little, was mined before the session, or came for a session that had expired or was already paid. Each transaction once, with its sender and amount (base units of `asset`), newest first; one that later paid its rightful session leaves the list.";

const refundRoute = (path: string, who: string) =>
  createRoute({
    method: "post",
    path,
    summary: `Mark an unmatched transfer sent back, naming the refund's transaction (${who})`,
    description:
      "Records that the money was returned to `sender`; the platform does not send it. From then on the transaction pays nothing, even if its sender later proves it was theirs.",
    security: bearer,
    request: {
      params: TransferId,
      body: { content: { "application/json": { schema: RefundRequest } }, required: true },
    },
    responses: {
      200: json(UnmatchedTransferResponse, "Marked refunded"),
      ...errors({
        401: "Not signed in, or a bad token",
        403: "Not the owner of the robot the money went to (nor an admin)",
        404: "No such unmatched transfer (or its transaction paid a session after all)",
        409: "Already marked refunded, or its transaction has just paid a session",
        422: "refund_tx is missing",
      }),
    },
  });

const ownedList = createRoute({
  method: "get",
  path: "/payments/unmatched",
  summary: "Transfers to the caller's robots that paid nothing, to refund (robot owners and admins)",
  description: `${LIST_DESCRIPTION} An owner sees its own robots' only (admins too: every robot's is under /api/admin/unmatched-transfers).`,
  security: bearer,
  request: { query: UnmatchedTransferQuery },
  responses: {
    200: json(UnmatchedTransferListResponse, "Newest first"),
    ...errors({
      401: "Not signed in, or a bad token",
      403: "Only robot owners and admins have robots",
      422: "A query parameter is invalid",
    }),
  },
});

const adminList = createRoute({
  method: "get",
  path: "/unmatched-transfers",
  summary: "Every robot's transfers that paid nothing (admins)",
  description: LIST_DESCRIPTION,
  security: bearer,
  request: { query: UnmatchedTransferQuery },
  responses: {
    200: json(UnmatchedTransferListResponse, "Newest first"),
    ...errors({
      401: "Not signed in, or a bad token",
      403: "The caller is not an admin",
      422: "A query parameter is invalid",
    }),
  },
});

/**
 * `/api/payments/unmatched` and `/api/payments/unmatched/{id}/refund`: a robot owner's view of the money
 * its robots received and kept without selling anything, and the record that it was sent back. Mount at
 * `/api` behind `authenticate`.
 */
export function unmatchedRoutes(unmatched: UnmatchedTransfers, catalog: RobotCatalog) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(ownedList, async (c) => {
      const caller = signedIn(c);
      if (caller.role === "user")
        throw new Refusal("forbidden", "Insufficient permissions: requires robot_owner or admin.");
      const query = c.req.valid("query");
      const owned = await catalog.list({ mine: true }, caller);
      const rows = await unmatched.list({ ...listFilter(query), robotIds: owned.map((robot) => robot.id) });
      return c.json({ unmatched_transfers: rows.map(unmatchedJson) }, 200);
    })
    .openapi(refundRoute("/payments/unmatched/{id}/refund", "the robot's owner"), async (c) => {
      const caller = signedIn(c);
      const row = await refundable(unmatched, c.req.valid("param").id);
      await mayRefund(row, caller, catalog);
      return c.json(unmatchedJson(await refund(unmatched, row, c.req.valid("json").refund_tx)), 200);
    });
}

/** `/api/admin/unmatched-transfers[/{id}/refund]`: every robot's. Mount at `/api/admin` behind `requireRole("admin")`. */
export function adminUnmatchedRoutes(unmatched: UnmatchedTransfers) {
  return new OpenAPIHono<AuthEnv>({ defaultHook: validationHook })
    .openapi(adminList, async (c) => {
      const query = c.req.valid("query");
      const rows = await unmatched.list(listFilter(query));
      return c.json({ unmatched_transfers: rows.map(unmatchedJson) }, 200);
    })
    .openapi(refundRoute("/unmatched-transfers/{id}/refund", "admins"), async (c) => {
      const row = await refundable(unmatched, c.req.valid("param").id);
      return c.json(unmatchedJson(await refund(unmatched, row, c.req.valid("json").refund_tx)), 200);
    });
}

/** The list's query as the store filters it. */
function listFilter(query: {
  robot_id?: string;
  refunded?: "true" | "false";
  limit: number;
  offset: number;
}) {
  return {
    robotId: query.robot_id,
    refunded: query.refunded === undefined ? undefined : query.refunded === "true",
    limit: query.limit,
    offset: query.offset,
  };
}

async function refundable(unmatched: UnmatchedTransfers, id: string): Promise<UnmatchedTransfer> {
  const row = await unmatched.get(id);
  if (!row) throw new Refusal("not_found", `Unmatched transfer ${id} not found.`);
  return row;
}

/** The robot's owner or an admin; a transfer to no robot (or a deleted one) is the admins' to settle. */
async function mayRefund(row: UnmatchedTransfer, caller: Caller, catalog: RobotCatalog): Promise<void> {
  if (caller.role === "admin") return;
  if (!row.robotId)
    throw new Refusal(
      "forbidden",
      "Only an admin may mark this transfer refunded: it went to no listed robot.",
    );
  await catalog.getOwned(row.robotId, caller);
}

async function refund(
  unmatched: UnmatchedTransfers,
  row: UnmatchedTransfer,
  refundTx: string,
): Promise<UnmatchedTransfer> {
  if (row.refundedAt)
    throw new Refusal(
      "conflict",
      `Transfer ${row.txHash} was already marked refunded on ${row.refundedAt.toISOString()} by ${row.refundTx}.`,
    );
  const marked = await unmatched.markRefunded(row.id, refundTx, new Date());
  if (!marked)
    throw new Refusal(
      "conflict",
      `Transfer ${row.txHash} cannot be marked refunded now: it was marked meanwhile, or it has just paid a session.`,
    );
  return marked;
}

export function unmatchedJson(row: UnmatchedTransfer): z.infer<typeof UnmatchedTransferResponse> {
  return {
    id: row.id,
    network: row.network,
    tx_hash: row.txHash,
    asset: row.asset,
    sender: row.sender,
    recipient: row.recipient,
    amount: row.amount,
    code: row.code,
    reason: row.reason,
    payment_session_id: row.paymentSessionId,
    robot_id: row.robotId,
    created_at: row.createdAt.toISOString(),
    refunded_at: row.refundedAt?.toISOString() ?? null,
    refund_tx: row.refundTx,
  };
}
