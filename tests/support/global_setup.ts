/**
 * Runs once before any test file. Under CI (`CI=true`) the full fixture set must be there: a missing ../shared
 * (and no FACESETS_FIXTURES) fails the run here with one clear message instead of skipping most of the suite.
 */
import { FIXTURE_LOCATION } from "./fixtures";

export default function setup(): void {
  const ci = process.env.CI;
  if (ci !== undefined && ci !== "" && ci !== "false" && ci !== "0" && FIXTURE_LOCATION.fallbackReason !== undefined) {
    throw new Error(
      `CI=${ci}: the test fixtures are required in CI, but ${FIXTURE_LOCATION.fallbackReason}. ` +
        `Put the shared fixtures (faces/, models/, golden/) at ../shared beside the repository or set FACESETS_FIXTURES=DIR.`,
    );
  }
}
