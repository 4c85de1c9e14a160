/**
 * Issue 11's scenario on ../shared photos: build-folders (obama in two folders), cluster-osrc on a mixed bucket,
 * then every curate verb (name, merge, move, reject, split, dismiss) and every hand edit (rename a folder,
 * delete a folder, delete a crop, delete the top-level manifest); then two rounds of cluster-osrc --extend,
 * extend, refine (and build-folders): no person re-created, no rejected face back, merged and dismissed numbers
 * never reused, names shown, and the second round changes no set.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, unlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  buildFolders,
  clusterOsrc,
  type ClusterOsrcResult,
  DEFAULT_CONFIG,
  dismissSet,
  extend,
  type ExtendResult,
  FaceStore,
  faceKey,
  libraryStatus,
  mergeSets,
  moveFaces,
  nameSet,
  readDecisions,
  readLedger,
  readLibrary,
  refine,
  rejectFaces,
  splitFaces,
} from "../lib/mod";
import { needsFullSet } from "./support/fixtures";
import { photosOf, sharedLabels } from "./support/labelled";
import { type LibraryFixture, makeLibraryFixture } from "./support/library_fixture";
import { DENO, treeFingerprint } from "./support/scan_tree";

const labels = sharedLabels();
const of = (who: string) => photosOf(labels, who);

let fx: LibraryFixture;
let store: FaceStore;
let lib: string;
let discovered: ClusterOsrcResult;
/** Set name (as discovered) -> the person its faces are of. */
const setOf = new Map<string, string>();
const rounds: { osrc: ClusterOsrcResult; ext: ExtendResult; sets: Map<string, string> }[] = [];
let rejectedFromTen: string[] = [];
let deletedCropFace = "";
let movedFace = "";

const io = () => ({ libraryDir: lib, store, storePath: fx.store, config: DEFAULT_CONFIG });
const t = () => ({ libraryDir: lib, storePath: fx.store });
/** Every file of the set folders and the top-level manifest (not _runs/ or _ledger/): what "a set changed" means. */
const setFiles = () => new Map([...treeFingerprint(lib)].filter(([f]) => !f.startsWith("_runs/") && !f.startsWith("_ledger/")));
const setNamed = (person: string) => [...setOf].find(([, p]) => p === person)?.[0];

