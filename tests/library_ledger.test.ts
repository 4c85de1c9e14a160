/**
 * The ledger's files and rules on small synthetic libraries (no models, no store): parsing refuses bad files by
 * name, uncommitted decision lines never count, a snapshot put back restores the library byte for byte, hand
 * edits become decisions (a rebuilt top-level manifest equals the deleted one), and the refusal rules extend uses.
 */
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import {
  addFacesets,
  beginLedgerChange,
  commitLedger,
  emptyLedger,
  type Ledger,
  LibraryError,
  ledgerRetiredFaceIds,
  type NewFace,
  parseLedger,
  personFromFolder,
  readDecisions,
  readLedger,
  readLibrary,
  recoverLedgerChange,
  refusedFaces,
  syncLedger,
} from "../lib/mod";
import { treeFingerprint } from "./support/scan_tree";

const tmp = (prefix: string) => mkdtempSync(path.join(tmpdir(), prefix));

function face(id: string): NewFace {
  return {
    source: `/photos/${id}.jpg`, bbox: [0, 0, 100, 100], detScore: 0.9, faceShortPx: 100, blur: 100,
    crop: `face_${id}.png`, centroidCosDist: 0.1, faceId: id, png: new TextEncoder().encode(`png of ${id}`),
  };
}

async function library(): Promise<string> {
  const dir = path.join(tmp("facesets-ledger-"), "library");
  await addFacesets(dir, [
    { origin: "hand-sorted", extra: { person: "amy" }, faces: [face("a1"), face("a2"), face("a3")] },
    { origin: "discovered", provenance: { tool: "facesets", run_id: "r1" }, faces: [face("b1"), face("b2")] },
  ]);
  return dir;
}

