import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "apps/*/test/**/*.test.ts",
      "packages/*/test/**/*.test.ts",
      "e2e/**/*.test.ts",
      "bench/test/**/*.test.ts",
    ],
    // Their own run: `npm run test:reliability` (vitest.reliability.config.ts).
    exclude: [...configDefaults.exclude, "e2e/reliability/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
