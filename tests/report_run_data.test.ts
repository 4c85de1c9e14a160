/** Which run record `deno task report --library` explains: the newest discovery run, whatever ran after it. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { latestDiscoveryRecord, notebookPath, NotebookInputError, notebookRunRecord, readRunRecord, RunRecordError } from "../lib/mod";

function libraryWithRecords(records: Record<string, string>): string {
  const library = mkdtempSync(path.join(tmpdir(), "facesets-runs-"));
  mkdirSync(path.join(library, "_runs"));
  for (const [name, text] of Object.entries(records)) writeFileSync(path.join(library, "_runs", name), text);
  return library;
}

describe("latestDiscoveryRecord", () => {
  it("skips newer extend, build-folders and split-eras records and unreadable files", async () => {
    const library = libraryWithRecords({
      "20261101T000000000Z-00-aaaaaa.json": JSON.stringify({ kind: "cluster-osrc" }),
      "20261102T000000000Z-00-bbbbbb.json": JSON.stringify({ kind: "refine" }),
      "20261103T000000000Z-00-cccccc.json": JSON.stringify({ kind: "extend" }),
      "20261104T000000000Z-00-dddddd.json": JSON.stringify({ kind: "split-eras" }),
      "20261105T000000000Z-00-eeeeee.json": "{ not json",
    });
    expect(await latestDiscoveryRecord(library)).toBe(path.join(library, "_runs", "20261102T000000000Z-00-bbbbbb.json"));
  });

  it("is undefined without a discovery record, and readRunRecord refuses other kinds by name", async () => {
    const library = libraryWithRecords({ "20261103T000000000Z-00-cccccc.json": JSON.stringify({ kind: "extend" }) });
    expect(await latestDiscoveryRecord(library)).toBeUndefined();
    expect(await latestDiscoveryRecord(path.join(library, "nowhere"))).toBeUndefined();
    const file = path.join(library, "_runs", "20261103T000000000Z-00-cccccc.json");
    await expect(readRunRecord(file)).rejects.toThrow(RunRecordError);
    await expect(readRunRecord(file)).rejects.toThrow(`${file}: not a cluster-osrc or refine run record (kind "extend")`);
  });
});

describe("notebookRunRecord and notebookPath (notebook inputs)", () => {
  it("picks the newest cluster-osrc or refine record of FACESETS_LIBRARY after extend ran, as report does", async () => {
    const library = libraryWithRecords({
      "20261101T000000000Z-00-aaaaaa.json": JSON.stringify({ kind: "cluster-osrc" }),
      "20261103T000000000Z-00-cccccc.json": JSON.stringify({ kind: "extend" }),
    });
    expect(await notebookRunRecord({ FACESETS_LIBRARY: library })).toBe(path.join(library, "_runs", "20261101T000000000Z-00-aaaaaa.json"));
    const chosen = path.join(library, "_runs", "20261103T000000000Z-00-cccccc.json");
    expect(await notebookRunRecord({ FACESETS_LIBRARY: library, FACESETS_RUN_RECORD: chosen })).toBe(chosen);
  });

  it("a missing or wrong required input fails naming the variable", async () => {
    await expect(notebookRunRecord({})).rejects.toThrow(/^FACESETS_LIBRARY is not set: set it to the face-set library/);
    await expect(notebookRunRecord({ FACESETS_LIBRARY: "/nowhere/lib" })).rejects.toThrow("FACESETS_LIBRARY=/nowhere/lib: no such folder");
    await expect(notebookRunRecord({ FACESETS_RUN_RECORD: "/nowhere/r.json" })).rejects.toThrow("FACESETS_RUN_RECORD=/nowhere/r.json: no such file");
    const empty = libraryWithRecords({ "20261103T000000000Z-00-cccccc.json": JSON.stringify({ kind: "extend" }) });
    await expect(notebookRunRecord({ FACESETS_LIBRARY: empty })).rejects.toThrow(`FACESETS_LIBRARY=${empty}: no cluster-osrc or refine run record`);
    await expect(notebookPath({}, "FACESETS_LABELS", { kind: "file", what: "a labels.csv" })).rejects.toThrow(NotebookInputError);
    await expect(notebookPath({}, "FACESETS_LABELS", { kind: "file", what: "a labels.csv", required: false })).resolves.toBeUndefined();
    await expect(notebookPath({ FACESETS_LABELS: empty }, "FACESETS_LABELS", { kind: "file", what: "a labels.csv" })).rejects.toThrow(`FACESETS_LABELS=${empty}: not a file`);
  });
});
