import type { PaymentSessionResponse } from "@robo402/protocol";

/** Payments as a table that scrolls sideways on a phone. */
export function PaymentsTable({
  payments,
  caption,
}: {
  payments: PaymentSessionResponse[];
  caption: string;
}) {
  if (payments.length === 0) return <p>No payments yet.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full min-w-[36rem] border-collapse text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr className="border-b border-slate-300">
            <th scope="col" className="p-2">
              Date
            </th>
            <th scope="col" className="p-2">
              Service
            </th>
            <th scope="col" className="p-2">
              Amount
            </th>
            <th scope="col" className="p-2">
              Status
            </th>
            <th scope="col" className="p-2">
              Transaction
            </th>
          </tr>
        </thead>
        <tbody>
          {payments.map((payment) => (
            <tr key={payment.id} className="border-b border-slate-200">
              <td className="p-2">{new Date(payment.created_at).toLocaleString()}</td>
              <td className="p-2">{payment.service}</td>
              <td className="p-2">{payment.amount} USDC</td>
              <td className="p-2">{payment.status}</td>
              <td className="max-w-[12rem] truncate p-2 font-mono text-xs">{payment.tx_signature ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
