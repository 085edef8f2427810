import { z } from "zod";
import type { CallKind } from "./kind.ts";

/** A robot that sells services per call: execute/ posts each paid job to its endpoint. */
export const httpServiceKind: CallKind = {
  sells: "calls",
  description: "A robot that sells services per call over HTTP.",
  settings: z.null(),
  checkRegistration: () => null,
};
