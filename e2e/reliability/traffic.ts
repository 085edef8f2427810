/** One answer as a client saw it; `hung` when nothing came back within the client's patience. */
export interface Answer {
  readonly label: string;
  /** When the answer came, in epoch milliseconds. */
  readonly at: number;
  readonly status: number | "hung" | "refused";
  readonly detail?: unknown;
}

/**
 * A fetch for clients under test that writes down every answer it gets. A request that outlives
 * `patienceMs` is aborted and recorded as hung: a server that cannot reach its database must say so,
 * not keep the caller waiting.
 */
export function recordingFetch(label: string, answers: Answer[], patienceMs: number): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    try {
      const response = await fetch(request, { signal: AbortSignal.timeout(patienceMs) });
      const detail =
        response.status >= 500
          ? (
              (await response
                .clone()
                .json()
                .catch(() => undefined)) as { detail?: unknown } | undefined
            )?.detail
          : undefined;
      answers.push({ label, at: Date.now(), status: response.status, detail });
      return response;
    } catch (error) {
      const hung = error instanceof DOMException && error.name === "TimeoutError";
      answers.push({ label, at: Date.now(), status: hung ? "hung" : "refused", detail: String(error) });
      throw error;
    }
  };
}

/** Runs `step` over and over (errors included: they are answers too) until `stop()` is called. */
export function keepCalling(step: () => Promise<unknown>): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await step().catch(() => {});
      // Paced: a step that fails at once must not spin two shared cores flat.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