describe("curation scenario: decisions and hand edits survive every later run", needsFullSet(), () => {
  beforeAll(async () => {
    fx = await makeLibraryFixture({
      "people/amy": of("amy").slice(0, 3),
      "people/deepface_p01": of("deepface_p01").slice(0, 3),
      "people/deepface_p03": of("deepface_p03").slice(0, 3),
      "people/obama": of("obama").slice(0, 3),
      "people/obama_2": of("obama").slice(3, 6), // one person in two folders
      bucket: [
        ...of("amy").slice(3),
        ...of("deepface_p01").slice(3),
        ...of("deepface_p03").slice(3),
        ...of("obama").slice(6),
        ...of("deepface_p10"),
        ...of("deepface_p02"),
        ...of("biden"),
      ],
    }, { prefix: "facesets-scenario-" });
    lib = fx.library;
    store = await FaceStore.open(fx.store, { readOnly: true });
    const built = await buildFolders({ ...io(), folders: fx.dir("people") });
    for (const o of built.folders) setOf.set(o.set!, o.person);
    discovered = await clusterOsrc({ ...io(), source: fx.dir("bucket") });
    for (const s of discovered.plan.newSets) {
      const people = new Set(s.faces.flatMap((f) => fx.identitiesOf(f.row.path)));
      setOf.set(s.name, people.size === 1 ? [...people][0]! : "mixed");
    }
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  test("the starting library: five hand-sorted sets, p10 and p02 discovered from the bucket", () => {
    expect([...setOf]).toEqual([
      ["faceset_001", "amy"],
      ["faceset_002", "deepface_p01"],
      ["faceset_003", "deepface_p03"],
      ["faceset_004", "obama"],
      ["faceset_005", "obama_2"],
      ["faceset_006", "deepface_p10"],
      ["faceset_007", "deepface_p02"],
    ]);
  });

  test("curate: name, merge, move, reject, split, dismiss", async () => {
    const ten = setNamed("deepface_p10")!;
    await nameSet(t(), ten, "Ten");
    await mergeSets(t(), ["obama_2"], "obama"); // 5 into 4, by person names
    const tenFaces = (await readLibrary(lib)).sets.get(6)!.manifest.faces;
    movedFace = tenFaces[0]!.faceId!;
    await moveFaces(t(), [movedFace], "amy"); // a wrong move on purpose: the face must never go back to 6
    rejectedFromTen = [tenFaces[1]!.faceId!, tenFaces[2]!.faceId!];
    await rejectFaces(t(), "Ten", rejectedFromTen.map((id) => `face_${id}.png`)); // by crop file name
    const obamaFaces = (await readLibrary(lib)).sets.get(4)!.manifest.faces;
    const split = await splitFaces(t(), "4", [obamaFaces[0]!.faceId!, obamaFaces[1]!.faceId!]);
    expect(split.sets).toEqual(["faceset_004", "faceset_008"]); // after the highest number ever given (7)
    setOf.set("faceset_008", "obama");
    await dismissSet(t(), setNamed("deepface_p02")!);
    expect(existsSync(path.join(lib, "_dismissed", "faceset_007"))).toBe(true);
  });

  test("hand edits: a renamed folder, a deleted folder, a deleted crop, a deleted top-level manifest", async () => {
    renameSync(path.join(lib, "faceset_002"), path.join(lib, "faceset_002_p01"));
    rmSync(path.join(lib, "faceset_003"), { recursive: true });
    const ten = (await readLibrary(lib)).sets.get(6)!;
    const victim = ten.manifest.faces.at(-1)!;
    deletedCropFace = faceKey(victim);
    unlinkSync(path.join(ten.dir, victim.crop));
    unlinkSync(path.join(lib, "manifest.json"));
    // Nothing is recorded yet, but status already sees them.
    const status = await libraryStatus(lib);
    expect(status.handEdits.map((e) => [e.kind, e.set])).toEqual([
      ["renamed", "faceset_002"],
      ["crop-deleted", "faceset_006"],
      ["folder-deleted", "faceset_003"],
      ["manifest-deleted", ""],
    ]);
  });

  test("two rounds of cluster-osrc --extend, extend, refine and build-folders", async () => {
    for (let round = 0; round < 2; round++) {
      const osrc = await clusterOsrc({ ...io(), source: fx.dir("bucket"), extend: true });
      const ext = await extend({ ...io(), source: fx.dir("bucket") });
      await refine({ ...io(), source: fx.dir("bucket") });
      await buildFolders({ ...io(), folders: fx.dir("people") });
      rounds.push({ osrc, ext, sets: setFiles() });
    }
    // The first command of round 1 found and recorded the hand edits and rebuilt the manifest.
    expect(rounds[0]!.osrc.warnings.filter((w) => w.startsWith("hand edit recorded:")).length).toBe(4);
    expect(rounds[1]!.osrc.warnings.filter((w) => w.startsWith("hand edit"))).toEqual([]);
    expect((await readLibrary(lib)).warnings).toEqual([]);
  }, 300_000);

  test("no person re-created, no number reused: the same active sets after both rounds", async () => {
    const status = await libraryStatus(lib);
    expect(status.sets.map((s) => [s.set, s.state, s.mergedInto, s.person])).toEqual([
      ["faceset_001", "active", null, "amy"],
      ["faceset_002", "active", null, "p01"],
      ["faceset_003", "dismissed", null, "deepface_p03"],
      ["faceset_004", "active", null, "obama"],
      ["faceset_005", "merged", "faceset_004", "obama_2"],
      ["faceset_006", "active", null, "Ten"],
      ["faceset_007", "dismissed", null, null],
      ["faceset_008", "active", null, null],
    ]);
    const top = JSON.parse(readFileSync(path.join(lib, "manifest.json"), "utf8"));
    expect(top.facesets.map((e: { name: string }) => e.name)).toEqual(["faceset_001", "faceset_002", "faceset_004", "faceset_006", "faceset_008"]);
    for (const r of rounds) {
      expect(r.osrc.plan.newSets).toEqual([]);
      expect(r.osrc.plan.counts.newSets).toBe(0);
    }
    // Not even a plan re-creates p02 (dismissed) or p03 (folder deleted): their faces are retired.
    expect(rounds[0]!.osrc.plan.clusters.filter((k) => k.kept)).toEqual([]);
  });

  test("no rejected face is back in the set it left; the moved face stays where it was moved", async () => {
    const library = await readLibrary(lib);
    const ledger = (await readLedger(lib))!;
    for (const s of ledger.sets.filter((x) => x.state === "active")) {
      const held = library.sets.get(s.number)!.manifest.faces.map(faceKey);
      for (const id of s.rejected) expect(held, `${id} back in ${s.name}`).not.toContain(id);
    }
    const ten = ledger.sets.find((s) => s.name === "faceset_006")!;
    expect(ten.rejected).toEqual(expect.arrayContaining([movedFace, ...rejectedFromTen, deletedCropFace]));
    expect(library.sets.get(1)!.manifest.faces.map(faceKey)).toContain(movedFace);
    // The bucket's faces the owner took out of faceset_006 came up again in both rounds and were kept out: claimed
    // by the discovery that made the set, or refused as rejected (never added anywhere).
    for (const r of rounds) {
      for (const id of [...rejectedFromTen, deletedCropFace]) {
        expect(r.osrc.extension!.faces.find((d) => d.faceId === id)?.fate, id).toMatch(/^(claimed|rejected)$/);
        expect(r.ext.plan.faces.find((d) => d.faceId === id)?.fate, id).toMatch(/^(claimed|rejected)$/);
      }
    }
  });

  test("cluster-osrc --extend gave the known people their new photos; extend after it adds nothing", () => {
    const first = rounds[0]!;
    expect(first.osrc.extension!.counts.added).toBeGreaterThan(0);
    expect(first.ext.plan.counts.added).toBe(0);
    for (const a of first.osrc.extension!.additions) {
      for (const f of a.faces) expect(fx.identitiesOf(f.row.path), f.row.path).toContain(setOf.get(a.identity));
    }
  });

  test("the second round changes no set", () => {
    expect(rounds[1]!.sets).toEqual(rounds[0]!.sets);
    expect(rounds[1]!.osrc.extension!.counts.added).toBe(0);
    expect(rounds[1]!.ext.plan.counts.added).toBe(0);
  });

  test("decisions.jsonl is append-only and names every decision and hand edit", async () => {
    const ledger = (await readLedger(lib))!;
    const decisions = await readDecisions(lib, ledger.lastSeq);
    expect(decisions.map((d) => d.seq)).toEqual(decisions.map((_, i) => i + 1));
    const verbs = decisions.filter((d) => d.by === "curate" || d.by === "hand-edit").map((d) => d.verb);
    expect(verbs).toEqual(["name", "merge", "move", "reject", "split", "dismiss", "renamed", "crop-deleted", "folder-deleted", "manifest-deleted"]);
  });

  test("names are shown: curate status and the cluster-osrc plan say faceset_006 (Ten)", () => {
    const out = spawnSync(DENO, ["run", "-A", "scripts/curate.ts", "status", "--library", lib], { encoding: "utf8" });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain("faceset_006 (Ten)");
    expect(out.stdout).toContain("faceset_002 (p01)");
    expect(rounds[0]!.osrc.people.get("faceset_006")).toBe("Ten");
  });
});
