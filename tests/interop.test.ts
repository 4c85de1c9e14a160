import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeNpy,
  encodeNpy,
  exportStoreNpz,
  exportStoreParquet,
  filesParquetPath,
  importNpz,
  ImportNpzError,
  type NpyArray,
  NpyError,
  npyBool,
  npyFloat32,
  npyFloat64,
  npyInt32,
  npyInt64,
  npyStrings,
  readNpz,
  writeNpz,
} from "../lib/interop/mod";
import { FaceStore, faceId, type FileOutcome, StoreModelMismatchError } from "../lib/store/mod";
import { sha256Bytes } from "../lib/util/hash";
import { skipUnless } from "./support/fixtures";
import { DETECTOR, DIM, OTHER_RECOGNIZER, RECOGNIZER, syntheticFace } from "./support/store_fixtures";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-interop-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const PYTHON = "/usr/bin/python3";
const numpyCheck = spawnSync(PYTHON, ["-c", "import numpy"], { encoding: "utf8" });
const HAVE_NUMPY = numpyCheck.status === 0;
const NUMPY = skipUnless(HAVE_NUMPY, `${PYTHON} cannot import numpy`);
if (!HAVE_NUMPY) console.warn(`skipping numpy compatibility tests: ${PYTHON} cannot import numpy (${(numpyCheck.stderr ?? String(numpyCheck.error)).trim()})`);

/** Run Python with numpy; `code` reads sys.argv[1:]; returns stdout parsed as JSON. */
function py(code: string, ...args: string[]): unknown {
  const out = execFileSync(PYTHON, ["-c", `import sys, json\nimport numpy as np\n${code}`, ...args], { encoding: "utf8" });
  return JSON.parse(out);
}

/** What the export test's Python prints. */
interface NumpyView {
  keys: string[];
  dtypes: Record<string, string>;
  shapes: Record<string, number[]>;
  norms: number[];
  recognizer: string;
  capture_years: (number | null)[];
  [array: string]: unknown;
}

let caseNo = 0;
const fresh = (name: string) => path.join(TMP, `${++caseNo}-${name}`);

