import { defineConfig } from "vitest/config";

// `npm run test:reliability`: many processes, a chain and real engines per file, so one file at a time.
export default defineConfig({
  test: {
    include: ["e2e/reliability/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
  },
});
