import type { ErrorResponse } from "@robo402/protocol";

/** An answer the API refused, with its reason in words. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The user said no to a payment: not an error to show in red. */
export class PaymentCancelled extends Error {
  override name = "PaymentCancelled";
  constructor() {
    super("Payment cancelled.");
  }
}

/**
 * The API's `{"detail": …}` in words: a string as it is, FastAPI's list as "field: message" lines. Some
 * answers (a refused x402 payment, /api/payments/verify) say it as `error` instead.
 */
export function describeBody(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const { detail, error } = body as Partial<ErrorResponse> & { error?: unknown };
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail) && detail.length > 0) {
      return detail
        .map((issue) => {
          const field = issue.loc.filter((part) => part !== "body" && part !== "query").join(".");
          return field ? `${field}: ${issue.msg}` : issue.msg;
        })
        .join("\n");
    }
    if (typeof error === "string" && error) return error;
  }
  return `The server answered ${status} without saying why.`;
}

export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text ? { detail: text.slice(0, 300) } : undefined;
  }
  return new ApiError(response.status, describeBody(body, response.status));
}

/** Any thrown value as a sentence for the page. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
