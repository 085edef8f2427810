export * from "./access.ts";
export * from "./errors.ts";
export * from "./robot.ts";
