/**
 * Nothing silent: a photo tree holding every kind of file (each photo format, broken photos, a byte-identical
 * copy, a name that is not UTF-8, other extensions, system files, a link, a face-set library, a FIFO) is scanned,
 * and every entry on disk lands in exactly one bucket; the failing files are named with their reasons; faces of a
 * multi-page TIFF carry their page; an unreadable folder (scanned as a non-root user, since root reads anything)
 * gets an error record while its known photos keep theirs.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  DEFAULT_CONFIG,
  type FaceEngine,
  FaceStore,
  nameFromBytes,
  renderFaces,
  scanTree,
  type ScanSummary,
} from "../lib/mod";
import { FAILURES_SHOWN, openEngineFromModelsDir, scanSummaryText } from "../lib/cli/mod";
import { FACES, MODELS, needs, skipUnless } from "./support/fixtures";
import { buildRawTiff, encodeBmp } from "./support/format_fixtures";
import { DENO } from "./support/scan_tree";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-buckets-"));
const SRC = path.join(TMP, "photos");
const T1 = path.join(FACES, "insightface/python-package/t1.jpg");
/** "café.jpg" in Latin-1: not valid UTF-8. */
const LATIN1_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x6a, 0x70, 0x67]);

/** Non-folder entries under `dir` (links not followed), counted through raw byte names as the disk holds them. */
function entriesOnDisk(dir: Buffer): number {
  let n = 0;
  for (const e of readdirSync(dir, { encoding: "buffer", withFileTypes: true })) {
    const full = Buffer.concat([dir, Buffer.from("/"), e.name]);
    if (e.isDirectory()) n += entriesOnDisk(full);
    else n++;
  }
  return n;
}

const sumOf = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const addsUp = (s: ScanSummary) => s.analysed + s.skipped + s.aliases + s.errors + s.ignored + sumOf(s.unsupported);

let engine: FaceEngine;

async function buildTree(): Promise<void> {
  const put = (rel: string, bytes: Uint8Array | string) => {
    mkdirSync(path.dirname(path.join(SRC, rel)), { recursive: true });
    writeFileSync(path.join(SRC, rel), bytes);
  };
  const t1 = await sharp(T1).raw().toBuffer({ resolveWithObject: true });
  const blank = await sharp({ create: { width: 400, height: 300, channels: 3, background: "#808080" } }).png().toBuffer();
  put("photos/t1.jpg", readFileSync(T1));
  put("photos/t1.heic", readFileSync(path.join(FACES, "heic/t1.heic")));
  put("photos/IMG_0002.HEIC", readFileSync(path.join(FACES, "heic/IMG_0002.HEIC")));
  put("photos/t1.gif", await sharp(T1).gif().toBuffer());
  put("photos/t1.bmp", encodeBmp({ width: t1.info.width, height: t1.info.height, data: new Uint8Array(t1.data) }, { bpp: 24 }));
  put("photos/scan.tif", await sharp([blank, await sharp(T1).png().toBuffer()], { join: { animated: true } }).tiff({ compression: "lzw" }).toBuffer());
  const preview = await sharp(T1).rotate(-90).jpeg({ quality: 95 }).toBuffer();
  put("photos/DSC_0001.NEF", buildRawTiff({
    ifd0: { entries: [[0x112, 3, [6]]] },
    subIfds: [{ entries: [[0x103, 3, [7]]], blob: new Uint8Array(preview), blobAs: "strip" }],
  }));
  put("photos/broken.dng", buildRawTiff({ ifd0: { entries: [[0xc612, 1, [1, 4, 0, 0]], [0x103, 3, [1]]], blob: new Uint8Array(300) } }));
  put("photos/truncated.jpg", readFileSync(path.join(FACES, "bad/truncated.jpg")));
  put("photos/empty.jpg", "");
  put("zcopies/t1 copy.jpg", readFileSync(T1));
  writeFileSync(Buffer.concat([Buffer.from(SRC + "/"), LATIN1_NAME]), readFileSync(path.join(FACES, "deepface/img2.jpg")));
  put("notes.txt", "not a photo");
  put("clip.mov", "not a photo either");
  put("README", "no extension");
  put(".DS_Store", "mac");
  put("photos/Thumbs.db", "windows");
  put("photos/._t1.jpg", "AppleDouble");
  put(".git/HEAD", "ref");
  put(".git/objects/ab", "blob");
  symlinkSync(path.join(SRC, "photos/t1.jpg"), path.join(SRC, "link.jpg"));
  put("library/manifest.json", JSON.stringify({ facesets: [] }));
  put("library/faceset_001/face.png", blank);
  execFileSync("mkfifo", [path.join(SRC, "pipe.jpg")]);
}

