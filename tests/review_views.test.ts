/**
 * The review page's view models without a browser, on hand-written run records and a small real store
 * (lib/review/leftovers.ts, view.ts): leftovers from the latest discovery record of each source, faces now in a set
 * left out, clusters that made no set largest first with the report's why, singletons and gated faces in the rest
 * with their nearest set; runs newest first; sets farthest from the centroid first.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { DEFAULT_CONFIG, FaceStore, type FileOutcome, readLibrary } from "../lib/mod";
import { buildLeftoversView, buildRunsView, buildSetsView, readStoreSnapshot, startReviewServer } from "../lib/review/mod";

const root = mkdtempSync(path.join(tmpdir(), "facesets-review-views-"));
const library = path.join(root, "library");
mkdirSync(path.join(library, "_runs"), { recursive: true });
mkdirSync(path.join(library, "faceset_001"));

const face = (id: string, fate: string, cluster?: number, extra: object = {}) => ({
  faceId: id,
  path: `/photos/${id}.jpg`,
  fileSha256: `sha-${id}`,
  bbox: [0, 0, 100, 100],
  faceShortPx: 100,
  blur: 50,
  detScore: 0.9,
  nearestIdentity: "faceset_001",
  nearestCosDist: 0.7,
  fate,
  ...(cluster === undefined ? {} : { cluster }),
  ...extra,
});
const cluster = (index: number, faces: number, kept: boolean, dropReason?: string, gated = 0) =>
  ({ index, faces, gated, outliers: 0, uniqueSources: faces - gated, kept, exportGated: 0, exported: kept ? faces : 0, ...(dropReason ? { dropReason } : {}) });
const record = (runId: string, source: string, clusters: object[], faces: object[]) => ({
  kind: "cluster-osrc",
  runId,
  startedAt: "2026-12-01T00:00:00.000Z",
  finishedAt: "2026-12-01T00:00:01.000Z",
  command: "cluster-osrc",
  dryRun: false,
  source,
  config: DEFAULT_CONFIG,
  counts: { faces: faces.length, newSets: 1 },
  clusters,
  faces,
});
const write = (name: string, json: unknown) => writeFileSync(path.join(library, "_runs", name), typeof json === "string" ? json : JSON.stringify(json));

// An older run of the bucket (superseded), the latest run of the bucket, and a run of another folder.
write("20261201T000000000Z-00-aaaaaa.json", record("20261201T000000000Z-00-aaaaaa", "/photos/bucket", [cluster(0, 2, false, "2 distinct photos < 6")], [face("old1", "small-cluster", 0), face("old2", "small-cluster", 0)]));
write("20261202T000000000Z-00-bbbbbb.json", record("20261202T000000000Z-00-bbbbbb", "/photos/bucket", [
  cluster(0, 2, true),
  cluster(1, 4, false, "3 distinct photos < 6", 1),
  cluster(2, 1, false, "no face passed the quality gates", 1),
  cluster(3, 2, false, "2 distinct photos < 6"),
], [
  face("kept1", "exported", 0, { set: "faceset_001" }),
  face("kept2", "exported", 0, { set: "faceset_001" }),
  face("m1", "small-cluster", 1),
  face("m2", "small-cluster", 1),
  face("m3", "small-cluster", 1),
  face("m4", "gated", 1, { reasons: ["blur 12.0 < 40"] }),
  face("lone", "gated", 2, { reasons: ["face_short 50 < 90"], nearestCosDist: 0.6 }),
  face("pair1", "small-cluster", 3),
  face("pair2", "small-cluster", 3),
  face("routed", "routed", undefined, { identity: "faceset_001" }),
]));
write("20261203T000000000Z-00-cccccc.json", record("20261203T000000000Z-00-cccccc", "/photos/other", [cluster(0, 3, false, "3 distinct photos < 6")], [face("o1", "small-cluster", 0), face("o2", "small-cluster", 0), face("o3", "small-cluster", 0)]));
write("20261204T000000000Z-00-dddddd.json", { kind: "build-folders", runId: "20261204T000000000Z-00-dddddd", startedAt: "", finishedAt: "", command: "build-folders", dryRun: false, folders: "/photos/people", people: [{ status: "created" }, { status: "created" }, { status: "skipped" }] });
write("20261205T000000000Z-00-eeeeee.json", "{ not json");
// The library holds the exported faces and, since the run, "pair2" (a hand-made set from leftovers).
const setFace = (id: string, dist: number) => ({ source: `/photos/${id}.jpg`, bbox: [0, 0, 100, 100], det_score: 0.9, face_short: 100, blur: 50, crop: `face_${id}.png`, centroid_cos_dist: dist, face_id: id });
writeFileSync(
  path.join(library, "faceset_001", "manifest.json"),
  JSON.stringify({ name: "faceset_001", faces: [setFace("kept1", 0.1), setFace("kept2", 0.3), setFace("pair2", 0.2)] }),
);
writeFileSync(path.join(library, "manifest.json"), JSON.stringify({ facesets: [{ name: "faceset_001", count: 3, origin: "discovered" }] }));

// The store: 4-d unit embeddings. faceset_001's faces point along x; the rest lie further from it, by design.
const STORE = path.join(root, "store.duckdb");
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v.map((x) => x / n));
};
const EMBEDDINGS: Record<string, number[]> = {
  kept1: [1, 0.1, 0, 0], kept2: [1, -0.1, 0, 0], pair2: [1, 0, 0.1, 0], pair1: [1, 0, 0.5, 0], lone: [1, 0, 0, 0.3],
  m1: [0.2, 1, 0, 0], m2: [0.2, 1, 0.1, 0], m3: [0.2, 1, -0.1, 0], m4: [0.2, 1, 0, 0.1],
  o1: [0, 0, 1, 0.1], o2: [0, 0.1, 1, 0], o3: [0, -0.1, 1, 0],
  old1: [0, 0, 0, 1], old2: [0.1, 0, 0, 1],
};
async function writeStore(): Promise<void> {
  const store = await FaceStore.open(STORE);
  try {
    const runId = await store.beginRun({ command: "test", config: {}, detectorSha256: null, recognizerSha256: "test-recognizer" });
    const outcomes: FileOutcome[] = Object.entries(EMBEDDINGS).map(([id, v], i) => ({
      path: `/photos/${id}.jpg`,
      sha256: `${String(i).padStart(2, "0")}${"0".repeat(62)}`,
      size: 1,
      mtimeMs: 0,
      status: "ok",
      width: 200,
      height: 200,
      faces: [{ faceId: id, bbox: [0, 0, 100, 100], kps: null, detScore: 0.9, faceShortPx: 100, blur: 50, detSizePx: 640, embedding: unit(v) }],
      recognizerSha256: "test-recognizer",
    }));
    await store.commitBatch(runId, outcomes);
    await store.finishRun(runId, {});
  } finally {
    await store.close();
  }
}

const ids: string[] = [];
const register = () => String(ids.push("x"));

describe("buildLeftoversView", () => {
  test("the latest discovery run of each source; faces now in a set left out; clusters largest first with why; the rest", async () => {
    await writeStore();
    const { snapshot } = await readStoreSnapshot(STORE);
    const view = await buildLeftoversView(await readLibrary(library, { checkCrops: false }), snapshot, register);
    expect(view.runs.map((r) => r.runId)).toEqual(["20261202T000000000Z-00-bbbbbb", "20261203T000000000Z-00-cccccc"]);
    // Members nearest their cluster's centroid first (m1 is the centre of m1..m4).
    expect(view.clusters.map((c) => [c.key, c.faces.map((f) => f.faceId).sort()])).toEqual([
      ["20261202T000000000Z-00-bbbbbb#1", ["m1", "m2", "m3", "m4"]],
      ["20261203T000000000Z-00-cccccc#0", ["o1", "o2", "o3"]],
    ]);
    expect(view.clusters[0]!.faces[0]!.faceId).toBe("m1");
    expect(view.clusters[0]!.why).toBe("3 distinct photos < identity.minUniqueSources 6 (after 1 gated)");
    expect(view.clusters[0]!.nearestSet).toBe("faceset_001");
    // pair2 went into a set, so cluster 3 has one face left: a singleton, in the rest with the gated one, nearest first.
    expect(view.rest.map((f) => [f.faceId, f.fate, f.nearestSet])).toEqual([
      ["lone", "gated", "faceset_001"],
      ["pair1", "small-cluster", "faceset_001"],
    ]);
    expect(view.rest[0]!.nearestCosDist!).toBeLessThan(view.rest[1]!.nearestCosDist!);
    expect(view.rest[0]!.reasons).toEqual(["face_short 50 < 90"]);
    expect(view.notes.join("\n")).toContain("20261205T000000000Z-00-eeeeee.json");
  });

  test("without the store: nothing to compare with, said so", async () => {
    const view = await buildLeftoversView(await readLibrary(library, { checkCrops: false }), undefined, register);
    expect(view.clusters).toEqual([]);
    expect(view.notes.join("\n")).toContain("leftovers need the face store");
  });
});

describe("buildRunsView", () => {
  test("every record newest first, with its counts (or its lists counted), unreadable ones named", async () => {
    const { runs, problems } = await buildRunsView(library);
    expect(runs.map((r) => r.kind)).toEqual(["build-folders", "cluster-osrc", "cluster-osrc", "cluster-osrc"]);
    expect(runs[0]!.counts).toEqual([["people", 3], ["people created", 2], ["people skipped", 1]]);
    expect(runs[0]!.source).toBe("/photos/people");
    expect(runs[1]!.counts).toEqual([["faces", 3], ["newSets", 1]]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("20261205T000000000Z-00-eeeeee.json");
  });
});

describe("buildSetsView", () => {
  test("without a store: the manifest's measures and distances, farthest first, marked as written", async () => {
    const view = buildSetsView(await readLibrary(library, { checkCrops: false }), undefined, undefined, register);
    expect(view.sets).toHaveLength(1);
    const set = view.sets[0]!;
    expect(set).toMatchObject({ name: "faceset_001", number: 1, person: null, origin: "discovered", faces: 3, photos: 3, matched: 0 });
    expect(set.tiles.map((t) => [t.faceRef, t.cosDist, t.distanceOf])).toEqual([
      ["kept2", 0.3, "manifest"],
      ["pair2", 0.2, "manifest"],
      ["kept1", 0.1, "manifest"],
    ]);
  });
});

describe("the server's store snapshot", () => {
  test("while another process holds the store, the page shows the faces it read last, with a note", async () => {
    await writeStore();
    const server = await startReviewServer({ libraryDir: library, storePath: STORE, config: DEFAULT_CONFIG });
    const sets = async () =>
      (await (await fetch(new URL(`/api/sets?t=${server.token}`, server.url))).json()) as { notes: string[]; sets: { tiles: { distanceOf: string }[] }[] };
    const holder = spawn(path.resolve("node_modules/.bin/deno"), ["run", "-A", "tests/support/store_writer.ts", "hold", STORE], {
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    });
    try {
      const before = await sets();
      expect(before.notes.join("\n")).not.toContain("store");
      expect(before.sets[0]!.tiles.map((t) => t.distanceOf)).toEqual(["centroid", "centroid", "centroid"]);
      await new Promise<void>((resolve) => createInterface({ input: holder.stdout }).on("line", (l) => l === "ready" && resolve()));
      const later = new Date(Date.now() + 5000);
      utimesSync(STORE, later, later); // the store changed: the next view must try to read it again
      const busy = await sets();
      expect(busy.notes.join("\n")).toMatch(/not readable now .*; showing the store as last read/);
      expect(busy.sets[0]!.tiles.map((t) => t.distanceOf)).toEqual(["centroid", "centroid", "centroid"]);
    } finally {
      holder.stdin.end();
      await new Promise((resolve) => holder.on("exit", resolve));
      await server.close();
    }
    const after = await sets().catch(() => undefined);
    expect(after).toBeUndefined(); // closed
  });
});
