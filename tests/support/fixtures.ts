/**
 * Where the tests' fixtures (photos, small real models, InsightFace's golden records) live: the one place that
 * decides it. In order:
 *   1. `FACESETS_FIXTURES=DIR` (a folder laid out as ../shared: faces/, models/, golden/); an error when it is missing;
 *   2. `../shared` beside the repository (the full set: CI and the development machine have it);
 *   3. `tests/fixtures/` inside the repository: a ~10 MB subset (README there), so a lone clone still runs a real
 *      parity test, a real scan and a real discovery.
 * Tests that need a file the chosen set does not hold are skipped through `needs(...)`, which records why; the
 * reporter (tests/support/skip_reporter.ts) ends the run with one line counting them. Under `CI=true` falling back
 * to tests/fixtures is an error (tests/support/global_setup.ts): CI must run everything.
 * The product never reads any of this.
 */
import { existsSync, readFileSync } from "node:fs";
import type { GoldenSet } from "../../lib/bench/mod";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is tests/support/fixtures.ts), so nothing depends on the working directory. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SHARED_BESIDE_REPO = path.resolve(REPO_ROOT, "../shared");
export const IN_REPO_FIXTURES = path.join(REPO_ROOT, "tests", "fixtures");

export type FixtureSource = "FACESETS_FIXTURES" | "../shared" | "tests/fixtures";

export interface FixtureLocation {
  dir: string;
  source: FixtureSource;
  /** Why the full set is not in use (undefined when it is). */
  fallbackReason?: string;
}

/** Resolve the fixture folder from the environment and the file system (pure, so a test can check the order). */
export function locateFixtures(env: Record<string, string | undefined> = process.env): FixtureLocation {
  const fromEnv = env.FACESETS_FIXTURES;
  if (fromEnv !== undefined && fromEnv !== "") {
    const dir = path.resolve(REPO_ROOT, fromEnv);
    if (!existsSync(dir)) throw new Error(`FACESETS_FIXTURES=${fromEnv}: ${dir} does not exist`);
    return { dir, source: "FACESETS_FIXTURES" };
  }
  if (existsSync(path.join(SHARED_BESIDE_REPO, "faces")) && existsSync(path.join(SHARED_BESIDE_REPO, "models"))) {
    return { dir: SHARED_BESIDE_REPO, source: "../shared" };
  }
  return {
    dir: IN_REPO_FIXTURES,
    source: "tests/fixtures",
    fallbackReason: `${SHARED_BESIDE_REPO} (../shared beside the repository) is missing and FACESETS_FIXTURES is not set`,
  };
}

export const FIXTURE_LOCATION = locateFixtures();

/** The fixture root in use (../shared, FACESETS_FIXTURES or tests/fixtures). Kept under its old name. */
export const SHARED = FIXTURE_LOCATION.dir;
export const FACES = path.join(SHARED, "faces");
export const MODELS = path.join(SHARED, "models");
export const GOLDEN = path.join(SHARED, "golden");

export const TEST_DETECTOR = path.join(MODELS, "det_2.5g.onnx");
export const TEST_DETECTOR_500M = path.join(MODELS, "det_500m.onnx");
export const TEST_RECOGNIZER = path.join(MODELS, "w600k_mbf_int8.onnx");
/** det_2.5g where the full set is in use, else det_500m (the detector tests/fixtures carries). */
export const ANY_TEST_DETECTOR = existsSync(TEST_DETECTOR) ? TEST_DETECTOR : TEST_DETECTOR_500M;

/** True when every path (relative to the fixture root, e.g. "faces/psd/t1_composite.psd") exists. */
export function hasFixtures(...rels: string[]): boolean {
  return rels.every((rel) => existsSync(path.join(SHARED, rel)));
}

/** What the labelled-photo workflow tests read: the full labelled folders and the det_2.5g test detector. */
export const FULL_SET = [
  "models/det_2.5g.onnx",
  "models/w600k_mbf_int8.onnx",
  "faces/deepface/img1.jpg",
  "faces/face_recognition/labels.csv",
  "faces/faceapi/labels.csv",
] as const;

declare module "vitest" {
  interface TaskMeta {
    /** Set on tests skipped because a fixture is missing: the first missing path (read by skip_reporter.ts). */
    fixtureSkip?: string;
    /** Set by skipUnless: why a test that needs something other than fixtures was skipped. */
    skipReason?: string;
  }
}

/**
 * Options for `describe(name, needs(...), fn)` / `test(name, needs(...), fn)`: skipped, with the missing fixture
 * recorded for the closing skip line, unless every path exists under the fixture root.
 * A skipped describe's body still runs while vitest collects it: read fixtures in hooks and tests, not in the body.
 */
export function needs(...rels: string[]): { skip: boolean; meta?: { fixtureSkip: string } } {
  const missing = rels.filter((rel) => !existsSync(path.join(SHARED, rel)));
  if (missing.length === 0) return { skip: false };
  return { skip: true, meta: { fixtureSkip: missing[0]! } };
}

/** Options that skip a test for a reason other than fixtures (a missing tool), recorded for the skip line. */
export function skipUnless(ok: boolean, reason: string): { skip: boolean; meta?: { skipReason: string } } {
  return ok ? { skip: false } : { skip: true, meta: { skipReason: reason } };
}

/** The full set, see FULL_SET. */
export function needsFullSet(...more: string[]) {
  return needs(...FULL_SET, ...more);
}

// The golden record types are lib's (lib/bench/parity_bench.ts: deno task parity reads the same files).
export type { GoldenFace, GoldenImage, GoldenSet } from "../../lib/bench/mod";

export function readGolden(name: string): GoldenSet {
  return JSON.parse(readFileSync(path.join(GOLDEN, name), "utf8")) as GoldenSet;
}

/** Golden records of the detector ANY_TEST_DETECTOR is (det_2.5g in ../shared, det_500m in tests/fixtures). */
export const ANY_GOLDEN = ANY_TEST_DETECTOR === TEST_DETECTOR ? "det_2.5g+w600k_mbf_int8.json" : "det_500m+w600k_mbf_int8.json";

/** The full set is in use (the labelled folders and det_2.5g). Prefer `needs(...)`, which records the skip. */
export function sharedAvailable(): boolean {
  return hasFixtures(...FULL_SET);
}
