/**
 * build-folders on labelled real photos: per-person folders (portraits, group photos, faceapi's tight crops that
 * need the 128 second pass, a blurred photo) become one hand-sorted set per person, numbered after an existing
 * hand-made set; the person's face is picked in group photos; a re-run is a clean no-op; unscanned folders are
 * named with the fix.
 *
 * Default thresholds throughout: with det_2.5g + w600k_mbf_int8 these people sit 0.13-0.42 from their own
 * centroid and >= 0.73 from anyone else's (measured on ../shared/golden), so the picks below are not borderline.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  buildFolders,
  type BuildFoldersResult,
  cosDist,
  DEFAULT_CONFIG,
  resolveConfig,
  type RunConfig,
  FaceStore,
  readLibrary,
  unitMean,
} from "../lib/mod";
import { needsFullSet } from "./support/fixtures";
import { type LabelledPhoto, photosOf, sharedLabels } from "./support/labelled";
import { type LibraryFixture, makeLibraryFixture } from "./support/library_fixture";
import { treeFingerprint } from "./support/scan_tree";

const labels = sharedLabels();
const only = (files: string[]): LabelledPhoto[] => labels.filter((l) => files.includes(l.file));
const obamaAndBiden = only(["face_recognition/knn/test/obama_and_biden.jpg"]); // 3 faces
const PEOPLE: Record<string, LabelledPhoto[]> = {
  // Folder names sort as: amy, deepface_p02, deepface_p05, deepface_p06, obama.
  amy: photosOf(labels, "amy"), // 150 px tight crops: found by the 128 pass only
  deepface_p02: photosOf(labels, "deepface_p02"), // img54.jpg holds 4 faces
  deepface_p05: photosOf(labels, "deepface_p05"), // img62.jpg holds 2 faces
  deepface_p06: photosOf(labels, "deepface_p06"), // img18.jpg: a sharp 434 px face with blur 9.4, sharpness 1175
  obama: [...photosOf(labels, "obama").slice(0, 3), ...obamaAndBiden],
};
const GROUP_PHOTOS = ["deepface/img54.jpg", "deepface/img62.jpg", ...obamaAndBiden.map((p) => p.file)];

let fx: LibraryFixture;
let store: FaceStore;
let first: BuildFoldersResult;
let handMade: Map<string, string>;

const run = (options: { dryRun?: boolean; folders?: string; config?: RunConfig; libraryDir?: string } = {}) =>
  buildFolders({
    folders: fx.dir("people"),
    libraryDir: fx.library,
    store,
    storePath: fx.store,
    config: DEFAULT_CONFIG,
    ...options,
  });

describe("build-folders on labelled photos", needsFullSet(), () => {
  beforeAll(async () => {
    const layout: Record<string, LabelledPhoto[]> = {};
    for (const [person, photos] of Object.entries(PEOPLE)) layout[`people/${person}`] = photos;
    layout["people/zz_not_scanned"] = photosOf(labels, "biden");
    layout["elsewhere/nobody"] = photosOf(labels, "deepface_p07");
    fx = await makeLibraryFixture(layout, { prefix: "facesets-folders-", unscanned: ["people/zz_not_scanned", "elsewhere/nobody"] });
    store = await FaceStore.open(fx.store, { readOnly: true });

    // A hand-made set the library already holds (no store faces): new sets must be numbered after it.
    const set = path.join(fx.library, "faceset_004");
    mkdirSync(set, { recursive: true });
    writeFileSync(path.join(set, "a.png"), "not really a png");
    const face = { source: "/old/x.jpg", bbox: [1, 2, 30, 40], det_score: 0.9, face_short: 28, blur: 100, crop: "a.png", centroid_cos_dist: 0 };
    writeFileSync(path.join(set, "manifest.json"), JSON.stringify({ name: "faceset_004", faces: [face], note: "kept" }, null, 2));
    writeFileSync(
      path.join(fx.library, "manifest.json"),
      JSON.stringify({ facesets: [{ name: "faceset_004", count: 1, origin: "hand-sorted", mine: true }], thin_eras: [] }),
    );
    handMade = treeFingerprint(fx.library);
    first = await run();
  }, 120_000);

  afterAll(async () => {
    await store?.close();
  });

  test("one hand-sorted set per person folder, in name order after the library's highest number", async () => {
    const made = first.folders.filter((o) => o.status === "new");
    expect(made.map((o) => [o.person, o.set])).toEqual([
      ["amy", "faceset_005"],
      ["deepface_p02", "faceset_006"],
      ["deepface_p05", "faceset_007"],
      ["deepface_p06", "faceset_008"],
      ["obama", "faceset_009"],
    ]);
    const library = await readLibrary(fx.library);
    expect(library.manifest.facesets.map((e) => [e.name, e.origin, e.extra?.person ?? null])).toEqual([
      ["faceset_004", "hand-sorted", null],
      ["faceset_005", "hand-sorted", "amy"],
      ["faceset_006", "hand-sorted", "deepface_p02"],
      ["faceset_007", "hand-sorted", "deepface_p05"],
      ["faceset_008", "hand-sorted", "deepface_p06"],
      ["faceset_009", "hand-sorted", "obama"],
    ]);
    for (const o of made) {
      const provenance = JSON.parse(readFileSync(path.join(fx.library, o.set!, "provenance.json"), "utf8"));
      expect(provenance).toMatchObject({ command: "build-folders", person: o.person, folder: o.folder, run_id: first.record.runId });
      expect([...provenance.claimed_face_ids].sort()).toEqual(o.plan!.picked.map((p) => p.row.faceId).sort());
    }
    // The hand-made set is untouched, and its top-level entry keeps its unknown field.
    const after = treeFingerprint(fx.library);
    for (const [file, sha] of handMade) if (file !== "manifest.json") expect(after.get(file), file).toBe(sha);
    expect(JSON.parse(readFileSync(path.join(fx.library, "manifest.json"), "utf8")).facesets[0]).toEqual(
      { name: "faceset_004", count: 1, origin: "hand-sorted", mine: true },
    );
  });

  test("each set holds exactly one face of every photo of its folder, of that person", async () => {
    const library = await readLibrary(fx.library);
    for (const o of first.folders.filter((x) => x.status === "new")) {
      const set = library.sets.get(o.number!)!;
      const sources = set.manifest.faces.map((f) => f.source).sort();
      const expected = fx.photos.filter((p) => p.folder === `people/${o.person}`).map((p) => p.path).sort();
      expect(sources, o.person).toEqual(expected);
      for (const s of sources) expect(fx.identitiesOf(s)).toContain(o.person);
    }
  });

  test("in a group photo the face nearest the person's portraits is picked; the others are left out", () => {
    for (const group of GROUP_PHOTOS) {
      const o = first.folders.find((x) => x.plan?.faces.some((d) => d.path.endsWith(path.basename(group))))!;
      const decisions = o.plan!.faces.filter((d) => d.path.endsWith(path.basename(group)));
      expect(decisions.length, group).toBeGreaterThanOrEqual(2);
      // The person's centroid from the folder's portraits alone (no group photo in it).
      const portraits = o.plan!.faces.filter((d) => d.facesInPhoto === 1);
      const rows = new Map(o.plan!.picked.map((p) => [p.row.faceId, p.row]));
      const centroid = unitMean(portraits.map((d) => rows.get(d.faceId)!.embedding), 512);
      const picked = decisions.filter((d) => d.fate === "picked");
      expect(picked, group).toHaveLength(1);
      expect(cosDist(rows.get(picked[0]!.faceId)!.embedding, centroid)).toBeLessThanOrEqual(DEFAULT_CONFIG.identity.routeMaxCosDist);
      expect(decisions.filter((d) => d.fate === "other-face")).toHaveLength(decisions.length - 1);
      for (const d of decisions) if (d.fate === "other-face") expect(d.centroidCosDist!).toBeGreaterThan(0.6);
    }
  });

  test("faces below the gates are kept and reported (the owner sorted them)", async () => {
    // img18's face is large and sharp: the InsightFace-era blur (9.4) would fail minBlur 40, its sharpness passes.
    const p06 = first.folders.find((o) => o.person === "deepface_p06")!;
    expect(p06.plan!.faces.find((d) => d.path.endsWith("img18.jpg"))!.lowQuality).toBeUndefined();
    // A gate it does fail (sharpness 1175 < 1200) keeps it, reported.
    const strict = await run({ dryRun: true, libraryDir: fx.dir("library-strict"), config: resolveConfig({ identity: { minBlur: 1200 } }) });
    const strictP06 = strict.folders.find((o) => o.person === "deepface_p06")!;
    const soft = strictP06.plan!.faces.find((d) => d.path.endsWith("img18.jpg"))!;
    expect(soft.fate).toBe("picked");
    expect(soft.lowQuality).toEqual([expect.stringMatching(/^sharpness 1175\.\d < 1200$/)]);
    expect(strictP06.plan!.counts.picked).toBe(3);
  });

  test("a folder that was not scanned is named with the fix; a tree with none scanned is refused", async () => {
    const missing = first.folders.find((o) => o.person === "zz_not_scanned")!;
    expect(missing.status).toBe("not-scanned");
    expect(missing.message).toMatch(/not scanned \(2 image files, none in the store\); run deno task scan --source /);
    const error = await run({ folders: fx.dir("elsewhere"), dryRun: true }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/none of its 1 person folders is in the store .*scan them first: deno task scan --source /);
  });

  test("a re-run is a clean no-op; a dry run writes nothing", async () => {
    const before = treeFingerprint(fx.library);
    const dry = await run({ dryRun: true });
    expect(dry.recordFile).toBeUndefined();
    expect(treeFingerprint(fx.library)).toEqual(before);
    const again = await run();
    expect(again.folders.filter((o) => o.status === "new")).toEqual([]);
    const existing = again.folders.filter((o) => o.status === "exists").map((o) => [o.person, o.set]);
    expect(existing).toEqual(first.folders.filter((o) => o.status === "new").map((o) => [o.person, o.set]));
    const after = treeFingerprint(fx.library);
    const changed = [...after].filter(([f, sha]) => before.get(f) !== sha).map(([f]) => f);
    expect(changed).toEqual([path.relative(fx.library, again.recordFile!)]);
  });

  test("a set another tool made of most of the folder's faces (no person, no face ids) is recognised by its faces", async () => {
    const copy = path.join(fx.root, "library-without-person");
    cpSync(fx.library, copy, { recursive: true });
    rmSync(path.join(copy, "_ledger"), { recursive: true }); // another tool keeps no ledger
    const top = JSON.parse(readFileSync(path.join(copy, "manifest.json"), "utf8"));
    for (const entry of top.facesets) delete entry.person;
    writeFileSync(path.join(copy, "manifest.json"), JSON.stringify(top));
    rmSync(path.join(copy, "faceset_009", "provenance.json"));
    // As the owner's Python tool wrote it: faces by source and box only, and one photo of the folder missing.
    const setFile = path.join(copy, "faceset_009", "manifest.json");
    const set = JSON.parse(readFileSync(setFile, "utf8"));
    for (const face of set.faces) delete face.face_id;
    const picks = set.faces.length;
    set.faces = set.faces.slice(1);
    writeFileSync(setFile, JSON.stringify(set));
    const result = await buildFolders({
      folders: fx.dir("people"),
      libraryDir: copy,
      store,
      storePath: fx.store,
      config: DEFAULT_CONFIG,
      dryRun: true,
    });
    const obama = result.folders.find((o) => o.person === "obama")!;
    expect([obama.status, obama.set]).toEqual(["already-added", "faceset_009"]);
    expect(obama.message).toBe(`obama: ${picks - 1} of its ${picks} faces are already in faceset_009; skipped`);
    // The other people's sets were left as they were: their folders are recognised too.
    expect(result.folders.filter((o) => o.status === "new")).toEqual([]);
  });
});
