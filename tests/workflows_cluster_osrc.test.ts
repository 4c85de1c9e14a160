/**
 * cluster-osrc on labelled real photos: a library seeded from part of two people's photos, then a mixed bucket
 * with the rest of them, two new people and group photos. Routed faces must land on the right identity, every
 * discovered set must hold one identity, existing sets and entries stay byte-identical, a re-run adds nothing,
 * a dry run writes nothing and a malformed manifest is refused by name.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import sharp from "sharp";
import {
  clusterOsrc,
  type ClusterOsrcResult,
  DEFAULT_CONFIG,
  FaceStore,
  LibraryError,
  readLibrary,
  writeDiscoveryReport,
} from "../lib/mod";
import { needsFullSet } from "./support/fixtures";
import { copyPhotos, type LabelledPhoto, photosOf, scanInto, sharedLabels } from "./support/labelled";
import { treeFingerprint } from "./support/scan_tree";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-osrc-"));
const SEED = path.join(TMP, "seed");
const BUCKET = path.join(TMP, "bucket");
const LIBRARY = path.join(TMP, "library");
const STORE = path.join(TMP, "store.duckdb");

const labels = sharedLabels();
const byRelPath = new Map<string, LabelledPhoto>();
// p10's img26.jpg fails the blur gate (19.9 < 40), so p10 needs 7 seed photos to reach 6 distinct sources.
const seedPhotos = [...photosOf(labels, "deepface_p01").slice(0, 6), ...photosOf(labels, "deepface_p10").slice(0, 7)];
const bucketPhotos = [
  ...photosOf(labels, "deepface_p01").slice(6),
  ...photosOf(labels, "deepface_p10").slice(7),
  ...photosOf(labels, "deepface_p03"),
  ...photosOf(labels, "obama"),
  ...photosOf(labels, "biden"),
  ...labels.filter((l) => l.identities.length > 1), // group photos
];

/** The identities of the photo a face came from (its path under SEED or BUCKET). */
function identitiesOf(file: string): string[] {
  const rel = path.relative(file.startsWith(SEED) ? SEED : BUCKET, file);
  const photo = byRelPath.get(rel);
  if (!photo) throw new Error(`no label for ${file}`);
  return photo.identities;
}

/** The one identity all of a set's faces can belong to (group photos allow any of theirs), or undefined. */
function soleIdentity(files: readonly string[]): string | undefined {
  const candidates = files.map(identitiesOf);
  const common = candidates.reduce((acc, ids) => acc.filter((x) => ids.includes(x)));
  return common.length === 1 ? common[0] : undefined;
}

let store: FaceStore;
let seeded: ClusterOsrcResult;
let seededSetIdentity: Map<string, string>;
let beforeBucket: Map<string, string>;
let beforeManifest: unknown;
let first: ClusterOsrcResult;

const run = (source: string, options: { dryRun?: boolean; libraryDir?: string } = {}) =>
  clusterOsrc({ source, libraryDir: LIBRARY, store, storePath: STORE, config: DEFAULT_CONFIG, ...options });

