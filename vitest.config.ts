import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Model inference is CPU bound on 2 cores; files run one at a time so ORT threads do not fight.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // CI=true without ../shared fails here, with the reason (tests/support/fixtures.ts says where fixtures live).
    globalSetup: ["tests/support/global_setup.ts"],
    // The closing line: how many tests were skipped and why.
    reporters: ["default", "./tests/support/skip_reporter.ts"],
  },
});
