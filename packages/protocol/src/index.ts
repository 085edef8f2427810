export * from "./access.ts";
export * from "./auth.ts";
export * from "./errors.ts";
export * from "./link.ts";
export * from "./marketplace.ts";
export * from "./networks.ts";
export * from "./robot.ts";
