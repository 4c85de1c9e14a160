/**
 * refine on labelled real photos: a library built from two person folders, then refine over the whole tree. Faces
 * already in sets are left alone, the new people become auto-cluster sets of one person each, and (unlike
 * cluster-osrc) new photos of a person the library holds are clustered, not routed. Re-running adds nothing.
 * Default thresholds (see tests/workflows_extend.test.ts for why they are not borderline on these photos).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildFolders, clusterOsrc, DEFAULT_CONFIG, FaceStore, refine, type RefineResult } from "../lib/mod";
import { needsFullSet } from "./support/fixtures";
import { photosOf, sharedLabels } from "./support/labelled";
import { type LibraryFixture, makeLibraryFixture } from "./support/library_fixture";
import { treeFingerprint } from "./support/scan_tree";

const labels = sharedLabels();
const obama = photosOf(labels, "obama");

let fx: LibraryFixture;
let store: FaceStore;
let before: Map<string, string>;
let first: RefineResult;

const options = (over: { dryRun?: boolean } = {}) => ({
  source: fx.root,
  libraryDir: fx.library,
  store,
  storePath: fx.store,
  config: DEFAULT_CONFIG,
  ...over,
});

describe("refine on labelled photos", needsFullSet(), () => {
  beforeAll(async () => {
    fx = await makeLibraryFixture({
      "people/obama": obama.slice(0, 1),
      "people/deepface_p01": photosOf(labels, "deepface_p01").slice(0, 3),
      // 9 more obama files (not obama-240p: its 53 px face fails the gates), p03 (7) and p10 (8; img26 is gated).
      // The obama files are 6 distinct photos: obama-480p/720p/1080p and obama_small are resizes of one shot
      // (<= 0.03 apart, identity.samePhotoMaxCosDist), the partial faces are crops of it (0.10-0.12, distinct).
      bucket: [
        ...obama.slice(1).filter((p) => !p.file.includes("240p")),
        ...photosOf(labels, "deepface_p03"),
        ...photosOf(labels, "deepface_p10"),
      ],
    }, { prefix: "facesets-refine-" });
    store = await FaceStore.open(fx.store, { readOnly: true });
    await buildFolders({ folders: fx.dir("people"), libraryDir: fx.library, store, storePath: fx.store, config: DEFAULT_CONFIG });
    before = treeFingerprint(fx.library);
    first = await refine(options());
  }, 120_000);

  afterAll(async () => {
    await store?.close();
  });

  test("faces in sets are left alone; each new set is one person, numbered after the library, origin auto-cluster", () => {
    const inPeople = first.plan.faces.filter((d) => d.path.startsWith(fx.dir("people")));
    expect(inPeople.length).toBeGreaterThan(0);
    for (const d of inPeople) expect(d.fate).toBe("in-library");
    expect(first.plan.counts.routed).toBe(0);
    const people = first.plan.newSets.map((s) => {
      const ids = new Set(s.faces.flatMap((f) => fx.identitiesOf(f.row.path)));
      expect(ids.size, s.name).toBe(1);
      return [s.name, [...ids][0]];
    });
    expect(people.map((p) => p[1]).sort()).toEqual(["deepface_p03", "deepface_p10", "obama"]);
    expect(people.map((p) => p[0])).toEqual(["faceset_003", "faceset_004", "faceset_005"]);
    const top = JSON.parse(readFileSync(path.join(fx.library, "manifest.json"), "utf8"));
    expect(top.facesets.map((e: { origin: string }) => e.origin)).toEqual(["hand-sorted", "hand-sorted", "auto-cluster", "auto-cluster", "auto-cluster"]);
    const provenance = JSON.parse(readFileSync(path.join(fx.library, "faceset_003", "provenance.json"), "utf8"));
    expect(provenance).toMatchObject({ command: "refine", run_id: first.record.runId });
  });

  test("existing sets are byte-identical", () => {
    const after = treeFingerprint(fx.library);
    // The top-level manifest lists the new sets, the ledger records them; everything else is as it was.
    for (const [file, sha] of before) if (file !== "manifest.json" && !file.startsWith("_ledger/")) expect(after.get(file), file).toBe(sha);
  });

  test("refine clustered faces cluster-osrc would have routed; re-runs of either add nothing", async () => {
    const again = await refine(options());
    expect(again.plan.newSets).toEqual([]);
    // The bucket's obama faces were within routeMaxCosDist of obama's set: cluster-osrc would have routed them.
    const obamaFaces = first.plan.faces.filter((d) => d.path.startsWith(fx.dir("bucket")) && fx.identitiesOf(d.path).includes("obama"));
    for (const d of obamaFaces) expect(d.nearestCosDist!).toBeLessThanOrEqual(DEFAULT_CONFIG.identity.routeMaxCosDist);
    const osrc = await clusterOsrc({ ...options(), dryRun: true });
    expect(osrc.plan.counts.newSets).toBe(0);
  });
});
