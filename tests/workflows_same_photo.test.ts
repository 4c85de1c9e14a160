/**
 * cluster-osrc on one photo in six encodings (../shared/faces: insightface's group photo t1.jpg, three EXIF-rotated
 * copies, a PSD composite and a PSD of layers only). Six files, one photo: no face set may come of it. With
 * samePhotoMaxCosDist 0 (counting files, the owner's original rule) the same bucket does make sets, which shows the
 * test measures the rule.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { clusterOsrc, type ClusterOsrcResult, DEFAULT_CONFIG, FaceStore, resolveConfig } from "../lib/mod";
import { FACES, needsFullSet } from "./support/fixtures";
import { scanInto } from "./support/labelled";

const T1_ENCODINGS = [
  "insightface/python-package/t1.jpg",
  "exif/t1_orientation3.jpg",
  "exif/t1_orientation6.jpg",
  "exif/t1_orientation8.jpg",
  "psd/t1_composite.psd",
  "psd/t1_layers_only.psd",
];

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-same-photo-"));
const BUCKET = path.join(TMP, "bucket");
const STORE = path.join(TMP, "store.duckdb");

let store: FaceStore;
let byPhoto: ClusterOsrcResult;
let byFile: ClusterOsrcResult;

describe("cluster-osrc on one photo in six encodings", needsFullSet(...T1_ENCODINGS.map((f) => `faces/${f}`)), () => {
  beforeAll(async () => {
    for (const file of T1_ENCODINGS) {
      const to = path.join(BUCKET, file);
      mkdirSync(path.dirname(to), { recursive: true });
      copyFileSync(path.join(FACES, file), to);
    }
    await scanInto(STORE, [BUCKET]);
    store = await FaceStore.open(STORE, { readOnly: true });
    const run = (libraryDir: string, config = DEFAULT_CONFIG) =>
      clusterOsrc({ source: BUCKET, libraryDir: path.join(TMP, libraryDir), store, storePath: STORE, config });
    byPhoto = await run("library");
    byFile = await run("library-by-file", resolveConfig({ identity: { samePhotoMaxCosDist: 0 } }));
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  test("the six files hold the same faces: each person of t1 clusters across the encodings", () => {
    const files = new Set(byPhoto.plan.faces.map((d) => d.path));
    expect(files.size).toBe(T1_ENCODINGS.length);
    // At least one cluster holds that person's face from every one of the six files.
    expect(Math.max(...byPhoto.plan.clusters.map((k) => k.faces))).toBe(T1_ENCODINGS.length);
  });

  test("no face set is made: every cluster is one photo", () => {
    expect(byPhoto.plan.newSets).toEqual([]);
    expect(byPhoto.plan.counts.keptClusters).toBe(0);
    for (const k of byPhoto.plan.clusters) expect(k.uniqueSources, `cluster ${k.index}`).toBeLessThanOrEqual(1);
    const library = path.join(TMP, "library");
    expect(readdirSync(library).filter((f) => f.startsWith("faceset_"))).toEqual([]);
  });

  test("counting files instead (samePhotoMaxCosDist 0), the same bucket makes sets of one photo", () => {
    expect(byFile.plan.newSets.length).toBeGreaterThan(0);
    for (const s of byFile.plan.newSets) {
      expect(byFile.plan.clusters[s.cluster]!.uniqueSources).toBe(T1_ENCODINGS.length);
      expect(new Set(s.faces.map((f) => f.row.fileSha256)).size).toBe(T1_ENCODINGS.length);
    }
  });
});