describe("npy", () => {
  const cases: [string, NpyArray][] = [
    ["f4 matrix", npyFloat32(Float32Array.from([1.5, -2, 3.25, Math.fround(0.1), Number.NaN, 6]), [2, 3])],
    ["f8", npyFloat64(Float64Array.from([0.1, 1e300, -0]))],
    ["i4", npyInt32(Int32Array.from([-2147483648, 0, 2147483647]))],
    ["i8", npyInt64(BigInt64Array.from([-(2n ** 63n), 0n, 2n ** 62n]))],
    ["b1", npyBool([true, false, true, true])],
    ["unicode incl. astral", npyStrings(["", "a/b c.jpg", "é😀ß", "ends with space "])],
    ["0-d string", npyStrings(["scalar"], [])],
    ["empty 2-D", npyFloat32(new Float32Array(0), [0, 512])],
  ];
  it.each(cases)("%s round-trips with a 64-byte aligned v1.0 header", (_name, array) => {
    const bytes = encodeNpy(array);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLen = bytes[8]! | (bytes[9]! << 8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(bytes[10 + headerLen - 1]).toBe(0x0a);
    const back = decodeNpy(bytes);
    expect(back.dtype).toBe(array.dtype);
    expect(back.shape).toEqual(array.shape);
    expect(back.data).toEqual(array.data);
  });

  it("sizes unicode to the longest string in code points", () => {
    expect(npyStrings(["ab", "😀😀😀"]).dtype).toBe("<U3");
    expect(npyStrings([]).dtype).toBe("<U1");
    expect(() => npyStrings(["x\0"])).toThrow(/NUL/);
    expect(() => npyFloat32(new Float32Array(5), [2, 3])).toThrow(/holds 6 elements, data has 5/);
  });

  const header = (dict: string) => {
    const h = `${dict}${" ".repeat(64)}`.slice(0, 117) + "\n";
    return Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length, 0, ...Array.from(h, (c) => c.charCodeAt(0)), 0, 0, 0, 0, 0, 0, 0, 0]);
  };
  it.each([
    ["object arrays", "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", /object arrays need pickle/],
    ["big-endian", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", /big-endian dtype >f4/],
    ["Fortran order", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", /Fortran-ordered/],
    ["other dtypes", "{'descr': '<u2', 'fortran_order': False, 'shape': (4,), }", /dtype <u2 is not supported/],
    ["truncated data", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", /truncated data/],
  ])("refuses %s by name", (_name, dict, message) => {
    expect(() => decodeNpy(header(dict), "x.npy")).toThrow(NpyError);
    expect(() => decodeNpy(header(dict), "x.npy")).toThrow(message);
  });

  it("reads byte strings (|S) as UTF-8", () => {
    const h = header("{'descr': '|S4', 'fortran_order': False, 'shape': (2,), }");
    const bytes = new Uint8Array(h.length);
    bytes.set(h);
    bytes.set([0x61, 0x62, 0, 0, 0xc3, 0xa9, 0x7a, 0], 128);
    expect(decodeNpy(bytes)).toEqual({ dtype: "<U2", shape: [2], data: ["ab", "éz"] });
  });
});

describe("npz", () => {
  const arrays: [string, NpyArray][] = [
    ["emb", npyFloat32(Float32Array.from({ length: 6 }, (_, i) => i / 7), [2, 3])],
    ["f8", npyFloat64(Float64Array.from([Math.PI, -1e-300]))],
    ["ids", npyInt32(Int32Array.from([7, -7]))],
    ["big", npyInt64(BigInt64Array.from([2n ** 40n, -5n]))],
    ["flags", npyBool([false, true])],
    ["names", npyStrings(["/ph/é😀.jpg", "b"])],
    ["scalar", npyStrings(["sha"], [])],
  ];

  it("round-trips through readNpz, atomically replacing the target, and detects corruption", async () => {
    const out = fresh("a.npz");
    writeFileSync(out, "old");
    await writeNpz(out, arrays);
    const back = await readNpz(out);
    expect([...back.keys()]).toEqual(arrays.map(([k]) => k));
    for (const [k, a] of arrays) expect(back.get(k)).toEqual(a);
    // deterministic bytes
    const again = fresh("b.npz");
    await writeNpz(again, new Map(arrays));
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
    // one flipped data byte fails the CRC
    const bytes = readFileSync(out);
    bytes[100] = bytes[100]! ^ 0xff;
    const bad = fresh("bad.npz");
    writeFileSync(bad, bytes);
    await expect(readNpz(bad)).rejects.toThrow(/CRC-32 mismatch/);
    await expect(readNpz(fresh("missing.npz"))).rejects.toThrow(NpyError);
    await expect(writeNpz(fresh("c.npz"), [["a", arrays[0]![1]], ["a", arrays[1]![1]]])).rejects.toThrow(/given twice/);
  });

  it("numpy.load(allow_pickle=False) reads every dtype, and zipfile finds no CRC error", NUMPY, async () => {
    const out = fresh("np.npz");
    await writeNpz(out, arrays);
    const got = py(
      `import zipfile
z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None
d = np.load(sys.argv[1], allow_pickle=False)
print(json.dumps({k: {"dtype": d[k].dtype.str, "shape": list(d[k].shape), "values": d[k].tolist()} for k in d.files}))`,
      out,
    ) as Record<string, { dtype: string; shape: number[]; values: unknown }>;
    expect(Object.keys(got)).toEqual(arrays.map(([k]) => k));
    expect(got.emb).toEqual({ dtype: "<f4", shape: [2, 3], values: [[0, 1, 2].map((i) => Math.fround(i / 7)), [3, 4, 5].map((i) => Math.fround(i / 7))] });
    expect(got.f8).toEqual({ dtype: "<f8", shape: [2], values: [Math.PI, -1e-300] });
    expect(got.ids).toEqual({ dtype: "<i4", shape: [2], values: [7, -7] });
    expect(got.big).toEqual({ dtype: "<i8", shape: [2], values: [2 ** 40, -5] });
    expect(got.flags).toEqual({ dtype: "|b1", shape: [2], values: [false, true] });
    expect(got.names).toEqual({ dtype: "<U10", shape: [2], values: ["/ph/é😀.jpg", "b"] });
    expect(got.scalar).toEqual({ dtype: "<U3", shape: [], values: "sha" });
  });

  it("reads what numpy writes (savez and savez_compressed, unicode and bytes)", NUMPY, async () => {
    for (const fn of ["savez", "savez_compressed"]) {
      const out = fresh(`${fn}.npz`);
      py(
        `np.${fn}(sys.argv[1], f=np.arange(6, dtype='<f4').reshape(2, 3) / 4, d=np.array([0.5, 2.0]),
   i=np.array([1, -2], dtype='<i8'), u=np.array(['x', 'yé😀']), s=np.array([b'ab', b'c']), b=np.array([True, False]))
print("null")`,
        out,
      );
      const back = await readNpz(out);
      expect(back.get("f")).toEqual(npyFloat32(Float32Array.from([0, 0.25, 0.5, 0.75, 1, 1.25]), [2, 3]));
      expect(back.get("d")).toEqual(npyFloat64(Float64Array.from([0.5, 2])));
      expect(back.get("i")).toEqual(npyInt64(BigInt64Array.from([1n, -2n])));
      expect(back.get("u")).toEqual({ dtype: "<U3", shape: [2], data: ["x", "yé😀"] });
      expect(back.get("s")).toEqual({ dtype: "<U2", shape: [2], data: ["ab", "c"] });
      expect(back.get("b")).toEqual({ dtype: "|b1", shape: [2], data: Uint8Array.from([1, 0]) });
    }
  });
});

/** p2's EXIF capture time (camera local time, kept zone-less). */
const CAPTURE_TIME = new Date(Date.UTC(2003, 6, 14, 9, 30, 5));

/** A store with real files on disk: 6 photos (10 faces; p4 has none), one byte-identical copy, one error. */
async function buildStore(storePath: string, photoDir: string): Promise<{ outcomes: FileOutcome[] }> {
  mkdirSync(photoDir, { recursive: true });
  const outcomes: FileOutcome[] = [];
  for (let i = 0; i < 6; i++) {
    const bytes = new TextEncoder().encode(`photo ${i} `.repeat(50 + i));
    const p = path.join(photoDir, `p${i}.jpg`);
    writeFileSync(p, bytes);
    const sha256 = sha256Bytes(bytes);
    const faces = Array.from({ length: i === 4 ? 0 : (i % 3) + 1 }, (_, k) => syntheticFace(1000 * i + k));
    const captureTime = i === 2 ? CAPTURE_TIME : null;
    outcomes.push({ path: p, sha256, size: bytes.length, mtimeMs: 1, status: faces.length ? "ok" : "noface", width: 800, height: 600, faces, detectorSha256: DETECTOR, recognizerSha256: RECOGNIZER, captureTime });
  }
  const copy = path.join(photoDir, "sub", "copy of p1.jpg");
  mkdirSync(path.dirname(copy), { recursive: true });
  writeFileSync(copy, readFileSync(outcomes[1]!.path));
  // The alias carries its own capture time (an edited copy can keep EXIF its original lost).
  outcomes.push({ path: copy, sha256: outcomes[1]!.sha256, size: 1, mtimeMs: 1, status: "alias", aliasOf: outcomes[1]!.path, captureTime: CAPTURE_TIME });
  outcomes.push({ path: path.join(photoDir, "broken.jpg"), sha256: sha256Bytes(new Uint8Array([1])), size: 1, mtimeMs: 1, status: "error", reason: "truncated: premature end of JPEG" });
  const store = await FaceStore.open(storePath);
  const runId = await store.beginRun({ command: "test", config: {}, detectorSha256: DETECTOR, recognizerSha256: RECOGNIZER });
  await store.commitBatch(runId, outcomes);
  await store.finishRun(runId, {});
  await store.close();
  return { outcomes };
}

describe("store export", () => {
  it("npz: numpy sees the documented arrays, shapes, dtypes and values", NUMPY, async () => {
    const storePath = fresh("store.duckdb");
    await buildStore(storePath, fresh("photos"));
    const store = await FaceStore.open(storePath, { readOnly: true });
    const rows = await store.selectFaces();
    const files = await store.knownFiles();
    const out = fresh("export.npz");
    const summary = await exportStoreNpz(store, out);
    await store.close();
    expect(summary).toMatchObject({ format: "npz", faces: rows.length, files: files.size, dim: DIM });
    const got = py(
      `d = np.load(sys.argv[1], allow_pickle=False)
print(json.dumps({"keys": d.files, "dtypes": {k: d[k].dtype.str for k in d.files}, "shapes": {k: list(d[k].shape) for k in d.files},
  "face_id": d["face_id"].tolist(), "path": d["path"].tolist(), "sha256": d["sha256"].tolist(), "bbox": d["bbox"].tolist(),
  "kps": d["kps"].tolist(), "det_score": d["det_score"].tolist(), "face_short": d["face_short"].tolist(), "blur": d["blur"].tolist(),
  "emb0": d["embedding"][0].tolist(), "norms": np.linalg.norm(d["embedding"].astype(np.float64), axis=1).tolist(),
  "recognizer": str(d["recognizer_sha256"]), "file_path": d["file_path"].tolist(), "file_status": d["file_status"].tolist(),
  "file_reason": d["file_reason"].tolist(), "file_alias_of": d["file_alias_of"].tolist(), "file_sha256": d["file_sha256"].tolist(),
  "capture_years": [int(str(np.datetime64(t, "Y"))) if t else None for t in d["file_capture_time"].tolist()],
  "file_capture_time": d["file_capture_time"].tolist()}))`,
      out,
    ) as NumpyView;
    const n = rows.length;
    expect(got.keys).toEqual(["face_id", "path", "sha256", "det_index", "bbox", "kps", "det_score", "face_short", "blur", "det_size", "retired", "embedding", "sharpness", "recognizer_sha256", "file_path", "file_sha256", "file_status", "file_reason", "file_alias_of", "file_capture_time"]);
    expect(got.shapes).toMatchObject({ face_id: [n], bbox: [n, 4], kps: [n, 5, 2], det_score: [n], face_short: [n], blur: [n], embedding: [n, DIM], recognizer_sha256: [], file_path: [files.size] });
    expect(got.dtypes).toMatchObject({ face_id: "<U24", sha256: "<U64", bbox: "<f4", kps: "<f4", det_score: "<f4", embedding: "<f4", det_index: "<i4", retired: "|b1" });
    expect(got.face_id).toEqual(rows.map((r) => r.faceId));
    expect(got.path).toEqual(rows.map((r) => r.path));
    expect(got.sha256).toEqual(rows.map((r) => r.fileSha256));
    expect(got.bbox).toEqual(rows.map((r) => r.bbox));
    expect(got.kps).toEqual(rows.map((r) => r.kps));
    expect(got.det_score).toEqual(rows.map((r) => Math.fround(r.detScore!)));
    expect(got.face_short).toEqual(rows.map((r) => Math.fround(r.faceShortPx)));
    expect(got.blur).toEqual(rows.map((r) => Math.fround(r.blur!)));
    expect(got.emb0).toEqual(Array.from(rows[0]!.embedding));
    for (const norm of got.norms) expect(norm).toBeCloseTo(1, 5);
    expect(got.recognizer).toBe(RECOGNIZER);
    const sortedFiles = [...files.values()];
    expect(got.file_path).toEqual(sortedFiles.map((f) => f.path));
    expect(got.file_sha256).toEqual(sortedFiles.map((f) => f.sha256));
    expect(got.file_status).toEqual(sortedFiles.map((f) => f.status));
    expect(got.file_reason).toEqual(sortedFiles.map((f) => f.reason ?? ""));
    expect(got.file_alias_of).toEqual(sortedFiles.map((f) => f.aliasOf ?? ""));
    expect(got.file_status).toContain("alias");
    const dated = (p: string) => p.endsWith("p2.jpg") || p.endsWith("copy of p1.jpg");
    expect(got.file_capture_time).toEqual(sortedFiles.map((f) => (dated(f.path) ? "2003-07-14T09:30:05" : "")));
    expect(got.capture_years.filter((y) => y !== null)).toEqual([2003, 2003]);
  });

  it("parquet: DuckDB reads back the same faces and the file rows beside them", async () => {
    const storePath = fresh("store.duckdb");
    const photos = fresh("photos");
    await buildStore(storePath, photos);
    const store = await FaceStore.open(storePath, { readOnly: true });
    const rows = await store.selectFaces({ under: path.join(photos, "sub") });
    const out = fresh("faces.parquet");
    const summary = await exportStoreParquet(store, out, { under: path.join(photos, "sub") });
    const files = await store.knownFiles();
    await store.close();
    expect(filesParquetPath(out)).toBe(out.replace(/\.parquet$/, ".files.parquet"));
    expect(summary).toMatchObject({ outputs: [out, filesParquetPath(out)], faces: rows.length, files: files.size, dim: DIM });
    expect(rows.length).toBe(2); // p1's faces, selected through its copy under sub/
    const instance = await DuckDBInstance.create(":memory:");
    const con = await instance.connect();
    const faces = (await con.runAndReadAll(`SELECT * FROM read_parquet('${out}')`)).getRowObjectsJS();
    expect(faces.map((f) => f.face_id)).toEqual(rows.map((r) => r.faceId));
    expect(faces.map((f) => f.path)).toEqual(rows.map((r) => r.path));
    expect(faces[0]!.paths).toEqual(rows[0]!.paths);
    expect(faces[0]!.sha256).toBe(rows[0]!.fileSha256);
    expect(faces[0]!.bbox).toEqual(rows[0]!.bbox);
    expect(faces[0]!.kps).toEqual(rows[0]!.kps);
    expect(faces[0]!.embedding).toEqual(Array.from(rows[0]!.embedding));
    expect(faces[0]!.det_score).toBe(Math.fround(rows[0]!.detScore!));
    expect(faces[0]!.sharpness).toBe(Math.fround(rows[0]!.sharpness!));
    const fileRows = (await con.runAndReadAll(`SELECT * FROM read_parquet('${filesParquetPath(out)}')`)).getRowObjectsJS();
    expect(fileRows.map((f) => f.file_path)).toEqual([...files.keys()]);
    expect(fileRows.find((f) => f.file_status === "error")!.file_reason).toBe("truncated: premature end of JPEG");
    const captures = (await con.runAndReadAll(
      `SELECT file_path, strftime(file_capture_time, '%Y-%m-%d %H:%M:%S') AS t FROM read_parquet('${filesParquetPath(out)}') WHERE file_capture_time IS NOT NULL ORDER BY file_path`,
    )).getRowObjectsJS();
    expect(captures).toEqual([
      { file_path: path.join(photos, "p2.jpg"), t: "2003-07-14 09:30:05" },
      { file_path: path.join(photos, "sub", "copy of p1.jpg"), t: "2003-07-14 09:30:05" },
    ]);
    con.closeSync();
    instance.closeSync();
  });
});

describe("import-npz", () => {
  it("an export imports back into an empty store with identical faces", async () => {
    const source = fresh("source.duckdb");
    await buildStore(source, fresh("photos"));
    const out = fresh("export.npz");
    const s1 = await FaceStore.open(source, { readOnly: true });
    await exportStoreNpz(s1, out);
    const expected = await s1.selectFaces();
    const expectedFiles = await s1.knownFiles();
    await s1.close();

    const target = await FaceStore.open(fresh("target.duckdb"));
    const summary = await importNpz(target, out);
    expect(summary).toMatchObject({ rows: expected.length, faces: expected.length, files: 5, aliases: 0, missing: 0, refused: [], dim: DIM, recognizerSha256: RECOGNIZER });
    // npz scalars are float32 (as InsightFace's); everything else comes back bit-exact
    const f32 = (x: number | null) => (x === null ? null : Math.fround(x));
    expect(await target.selectFaces()).toEqual(
      expected.map((r) => ({ ...r, paths: [r.path], detScore: f32(r.detScore), blur: f32(r.blur), sharpness: f32(r.sharpness ?? null), faceShortPx: f32(r.faceShortPx) })),
    );
    const runs = await target.runs();
    expect(runs.at(-1)).toMatchObject({ status: "done", detectorSha256: null, recognizerSha256: RECOGNIZER });
    // importing again: every row is already there
    const again = await importNpz(target, out);
    expect(again.faces).toBe(0);
    expect(again.refused.every((r) => /already in the store/.test(r.reason))).toBe(true);
    await target.close();
    expect(expectedFiles.size).toBe(8);
  });

  it("an InsightFace-style cache (feats float64, bytes paths, no sha256) is hashed, normalised, deduplicated", NUMPY, async () => {
    const photos = fresh("photos");
    mkdirSync(photos);
    const a = path.join(photos, "a.jpg");
    const b = path.join(photos, "b.jpg");
    const aCopy = path.join(photos, "a copy.jpg");
    writeFileSync(a, "AAAA bytes");
    writeFileSync(b, "BBBB bytes");
    writeFileSync(aCopy, "AAAA bytes");
    const gone = path.join(photos, "gone.jpg");
    const cache = fresh("cache.npz");
    py(
      `rng = np.random.default_rng(1)
paths = np.array([p.encode() for p in sys.argv[2:]])
feats = rng.normal(size=(len(paths), 128)) * 7.0
bbox = np.tile(np.array([10, 20, 110, 150], dtype=np.float32), (len(paths), 1))
kps = rng.uniform(0, 100, size=(len(paths), 5, 2)).astype(np.float32)
np.savez_compressed(sys.argv[1], path=paths, feats=feats, bbox=bbox, kps=kps, det_score=np.full(len(paths), 0.9, dtype=np.float32))
print("null")`,
      cache,
      a, a, b, aCopy, gone,
    );
    const arrays = await readNpz(cache);
    const feats = arrays.get("feats")!.data as Float64Array;

    const store = await FaceStore.open(fresh("store.duckdb"));
    await expect(importNpz(store, cache)).rejects.toThrow(ImportNpzError);
    await expect(importNpz(store, cache)).rejects.toThrow(/give --recognizer-sha256/);
    const summary = await importNpz(store, cache, { recognizerSha256: OTHER_RECOGNIZER });
    expect(summary).toMatchObject({ rows: 5, faces: 3, files: 2, aliases: 1, missing: 0, dim: 128 });
    expect(summary.refused.map((r) => [r.row, r.reason])).toEqual([
      [3, `same bytes as ${a}: recorded as an alias, faces taken from there`],
      [4, "no sha256 given and the file is not on disk to hash"],
    ]);
    const rows = await store.selectFaces();
    const shaA = sha256Bytes(readFileSync(a));
    expect(rows.map((r) => [r.path, r.detIndex, r.faceId])).toEqual([
      [a, 0, faceId(shaA, 0)],
      [a, 1, faceId(shaA, 1)],
      [b, 0, faceId(sha256Bytes(readFileSync(b)), 0)],
    ]);
    expect(rows[0]!.paths).toEqual([aCopy, a].sort());
    const raw = feats.subarray(128, 256);
    const norm = Math.hypot(...raw);
    expect(Array.from(rows[1]!.embedding)).toEqual(Array.from(raw, (x) => Math.fround(x / norm)));
    expect(rows[0]!.kps).not.toBeNull();
    expect(rows[0]!).toMatchObject({ detScore: Math.fround(0.9), faceShortPx: 100, blur: null, detSizePx: null });
    expect((await store.knownFiles()).get(aCopy)).toMatchObject({ status: "alias", aliasOf: a });
    await store.close();
  });

  it("refuses another recognizer or dimension than the store's, naming both", async () => {
    const storePath = fresh("store.duckdb");
    await buildStore(storePath, fresh("photos"));
    const npz = fresh("small.npz");
    await writeNpz(npz, {
      path: npyStrings(["/nowhere/x.jpg"]),
      sha256: npyStrings(["ab".repeat(32)]),
      embedding: npyFloat32(Float32Array.from({ length: 128 }, (_, i) => (i === 0 ? 1 : 0)), [1, 128]),
      bbox: npyFloat32(Float32Array.from([0, 0, 10, 10]), [1, 4]),
    });
    const store = await FaceStore.open(storePath);
    const dimErr = await importNpz(store, npz, { recognizerSha256: RECOGNIZER }).catch((e: unknown) => e);
    expect(dimErr).toBeInstanceOf(StoreModelMismatchError);
    expect((dimErr as Error).message).toMatch(new RegExp(`recognizer ${RECOGNIZER.slice(0, 8)}… \\(512-d\\); this run uses ${RECOGNIZER.slice(0, 8)}… \\(128-d\\)`));
    const shaErr = await importNpz(store, npz, { recognizerSha256: OTHER_RECOGNIZER }).catch((e: unknown) => e);
    expect((shaErr as Error).message).toContain(`${RECOGNIZER.slice(0, 8)}… (512-d); this run uses ${OTHER_RECOGNIZER.slice(0, 8)}…`);
    expect((await store.counts()).faces).toBe(10);
    await store.close();
  });

  it("a file not on disk but with a sha256 is recorded missing, its faces kept", async () => {
    const npz = fresh("remote.npz");
    await writeNpz(npz, {
      path: npyStrings(["/other/machine/x.jpg"]),
      sha256: npyStrings(["cd".repeat(32)]),
      embeddings: npyFloat32(Float32Array.from({ length: 8 }, () => 0.5), [1, 8]),
      bbox: npyFloat32(Float32Array.from([0, 0, 10, 20]), [1, 4]),
      recognizer_sha256: npyStrings([RECOGNIZER], []),
    });
    const store = await FaceStore.open(fresh("store.duckdb"));
    const summary = await importNpz(store, npz);
    expect(summary).toMatchObject({ faces: 1, missing: 1, recognizerSha256: RECOGNIZER, dim: 8 });
    expect(await store.selectFaces()).toEqual([]);
    const [face] = await store.selectFaces({ includeRetired: true });
    expect(face).toMatchObject({ path: "/other/machine/x.jpg", paths: [], faceShortPx: 10, kps: null, detScore: null });
    expect(Array.from(face!.embedding)).toEqual(new Array(8).fill(Math.fround(1 / Math.sqrt(8))));
    await store.close();
  });

  it("names a missing key or a wrong shape", async () => {
    const store = await FaceStore.open(fresh("store.duckdb"));
    const base = {
      path: npyStrings(["/x.jpg", "/y.jpg"]),
      sha256: npyStrings(["ab".repeat(32), "cd".repeat(32)]),
      feats: npyFloat32(new Float32Array(8).fill(1), [2, 4]),
      bbox: npyFloat32(new Float32Array(8), [2, 4]),
    };
    const cases: [string, Record<string, NpyArray>, RegExp][] = [
      ["no embeddings", { path: base.path, bbox: base.bbox }, /no embeddings \(expected one of embedding, embeddings, feats; found path, bbox\)/],
      ["no path", { feats: base.feats, bbox: base.bbox }, /no 'path' array/],
      ["short bbox", { ...base, bbox: npyFloat32(new Float32Array(6), [2, 3]) }, /'bbox' has shape \(2, 3\), expected \(2, 4\)/],
      ["numeric path", { ...base, path: npyFloat32(new Float32Array(2)) }, /'path' must be strings/],
      [
        "bad capture time",
        { ...base, file_path: npyStrings(["/x.jpg", "/y.jpg"]), file_capture_time: npyStrings(["", "2003-02-30T10:00:00"]) },
        /file_capture_time\[1\] "2003-02-30T10:00:00" is not a valid YYYY-MM-DDTHH:MM:SS time/,
      ],
      [
        "short capture times",
        { ...base, file_path: npyStrings(["/x.jpg", "/y.jpg"]), file_capture_time: npyStrings([""]) },
        /'file_capture_time' must be 2 strings, one per 'file_path'/,
      ],
    ];
    for (const [name, arrays, message] of cases) {
      const npz = fresh(`${name}.npz`);
      await writeNpz(npz, arrays);
      await expect(importNpz(store, npz, { recognizerSha256: RECOGNIZER }), name).rejects.toThrow(message);
    }
    expect((await store.runs()).length).toBe(0);
    await store.close();
  });
});

describe("scripts", () => {
  const DENO = path.join(process.cwd(), "node_modules/.bin/deno");
  const run = (script: string, ...args: string[]) =>
    spawnSync(DENO, ["run", "-A", script, ...args], { encoding: "utf8", env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } });

  it("export-store and import-npz: --help, usage errors (exit 2), a round trip", async () => {
    for (const script of ["scripts/export_store.ts", "scripts/import_npz.ts"]) {
      const help = run(script, "--help");
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^usage: deno task /);
      const bad = run(script, "--bogus");
      expect(bad.status).toBe(2);
      expect(bad.stderr.split("\n")[0]).toMatch(/^error: .*bogus/);
    }
    expect(run("scripts/export_store.ts", "--store", "x.duckdb", "out.csv").stderr).toMatch(/^error: cannot tell the format from "out.csv"/);
    const missing = run("scripts/export_store.ts", "--store", fresh("nope.duckdb"), fresh("o.npz"));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^error: store .*nope\.duckdb does not exist/);

    const storePath = fresh("store.duckdb");
    await buildStore(storePath, fresh("photos"));
    const out = fresh("all.npz");
    const exported = run("scripts/export_store.ts", "--store", storePath, out);
    expect(exported.stderr).toMatch(/^exported 10 faces \(512-d\) and 8 file rows to /);
    expect(exported.status).toBe(0);
    const target = fresh("target.duckdb");
    const imported = run("scripts/import_npz.ts", out, "--store", target, "--json");
    expect(imported.status, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout.trim().split("\n").at(-1)!)).toEqual({ rows: 10, faces: 10, files: 5, aliases: 0, missing: 0, refused: 0, dim: 512 });
    const clash = run("scripts/import_npz.ts", out, "--store", target, "--recognizer-sha256", OTHER_RECOGNIZER);
    expect(clash.status).toBe(1);
    expect(clash.stderr.trim()).toBe(
      `error: store ${target} holds embeddings of recognizer ${RECOGNIZER.slice(0, 8)}… (512-d); this run uses ${OTHER_RECOGNIZER.slice(0, 8)}… (512-d) — use another --store`,
    );
  });
});
