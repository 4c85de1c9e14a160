/**
 * Acceptance tests of `deno task scan` on a temp copy of ../shared/faces (bad/ included) plus byte-identical
 * copies: counts derived independently (own hashing, the engine run per unique file), typed errors of broken
 * files, incremental reruns, changed and removed files, a SIGKILL mid-scan ending with exactly the records of an
 * uninterrupted scan, EXIF capture times, and the photo tree left byte-identical by every command.
 */
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_CONFIG,
  exifDateTimeOriginal,
  type FaceEngine,
  FaceStore,
  IMAGE_EXTENSIONS,
  ImageLoadError,
  loadImage,
  parseExifDate,
  readCaptureTime,
  scanTree,
  type ScanSummary,
  walkImages,
} from "../lib/mod";
import { openEngineFromModelsDir } from "../lib/cli/mod";
import { FACES, MODELS, needs } from "./support/fixtures";
import { denoChild, runScanScript, type ScanJson, storeRecords, treeFingerprint } from "./support/scan_tree";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-scan-"));
const SOURCE = path.join(TMP, "photos");
const STORE = path.join(TMP, "scan.duckdb");
const KILLED_STORE = path.join(TMP, "killed.duckdb");

/** Byte-identical copies added to the tree: [original, copy] relative to SOURCE. */
const COPIES: [string, string][] = [
  ["deepface/img1.jpg", "dups/a/img1 copy.jpg"],
  ["openface/carell.jpg", "dups/B/CARELL.JPG"], // sorts before openface/: the copy becomes canonical
  ["bad/truncated.jpg", "dups/truncated_again.jpg"], // a copy of a broken file is an alias, not a second error
];
/** bad/ files and the typed reason each must be stored with (null: decodes, no face). */
const BAD: Record<string, string | null> = {
  "empty.jpg": "empty-file",
  "truncated.jpg": "truncated",
  "not_an_image.png": "not-an-image",
  "garbage.psd": "corrupt",
  "huge_dims.png": "too-many-pixels",
  "one_pixel.png": null,
};
/** The scan's store transaction size (ScanOptions.batchSize default). */
const BATCH = 16;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const rel = (p: string) => path.relative(SOURCE, p);

/** The tree's fingerprint as the test last left it; every scan must leave it unchanged. */
let fingerprint: Map<string, string>;
function expectSourceUntouched(after: string) {
  expect(treeFingerprint(SOURCE), `the photo tree changed during ${after}`).toEqual(fingerprint);
}

/** Expectations derived without the scanner: own walk + hashing, and the engine run on each unique content. */
interface Expected {
  seen: number;
  unique: number;
  /** sha256 -> faces the engine finds, for decodable contents. */
  facesBySha: Map<string, number>;
  /** sha256 -> ImageLoadError reason, for contents that do not decode. */
  errorBySha: Map<string, string>;
}
let expected: Expected;
/** The uninterrupted scan's records, right after it (before the tree is changed). */
let cleanRecords: Awaited<ReturnType<typeof storeRecords>>;
let engine: FaceEngine;

