/**
 * A bucket in which nobody reaches identity.minUniqueSources: the why-line says so with the numbers and the setting,
 * the leftovers list every missed cluster (largest first) with its reason and nearest set, and the report
 * writes a Leftovers section, keeps two reports of one source and day apart, and removes its own stale figures.
 * Real photos of ../shared/faces, the small test models, real Chromium.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import sharp from "sharp";
import {
  clusterFiles,
  clusterOsrc,
  type ClusterOsrcResult,
  cosDist,
  DEFAULT_CONFIG,
  discoveryWhy,
  extend,
  extendWhy,
  FaceIndex,
  FaceStore,
  leftoverContactSheet,
  leftovers,
  type Leftovers,
  libraryIdentities,
  readLibrary,
  reportFileName,
  type RunConfig,
  unitMean,
  writeDiscoveryReport,
} from "../lib/mod";
import { needsFullSet } from "./support/fixtures";
import { copyPhotos, photosOf, scanInto, sharedLabels } from "./support/labelled";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-leftovers-"));
const SEED = path.join(TMP, "seed");
// A space in the folder name: the report's commands must quote it.
const BUCKET = path.join(TMP, "Bucket 2024");
const LIBRARY = path.join(TMP, "library");
const STORE = path.join(TMP, "store.duckdb");
const DENO = path.join(process.cwd(), "node_modules/.bin/deno");

const labels = sharedLabels();
// Seed: one person with 7 photos (a set to be nearest to). Bucket: five people with 4-5 photos each.
const seedPhotos = photosOf(labels, "deepface_p10").slice(0, 7);
const bucketPhotos = ["deepface_p04", "deepface_p05", "deepface_p11", "deepface_p12", "deepface_p13"].flatMap((p) => photosOf(labels, p));

const withMinUnique = (n: number): RunConfig => ({ ...DEFAULT_CONFIG, identity: { ...DEFAULT_CONFIG.identity, minUniqueSources: n } });

let store: FaceStore;
let dry: ClusterOsrcResult;
let run1: ClusterOsrcResult;
let run2: ClusterOsrcResult;
let left: Leftovers;

describe("leftovers and why-lines on a bucket where nobody has 6 photos", needsFullSet(), () => {
  beforeAll(async () => {
    copyPhotos(seedPhotos, SEED);
    copyPhotos(bucketPhotos, BUCKET);
    await scanInto(STORE, [SEED, BUCKET]);
    store = await FaceStore.open(STORE, { readOnly: true });
    const run = (source: string, options: { dryRun?: boolean; config?: RunConfig } = {}) =>
      clusterOsrc({ source, libraryDir: LIBRARY, store, storePath: STORE, config: DEFAULT_CONFIG, ...options });
    const seeded = await run(SEED);
    expect(seeded.plan.newSets.map((s) => s.name)).toEqual(["faceset_001"]);
    dry = await run(BUCKET, { dryRun: true });
    run1 = await clusterOsrc({
      source: BUCKET, libraryDir: LIBRARY, store, storePath: STORE, config: DEFAULT_CONFIG, configSettings: ["identity.minUniqueSources=6"],
    });
    run2 = await run(BUCKET);
    left = await leftovers(run1.record, store, await readLibrary(LIBRARY));
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  test("the why-line names the counts, the largest group and the setting", () => {
    const c = dry.plan.clusters;
    const small = c.filter((k) => !k.kept && k.gated < k.faces);
    const largest = Math.max(...small.map((k) => k.uniqueSources));
    expect(dry.plan.counts.newSets).toBe(0);
    expect(largest).toBeGreaterThanOrEqual(4);
    expect(largest).toBeLessThan(6);
    const gatedOut = c.filter((k) => k.gated === k.faces).length;
    const why = discoveryWhy(dry.plan, DEFAULT_CONFIG, BUCKET);
    expect(why).toBe(
      `${c.length} clusters, 0 kept: ${small.length} have fewer than 6 distinct photos (largest ${largest})` +
        (gatedOut > 0 ? `, ${gatedOut} lost every face to the quality gates` : "") +
        `; lower identity.minUniqueSources to keep smaller groups (--set identity.minUniqueSources=${largest} keeps the largest)`,
    );
  });

  test("at the edge: minUniqueSources = the largest group keeps it (no why-line), one more keeps none", async () => {
    const largest = Math.max(...dry.plan.clusters.map((k) => k.uniqueSources));
    const at = await clusterOsrc({ source: BUCKET, libraryDir: LIBRARY, store, storePath: STORE, config: withMinUnique(largest), dryRun: true });
    expect(at.plan.counts.newSets).toBeGreaterThan(0);
    expect(discoveryWhy(at.plan, withMinUnique(largest), BUCKET)).toBeUndefined();
    const above = await clusterOsrc({ source: BUCKET, libraryDir: LIBRARY, store, storePath: STORE, config: withMinUnique(largest + 1), dryRun: true });
    expect(above.plan.counts.newSets).toBe(0);
    expect(discoveryWhy(above.plan, withMinUnique(largest + 1), BUCKET)).toContain(`fewer than ${largest + 1} distinct photos (largest ${largest})`);
  });

  test("cluster-osrc --dry-run (the command) prints the why-line and each cluster's photo files", () => {
    const res = spawnSync(DENO, ["run", "-A", "scripts/cluster_osrc.ts", "--source", BUCKET, "--library", LIBRARY, "--store", STORE, "--dry-run"], {
      encoding: "utf8",
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    });
    expect(res.status, res.stderr).toBe(0);
    const why = discoveryWhy(dry.plan, DEFAULT_CONFIG, BUCKET)!;
    expect(res.stdout).toContain(`\nnew sets: 0: ${why}\n`);
    // Under the cluster table: one line per cluster shown, its photo files relative to the source.
    const files = clusterFiles(dry.plan.faces, BUCKET);
    for (const k of dry.plan.clusters.filter((x) => x.faces >= 2)) {
      expect(res.stdout).toContain(`  ${k.index}: ${files.get(k.index)!.join(", ")}\n`);
      expect(files.get(k.index)!.every((f) => f.startsWith("deepface/img"))).toBe(true);
    }
  }, 120_000);

  test("extend's why-line: nobody in the bucket is near the one set", async () => {
    const plan = (await extend({ source: BUCKET, libraryDir: LIBRARY, store, storePath: STORE, config: DEFAULT_CONFIG, dryRun: true })).plan;
    expect(plan.counts.added).toBe(0);
    const nearest = Math.min(...plan.faces.filter((d) => d.fate === "not-routed").map((d) => d.nearestCosDist!));
    expect(nearest).toBeGreaterThan(DEFAULT_CONFIG.identity.routeMaxCosDist);
    expect(extendWhy(plan, DEFAULT_CONFIG, BUCKET, plan.sets.length)).toBe(
      `${plan.counts.faces} faces, 0 added: ${plan.counts.notRouted} farther than identity.routeMaxCosDist 0.45 from every set; ` +
        `the closest is ${nearest.toFixed(3)} from a set: raise identity.routeMaxCosDist only if those are the same people ` +
        "(cluster-osrc makes new sets of new people)",
    );
  });

  test("leftovers: every cluster of 2+ faces without a set, largest first, with its reason", () => {
    const missed = run1.record.clusters.filter((k) => k.setName === undefined && k.faces >= 2);
    expect(left.clusters.map((k) => k.cluster).sort((a, b) => a - b)).toEqual(missed.map((k) => k.index).sort((a, b) => a - b));
    expect(left.clusters.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < left.clusters.length; i++) expect(left.clusters[i - 1]!.faces).toBeGreaterThanOrEqual(left.clusters[i]!.faces);
    for (const k of left.clusters) {
      const outcome = run1.record.clusters[k.cluster]!;
      expect(k.faces).toBe(outcome.faces);
      expect(k.members).toHaveLength(outcome.faces);
      if (outcome.gated < outcome.faces) expect(k.why).toMatch(new RegExp(`^${outcome.uniqueSources} distinct photos? < identity.minUniqueSources 6`));
      else expect(k.why).toMatch(/^every face failed a quality gate \(.*identity\.min/);
    }
    const singles = run1.record.clusters.filter((k) => k.setName === undefined && k.faces === 1).length;
    expect(left.singletons.faces).toBe(singles);
    expect(left.singletons.bySet.reduce((n, s) => n + s.faces, 0)).toBe(singles);
  });

  test("nearest set and distance: the cluster centroid against faceset_001's, computed here independently", async () => {
    const library = await readLibrary(LIBRARY);
    const rows = await store.selectFaces();
    const ids = libraryIdentities(library, new FaceIndex(rows), store.recognizer!.dim);
    expect(ids.map((i) => i.name)).toEqual(["faceset_001"]);
    const byId = new Map(rows.map((r) => [r.faceId, r.embedding]));
    for (const k of left.clusters) {
      const centroid = unitMean(k.members.map((m) => byId.get(m.faceId)!), store.recognizer!.dim);
      expect(k.nearestSet).toBe("faceset_001");
      expect(k.nearestCosDist).toBeCloseTo(cosDist(centroid, ids[0]!.centroid!), 6);
      // Members nearest the centroid first, each distance to that centroid.
      for (let i = 1; i < k.members.length; i++) expect(k.members[i - 1]!.centroidCosDist).toBeLessThanOrEqual(k.members[i]!.centroidCosDist);
      expect(k.members[0]!.centroidCosDist).toBeCloseTo(cosDist(byId.get(k.members[0]!.faceId)!, centroid), 6);
    }
  });

  test("a leftover cluster's contact sheet: one captioned 160 px tile per face", async () => {
    const k = left.clusters[0]!;
    const png = await leftoverContactSheet(store, k, DEFAULT_CONFIG, { columns: 6 });
    const meta = await sharp(png).metadata();
    const cols = Math.min(6, k.members.length);
    expect(meta.width).toBe(cols * 160 + (cols + 1) * 4);
    expect(meta.height).toBe(Math.ceil(k.members.length / cols) * (160 + 32) + (Math.ceil(k.members.length / cols) + 1) * 4);
  });

  test("report: a Leftovers section; two runs of one source on one day kept apart; stale figures removed; commands quoted", async () => {
    const out = path.join(TMP, "analysis");
    const a = await writeDiscoveryReport({ recordFile: run1.recordFile!, outDir: out });
    const b = await writeDiscoveryReport({ recordFile: run2.recordFile!, outDir: out });
    const date = run1.record.startedAt.slice(0, 10);
    expect(path.basename(a.markdown)).toBe(`${date}-Bucket-2024.md`);
    expect(path.basename(b.markdown)).toBe(`${date}-Bucket-2024-${run2.record.runId}.md`);
    const mdA = readFileSync(a.markdown, "utf8");
    expect(mdA).toContain(run1.record.runId);
    expect(readFileSync(b.markdown, "utf8")).toContain(run2.record.runId);
    // The Leftovers section: one table row per missed cluster (largest first), a sheet per cluster.
    const section = mdA.slice(mdA.indexOf("## Leftovers"), mdA.indexOf("## Re-running"));
    expect(section.length).toBeGreaterThan(0);
    const rows = [...section.matchAll(/^\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|\s*(\S+) \(([\d.]+)\)\s*\|$/gm)];
    expect(rows.map((m) => Number(m[1]))).toEqual(left.clusters.map((k) => k.cluster));
    rows.forEach((m, i) => {
      const k = left.clusters[i]!;
      expect([Number(m[2]), m[4], m[5], Number(m[6])]).toEqual([k.faces, k.why, k.nearestSet, Number(k.nearestCosDist!.toFixed(3))]);
    });
    for (const k of left.clusters) expect(existsSync(path.join(out, `${date}-Bucket-2024`, `leftover-cluster-${k.cluster}.png`))).toBe(true);
    // Shell-quoted commands: the source with a space pastes back as one word; --set settings shown and kept.
    expect(mdA).toContain(`--source '${BUCKET}'`);
    expect(mdA).toContain("Settings given on the command line (`--set`): `identity.minUniqueSources=6`.");
    expect(mdA).toMatch(/--set identity\.minUniqueSources=6 --set identity\.clusterMaxCosDist=0\.55 --dry-run\n/);
    // Re-writing run 1's report keeps its name and removes what the earlier write left that this one does not make.
    const stale = path.join(out, `${date}-Bucket-2024`, "faceset_099-crops.png");
    writeFileSync(stale, "old");
    const again = await writeDiscoveryReport({ recordFile: run1.recordFile!, outDir: out });
    expect(again.markdown).toBe(a.markdown);
    expect(again.removedStale).toEqual([stale]);
    expect(existsSync(stale)).toBe(false);
    for (const f of [...Object.values(again.figures), ...again.contactSheets]) expect(existsSync(f)).toBe(true);
    expect(existsSync(b.markdown)).toBe(true); // the other run's report is left alone
  }, 180_000);

  test("reportFileName: a report written before the run marker is recognised by its run line", async () => {
    const out = mkdtempSync(path.join(TMP, "names-"));
    const rec = { startedAt: "2026-12-03T07:00:00.000Z", source: BUCKET, runId: "20261203T070000000Z-00-aaaaaa" };
    expect(await reportFileName(out, rec)).toBe("2026-12-03-Bucket-2024");
    writeFileSync(path.join(out, "2026-12-03-Bucket-2024.md"), `# Identity discovery\n\nRun \`${rec.runId}\` of \`cluster-osrc\`, from ...\n`);
    expect(await reportFileName(out, rec)).toBe("2026-12-03-Bucket-2024");
    expect(await reportFileName(out, { ...rec, runId: "20261203T080000000Z-00-bbbbbb" })).toBe("2026-12-03-Bucket-2024-20261203T080000000Z-00-bbbbbb");
  });
});