const NEEDS = needs("faces/heic/t1.heic", "faces/heic/IMG_0002.HEIC", "faces/insightface/python-package/t1.jpg", "faces/deepface/img1.jpg",
  "faces/deepface/img2.jpg", "faces/openface/carell.jpg", "faces/bad/truncated.jpg", "models/det_2.5g.onnx");

describe("nothing silent", NEEDS, () => {
beforeAll(async () => {
  await buildTree();
  engine = await openEngineFromModelsDir(MODELS);
}, 120_000);
afterAll(async () => {
  await engine?.close();
  rmSync(TMP, { recursive: true, force: true });
});

describe("a tree with every kind of file", () => {
  const storePath = path.join(TMP, "store.duckdb");
  let first: ScanSummary;

  test("every entry on disk is in exactly one bucket, and each bucket holds what it should", async () => {
    const store = await FaceStore.open(storePath);
    try {
      first = await scanTree({ source: SRC, store, engine, config: DEFAULT_CONFIG });
    } finally {
      await store.close();
    }
    const onDisk = entriesOnDisk(Buffer.from(SRC));
    expect(onDisk).toBe(24);
    expect(first.files).toBe(onDisk);
    expect(addsUp(first)).toBe(first.files);
    expect(first).toMatchObject({
      // t1.jpg, t1.heic, IMG_0002.HEIC, t1.gif, t1.bmp, scan.tif, DSC_0001.NEF, café.jpg
      analysed: 8,
      skipped: 0,
      aliases: 1, // zcopies/t1 copy.jpg (photos/t1.jpg comes first)
      errors: 3, // broken.dng, truncated.jpg, empty.jpg
      unsupported: { "": 1, ".mov": 1, ".txt": 1 },
      ignored: 9,
      ignoredByReason: { "system-file": 5, "symlink-not-followed": 1, "in-faceset-library": 2, "not-a-regular-file": 1 },
      unreadableFolders: 0,
      missing: 0,
    });
    expect(first.failures.map((f) => [path.relative(SRC, f.path), f.reason.split(":")[0]])).toEqual([
      ["photos/broken.dng", "no-usable-preview"],
      ["photos/empty.jpg", "empty-file"],
      ["photos/truncated.jpg", "truncated"],
    ]);
  }, 300_000);

  test("the records: RAW preview and TIFF pages noted, faces on page 2 carry it, the Latin-1 name is analysed", async () => {
    expect(first, "needs the first scan").toBeDefined();
    const store = await FaceStore.open(storePath, { readOnly: true });
    try {
      const known = await store.knownFiles();
      const at = (rel: string) => known.get(path.join(SRC, rel))!;
      expect(at("photos/DSC_0001.NEF")).toMatchObject({ status: "ok", width: 1280, height: 886 });
      expect(at("photos/DSC_0001.NEF").decodeNote).toMatch(/^raw-preview: 886x1280 embedded JPEG/);
      expect(at("photos/broken.dng").reason).toMatch(/^no-usable-preview: RAW file: no embedded JPEG preview/);
      expect(at("photos/scan.tif").decodeNote).toBe("pages: 2 analysed; faces carry their page");
      expect(at("photos/t1.gif").decodeNote).toBeNull();
      const latin1 = path.join(SRC, nameFromBytes(LATIN1_NAME));
      expect(latin1).not.toContain("\ufffd");
      expect(known.get(latin1)).toMatchObject({ status: "ok" });

      const faces = await store.selectFaces();
      const of = (rel: string) => faces.filter((f) => f.path === path.join(SRC, rel));
      const jpegFaces = of("photos/t1.jpg");
      expect(jpegFaces).toHaveLength(6);
      for (const rel of ["photos/t1.heic", "photos/t1.gif", "photos/t1.bmp", "photos/scan.tif", "photos/DSC_0001.NEF"]) {
        expect(of(rel), rel).toHaveLength(6);
      }
      expect(of("photos/scan.tif").every((f) => f.page === 1)).toBe(true);
      expect(jpegFaces.every((f) => f.page === 0)).toBe(true);
      expect(faces.filter((f) => f.path === latin1)).toHaveLength(1);

      // Crops of page-2 faces are cut from page 2: the lossless page equals t1.jpg, so the crops are the JPEG's.
      const render = (rows: typeof faces) => renderFaces(rows.map((row) => ({ row, centroidCosDist: 0 })), DEFAULT_CONFIG);
      const [fromTiff, fromJpeg] = [await render(of("photos/scan.tif")), await render(jpegFaces)];
      expect(fromTiff.map((f) => Buffer.from(f.png).toString("base64"))).toEqual(fromJpeg.map((f) => Buffer.from(f.png).toString("base64")));
    } finally {
      await store.close();
    }
  }, 120_000);

  test("a second scan skips everything, still adds up, and still names the failing files", async () => {
    expect(first, "needs the first scan").toBeDefined();
    const store = await FaceStore.open(storePath);
    let again: ScanSummary;
    try {
      again = await scanTree({ source: SRC, store, engine, config: DEFAULT_CONFIG });
    } finally {
      await store.close();
    }
    expect(again).toMatchObject({ files: first.files, analysed: 0, aliases: 0, errors: 0, skipped: 12, ignored: 9 });
    expect(addsUp(again)).toBe(again.files);
    expect(again.failures).toEqual(first.failures);
  }, 120_000);

  test("the summary names up to 10 failing files with reasons and says how to list them all", () => {
    const many: ScanSummary = {
      ...first,
      failures: Array.from({ length: FAILURES_SHOWN + 2 }, (_, i) => ({ path: `/p/IMG_${String(i).padStart(4, "0")}.JPG`, reason: "truncated: cut" })),
    };
    const text = scanSummaryText(many, { listCommand: "LIST" });
    expect(text).toContain(`scanned ${first.files} files`);
    expect(text).toContain("3 unsupported ((no extension) 1, .mov 1, .txt 1)");
    expect(text).toContain("/p/IMG_0009.JPG: truncated: cut");
    expect(text).not.toContain("IMG_0010");
    expect(text).toContain("... and 2 more");
    expect(text).toContain("list them all: LIST");
    expect(scanSummaryText(first, { listCommand: "LIST" })).toMatch(/photos\/truncated\.jpg: truncated: JPEG data ends/);
  });
});

test("a followed link whose target is gone is an error record saying so, not a vanished file", async () => {
  const src = path.join(TMP, "links");
  mkdirSync(src);
  symlinkSync(path.join(TMP, "nowhere.jpg"), path.join(src, "gone.jpg"));
  symlinkSync(path.join(TMP, "nowhere.txt"), path.join(src, "gone.txt"));
  const store = await FaceStore.open(path.join(TMP, "links.duckdb"));
  try {
    const summary = await scanTree({ source: src, store, engine, config: DEFAULT_CONFIG, followSymlinks: true });
    expect(summary).toMatchObject({ files: 2, errors: 1, unsupported: { ".txt": 1 }, ignored: 0 });
    expect(summary.failures).toEqual([{ path: path.join(src, "gone.jpg"), reason: "unreadable: a symbolic link whose target does not exist" }]);
  } finally {
    await store.close();
  }
});

test("analyze names the formats facesets reads when given a file it cannot read", () => {
  const file = path.join(TMP, "clip.mov");
  writeFileSync(file, "not a photo");
  const run = spawnSync(DENO, ["run", "-A", "scripts/analyze.ts", "--models", MODELS, file], { cwd: process.cwd(), encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toContain(`${file}: error: not-an-image: no known image signature`);
  expect(run.stdout).toMatch(/facesets reads: JPEG \(\.jpg \.jpeg \.jpe\), .*HEIF\/HEIC \(\.heic \.heif \.hif\).*RAW \(TIFF-based\) \(\.dng \.nef \.cr2 \.arw\)/);
}, 120_000);

/**
 * The command line to run `deno` as a user without root's right to read anything: this process itself when it is
 * not root, else the `nobody` account through setpriv (util-linux). undefined: no way to drop privileges here.
 */
function unprivileged(): { command: string; prefix: string[] } | undefined {
  if (process.getuid?.() !== 0) return { command: DENO, prefix: [] };
  if (spawnSync("setpriv", ["--version"]).status === 0) {
    return { command: "setpriv", prefix: ["--reuid=65534", "--regid=65534", "--clear-groups", DENO] };
  }
  return undefined;
}

describe("an unreadable folder (scanned as a user who cannot read it)", () => {
  const how = unprivileged();
  const skip = skipUnless(how !== undefined, "running as root without setpriv: no user here lacks the right to read a folder");
  test("gets an error record, its known photos keep theirs, and nothing is marked missing", { ...skip, timeout: 300_000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), "facesets-locked-"));
    const src = path.join(dir, "photos");
    const locked = path.join(src, "locked");
    mkdirSync(locked, { recursive: true });
    copyFileSync(path.join(FACES, "deepface/img2.jpg"), path.join(src, "a.jpg"));
    copyFileSync(path.join(FACES, "deepface/img1.jpg"), path.join(locked, "b.jpg"));
    writeFileSync(Buffer.concat([Buffer.from(src + "/"), LATIN1_NAME]), readFileSync(path.join(FACES, "openface/carell.jpg")));
    chmodSync(dir, 0o777); // the store and Deno's cache are written here by the unprivileged user
    const store = path.join(dir, "store.duckdb");
    const scan = (extra: string[] = [], status = 0) => {
      const run = spawnSync(how!.command, [...how!.prefix, "run", "-A", "scripts/scan.ts", "--source", src, "--store", store, "--models", MODELS, ...extra, "--json"], {
        cwd: process.cwd(),
        env: { ...process.env, HOME: dir, DENO_DIR: path.join(dir, ".deno"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
        encoding: "utf8",
      });
      expect(run.status, run.stderr).toBe(status);
      const lines = run.stdout.trim().split("\n");
      return { json: JSON.parse(lines.at(-1)!) as Record<string, unknown>, stdout: lines.slice(0, -1), stderr: run.stderr };
    };
    try {
      // Deno cannot open a Latin-1 name itself; the scan reads it through the shell and analyses it like any other.
      expect(scan().json).toMatchObject({ files: 3, analysed: 3, errors: 0, unreadableFolders: 0, missing: 0 });
      chmodSync(locked, 0o000);
      const second = scan(["--strict", "--failures"], 1); // --strict fails on the folder; --failures lists it
      expect(second.json).toMatchObject({ files: 2, skipped: 2, analysed: 0, errors: 0, unreadableFolders: 1, missing: 0 });
      expect(second.json.failures).toEqual([{ path: `${locked}/`, reason: expect.stringMatching(/^unreadable: folder cannot be listed \(EACCES\)/) }]);
      expect(second.stderr).toContain(`${locked}/: unreadable: folder cannot be listed (EACCES)`);
      expect(second.stderr).toContain(`--strict: 1 failing file(s) under ${src}`);
      expect(second.stdout).toEqual([`${locked}/\tunreadable: folder cannot be listed (EACCES); the photos recorded under it keep their records`]);
      chmodSync(locked, 0o755);
      const third = scan();
      expect(third.json).toMatchObject({ files: 3, skipped: 3, unreadableFolders: 0, missing: 0, failures: [] });
    } finally {
      chmodSync(locked, 0o755);
    }
    return (async () => {
      const s = await FaceStore.open(store, { readOnly: true });
      try {
        const known = await s.knownFiles();
        expect(known.get(path.join(locked, "b.jpg"))).toMatchObject({ status: "ok" }); // never missing
        expect(known.get(`${locked}/`)?.status).toBe("missing"); // the folder's error record, retired once readable
      } finally {
        await s.close();
        rmSync(dir, { recursive: true, force: true });
      }
    })();
  });
});
});
