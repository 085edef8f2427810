import pg from "pg";
import { createPublicClient, http, parseAbiItem } from "viem";
import { foundry } from "viem/chains";

/** What a person auditing the books would find wrong, one sentence each; empty when they balance. */
export interface LedgerAudit {
  readonly problems: string[];
  /** Payments that bought a session. */
  readonly granted: number;
  /** Payments that settled but could not open their session: owed back, on record. */
  readonly refundDue: number;
  /** Transfers of the token to the payee found on chain (when a chain was given). */
  readonly transfers: number;
}

export interface ChainView {
  readonly rpcUrl: string;
  readonly token: `0x${string}`;
  readonly payee: `0x${string}`;
}

const transferEvent = parseAbiItem("event Transfer(address indexed from, address indexed to, uint256 value)");
const ZERO = "0x0000000000000000000000000000000000000000";

/**
 * Checks a paid-mode database (and, given one, the chain) for what must never happen: a payment left
 * half-way, a settled payment with neither session nor refund record, a robot held without a session, a
 * session nobody paid for, a wallet holding two robots, money on chain with no ledger row. Call it once
 * the servers have finished (or recovered) what they were doing.
 */
export async function auditLedger(databaseUrl: string, chain?: ChainView): Promise<LedgerAudit> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const problems: string[] = [];
    const rows = async (sql: string) => (await db.query(sql)).rows as Array<Record<string, string>>;

    for (const row of await rows(
      "select id, status from payments where status in ('verified', 'settling', 'settled')",
    ))
      problems.push(`payment ${row.id} was left ${row.status}`);
    for (const row of await rows(`
      select p.id from payments p left join access_sessions s on s.id = p.session_id
      where p.status = 'granted' and (s.id is null or s.pending or s.payment_tx is distinct from p.tx_hash)`))
      problems.push(`payment ${row.id} is granted but has no session opened by its transaction`);
    for (const row of await rows("select robot_id from access_sessions where ended_at is null and pending"))
      problems.push(`robot ${row.robot_id} is held by a purchase that never opened its session`);
    for (const row of await rows(`
      select s.id from access_sessions s where not s.pending
      and not exists (select 1 from payments p where p.session_id = s.id and p.status = 'granted')`))
      problems.push(`session ${row.id} has no granted payment`);
    for (const row of await rows(
      "select wallet from access_sessions where ended_at is null group by wallet having count(*) > 1",
    ))
      problems.push(`wallet ${row.wallet} holds more than one robot`);

    const [counts] = await rows(`select count(*) filter (where status = 'granted') as granted,
      count(*) filter (where status = 'refund_due') as refund_due from payments`);
    let transfers = 0;
    if (chain) {
      const reader = createPublicClient({ chain: foundry, transport: http(chain.rpcUrl) });
      const logs = await reader.getLogs({
        address: chain.token,
        event: transferEvent,
        args: { to: chain.payee },
        fromBlock: 0n,
      });
      const paid = logs.filter((log) => log.args.from?.toLowerCase() !== ZERO);
      transfers = paid.length;
      const ledger = await rows("select tx_hash, status, amount, payer from payments");
      const byTx = new Map<string, Array<Record<string, string>>>();
      for (const row of ledger)
        byTx.set(row.tx_hash?.toLowerCase() ?? "", [
          ...(byTx.get(row.tx_hash?.toLowerCase() ?? "") ?? []),
          row,
        ]);
      for (const log of paid) {
        const matches = byTx.get(log.transactionHash.toLowerCase()) ?? [];
        const settled = matches.filter((row) => row.status === "granted" || row.status === "refund_due");
        if (settled.length !== 1) {
          const payer = log.args.from?.toLowerCase();
          const theirs = ledger
            .filter((row) => row.payer === payer)
            .map((row) => `${row.status} tx ${row.tx_hash}`);
          problems.push(
            `transfer ${log.transactionHash} of ${log.args.value} from ${payer} has ${settled.length} granted or refund-due ledger rows (the payer's rows: ${theirs.join(", ") || "none"})`,
          );
        } else if (settled[0]?.amount !== String(log.args.value))
          problems.push(
            `transfer ${log.transactionHash} moved ${log.args.value}, the ledger says ${settled[0]?.amount}`,
          );
      }
      const onChain = new Set(paid.map((log) => log.transactionHash.toLowerCase()));
      for (const row of ledger)
        if (
          (row.status === "granted" || row.status === "refund_due") &&
          !onChain.has(row.tx_hash?.toLowerCase() ?? "")
        )
          problems.push(
            `payment with tx ${row.tx_hash} is ${row.status} but no such transfer reached the payee`,
          );
    }
    return {
      problems,
      granted: Number(counts?.granted ?? 0),
      refundDue: Number(counts?.refund_due ?? 0),
      transfers,
    };
  } finally {
    await db.end();
  }
}