describe("ledger files", () => {
  test.each([
    [{ format: "x" }, 'format: expected "facesets-ledger/1", got "x"'],
    [{ ...emptyLedger(), lastSeq: -1 }, "lastSeq: expected a whole number >= 0"],
    [{ ...emptyLedger(), sets: [{ id: "S1", name: "faceset_7", number: 7 }] }, "sets[0].name: expected faceset_NNN"],
    [{ ...emptyLedger(), sets: [{ id: "S1", name: "faceset_007", number: 8 }] }, "sets[0].number: expected 7 (from its name)"],
  ])("parseLedger refuses %j", (json, message) => {
    expect(() => parseLedger(json, "/l/sets.json")).toThrow(LibraryError);
    expect(() => parseLedger(json, "/l/sets.json")).toThrow(`/l/sets.json: ${message}`);
  });

  test("a decision line above lastSeq (a killed commit) is not read, and the next commit drops it", async () => {
    const dir = tmp("facesets-ledger-");
    const ledger: Ledger = emptyLedger();
    await commitLedger(dir, ledger, [{ by: "curate", verb: "name", sets: ["faceset_001"], faces: [], detail: "one" }]);
    appendFileSync(path.join(dir, "_ledger", "decisions.jsonl"), JSON.stringify({ seq: 2, verb: "lost" }) + "\n{\"seq\": 3, \"cut");
    expect((await readDecisions(dir, ledger.lastSeq)).map((d) => d.detail)).toEqual(["one"]);
    await commitLedger(dir, ledger, [{ by: "curate", verb: "name", sets: [], faces: [], detail: "two" }]);
    const lines = readFileSync(path.join(dir, "_ledger", "decisions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((d) => [d.seq, d.detail])).toEqual([[1, "one"], [2, "two"]]);
    expect((await readLedger(dir))!.lastSeq).toBe(2);
  });

  test.each([
    ["faceset_007_john", "john"],
    ["faceset_007 - Aunt Mary", "Aunt Mary"],
    ["John Smith", "John Smith"],
    ["faceset_007", null],
  ])("personFromFolder(%s) = %s", (folder, person) => {
    expect(personFromFolder(folder)).toBe(person);
  });

  test("refusedFaces: the set's own rejections and every face a not-same set holds or held; retired faces", () => {
    const ledger: Ledger = {
      ...emptyLedger(),
      sets: [
        { id: "S1", number: 1, name: "faceset_001", folder: "faceset_001", person: null, state: "active", mergedInto: null, faces: ["x"], rejected: ["r"], entry: null },
        { id: "S2", number: 2, name: "faceset_002", folder: "faceset_002", person: null, state: "active", mergedInto: null, faces: ["y"], rejected: ["z"], entry: null },
        { id: "S3", number: 3, name: "faceset_003", folder: "_dismissed/faceset_003", person: null, state: "dismissed", mergedInto: null, faces: ["d"], rejected: [], entry: null, claimed: ["c"] },
      ],
      notSame: [["faceset_001", "faceset_002"]],
    };
    expect([...refusedFaces(ledger, "faceset_001").keys()]).toEqual(["r", "y", "z"]);
    expect(refusedFaces(ledger, "faceset_001").get("y")).toBe("faceset_002 holds or held it, marked not the same person as faceset_001");
    expect([...refusedFaces(ledger, "faceset_003").keys()]).toEqual([]);
    expect([...ledgerRetiredFaceIds(ledger)]).toEqual(["d", "c"]);
  });
});

describe("snapshots and hand edits", () => {
  test("a change killed half-way is put back byte for byte; a committed one only loses its journal", async () => {
    const dir = await library();
    await syncLedger(dir);
    const before = treeFingerprint(dir);
    const ledger = (await readLedger(dir))!;
    await beginLedgerChange(dir, ledger.lastSeq + 1, "merge", ["faceset_001", "faceset_002", "faceset_003"]);
    // Half a merge: a crop moved, a folder gone, a manifest rewritten, a new folder.
    renameSync(path.join(dir, "faceset_002", "face_b1.png"), path.join(dir, "faceset_001", "face_b1.png"));
    rmSync(path.join(dir, "faceset_002"), { recursive: true });
    writeFileSync(path.join(dir, "manifest.json"), "{}");
    writeFileSync(path.join(dir, "faceset_001", "manifest.json"), "{}");
    const message = await recoverLedgerChange(dir, ledger);
    expect(message).toMatch(/an interrupted curate merge was rolled back/);
    const after = treeFingerprint(dir);
    after.delete("_ledger/undo/"); // the (now empty) folder of snapshots
    expect(after).toEqual(before);

    await beginLedgerChange(dir, ledger.lastSeq + 1, "name", []);
    await commitLedger(dir, ledger, [{ by: "curate", verb: "name", sets: [], faces: [], detail: "x" }]);
    expect(await recoverLedgerChange(dir, ledger)).toBeUndefined();
    expect(treeFingerprint(dir).has("_ledger/pending.json")).toBe(false);
  });

  test("hand edits are recorded once; a deleted top-level manifest comes back equal", async () => {
    const dir = await library();
    await syncLedger(dir);
    const manifest = readFileSync(path.join(dir, "manifest.json"), "utf8");
    unlinkSync(path.join(dir, "manifest.json"));
    const rebuilt = await syncLedger(dir, { by: "test" });
    expect(rebuilt.handEdits.map((e) => e.kind)).toEqual(["manifest-deleted"]);
    expect(readFileSync(path.join(dir, "manifest.json"), "utf8")).toBe(manifest);

    renameSync(path.join(dir, "faceset_002"), path.join(dir, "faceset_002_bo"));
    unlinkSync(path.join(dir, "faceset_001", "face_a2.png"));
    const found = await syncLedger(dir, { by: "test" });
    expect(found.handEdits).toEqual([
      { kind: "crop-deleted", set: "faceset_001", detail: "1 crop(s) deleted by hand (face_a2.png): rejected from faceset_001" },
      { kind: "renamed", set: "faceset_002", detail: 'folder faceset_002 renamed to faceset_002_bo by hand; person "bo"' },
    ]);
    expect((await syncLedger(dir, { by: "test" })).handEdits).toEqual([]);
    const lib = await readLibrary(dir);
    expect(lib.warnings).toEqual([]);
    expect(lib.sets.get(2)!.dir).toBe(path.join(dir, "faceset_002_bo"));
    const top = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8"));
    expect(top.facesets).toEqual([
      { name: "faceset_001", count: 2, origin: "hand-sorted", person: "amy" },
      { name: "faceset_002", count: 2, origin: "discovered", provenance: { tool: "facesets", run_id: "r1" }, person: "bo", folder: "faceset_002_bo" },
    ]);

    // A set's own manifest deleted: dismissed where it lies; put back, the set is active again.
    const setManifest = path.join(dir, "faceset_002_bo", "manifest.json");
    const kept = readFileSync(setManifest, "utf8");
    unlinkSync(setManifest);
    expect((await syncLedger(dir, { by: "test" })).handEdits.map((e) => [e.kind, e.set])).toEqual([["set-manifest-deleted", "faceset_002"]]);
    expect((await readLedger(dir))!.sets[1]!.state).toBe("dismissed");
    writeFileSync(setManifest, kept);
    expect((await syncLedger(dir, { by: "test" })).handEdits.map((e) => [e.kind, e.set])).toEqual([["folder-restored", "faceset_002"]]);
    expect((await readLedger(dir))!.sets[1]!.state).toBe("active");

    // A renamed folder of a set with no name in its manifest (another tool's) is recognised by its faces.
    const named = JSON.parse(kept);
    delete named.name;
    writeFileSync(setManifest, JSON.stringify(named));
    renameSync(path.join(dir, "faceset_002_bo"), path.join(dir, "Bo"));
    expect((await syncLedger(dir, { by: "test" })).handEdits.map((e) => [e.kind, e.detail])).toEqual([["renamed", 'folder faceset_002_bo renamed to Bo by hand; person "Bo"']]);

    rmSync(path.join(dir, "faceset_001"), { recursive: true });
    const gone = await syncLedger(dir, { by: "test" });
    expect(gone.handEdits.map((e) => [e.kind, e.set])).toEqual([["folder-deleted", "faceset_001"]]);
    const ledger = (await readLedger(dir))!;
    expect(ledger.sets[0]).toMatchObject({ state: "dismissed", folderDeleted: true, faces: ["a1", "a3"], rejected: ["a2"] });
    // Its number stays given: the next set is faceset_003.
    const [next] = await addFacesets(dir, [{ origin: "discovered", faces: [face("c1")] }]);
    expect(next!.name).toBe("faceset_003");
  });
});
