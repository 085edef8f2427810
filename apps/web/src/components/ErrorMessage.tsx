import { PaymentCancelled } from "../api/errors.ts";

/** An error in words, read out by screen readers; a cancelled payment is a note, not a failure. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof PaymentCancelled)
    return (
      <p role="status" className="rounded-md bg-slate-100 p-3 text-sm text-slate-700">
        Payment cancelled; nothing was charged.
      </p>
    );
  const text = error instanceof Error ? error.message : String(error);
  return (
    <p
      role="alert"
      className="whitespace-pre-line rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800"
    >
      {text}
    </p>
  );
}
