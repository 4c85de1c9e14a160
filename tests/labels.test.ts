import path from "node:path";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { describe, expect, test } from "vitest";
import { CsvError, LabelsError, parseCsv, parseLabels, readLabels, truthByPath } from "../lib/labels/mod";
import { FACES, needs } from "./support/fixtures";

describe("parseCsv", () => {
  test("quoted commas, doubled quotes, quoted newlines, CRLF, BOM, blank lines", () => {
    const text = '\ufefffile,identity,note\r\na.jpg,x,"one, two"\r\n\r\nb.jpg,"y","say ""hi"""\nc.jpg,,"two\nlines"\nd.jpg,z,""\n';
    const records = parseCsv(text, "t.csv");
    expect(records.map((r) => r.fields)).toEqual([
      ["file", "identity", "note"],
      ["a.jpg", "x", "one, two"],
      ["b.jpg", "y", 'say "hi"'],
      ["c.jpg", "", "two\nlines"],
      ["d.jpg", "z", ""],
    ]);
    // Lines count physical lines: the blank line and the quoted newline move later records down.
    expect(records.map((r) => r.line)).toEqual([1, 2, 4, 5, 7]);
  });

  test("no trailing newline; a lone quoted empty field is a record", () => {
    expect(parseCsv('a,b\n""', "t").map((r) => r.fields)).toEqual([["a", "b"], [""]]);
  });

  test("malformed quoting is refused with file and line", () => {
    expect(() => parseCsv('a,b\nx,"open\n', "bad.csv")).toThrow(/bad\.csv:2: unterminated/);
    expect(() => parseCsv('a,b\nx,"q"z\n', "bad.csv")).toThrow(CsvError);
    expect(() => parseCsv('a,b\nx,ab"c\n', "bad.csv")).toThrow(/bad\.csv:2: a quote inside an unquoted field/);
  });
});

describe("parseLabels", () => {
  const dir = "/photos";
  test("single, group (';') and unlabelled rows; files resolved against the folder", () => {
    const labels = parseLabels(
      'file,identity,label_source\na/1.jpg,ann,"folder, by hand"\ng.jpg, ann ; bob ,file name\nu.jpg,,group photo\n',
      dir,
      "labels.csv",
    );
    expect(labels.header).toEqual(["file", "identity", "label_source"]);
    const [a, g, u] = labels.rows;
    expect(a).toMatchObject({ file: "a/1.jpg", path: "/photos/a/1.jpg", identity: "ann", identities: ["ann"], singleIdentity: true, line: 2 });
    expect(a!.columns.label_source).toBe("folder, by hand");
    expect(g).toMatchObject({ identity: null, identities: ["ann", "bob"], singleIdentity: false });
    expect(u).toMatchObject({ identity: null, identities: [], singleIdentity: false });
    expect([...truthByPath(labels)]).toEqual([["/photos/a/1.jpg", "ann"]]);
  });

  test("refusals name the file, the line and the reason", () => {
    expect(() => parseLabels("path,who\nx,y\n", dir, "l.csv")).toThrow(/l\.csv: header lacks the "file" column/);
    expect(() => parseLabels("file,identity\nx,y,z\n", dir, "l.csv")).toThrow(/l\.csv:2: 3 fields but the header has 2/);
    expect(() => parseLabels("file,identity\nx,y\nx,z\n", dir, "l.csv")).toThrow(/l\.csv:3: x is listed twice \(first on line 2\)/);
    expect(() => parseLabels("file,identity\n,y\n", dir, "l.csv")).toThrow(LabelsError);
    expect(() => parseLabels("", dir, "l.csv")).toThrow(/l\.csv: empty file/);
  });
});

describe("readLabels on the shared fixtures", () => {
  test("face_recognition: multi-person rows flagged, duplicates that were not copied reported missing", needs("faces/face_recognition/labels.csv", "faces/face_recognition/knn"), async () => {
    const csv = path.join(FACES, "face_recognition", "labels.csv");
    const labels = await readLabels(csv);
    expect(labels.dir).toBe(path.join(FACES, "face_recognition"));
    const kit = labels.rows.find((r) => r.file === "knn/test/kit_with_rose.jpg")!;
    expect(kit).toMatchObject({ identity: null, identities: ["kit_harington", "rose_leslie"], singleIdentity: false, exists: true });
    const biden = labels.rows.find((r) => r.file === "knn/train/biden/biden.jpg")!;
    expect(biden).toMatchObject({ identity: "biden", singleIdentity: true, exists: true, path: path.join(FACES, "face_recognition/knn/train/biden/biden.jpg") });
    // labels.csv lists examples/biden.jpg as "not copied": the row is kept, its file is absent.
    expect(labels.rows.find((r) => r.file === "examples/biden.jpg")!.exists).toBe(false);
  });

  test("faceapi: unlabelled group photos are returned but not single-identity", needs("faces/faceapi/labels.csv", "faces/faceapi/groups"), async () => {
    const labels = await readLabels(path.join(FACES, "faceapi", "labels.csv"));
    const groups = labels.rows.filter((r) => r.file.startsWith("groups/"));
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.every((r) => !r.singleIdentity && r.identity === null && r.identities.length === 0)).toBe(true);
    expect(labels.rows.filter((r) => r.singleIdentity).length).toBe(40); // 8 characters x 5 crops
    expect(labels.rows.every((r) => r.exists)).toBe(true);
  });

  test("deepface: quoted label_source with commas and doubled quotes", needs("faces/deepface/labels.csv"), async () => {
    const labels = await readLabels(path.join(FACES, "deepface", "labels.csv"));
    const first = labels.rows[0]!;
    expect(first.file).toMatch(/^img\d+\.jpg$/); // img1.jpg in ../shared; tests/fixtures keeps a subset
    expect(first.columns.label_source).toMatch(/^connected component of "Yes" pairs in .*\+ face-recognition-pivot\.csv \(group size \d+\)$/);
  });

  test("a missing CSV is named in the error", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "labels-"));
    await expect(readLabels(path.join(dir, "nope.csv"))).rejects.toThrow(/nope\.csv: cannot read labels \(ENOENT\)/);
    await writeFile(path.join(dir, "l.csv"), "file,identity\nx.jpg,a\n");
    expect((await readLabels(path.join(dir, "l.csv"))).rows[0]!.exists).toBe(false);
  });
});
