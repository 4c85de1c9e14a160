/** Which run record `deno task report --library` explains: the newest discovery run, whatever ran after it. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { latestDiscoveryRecord, readRunRecord, RunRecordError } from "../lib/mod";

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
