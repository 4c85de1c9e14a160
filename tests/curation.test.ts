/**
 * The curation verbs on a library build-folders made from real photos (four person folders, obama split across
 * two): each verb changes exactly what it names, records one decision, refuses unknown sets and faces by name and
 * writes nothing on a dry run; undo walks decisions back; status has the JSON shape.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  buildFolders,
  createSetFromFaces,
  CurateError,
  DEFAULT_CONFIG,
  dismissSet,
  FaceStore,
  libraryStatus,
  markNotSame,
  mergeSets,
  moveFaces,
  nameSet,
  readDecisions,
  readLedger,
  readLibrary,
  rejectFaces,
  restoreSet,
  splitFaces,
  syncLedger,
  undoLast,
} from "../lib/mod";
import { needsFullSet } from "./support/fixtures";
import { photosOf, sharedLabels } from "./support/labelled";
import { type LibraryFixture, makeLibraryFixture } from "./support/library_fixture";
import { DENO, treeFingerprint } from "./support/scan_tree";

const labels = sharedLabels();
const obama = photosOf(labels, "obama");

let fx: LibraryFixture;
let statusNow: unknown;
let lib: string;
const t = () => ({ libraryDir: lib, storePath: fx.store });
const facesOf = async (n: number) => (await readLibrary(lib)).sets.get(n)!.manifest.faces;
const topEntries = () => JSON.parse(readFileSync(path.join(lib, "manifest.json"), "utf8")).facesets as { name: string; count: number; person?: string }[];

describe("curate verbs on a build-folders library", needsFullSet(), () => {
  beforeAll(async () => {
    fx = await makeLibraryFixture({
      "people/amy": photosOf(labels, "amy").slice(0, 3),
      "people/deepface_p01": photosOf(labels, "deepface_p01").slice(0, 3),
      "people/obama": obama.slice(0, 3),
      "people/obama_2": obama.slice(3, 6),
    }, { prefix: "facesets-curate-" });
    lib = fx.library;
    const store = await FaceStore.open(fx.store, { readOnly: true });
    try {
      await buildFolders({ folders: fx.dir("people"), libraryDir: lib, store, storePath: fx.store, config: DEFAULT_CONFIG });
    } finally {
      await store.close();
    }
  }, 180_000);

  afterAll(() => {});

  test("build-folders started the ledger: four active sets with its person names; a sync finds nothing to add", async () => {
    const decisions = await readDecisions(lib, (await readLedger(lib))!.lastSeq);
    expect(decisions.map((d) => [d.by, d.verb, d.detail])).toEqual([["build-folders", "start", "ledger started with 4 set(s)"]]);
    const again = await syncLedger(lib, { by: "test" });
    expect([again.written, again.handEdits, again.notes]).toEqual([false, [], []]);
    const status = await libraryStatus(lib);
    expect(status.sets.map((s) => [s.set, s.person, s.state, s.mergedInto])).toEqual([
      ["faceset_001", "amy", "active", null],
      ["faceset_002", "deepface_p01", "active", null],
      ["faceset_003", "obama", "active", null],
      ["faceset_004", "obama_2", "active", null],
    ]);
    expect(status.sets.map((s) => s.faces)).toEqual(topEntries().map((e) => e.count));
  });

  test("unknown sets and faces are refused by name, nothing written", async () => {
    const before = treeFingerprint(lib);
    await expect(nameSet(t(), "9", "x")).rejects.toThrow(/unknown set "9"/);
    await expect(nameSet(t(), "nobody", "x")).rejects.toThrow(CurateError);
    await expect(rejectFaces(t(), "1", ["nope.png"])).rejects.toThrow(/unknown face "nope.png" in faceset_001/);
    await expect(moveFaces(t(), ["nope"], "2")).rejects.toThrow(/unknown face "nope"/);
    expect(treeFingerprint(lib)).toEqual(before);
  });

  test("a dry run reports and writes nothing", async () => {
    const before = treeFingerprint(lib);
    const out = await mergeSets({ ...t(), dryRun: true }, ["4"], "3");
    expect(out.changes[0]).toMatch(/^faceset_004 \(obama_2\): 3 face\(s\) moved into faceset_003 \(obama\)/);
    expect(out.dryRun).toBe(true);
    expect(treeFingerprint(lib)).toEqual(before);
  });

  test("name: the ledger, status and the top-level entry carry the person; folders unchanged", async () => {
    const out = await nameSet(t(), "faceset_003", "Barack Obama");
    expect(out.changes).toEqual(['faceset_003: named "Barack Obama" (was "obama")']);
    expect(topEntries().find((e) => e.name === "faceset_003")!.person).toBe("Barack Obama");
    expect(existsSync(path.join(lib, "faceset_003"))).toBe(true);
    await expect(nameSet(t(), "1", "barack obama")).rejects.toThrow(/faceset_003 is already named "Barack Obama"; merge them/);
  });

  test("merge: faces and crops move into the target, the merged set leaves the list and its number stays given", async () => {
    const target = await facesOf(3);
    const merged = await facesOf(4);
    const out = await mergeSets(t(), ["obama_2"], "Barack Obama");
    expect(out.sets).toEqual(["faceset_003", "faceset_004"]);
    expect(existsSync(path.join(lib, "faceset_004"))).toBe(false);
    const now = await facesOf(3);
    expect(now.map((f) => f.faceId)).toEqual([...target, ...merged].map((f) => f.faceId));
    for (const f of now) expect(existsSync(path.join(lib, "faceset_003", f.crop)), f.crop).toBe(true);
    expect(topEntries().map((e) => e.name)).toEqual(["faceset_001", "faceset_002", "faceset_003"]);
    const ledger = (await readLedger(lib))!;
    expect(ledger.sets.find((s) => s.name === "faceset_004")).toMatchObject({ state: "merged", mergedInto: "faceset_003", faces: [] });
    expect(ledger.highestNumber).toBe(4);
    expect((await readLibrary(lib)).warnings).toEqual([]);
  });

  test("not-same: merge refuses the pair", async () => {
    await markNotSame(t(), "1", "2");
    await expect(mergeSets(t(), ["2"], "1")).rejects.toThrow(/refusing to merge: marked not the same person \(faceset_001 \/ faceset_002\)/);
  });

  test("reject, move and split change only the faces named; split numbers after the highest ever given", async () => {
    const obamaFaces = await facesOf(3);
    await rejectFaces(t(), "3", [obamaFaces[0]!.crop]);
    expect((await facesOf(3)).map((f) => f.faceId)).toEqual(obamaFaces.slice(1).map((f) => f.faceId));
    expect(existsSync(path.join(lib, "faceset_003", obamaFaces[0]!.crop))).toBe(false);
    const ledger = (await readLedger(lib))!;
    expect(ledger.sets.find((s) => s.name === "faceset_003")!.rejected).toContain(obamaFaces[0]!.faceId);

    const amy = await facesOf(1);
    await moveFaces(t(), [amy[0]!.faceId!], "2");
    expect((await facesOf(2)).at(-1)!.faceId).toBe(amy[0]!.faceId);
    expect((await facesOf(1)).length).toBe(amy.length - 1);

    const split = await splitFaces(t(), "3", [obamaFaces[1]!.faceId!, obamaFaces[2]!.faceId!]);
    expect(split.sets).toEqual(["faceset_003", "faceset_005"]);
    expect((await facesOf(5)).map((f) => f.faceId)).toEqual([obamaFaces[1]!.faceId, obamaFaces[2]!.faceId]);
    expect(topEntries().map((e) => e.name)).toEqual(["faceset_001", "faceset_002", "faceset_003", "faceset_005"]);
  });

  test("dismiss moves the folder to _dismissed/ and restore brings it back; undo walks back decisions", async () => {
    await dismissSet(t(), "5");
    expect(readdirSync(path.join(lib, "_dismissed"))).toEqual(["faceset_005"]);
    expect(topEntries().map((e) => e.name)).not.toContain("faceset_005");
    await restoreSet(t(), "5");
    expect(existsSync(path.join(lib, "faceset_005", "manifest.json"))).toBe(true);

    const beforeUndo = treeFingerprint(lib);
    await dismissSet(t(), "5");
    const undone = await undoLast(t());
    expect(undone.changes[0]).toMatch(/^undid #\d+: faceset_005: dismissed/);
    const after = treeFingerprint(lib);
    for (const [file, sha] of beforeUndo) {
      if (file.startsWith("_ledger/") || file === "manifest.json") continue;
      expect(after.get(file), file).toBe(sha);
    }
    expect((await libraryStatus(lib)).sets.find((s) => s.set === "faceset_005")!.state).toBe("active");
  });

  test("status --json shape; decisions are one JSON line each", async () => {
    const status = await libraryStatus(lib);
    statusNow = status;
    expect(Object.keys(status)).toEqual(["sets", "handEdits"]);
    for (const s of status.sets) expect(Object.keys(s)).toEqual(["set", "person", "state", "faces", "mergedInto"]);
    const ledger = (await readLedger(lib))!;
    const decisions = await readDecisions(lib, ledger.lastSeq);
    expect(decisions.map((d) => d.verb)).toEqual(["start", "name", "merge", "not-same", "reject", "move", "split", "dismiss", "restore", "dismiss", "undo"]);
  });

  test("createSetFromFaces: store faces no set holds become a new set after the highest number; held faces are refused", async () => {
    const amy = await facesOf(1);
    const face = amy[0]!;
    await expect(createSetFromFaces(t(), [face.faceId!])).rejects.toThrow(/is already in faceset_001 \(amy\); use curate move/);
    await expect(createSetFromFaces(t(), ["0000"])).rejects.toThrow(/unknown face id\(s\) in .*: 0000/);
    await rejectFaces(t(), "amy", [face.faceId!]);
    const out = await createSetFromFaces(t(), [face.faceId!]);
    expect(out.sets).toEqual(["faceset_006"]);
    const made = (await readLibrary(lib)).sets.get(6)!;
    expect(made.manifest.faces.map((f) => [f.faceId, f.crop])).toEqual([[face.faceId, face.crop]]);
    expect(existsSync(path.join(made.dir, face.crop))).toBe(true);
    await undoLast(t());
    await undoLast(t()); // the reject too: amy has her face back
    expect((await facesOf(1)).map((f) => f.faceId)).toContain(face.faceId);
    expect(existsSync(path.join(lib, "faceset_006"))).toBe(false);
    expect((await readLedger(lib))!.highestNumber).toBe(6); // an undone set's number stays given
  });

  test("deno task curate: --help, exit 2 naming an unknown set, --json as the last line", () => {
    const curate = (...args: string[]) => spawnSync(DENO, ["run", "-A", "scripts/curate.ts", ...args], { encoding: "utf8" });
    const help = curate("merge", "--help");
    expect([help.status, help.stdout.split("\n")[0]]).toEqual([0, "usage: deno task curate merge --set SET [--set SET ...] --into SET --library DIR [--store PATH] [--dry-run] [--json]"]);
    const bad = curate("name", "--library", lib, "--set", "42", "--person", "x");
    expect([bad.status, bad.stderr.split("\n")[0]]).toEqual([2, expect.stringMatching(/^error: unknown set "42" \(sets: faceset_001 \(amy\),/)]);
    const verb = curate("frobnicate", "--library", lib);
    expect([verb.status, verb.stderr.split("\n")[0]]).toEqual([2, expect.stringMatching(/^error: unknown verb "frobnicate"/)]);
    const named = curate("name", "--library", lib, "--set", "2", "--person", "Pat", "--json", "--dry-run");
    expect(named.status, named.stderr).toBe(0);
    const outcome = JSON.parse(named.stdout.trim().split("\n").at(-1)!);
    expect(outcome).toMatchObject({ verb: "name", changes: ['faceset_002: named "Pat" (was "deepface_p01")'], dryRun: true, seq: null });
    const status = curate("status", "--library", lib, "--json");
    expect(JSON.parse(status.stdout.trim().split("\n").at(-1)!)).toEqual(JSON.parse(JSON.stringify(statusNow)));
  });

  test("a copy of the library still reads (hard-linked snapshots are plain files)", () => {
    const copy = path.join(fx.root, "copy");
    cpSync(lib, copy, { recursive: true });
    expect(existsSync(path.join(copy, "_ledger", "sets.json"))).toBe(true);
  });
});
