/**
 * The settings that made a file's records are stored with it: a scan with other detection settings or models
 * analyses those files again and says so, an error record made under another image.maxPixels is retried, and a
 * store written before the settings were kept (schema 1) is migrated with them taken from its runs.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  analysisChanges,
  analysisSettings,
  DEFAULT_CONFIG,
  FaceEngine,
  FaceStore,
  resolveConfig,
  type RunConfig,
  scanTree,
} from "../lib/mod";
import { needsFullSet, sharedAvailable, TEST_DETECTOR, TEST_RECOGNIZER } from "./support/fixtures";
import { copyPhotos, photosOf, sharedLabels } from "./support/labelled";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-scan-settings-"));
const PHOTOS = path.join(TMP, "photos");

describe("analysisChanges", () => {
  const models = { detectorSha256: "a".repeat(64), recognizerSha256: "b".repeat(64) };
  const base = analysisSettings(DEFAULT_CONFIG, models);

  test("names each difference as key old -> new; the same settings make none", () => {
    expect(analysisChanges(base, base)).toEqual([]);
    const other = analysisSettings(resolveConfig({ detection: { detSizePx: 320, detMinScore: 0.4 } }), { ...models, detectorSha256: "c".repeat(64) });
    expect(analysisChanges(base, other)).toEqual([
      "detector aaaaaaaa… -> cccccccc…",
      "detection.detSizePx 640 -> 320",
      "detection.detMinScore 0.5 -> 0.4",
    ]);
  });

  test("maxPixels matters for error records only; an unknown model (import) and an unused second-pass size never", () => {
    const bigger = analysisSettings(resolveConfig({ image: { maxPixels: 1000 } }), models);
    expect(analysisChanges(bigger, base)).toEqual([]);
    expect(analysisChanges(bigger, base, { errorRecord: true })).toEqual(["image.maxPixels 1000 -> 100000000"]);
    expect(analysisChanges({ ...base, detectorSha256: null }, base)).toEqual([]);
    const noSecond = (size: number) => analysisSettings(resolveConfig({ detection: { secondPass: false, secondPassSizePx: size } }), models);
    expect(analysisChanges(noSecond(128), noSecond(256))).toEqual([]);
    expect(analysisChanges(base, analysisSettings(resolveConfig({ detection: { secondPassSizePx: 256 } }), models))).toEqual([
      "detection.secondPassSizePx 128 -> 256",
    ]);
  });
});

describe("re-scanning with other settings", needsFullSet(), () => {
  let engine: FaceEngine;
  const photos = sharedAvailable() ? photosOf(sharedLabels(), "deepface_p01").slice(0, 3) : [];
  beforeAll(async () => {
    copyPhotos(photos, PHOTOS);
    engine = await FaceEngine.open({ detectorFile: TEST_DETECTOR, recognizerFile: TEST_RECOGNIZER });
  });
  afterAll(async () => {
    await engine?.close();
  });

  const scan = async (storePath: string, config: RunConfig) => {
    const store = await FaceStore.open(storePath);
    try {
      const summary = await scanTree({ source: PHOTOS, store, engine, config });
      const faces = await store.selectFaces();
      const files = [...(await store.knownFiles()).values()];
      return { summary, faces, files };
    } finally {
      await store.close();
    }
  };

  test("changed detection settings re-analyse the known files and say which setting changed", async () => {
    const storePath = path.join(TMP, "detection.duckdb");
    const first = await scan(storePath, DEFAULT_CONFIG);
    expect(first.summary).toMatchObject({ analysed: 3, reanalysed: 0, skipped: 0 });
    expect(first.files.every((f) => f.analysis?.detSizePx === 640 && f.analysis.detectorSha256 === engine.detectorSha256)).toBe(true);
    expect(first.faces.every((f) => f.detSizePx === 640)).toBe(true);

    const same = await scan(storePath, resolveConfig());
    expect(same.summary).toMatchObject({ analysed: 0, reanalysed: 0, skipped: 3, settingsChanges: {} });

    const smaller = resolveConfig({ detection: { detSizePx: 320 } });
    const redo = await scan(storePath, smaller);
    expect(redo.summary).toMatchObject({ analysed: 3, reanalysed: 3, skipped: 0, settingsChanges: { "detection.detSizePx 640 -> 320": 3 } });
    // The records are the new settings' own: faces found by the 320 pass, the settings stored with each file.
    expect(redo.faces.length).toBeGreaterThan(0);
    expect(redo.faces.every((f) => f.detSizePx === 320)).toBe(true);
    expect(redo.files.every((f) => f.analysis?.detSizePx === 320)).toBe(true);

    const again = await scan(storePath, smaller);
    expect(again.summary).toMatchObject({ analysed: 0, reanalysed: 0, skipped: 3 });
  }, 120_000);

  test("error records made under another maxPixels are retried without --retry", async () => {
    const storePath = path.join(TMP, "maxpixels.duckdb");
    const tiny = await scan(storePath, resolveConfig({ image: { maxPixels: 1000 } }));
    expect(tiny.summary).toMatchObject({ analysed: 0, errors: 3 }); // a file that fails is an error, not analysed
    expect(tiny.files.every((f) => f.status === "error" && /megapixels, over the limit/.test(f.reason ?? ""))).toBe(true);

    const retried = await scan(storePath, DEFAULT_CONFIG);
    expect(retried.summary).toMatchObject({ analysed: 3, reanalysed: 3, errors: 0, settingsChanges: { "image.maxPixels 1000 -> 100000000": 3 } });
    expect(retried.files.every((f) => f.status === "ok")).toBe(true);
  }, 120_000);

  test("a schema-1 store is migrated: each record gets the settings of the run that wrote it", async () => {
    const storePath = path.join(TMP, "legacy.duckdb");
    await scan(storePath, resolveConfig({ image: { maxPixels: 1000 } }));
    // Make it what facesets wrote before files.analysis and faces.sharpness existed.
    const instance = await DuckDBInstance.create(storePath);
    const con = await instance.connect();
    await con.run(`ALTER TABLE files DROP COLUMN analysis`);
    await con.run(`ALTER TABLE faces DROP COLUMN sharpness`);
    await con.run(`UPDATE meta SET value = '1' WHERE key = 'schema_version'`);
    con.closeSync();
    instance.closeSync();

    const store = await FaceStore.open(storePath, { readOnly: false });
    const files = [...(await store.knownFiles()).values()];
    await store.close();
    expect(files.map((f) => f.analysis?.maxPixels)).toEqual([1000, 1000, 1000]);
    const retried = await scan(storePath, DEFAULT_CONFIG);
    expect(retried.summary).toMatchObject({ reanalysed: 3, errors: 0 });
    // Faces of the migrated store carry the new measure from their own analysis on.
    expect(retried.faces.every((f) => typeof f.sharpness === "number")).toBe(true);
  }, 120_000);
});