describe("cluster-osrc on labelled photos", needsFullSet(), () => {
  beforeAll(async () => {
    for (const p of [...seedPhotos, ...bucketPhotos]) byRelPath.set(p.file, p);
    copyPhotos(seedPhotos, SEED);
    copyPhotos(bucketPhotos, BUCKET);
    await scanInto(STORE, [SEED, BUCKET]);
    store = await FaceStore.open(STORE, { readOnly: true });

    seeded = await run(SEED);
    const library = await readLibrary(LIBRARY);
    seededSetIdentity = new Map(
      [...library.sets.values()].map((s) => [s.name, soleIdentity(s.manifest.faces.map((f) => f.source)) ?? "mixed"]),
    );
    beforeBucket = treeFingerprint(LIBRARY);
    beforeManifest = JSON.parse(readFileSync(path.join(LIBRARY, "manifest.json"), "utf8"));
    first = await run(BUCKET);
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  test("the seed run discovers each seeded person as one set of that person", () => {
    expect([...seededSetIdentity.values()].sort()).toEqual(["deepface_p01", "deepface_p10"]);
    expect(seeded.plan.newSets.map((s) => s.name)).toEqual(["faceset_001", "faceset_002"]);
  });

  test("faces of known people are routed to their own identity", () => {
    const routed = first.plan.faces.filter((d) => d.fate === "routed");
    const knownPeople = bucketPhotos.filter((p) => p.identities.some((i) => i === "deepface_p01" || i === "deepface_p10"));
    expect(routed.length).toBeGreaterThanOrEqual(knownPeople.length - 1); // the mbf_int8 test model may miss one
    for (const d of routed) expect(identitiesOf(d.path)).toContain(seededSetIdentity.get(d.identity!));
  });

  test("every discovered set holds one identity, numbered after the library", () => {
    expect(first.plan.newSets.length).toBeGreaterThanOrEqual(2);
    first.plan.newSets.forEach((s, k) => expect(s.number).toBe(3 + k));
    const found = first.plan.newSets.map((s) => soleIdentity(s.faces.map((f) => f.row.path)));
    expect(found).not.toContain(undefined);
    expect(found).toEqual(expect.arrayContaining(["obama", "deepface_p03"]));
    expect(new Set(found).size).toBe(found.length); // no person split over two sets
  });

  test("existing sets and manifest entries are byte-identical afterwards; new sets carry provenance", async () => {
    const after = treeFingerprint(LIBRARY);
    for (const [file, sha] of beforeBucket) {
      if (file === "manifest.json" || file.startsWith("_ledger/")) continue; // the ledger records the new sets
      expect(after.get(file), file).toBe(sha);
    }
    const manifest = JSON.parse(readFileSync(path.join(LIBRARY, "manifest.json"), "utf8"));
    const old = (beforeManifest as { facesets: unknown[] }).facesets;
    expect(manifest.facesets.slice(0, old.length)).toEqual(old);
    expect(manifest.facesets.slice(old.length).map((e: { origin: string }) => e.origin)).toEqual(
      first.plan.newSets.map(() => "discovered"),
    );
    for (const s of first.plan.newSets) {
      const provenance = JSON.parse(readFileSync(path.join(LIBRARY, s.name, "provenance.json"), "utf8"));
      expect(provenance).toMatchObject({ run_id: first.record.runId, source: BUCKET });
      expect(provenance.claimed_face_ids).toEqual(s.claimedFaceIds);
    }
    const record = JSON.parse(readFileSync(first.recordFile!, "utf8"));
    expect(record.counts).toEqual(first.plan.counts);
    expect(record.faces).toHaveLength(first.plan.counts.faces);
  });

  test("a second run adds nothing; a dry run writes nothing", async () => {
    const before = treeFingerprint(LIBRARY);
    const dry = await run(BUCKET, { dryRun: true });
    expect(dry.recordFile).toBeUndefined();
    expect(treeFingerprint(LIBRARY)).toEqual(before);
    const again = await run(BUCKET);
    expect(again.plan.newSets).toEqual([]);
    const after = treeFingerprint(LIBRARY);
    const changed = [...after].filter(([f, sha]) => before.get(f) !== sha).map(([f]) => f);
    expect(changed).toEqual([path.relative(LIBRARY, again.recordFile!)]); // only the new run record
  });

  test("a malformed manifest is refused with the file and the reason", async () => {
    const copy = path.join(TMP, "broken-library");
    cpSync(LIBRARY, copy, { recursive: true });
    const file = path.join(copy, "faceset_001", "manifest.json");
    const m = JSON.parse(readFileSync(file, "utf8"));
    m.faces[0].crop = "../../../etc/passwd";
    writeFileSync(file, JSON.stringify(m));
    const error = await run(BUCKET, { libraryDir: copy, dryRun: true }).catch((e) => e);
    expect(error).toBeInstanceOf(LibraryError);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/crop/);
  });

  test("deno task report's writer: markdown with 3 non-blank figures and tables equal to the run record", async () => {
    const out = path.join(TMP, "analysis");
    const written = await writeDiscoveryReport({ recordFile: first.recordFile!, outDir: out });
    const md = readFileSync(written.markdown, "utf8");
    expect(path.basename(written.markdown)).toBe(`${first.record.startedAt.slice(0, 10)}-bucket.md`);
    for (const png of Object.values(written.figures)) {
      const { width, height } = await sharp(png).metadata();
      expect(width).toBeGreaterThan(500);
      expect(height).toBeGreaterThan(300);
      const { channels } = await sharp(png).stats();
      expect(Math.max(...channels.map((c) => c.stdev))).toBeGreaterThan(10); // not a blank page
      expect(md).toContain(path.relative(out, png));
    }
    // Table rows: "| label | number |"; every Phase 1 number equals the record's count.
    const row = (label: string) => {
      const m = new RegExp(`^\\|\\s*${label}\\s*\\|\\s*(\\d+)\\s*\\|$`, "m").exec(md);
      if (!m) throw new Error(`no table row "${label}" in ${written.markdown}`);
      return Number(m[1]);
    };
    const c = first.record.counts;
    expect(row("faces under the source")).toBe(c.faces);
    expect(row("already in a set")).toBe(c.inLibrary);
    expect(row("routed to an existing identity")).toBe(c.routed);
    expect(row("clustered")).toBe(c.clustered);
    expect(row("dropped by a quality gate")).toBe(c.gated);
    expect(row("dropped as outliers")).toBe(c.outliers);
    for (const r of first.record.routed.filter((x) => x.faces > 0)) expect(row(r.identity)).toBe(r.faces);
    // Coverage: the scan's buckets as found on disk (the bucket holds only the copied photos).
    const disk = first.record.coverage.disk!;
    expect(disk).toMatchObject({ files: bucketPhotos.length, photos: bucketPhotos.length, unsupported: {}, unreadableFolders: [] });
    expect(row("photos \\(the extensions above\\)")).toBe(disk.photos);
    expect(md).toContain(`Files on disk under the source: ${disk.files}, each in one bucket.`);
    // Phase 2: one row per kept cluster with its exported count.
    for (const k of first.record.clusters.filter((x) => x.kept && x.setName)) {
      const m = new RegExp(`^\\|\\s*${k.setName}\\s*\\|\\s*${k.index}\\s*\\|.*\\|\\s*(\\d+)\\s*\\|$`, "m").exec(md);
      expect(Number(m?.[1])).toBe(k.exported);
    }
  }, 120_000);
});
