import { getSolanaErrorFromTransactionError } from "@solana/kit";
import type { FailedTransactionMetadata } from "litesvm";

/**
 * A transaction error as Solana's RPC writes it (serde's externally tagged enum): a variant name
 * (`"AccountNotFound"`), or an object naming it with its fields (`{"InstructionError":[0,{"Custom":1}]}`,
 * `{"InsufficientFundsForRent":{"account_index":2}}`). `@solana/kit` turns exactly this into its errors.
 */
export type TransactionError = string | { [variant: string]: unknown };

/**
 * The error of a failed litesvm transaction in the RPC's shape. litesvm hands its error over as native
 * objects whose fieldless variants are bare numbers; its Rust debug text (`InstructionError(0, Custom(1))`)
 * names every variant, and reads straight into serde's JSON.
 */
export function transactionError(failed: FailedTransactionMetadata): TransactionError {
  const text = failed.toString();
  const start = text.indexOf("err: ");
  if (start >= 0) {
    try {
      const value = new DebugReader(text, start + "err: ".length).value();
      if (typeof value === "string" || (typeof value === "object" && value !== null))
        return value as TransactionError;
    } catch {}
  }
  return { Unknown: String(failed.err()) };
}

/**
 * The sentence a validator puts after "Transaction simulation failed: ", as close as @solana/kit's
 * own error messages (which follow the validator's) allow: "Error processing Instruction 0: custom
 * program error: 0x1".
 */
export function describeTransactionError(error: TransactionError): string {
  if (typeof error === "object" && Array.isArray(error.InstructionError)) {
    const [index, inner] = error.InstructionError as [number, unknown];
    const custom = (inner as { Custom?: unknown } | null)?.Custom;
    const detail =
      typeof custom === "number"
        ? `custom program error: 0x${custom.toString(16)}`
        : kitMessage(error).replace(/ \(instruction #\d+\)$/, "");
    return `Error processing Instruction ${index}: ${detail}`;
  }
  return kitMessage(error);
}

function kitMessage(error: TransactionError): string {
  const name = typeof error === "string" ? error : Object.keys(error)[0];
  try {
    const message = getSolanaErrorFromTransactionError(error).message;
    // Kit's production builds shorten messages to a code; the variant name says more.
    return message.startsWith("Solana error #") ? String(name) : message;
  } catch {
    return String(name);
  }
}

/** Reads Rust's `{:?}` text of an enum into serde's JSON form: `A`, `A(x)`, `A(x, y)`, `A { f: x }`. */
class DebugReader {
  constructor(
    private readonly text: string,
    private at: number,
  ) {}

  value(): unknown {
    this.#skip();
    const char = this.text[this.at];
    if (char === '"') return this.#string();
    const number = /^-?\d+/.exec(this.text.slice(this.at));
    if (number) {
      this.at += number[0].length;
      return Number(number[0]);
    }
    const name = this.#ident();
    this.#skip();
    if (this.text[this.at] === "(") {
      this.at += 1;
      const items = this.#list(")", () => this.value());
      return { [name]: items.length === 1 ? items[0] : items };
    }
    if (this.text[this.at] === "{") {
      this.at += 1;
      const fields = this.#list("}", () => {
        const field = this.#ident();
        this.#expect(":");
        return [field, this.value()] as const;
      });
      return { [name]: Object.fromEntries(fields) };
    }
    return name;
  }

  #list<T>(close: string, item: () => T): T[] {
    const items: T[] = [];
    for (;;) {
      this.#skip();
      if (this.text[this.at] === close) {
        this.at += 1;
        return items;
      }
      items.push(item());
      this.#skip();
      if (this.text[this.at] === ",") this.at += 1;
    }
  }

  #ident(): string {
    this.#skip();
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at));
    if (!match) throw new Error(`unreadable error text at ${this.at}`);
    this.at += match[0].length;
    return match[0];
  }

  #string(): string {
    const match = /^"(?:[^"\\]|\\.)*"/.exec(this.text.slice(this.at));
    if (!match) throw new Error("unterminated string");
    this.at += match[0].length;
    return JSON.parse(match[0]) as string;
  }

  #expect(char: string) {
    this.#skip();
    if (this.text[this.at] !== char) throw new Error(`expected ${char} at ${this.at}`);
    this.at += 1;
  }

  #skip() {
    while (this.text[this.at] === " ") this.at += 1;
  }
}
