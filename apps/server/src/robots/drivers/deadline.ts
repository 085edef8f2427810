/**
 * An abort signal that fires `ms` from now unless cleared once the request is done. Not
 * AbortSignal.timeout: that signal is made transferable and its timer outlives the request, a cost
 * every motor command paid.
 */
export function deadline(ms: number): { readonly signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")),
    ms,
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
