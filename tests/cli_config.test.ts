/**
 * The config as a person passes it on the command line: a bad --config file or --set is a bad argument (exit 2,
 * the file or setting and the key named, nothing written), and --set reaches the workflow and its run record.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { MODELS, needsFullSet } from "./support/fixtures";
import { copyPhotos, photosOf, sharedLabels } from "./support/labelled";
import { denoChild } from "./support/scan_tree";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-cli-config-"));
const PHOTOS = path.join(TMP, "photos");
const LIBRARY = path.join(TMP, "library");
const STORE = path.join(TMP, "store.duckdb");

async function task(args: readonly string[]): Promise<{ code: number | null; stdout: string[]; stderr: string }> {
  const child = denoChild(["task", ...args]);
  const { code } = await child.exited;
  return { code, stdout: child.stdout, stderr: child.stderr.join("\n") };
}

describe("config on the command line", needsFullSet(), () => {
  const labels = sharedLabels();
  copyPhotos([...photosOf(labels, "deepface_p01"), ...photosOf(labels, "deepface_p10")], PHOTOS);

  test("a config file with an out-of-range value exits 2 naming the file and the key, before anything is written", async () => {
    const bad = path.join(TMP, "bad.json");
    writeFileSync(bad, JSON.stringify({ image: { maxPixels: -5 } }));
    const r = await task(["scan", "--source", PHOTOS, "--store", STORE, "--models", MODELS, "--config", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${bad}: "image.maxPixels" must be an integer in [1, 1000000000], got -5`);
    expect(existsSync(STORE)).toBe(false);
  }, 60_000);

  test("a bad or unknown --set exits 2 naming the setting and the near keys", async () => {
    const osrc = ["cluster-osrc", "--source", PHOTOS, "--library", LIBRARY, "--store", STORE, "--scan", "--models", MODELS];
    const unknown = await task([...osrc, "--set", "identity.minUniqueSource=4"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--set identity.minUniqueSource=4: unknown key "identity.minUniqueSource" (near: identity.minUniqueSources)');
    const bad = await task([...osrc, "--set", "identity.routeMaxCosDist=-0.1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"identity.routeMaxCosDist" must be in [0, 2], got -0.1');
    expect(existsSync(STORE)).toBe(false);
    expect(existsSync(LIBRARY)).toBe(false);
  }, 60_000);

  test("--set overrides the config of a run and is recorded in its run record", async () => {
    const osrc = ["cluster-osrc", "--source", PHOTOS, "--library", LIBRARY, "--store", STORE, "--scan", "--models", MODELS, "--json"];
    // Two people with 8 photos each: the default minUniqueSources 6 keeps sets; the --set value 10 keeps none.
    const dry = await task([...osrc, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout.filter((l) => l.trim() !== "").at(-1)!) as { newSets: number }).newSets).toBeGreaterThan(0);
    const r = await task([...osrc, "--set", "identity.minUniqueSources=4", "--set", "identity.minUniqueSources=10"]);
    expect(r.code, r.stderr).toBe(0);
    const outcome = JSON.parse(r.stdout.filter((l) => l.trim() !== "").at(-1)!) as { runId: string; newSets: number };
    expect(outcome.newSets).toBe(0);
    const record = JSON.parse(readFileSync(path.join(LIBRARY, "_runs", `${outcome.runId}.json`), "utf8")) as {
      configSettings: string[];
      config: { identity: { minUniqueSources: number } };
    };
    expect(record.configSettings).toEqual(["identity.minUniqueSources=4", "identity.minUniqueSources=10"]);
    expect(record.config.identity.minUniqueSources).toBe(10);
  }, 180_000);

  test("a scan with another detection setting re-analyses the known photos and says which setting changed", async () => {
    // The store holds the photos from the --scan above, made with the default detSizePx 640.
    const r = await task(["scan", "--source", PHOTOS, "--store", STORE, "--models", MODELS, "--set", "detection.detSizePx=320", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const n = photosOf(sharedLabels(), "deepface_p01").length + photosOf(sharedLabels(), "deepface_p10").length;
    expect(r.stderr).toContain(`re-analysed ${n} known files made with other settings: detection.detSizePx 640 -> 320 (${n})`);
    const summary = JSON.parse(r.stdout.filter((l) => l.trim() !== "").at(-1)!) as { analysed: number; reanalysed: number; skipped: number };
    expect(summary).toMatchObject({ analysed: n, reanalysed: n, skipped: 0 });
  }, 180_000);
});
