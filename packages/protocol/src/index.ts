export * from "./access.ts";
export * from "./auth.ts";
export * from "./errors.ts";
export * from "./marketplace.ts";
export * from "./robot.ts";
