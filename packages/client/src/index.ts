export { type Purchase, Robo402Client, type Robo402ClientOptions, Robo402Error } from "./client.ts";
export {
  type PayerOptions,
  payerAddress,
  payingFetch,
  type SolanaPayer,
  signIn,
  solanaSigner,
} from "./payer.ts";
export {
  type PayTransferOptions,
  type PlanPayment,
  payTransfer,
  planAmount,
  planTransferData,
  sessionSuffix,
} from "./transfer.ts";