describe(
  "scan of a photo tree",
  needs("faces/deepface/img1.jpg", "faces/deepface/img3.jpg", "faces/deepface/img13.jpg", "faces/deepface/img19.jpg", "faces/openface/carell.jpg", "faces/bad", "models/det_2.5g.onnx"),
  () => {
  beforeAll(async () => {
    cpSync(FACES, SOURCE, { recursive: true });
    // The shared tree is read-only and cpSync keeps modes: make the copy's folders writable so the test can add,
    // change and remove files (and clean up).
    for (const entry of treeFingerprint(SOURCE).keys()) if (entry.endsWith("/")) chmodSync(path.join(SOURCE, entry), 0o755);
    chmodSync(SOURCE, 0o755);
    for (const [from, to] of COPIES) {
      mkdirSync(path.dirname(path.join(SOURCE, to)), { recursive: true });
      copyFileSync(path.join(SOURCE, from), path.join(SOURCE, to));
    }
    fingerprint = treeFingerprint(SOURCE);
    engine = await openEngineFromModelsDir(MODELS);
  });
  afterAll(async () => {
    await engine?.close();
    rmSync(TMP, { recursive: true, force: true });
  });

  it("deno task scan --json: counts match an independent pass; broken files get typed reasons", async () => {
    const summary = await runScanScript(["--source", SOURCE, "--store", STORE, "--models", MODELS]);
    expectSourceUntouched("the first scan");

    // Independent expectations: image files by extension, their contents, and the engine on each content once.
    const images = [...fingerprint.keys()].filter((p) => !p.endsWith("/") && IMAGE_EXTENSIONS.includes(path.extname(p).toLowerCase()));
    const firstPathOfSha = new Map<string, string>();
    for (const p of images.sort()) if (!firstPathOfSha.has(fingerprint.get(p)!)) firstPathOfSha.set(fingerprint.get(p)!, p);
    expected = { seen: images.length, unique: firstPathOfSha.size, facesBySha: new Map(), errorBySha: new Map() };
    for (const [sha, p] of firstPathOfSha) {
      try {
        const image = await loadImage(path.join(SOURCE, p), { maxPixels: DEFAULT_CONFIG.image.maxPixels });
        expected.facesBySha.set(sha, (await engine.analyze(image, DEFAULT_CONFIG.detection)).length);
      } catch (err) {
        if (!(err instanceof ImageLoadError)) throw err;
        expected.errorBySha.set(sha, err.reason);
      }
    }
    const expectedFaces = [...expected.facesBySha.values()].reduce((a, b) => a + b, 0);
    const expectedNoface = [...expected.facesBySha.values()].filter((n) => n === 0).length;
    expect(expected.unique).toBe(expected.seen - COPIES.length); // ../shared/faces itself holds no duplicates

    expect(summary).toMatchObject({
      seen: expected.seen,
      analysed: expected.unique - expected.errorBySha.size,
      skipped: 0,
      aliases: expected.seen - expected.unique,
      errors: expected.errorBySha.size,
      noface: expectedNoface,
      faces: expectedFaces,
      missing: 0,
    } satisfies Partial<ScanJson>);
    // Nothing silent: every file under the source is in one bucket (README.md, labels.csv, expected.json: unsupported).
    const onDisk = [...fingerprint.keys()].filter((p) => !p.endsWith("/")).length;
    expect(summary.files).toBe(onDisk);
    expect(summary.analysed + summary.skipped + summary.aliases + summary.errors + summary.ignored +
      Object.values(summary.unsupported).reduce((a, b) => a + b, 0)).toBe(onDisk);
    expect(Object.keys(summary.unsupported).sort()).toEqual([".csv", ".json", ".md"]);
    expect(summary.faces).toBeGreaterThan(0);
    expect(summary.images_per_s).toBeGreaterThan(0);

    const store = await FaceStore.open(STORE, { readOnly: true });
    try {
      const counts = await store.counts();
      expect(counts).toEqual({
        files: { ok: expected.unique - summary.errors - summary.noface, noface: summary.noface, error: summary.errors, alias: summary.aliases, missing: 0 },
        faces: summary.faces,
        retiredFaces: 0,
      });
      const faces = await store.selectFaces();
      expect(faces.length).toBe(counts.faces);
      const storedBySha = new Map<string, number>();
      for (const f of faces) storedBySha.set(f.fileSha256, (storedBySha.get(f.fileSha256) ?? 0) + 1);
      expect(storedBySha).toEqual(new Map([...expected.facesBySha].filter(([, n]) => n > 0)));

      const known = await store.knownFiles();
      expect(known.size).toBe(expected.seen);
      for (const [name, reason] of Object.entries(BAD)) {
        const file = known.get(path.join(SOURCE, "bad", name));
        if (reason === null) {
          expect(file, name).toMatchObject({ status: "noface", reason: null, width: 1, height: 1 });
        } else {
          expect(file?.status, name).toBe("error");
          expect(file?.reason, name).toMatch(new RegExp(`^${reason}: `));
          expect(expected.errorBySha.get(file!.sha256), name).toBe(reason);
        }
      }
      expect([...known.values()].filter((f) => f.status === "error").map((f) => path.basename(f.path)).sort())
        .toEqual(Object.keys(BAD).filter((k) => BAD[k] !== null).sort());
      for (const [from, to] of COPIES) {
        const [canonical, alias] = [from, to].sort().map((p) => known.get(path.join(SOURCE, p))!);
        expect(alias, to).toMatchObject({ status: "alias", aliasOf: canonical!.path, sha256: canonical!.sha256 });
      }
      // Capture times: a photo's faces carry its file's EXIF DateTimeOriginal; aliases record it too.
      const img1 = known.get(path.join(SOURCE, "deepface/img1.jpg"))!;
      expect(img1.captureTime).toBeInstanceOf(Date);
      expect(img1.captureTime).toEqual(await readCaptureTime(readFileSync(img1.path)));
      expect(known.get(path.join(SOURCE, "dups/a/img1 copy.jpg"))!.captureTime).toEqual(img1.captureTime);
      const img1Faces = faces.filter((f) => f.fileSha256 === img1.sha256);
      expect(img1Faces.length).toBeGreaterThan(0);
      expect(img1Faces.every((f) => f.captureTime?.getTime() === img1.captureTime!.getTime())).toBe(true);
      for (const f of faces) expect(f.captureTime, f.path).toEqual(known.get(f.path)!.captureTime);
    } finally {
      await store.close();
    }
    cleanRecords = await storeRecords(STORE);
  }, 600_000); // two full passes over ../shared/faces (the script, then the independent one) on a shared 2-core machine

  it("SIGKILL mid-scan, then a rerun: exactly the records of the uninterrupted scan", async () => {
    expect(cleanRecords, "needs the first test's scan").toBeDefined();
    const args = ["run", "-A", "scripts/scan.ts", "--source", SOURCE, "--store", KILLED_STORE, "--models", MODELS, "--json"];
    const killed = denoChild(args);
    // Progress lines ("scan: 25% (48 files/184 files, ...)") come after each file; at 2 batches + 1 file done,
    // at least two batches are committed.
    await killed.waitForStderr((line) => Number(/\((\d+) files\//.exec(line)?.[1] ?? -1) > 2 * BATCH);
    killed.proc.kill("SIGKILL");
    const exit = await killed.exited;
    expect(exit.signal, "the scan finished before it could be killed").toBe("SIGKILL");
    expectSourceUntouched("the killed scan");

    const partial = await FaceStore.open(KILLED_STORE, { readOnly: true });
    const partialFiles = (await partial.knownFiles()).size;
    const partialRuns = await partial.runs();
    await partial.close();
    expect(partialRuns.map((r) => r.status)).toEqual(["running"]); // it never reached finishRun
    expect(partialFiles).toBeGreaterThanOrEqual(2 * BATCH);
    expect(partialFiles).toBeLessThan(expected.seen);
    expect(partialFiles % BATCH, "a batch was half committed").toBe(0);

    const resumed = denoChild(args);
    const resumedExit = await resumed.exited;
    expect(resumedExit.code, resumed.stderr.join("\n")).toBe(0);
    const summary = JSON.parse(resumed.stdout.at(-1)!) as ScanJson;
    expect(summary.skipped).toBe(partialFiles);
    expect(summary.seen).toBe(expected.seen);
    expectSourceUntouched("the resumed scan");

    const records = await storeRecords(KILLED_STORE);
    expect(records.files).toEqual(cleanRecords.files);
    expect(records.faces.length).toBe(cleanRecords.faces.length);
    expect(records.faces).toEqual(cleanRecords.faces);
    const store = await FaceStore.open(KILLED_STORE); // a writer marks the dead run interrupted
    expect((await store.runs()).map((r) => r.status)).toEqual(["interrupted", "done"]);
    await store.close();
  }, 600_000); // a killed scan and a full rerun (~150 files) on a shared 2-core machine

  /** scanTree in this process (same models and config as the script) on the first test's store. */
  async function scanAgain(): Promise<ScanSummary> {
    const store = await FaceStore.open(STORE);
    try {
      return await scanTree({ source: SOURCE, store, engine, config: DEFAULT_CONFIG, command: "scan.test" });
    } finally {
      await store.close();
    }
  }

  it("a second scan analyses nothing and skips every file", async () => {
    expect(cleanRecords, "needs the first test's scan").toBeDefined();
    const summary = await scanAgain();
    expectSourceUntouched("the second scan");
    expect(summary).toMatchObject({ seen: expected.seen, analysed: 0, skipped: expected.seen, aliases: 0, errors: 0, faces: 0, missing: 0 });
    expect(await storeRecords(STORE)).toEqual(cleanRecords);
  });

  it("a changed file is re-analysed and its old faces retired; removed files are marked missing", async () => {
    expect(cleanRecords, "needs the first test's scan").toBeDefined();
    const changed = path.join(SOURCE, "deepface/img13.jpg");
    const removedWithCopy = path.join(SOURCE, "deepface/img1.jpg"); // "dups/a/img1 copy.jpg" holds its bytes
    const removedAlone = path.join(SOURCE, "deepface/img19.jpg");
    const oldOf = (p: string) => cleanRecords.files.find((f) => f.path === p)!;
    const facesOfSha = (sha: string) => cleanRecords.faces.filter((f) => f.fileSha256 === sha);
    expect(facesOfSha(oldOf(changed).sha256).length).toBeGreaterThan(0);
    expect(facesOfSha(oldOf(removedAlone).sha256).length).toBeGreaterThan(0);

    // New content for img13.jpg: another photo's pixels, mirrored, so the bytes are new to the store.
    const replacement = await sharp(readFileSync(path.join(SOURCE, "deepface/img3.jpg"))).rotate().flop().jpeg({ quality: 92 }).toBuffer();
    chmodSync(changed, 0o644);
    writeFileSync(changed, replacement);
    rmSync(removedWithCopy);
    rmSync(removedAlone);
    fingerprint = treeFingerprint(SOURCE);
    const newFaces = (await engine.analyze(await loadImage(changed), DEFAULT_CONFIG.detection)).length;
    expect(newFaces).toBeGreaterThan(0);

    const summary = await scanAgain();
    expectSourceUntouched("the scan after changes");
    expect(summary).toMatchObject({
      seen: expected.seen - 2,
      analysed: 1,
      skipped: expected.seen - 3,
      aliases: 0,
      errors: 0,
      faces: newFaces,
      missing: 2,
    });

    const store = await FaceStore.open(STORE, { readOnly: true });
    try {
      const known = await store.knownFiles();
      const newSha = sha256(replacement);
      expect(known.get(changed)).toMatchObject({ sha256: newSha, status: "ok", captureTime: null });
      expect(known.get(removedWithCopy)!.status).toBe("missing");
      expect(known.get(removedAlone)!.status).toBe("missing");
      const copy = known.get(path.join(SOURCE, "dups/a/img1 copy.jpg"))!;
      expect(copy).toMatchObject({ status: oldOf(removedWithCopy).status, aliasOf: null }); // promoted to canonical

      const all = await store.selectFaces({ includeRetired: true });
      const oldChanged = facesOfSha(oldOf(changed).sha256).map((f) => f.faceId).sort();
      expect(all.filter((f) => oldChanged.includes(f.faceId)).every((f) => f.retired)).toBe(true);
      expect(all.filter((f) => f.retired).map((f) => f.faceId).sort()).toEqual(oldChanged);
      const live = await store.selectFaces();
      expect(live.filter((f) => f.path === changed).map((f) => f.fileSha256)).toEqual(Array(newFaces).fill(newSha));
      expect(live.some((f) => f.path === removedAlone || f.path === removedWithCopy)).toBe(false);
      expect(live.filter((f) => f.path === copy.path).length).toBe(facesOfSha(oldOf(removedWithCopy).sha256).length);
      const counts = await store.counts();
      expect(counts.retiredFaces).toBe(oldChanged.length);
      expect(counts.files.missing).toBe(2);
    } finally {
      await store.close();
    }
  });
});

describe("EXIF capture time", () => {
  /** A little TIFF/EXIF block: IFD0 -> ExifIFD pointer -> DateTimeOriginal, in either byte order. */
  function exifBlock(little: boolean, date: string, { prefix = false } = {}): Uint8Array {
    const text = new TextEncoder().encode(`${date}\0`);
    const buf = new Uint8Array(44 + text.length);
    const v = new DataView(buf.buffer);
    buf.set(little ? [0x49, 0x49] : [0x4d, 0x4d], 0);
    v.setUint16(2, 42, little);
    v.setUint32(4, 8, little); // IFD0
    v.setUint16(8, 1, little);
    v.setUint16(10, 0x8769, little);
    v.setUint16(12, 4, little);
    v.setUint32(14, 1, little);
    v.setUint32(18, 26, little); // ExifIFD
    v.setUint16(26, 1, little);
    v.setUint16(28, 0x9003, little);
    v.setUint16(30, 2, little);
    v.setUint32(32, text.length, little);
    v.setUint32(36, 44, little);
    buf.set(text, 44);
    if (!prefix) return buf;
    const out = new Uint8Array(6 + buf.length);
    out.set([0x45, 0x78, 0x69, 0x66, 0, 0]);
    out.set(buf, 6);
    return out;
  }

  it("parses DateTimeOriginal in both byte orders, as camera wall-clock time", () => {
    const want = new Date(Date.UTC(2019, 6, 14, 16, 5, 9));
    expect(exifDateTimeOriginal(exifBlock(true, "2019:07:14 16:05:09"))).toEqual(want);
    expect(exifDateTimeOriginal(exifBlock(false, "2019:07:14 16:05:09"))).toEqual(want);
    expect(exifDateTimeOriginal(exifBlock(false, "2019:07:14 16:05:09", { prefix: true }))).toEqual(want);
    expect(exifDateTimeOriginal(exifBlock(true, "0000:00:00 00:00:00"))).toBeNull();
    expect(exifDateTimeOriginal(exifBlock(true, "2019:02:30 10:00:00"))).toBeNull();
    expect(exifDateTimeOriginal(exifBlock(true, "                   "))).toBeNull();
    expect(parseExifDate("0079:01:02 03:04:05")?.getUTCFullYear()).toBe(79);
  });

  it("never throws on junk: every truncation and byte corruption gives a date or null", () => {
    const good = exifBlock(true, "2020:01:02 03:04:05");
    for (let n = 0; n <= good.length; n++) {
      const got = exifDateTimeOriginal(good.subarray(0, n));
      if (n < good.length - 1) expect(got, `truncated to ${n} bytes`).toBeNull();
    }
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const bad = good.slice();
      for (let k = 0; k < 3; k++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
      const got = exifDateTimeOriginal(bad);
      expect(got === null || Number.isFinite(got.getTime())).toBe(true);
    }
    expect(exifDateTimeOriginal(new Uint8Array(0))).toBeNull();
    expect(exifDateTimeOriginal(undefined)).toBeNull();
  });

  it("a scan stores a JPEG's DateTimeOriginal and selectFaces returns it; no EXIF gives null", needs("faces/openface/carell.jpg"), async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "facesets-exif-"));
    const engine = await openEngineFromModelsDir(MODELS);
    try {
      const photos = path.join(dir, "photos");
      mkdirSync(photos);
      const face = sharp(readFileSync(path.join(FACES, "openface/carell.jpg"))).rotate();
      const withTime = path.join(photos, "with_time.jpg");
      const without = path.join(photos, "without.jpg");
      writeFileSync(withTime, await face.clone().jpeg().withExif({ IFD0: { Make: "facesets" }, IFD2: { DateTimeOriginal: "2003:04:05 06:07:08" } }).toBuffer());
      writeFileSync(without, await face.clone().jpeg().toBuffer()); // sharp drops metadata unless asked to keep it
      const before = treeFingerprint(photos);

      const store = await FaceStore.open(path.join(dir, "store.duckdb"));
      try {
        const summary = await scanTree({ source: photos, store, engine, config: DEFAULT_CONFIG });
        expect(summary).toMatchObject({ seen: 2, analysed: 2, errors: 0, noface: 0 });
        const known = await store.knownFiles();
        const want = new Date(Date.UTC(2003, 3, 5, 6, 7, 8));
        expect(known.get(withTime)!.captureTime).toEqual(want);
        expect(known.get(without)!.captureTime).toBeNull();
        const faces = await store.selectFaces();
        const of = (p: string) => faces.filter((f) => f.path === p);
        expect(of(withTime).length).toBeGreaterThan(0);
        expect(of(without).length).toBeGreaterThan(0);
        expect(of(withTime).every((f) => f.captureTime?.getTime() === want.getTime())).toBe(true);
        expect(of(without).every((f) => f.captureTime === null)).toBe(true);
        // The mtime is never a stand-in, and the walk saw exactly these two files.
        expect((await walkImages(photos)).map((f) => f.path)).toEqual([without, withTime].sort());
      } finally {
        await store.close();
      }
      expect(treeFingerprint(photos)).toEqual(before);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
