import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defaultManifestPath,
  findPackFiles,
  getPack,
  ModelsError,
  parseModelsManifest,
  readModelsManifest,
  resolveModelsDir,
} from "../lib/models/pack";
import { DownloadError, ensureDefaultModels, ensurePack } from "../lib/models/install";
import { extractEntry, findEntryByBaseName, readZipEntries, ZIP_METHOD_DEFLATE, ZipError } from "../lib/util/zip";
import { sha256Bytes, sha256File } from "../lib/util/hash";

import { MODELS, needs } from "./support/fixtures";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const DENO = join(ROOT, "node_modules", ".bin", "deno");
// The small test models beside the repository (../shared/models, or FACESETS_FIXTURES: tests/support/fixtures.ts).
const SHARED_MODELS = MODELS;

let tmp: string;
let zipPath: string;
let storedZipPath: string;
const files: Record<string, Buffer> = {};

function hasCommand(cmd: string): boolean {
  try {
    execFileSync(cmd, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A real zip of `tmp/<folder>` made by the system `zip` (deflate, or stored with level 0), else by Python. */
function makeZip(out: string, folder: string, stored = false): void {
  if (hasCommand("zip")) {
    execFileSync("zip", ["-r", "-X", "-q", stored ? "-0" : "-6", out, folder], { cwd: tmp });
    return;
  }
  const py = [
    "import os, sys, zipfile",
    "out, folder, comp = sys.argv[1], sys.argv[2], zipfile.ZIP_STORED if sys.argv[3] == '1' else zipfile.ZIP_DEFLATED",
    "with zipfile.ZipFile(out, 'w', comp) as z:",
    "    for d, _, fs in os.walk(folder):",
    "        for f in sorted(fs): z.write(os.path.join(d, f))",
  ].join("\n");
  execFileSync("python3", ["-c", py, out, folder, stored ? "1" : "0"], { cwd: tmp });
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run scripts/models.ts under Deno (asynchronously, so an HTTP server in this process can answer it). */
function runModels(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(DENO, ["run", "-A", "scripts/models.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function writeManifest(name: string, url: string, shaOverride?: string): string {
  const manifest = {
    $comment: "test pack",
    packs: {
      testpack: {
        url,
        licence: "test only",
        files: [
          { name: "det_test.onnx", role: "detector", sha256: sha256Bytes(files["det_test.onnx"]!), size: files["det_test.onnx"]!.length },
          { name: "rec_test.onnx", role: "recognizer", sha256: shaOverride ?? sha256Bytes(files["rec_test.onnx"]!) },
        ],
      },
    },
  };
  const path = join(tmp, name);
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return path;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "facesets-models-"));
  mkdirSync(join(tmp, "testpack", "sub"), { recursive: true });
  // One incompressible and one very compressible file, so deflate really inflates something.
  files["det_test.onnx"] = randomBytes(300_000);
  files["rec_test.onnx"] = Buffer.from("facesets model pack test line\n".repeat(20_000));
  files["nested.txt"] = Buffer.from("deeper\n");
  writeFileSync(join(tmp, "testpack", "det_test.onnx"), files["det_test.onnx"]);
  writeFileSync(join(tmp, "testpack", "rec_test.onnx"), files["rec_test.onnx"]);
  writeFileSync(join(tmp, "testpack", "sub", "nested.txt"), files["nested.txt"]);
  zipPath = join(tmp, "testpack.zip");
  storedZipPath = join(tmp, "testpack-stored.zip");
  makeZip(zipPath, "testpack");
  makeZip(storedZipPath, "testpack", true);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("zip reader", () => {
  it("lists entries and extracts deflated files under a folder byte for byte", async () => {
    const entries = await readZipEntries(zipPath);
    const names = entries.filter((e) => !e.isDirectory).map((e) => e.name).sort();
    expect(names).toEqual(["testpack/det_test.onnx", "testpack/rec_test.onnx", "testpack/sub/nested.txt"]);
    const rec = findEntryByBaseName(entries, "rec_test.onnx")!;
    expect(rec.name).toBe("testpack/rec_test.onnx");
    expect(rec.method).toBe(ZIP_METHOD_DEFLATE);
    expect(rec.compressedSize).toBeLessThan(rec.size / 10);
    for (const name of ["det_test.onnx", "rec_test.onnx", "nested.txt"]) {
      const entry = findEntryByBaseName(entries, name)!;
      const out = join(tmp, `out-${name}`);
      let lastProgress = 0;
      const result = await extractEntry(zipPath, entry, out, { onProgress: (n) => (lastProgress = n) });
      const bytes = readFileSync(out);
      expect(Buffer.compare(bytes, files[name]!)).toBe(0);
      expect(result.bytes).toBe(files[name]!.length);
      expect(result.sha256).toBe(sha256Bytes(files[name]!));
      expect(lastProgress).toBe(files[name]!.length);
    }
    expect(findEntryByBaseName(entries, "absent.onnx")).toBeUndefined();
  });

  it("extracts stored entries too", async () => {
    const entries = await readZipEntries(storedZipPath);
    const det = findEntryByBaseName(entries, "det_test.onnx")!;
    expect(det.method).toBe(0);
    const out = join(tmp, "stored-det.onnx");
    await extractEntry(storedZipPath, det, out);
    expect(Buffer.compare(readFileSync(out), files["det_test.onnx"]!)).toBe(0);
  });

  it("refuses non-zips, zip64 and corrupt data clearly", async () => {
    const notZip = join(tmp, "not.zip");
    writeFileSync(notZip, "hello, this is not a zip archive at all");
    await expect(readZipEntries(notZip)).rejects.toThrow(/not a zip file/);

    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(1, 8);
    eocd.writeUInt16LE(1, 10);
    eocd.writeUInt32LE(0xffffffff, 12);
    eocd.writeUInt32LE(0xffffffff, 16);
    const z64 = join(tmp, "z64.zip");
    writeFileSync(z64, eocd);
    await expect(readZipEntries(z64)).rejects.toThrow(ZipError);
    await expect(readZipEntries(z64)).rejects.toThrow(/zip64/);

    // Flip bytes inside the deflated data of the compressible entry: inflate or the CRC check must fail.
    const entries = await readZipEntries(zipPath);
    const rec = findEntryByBaseName(entries, "rec_test.onnx")!;
    const bad = Buffer.from(readFileSync(zipPath));
    const dataAt = rec.localHeaderOffset + 30 + bad.readUInt16LE(rec.localHeaderOffset + 26) +
      bad.readUInt16LE(rec.localHeaderOffset + 28);
    for (let i = 10; i < 40; i++) bad[dataAt + i] = bad[dataAt + i]! ^ 0x5a;
    const badPath = join(tmp, "bad.zip");
    writeFileSync(badPath, bad);
    const out = join(tmp, "bad-out.onnx");
    await expect(extractEntry(badPath, rec, out)).rejects.toThrow(ZipError);
    expect(existsSync(out)).toBe(false);
  });
});

describe("hash", () => {
  it("sha256File streams the same digest as sha256Bytes", async () => {
    const p = join(tmp, "hash.bin");
    writeFileSync(p, files["det_test.onnx"]!);
    expect(await sha256File(p)).toBe(sha256Bytes(files["det_test.onnx"]!));
    expect(sha256Bytes(new Uint8Array(0))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

describe("models.json", () => {
  it("validates and describes buffalo_l", async () => {
    const manifest = await readModelsManifest(defaultManifestPath(ROOT));
    const pack = getPack(manifest, "buffalo_l");
    expect(pack.url).toBe("https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip");
    expect(pack.licence).toBe("InsightFace models: non-commercial research use only");
    const byRole = Object.fromEntries(pack.files.map((f) => [f.role, f]));
    expect(byRole.detector?.name).toBe("det_10g.onnx");
    expect(byRole.detector?.sha256).toBe("5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91");
    expect(byRole.recognizer?.name).toBe("w600k_r50.onnx");
    expect(byRole.recognizer?.sha256).toBe("4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43");
    expect(() => getPack(manifest, "nope")).toThrow(/unknown model pack "nope" \(known: buffalo_l\)/);
  });

  it("refuses malformed manifests by name", () => {
    const good = {
      packs: { p: { url: "https://x.test/p.zip", licence: "l", files: [{ name: "a.onnx", role: "detector", sha256: "a".repeat(64) }] } },
    };
    expect(parseModelsManifest(good).packs.p?.files[0]?.name).toBe("a.onnx");
    type Raw = { packs: { p: Record<string, unknown> & { files: Record<string, unknown>[] } } };
    const bad = (mutate: (m: Raw) => void) => {
      const m = structuredClone(good) as unknown as Raw;
      mutate(m);
      return () => parseModelsManifest(m, "m.json");
    };
    expect(bad((m) => (m.packs.p.files[0]!.sha256 = "xyz"))).toThrow(/m.json: pack "p" files\[0\]: "sha256" must be 64 hex/);
    expect(bad((m) => (m.packs.p.files[0]!.role = "other"))).toThrow(/"role" must be one of detector, recognizer/);
    expect(bad((m) => (m.packs.p.files[0]!.name = "../a.onnx"))).toThrow(/plain file name/);
    expect(bad((m) => (m.packs.p.files = []))).toThrow(/"files" must be a non-empty array/);
    expect(bad((m) => (m.packs.p.extra = 1))).toThrow(/unknown key "extra"/);
    expect(bad((m) => (m.packs.p.url = "ftp://x"))).toThrow(/must be http\(s\)/);
    expect(bad((m) => delete m.packs.p.licence)).toThrow(/"licence" must be a non-empty string/);
    expect(bad((m) => (m.packs.p.files[0]!.size = -1))).toThrow(/"size" must be a byte count/);
    expect(() => parseModelsManifest([], "m.json")).toThrow(ModelsError);
  });
});

describe("models directory", () => {
  it("resolveModelsDir: argument, else env, else <cwd>/models/buffalo_l", () => {
    expect(resolveModelsDir("/a/b", "/env")).toBe("/a/b");
    expect(resolveModelsDir(undefined, "/env/models")).toBe("/env/models");
    expect(resolveModelsDir(undefined, "")).toBe(join(process.cwd(), "models", "buffalo_l"));
    expect(resolveModelsDir("rel", undefined)).toBe(resolve("rel"));
  });

  it("findPackFiles picks det_2.5g + w600k_mbf_int8 in the shared test models", needs("models/det_2.5g.onnx", "models/det_500m.onnx", "models/w600k_mbf_int8.onnx"), () => {
    const found = findPackFiles(SHARED_MODELS);
    expect(found).toEqual({
      detector: join(SHARED_MODELS, "det_2.5g.onnx"),
      recognizer: join(SHARED_MODELS, "w600k_mbf_int8.onnx"),
    });
    const over = findPackFiles(SHARED_MODELS, { detector: join(SHARED_MODELS, "det_500m.onnx") });
    expect(over.detector).toBe(join(SHARED_MODELS, "det_500m.onnx"));
    expect(over.recognizer).toBe(join(SHARED_MODELS, "w600k_mbf_int8.onnx"));
  });

  it("findPackFiles prefers buffalo_l's det_10g + w600k_r50 over the pack's other models", () => {
    const dir = join(tmp, "buffalo_like");
    mkdirSync(dir, { recursive: true });
    for (const n of ["1k3d68.onnx", "2d106det.onnx", "genderage.onnx", "det_10g.onnx", "w600k_r50.onnx", "det_500m.onnx"]) {
      writeFileSync(join(dir, n), "x");
    }
    expect(findPackFiles(dir)).toEqual({ detector: join(dir, "det_10g.onnx"), recognizer: join(dir, "w600k_r50.onnx") });

    const single = join(tmp, "single_other");
    mkdirSync(single, { recursive: true });
    writeFileSync(join(single, "det_custom.onnx"), "x");
    writeFileSync(join(single, "mobilefacenet_128d.onnx"), "x");
    expect(findPackFiles(single)).toEqual({
      detector: join(single, "det_custom.onnx"),
      recognizer: join(single, "mobilefacenet_128d.onnx"),
    });
  });

  it("a missing directory or missing models give one clear line", () => {
    const missing = join(tmp, "no-such-models");
    let message = "";
    try {
      findPackFiles(missing);
    } catch (err) {
      expect(err).toBeInstanceOf(ModelsError);
      message = (err as Error).message;
    }
    expect(message).toContain(missing);
    expect(message).toContain("run: deno task models");
    expect(message).toContain("--models DIR / FACESETS_MODELS");
    expect(message).not.toContain("\n");

    const empty = join(tmp, "empty-models");
    mkdirSync(empty, { recursive: true });
    expect(() => findPackFiles(empty)).toThrow(/no face detector \(det_\*\.onnx\) in .*empty-models; run: deno task models/);
    writeFileSync(join(empty, "det_10g.onnx"), "x");
    expect(() => findPackFiles(empty)).toThrow(/no face recognizer/);
    expect(() => findPackFiles(empty, { recognizer: join(empty, "nope.onnx") })).toThrow(/recognizer model not found: /);
  });
});

/** A one-pack manifest whose pack is called `name`, listing the test zip's two model files. */
function testManifest(name = "testpack", url = "https://example.invalid/testpack.zip") {
  const manifest = JSON.parse(readFileSync(writeManifest(`${name}-lib-manifest.json`, url), "utf8"));
  if (name !== "testpack") {
    manifest.packs[name] = manifest.packs.testpack;
    delete manifest.packs.testpack;
  }
  const path = join(tmp, `${name}-lib-manifest.json`);
  writeFileSync(path, JSON.stringify(manifest));
  return { path, pack: getPack(parseModelsManifest(manifest), name) };
}

/** Serve the test zip at /<name>.zip on 127.0.0.1; returns the base URL and a close function. */
async function serveZip(name: string): Promise<{ base: string; close: () => Promise<void> }> {
  const zipBytes = readFileSync(zipPath);
  const server: Server = createServer((req, res) => {
    if (req.url === `/${name}.zip`) {
      res.writeHead(200, { "content-type": "application/zip", "content-length": String(zipBytes.length) });
      res.end(zipBytes);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("ensurePack (library)", () => {
  it("installs from a zip, keeps verified files, repairs damaged ones and refuses bad input", async () => {
    const { pack } = testManifest();
    const dir = join(tmp, "lib-installed", "testpack");
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);

    const first = await ensurePack({ pack, targetDir: dir, zip: zipPath, log });
    expect(first.alreadyInstalled).toBe(false);
    expect(first.installed.map((f) => f.file.name)).toEqual(["det_test.onnx", "rec_test.onnx"]);
    expect(first.kept).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(["det_test.onnx", "rec_test.onnx"]);
    expect(lines.some((l) => l.startsWith("testpack: installed in "))).toBe(true);
    expect(lines.at(-1)).toBe("licence: test only");

    const again = await ensurePack({ pack, targetDir: dir, zip: join(tmp, "absent.zip"), log });
    expect(again).toEqual({ installed: [], kept: ["det_test.onnx", "rec_test.onnx"], alreadyInstalled: true });

    writeFileSync(join(dir, "rec_test.onnx"), "damaged");
    lines.length = 0;
    const repair = await ensurePack({ pack, targetDir: dir, zip: zipPath, log });
    expect(repair.installed.map((f) => f.file.name)).toEqual(["rec_test.onnx"]);
    expect(repair.kept).toEqual(["det_test.onnx"]);
    expect(lines.some((l) => /^rec_test\.onnx: .*will replace it$/.test(l))).toBe(true);
    expect(Buffer.compare(readFileSync(join(dir, "rec_test.onnx")), files["rec_test.onnx"]!)).toBe(0);

    const forced = await ensurePack({ pack, targetDir: dir, zip: zipPath, force: true, log });
    expect(forced.installed).toHaveLength(2);

    await expect(ensurePack({ pack, targetDir: join(tmp, "lib-none"), zip: join(tmp, "absent.zip"), log }))
      .rejects.toThrow(/^zip not found: /);
    const notDir = join(tmp, "lib-file");
    writeFileSync(notDir, "x");
    await expect(ensurePack({ pack, targetDir: notDir, zip: zipPath, log })).rejects.toThrow(ModelsError);
    await expect(ensurePack({ pack, targetDir: notDir, zip: zipPath, log })).rejects.toThrow(/exists and is not a directory/);

    const bad = getPack(parseModelsManifest(JSON.parse(readFileSync(writeManifest("lib-bad.json", pack.url, "0".repeat(64)), "utf8"))), "testpack");
    const badDir = join(tmp, "lib-bad", "testpack");
    await expect(ensurePack({ pack: bad, targetDir: badDir, zip: zipPath, log })).rejects.toThrow(/sha256 mismatch for rec_test\.onnx/);
    expect(existsSync(badDir) ? readdirSync(badDir) : []).toEqual([]);
  });

  it("downloads to a temp zip in the parent and removes it; offline is a DownloadError with the advice", async () => {
    const served = await serveZip("testpack");
    const parent = join(tmp, "lib-http");
    try {
      const { pack } = testManifest("testpack", `${served.base}/testpack.zip`);
      const lines: string[] = [];
      const events: { label: string; received: number; done: boolean }[] = [];
      const onProgress = ({ label, received, done }: (typeof events)[number]) => void events.push({ label, received, done });
      const result = await ensurePack({ pack, targetDir: join(parent, "testpack"), log: (l) => lines.push(l), onProgress });
      expect(result.installed).toHaveLength(2);
      // Progress is reported, not drawn: from 0 to every byte of the zip, then done once.
      expect(events[0]).toEqual({ label: "testpack.zip", received: 0, done: false });
      expect(events.at(-1)).toEqual({ label: "testpack.zip", received: statSync(zipPath).size, done: true });
      expect(events.filter((e) => e.done)).toHaveLength(1);
      expect(lines[0]).toMatch(/^downloading http:\/\/127\.0\.0\.1:\d+\/testpack\.zip/);
      expect(readdirSync(parent)).toEqual(["testpack"]);
    } finally {
      await served.close();
    }
    const { pack } = testManifest("testpack", `${served.base}/testpack.zip`);
    let error: unknown;
    try {
      await ensurePack({ pack, targetDir: join(tmp, "lib-offline", "x"), log: () => {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(
      /^cannot download testpack from http:\/\/127\.0\.0\.1:\d+\/testpack\.zip: .+\. Are you offline\? Download the zip by hand and run deno task models --zip FILE$/,
    );
    expect(readdirSync(join(tmp, "lib-offline"))).toEqual([]);
  });
});

describe("ensureDefaultModels", () => {
  it("fetches buffalo_l into the default dir when missing, and is silent once it is there", async () => {
    const served = await serveZip("buffalo_l");
    try {
      const { path } = testManifest("buffalo_l", `${served.base}/buffalo_l.zip`);
      const dir = join(tmp, "default-models", "buffalo_l");
      const lines: string[] = [];
      const log = (l: string) => lines.push(l);
      expect(await ensureDefaultModels(dir, log, { manifestPath: path })).toBe(dir);
      expect(lines[0]).toBe(`${dir} is missing: fetching buffalo_l (non-commercial research licence) ...`);
      expect(lines.some((l) => l.startsWith("buffalo_l: installed in "))).toBe(true);
      expect(findPackFiles(dir)).toEqual({ detector: join(dir, "det_test.onnx"), recognizer: join(dir, "rec_test.onnx") });

      lines.length = 0;
      expect(await ensureDefaultModels(dir, log, { manifestPath: path })).toBe(dir);
      expect(lines).toEqual([]);
    } finally {
      await served.close();
    }
  });
});

describe("deno task models (end to end)", () => {
  it("installs from --zip, verifies, skips when installed, and refuses a sha mismatch", async () => {
    const manifest = writeManifest("manifest.json", "https://example.invalid/testpack.zip");
    const dir = join(tmp, "installed", "testpack");
    const first = await runModels(["--manifest", manifest, "--pack", "testpack", "--zip", zipPath, "--dir", dir]);
    expect(first.stderr).toContain("testpack: installed in");
    expect(first.code).toBe(0);
    for (const name of ["det_test.onnx", "rec_test.onnx"]) {
      expect(Buffer.compare(readFileSync(join(dir, name)), files[name]!)).toBe(0);
    }
    expect(readdirSync(dir).sort()).toEqual(["det_test.onnx", "rec_test.onnx"]);

    const again = await runModels(["--manifest", manifest, "--pack", "testpack", "--zip", zipPath, "--dir", dir]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already installed/);

    // A damaged installed file is replaced.
    writeFileSync(join(dir, "rec_test.onnx"), "damaged");
    const repair = await runModels(["--manifest", manifest, "--pack", "testpack", "--zip", zipPath, "--dir", dir]);
    expect(repair.code).toBe(0);
    expect(repair.stderr).toMatch(/rec_test\.onnx: .*will replace it/);
    expect(Buffer.compare(readFileSync(join(dir, "rec_test.onnx")), files["rec_test.onnx"]!)).toBe(0);

    const badManifest = writeManifest("bad-manifest.json", "https://example.invalid/testpack.zip", "0".repeat(64));
    const badDir = join(tmp, "installed", "bad");
    const bad = await runModels(["--manifest", badManifest, "--pack", "testpack", "--zip", zipPath, "--dir", badDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/sha256 mismatch for rec_test\.onnx/);
    expect(bad.stderr.trim().split("\n").filter((l) => l.startsWith("models:"))).toHaveLength(1);
    expect(existsSync(badDir) ? readdirSync(badDir) : []).toEqual([]);

    const noZip = await runModels(["--manifest", manifest, "--pack", "testpack", "--zip", join(tmp, "absent.zip"), "--dir", badDir]);
    expect(noZip.code).toBe(1);
    expect(noZip.stderr).toMatch(/zip not found/);
  });

  it("usage errors exit 2 and --help documents --manifest", async () => {
    const help = await runModels(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--manifest FILE");
    expect(help.stdout).toContain("--zip FILE");
    expect((await runModels(["--bogus"])).code).toBe(2);
    expect((await runModels(["--pack", "no_such_pack"])).code).toBe(2);
  });

  it("downloads over HTTP with progress lines, and a network failure is one clear line", async () => {
    const zipBytes = readFileSync(zipPath);
    const server: Server = createServer((req, res) => {
      if (req.url === "/testpack.zip") {
        res.writeHead(200, { "content-type": "application/zip", "content-length": String(zipBytes.length) });
        // Several chunks so progress has something to report.
        const step = Math.ceil(zipBytes.length / 8);
        for (let i = 0; i < zipBytes.length; i += step) res.write(zipBytes.subarray(i, i + step));
        res.end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const manifest = writeManifest("http-manifest.json", `http://127.0.0.1:${port}/testpack.zip`);
      const parent = join(tmp, "http");
      const dir = join(parent, "testpack");
      const ok = await runModels(["--manifest", manifest, "--pack", "testpack", "--dir", dir]);
      expect(ok.stderr).toMatch(/testpack\.zip: 100% /);
      expect(ok.code).toBe(0);
      expect(Buffer.compare(readFileSync(join(dir, "det_test.onnx")), files["det_test.onnx"]!)).toBe(0);
      expect(readdirSync(parent)).toEqual(["testpack"]); // temp zip removed

      const missing = writeManifest("404-manifest.json", `http://127.0.0.1:${port}/missing.zip`);
      const notFound = await runModels(["--manifest", missing, "--pack", "testpack", "--dir", join(tmp, "http404", "x")]);
      expect(notFound.code).toBe(1);
      expect(notFound.stderr).toMatch(/cannot download testpack from .*: HTTP 404/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }

    // Nothing listens on the closed port any more.
    const offline = writeManifest("offline-manifest.json", `http://127.0.0.1:${port}/testpack.zip`);
    const failed = await runModels(["--manifest", offline, "--pack", "testpack", "--dir", join(tmp, "offline", "x")]);
    expect(failed.code).toBe(1);
    const lines = failed.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^cannot download testpack from http:\/\/127\.0\.0\.1:\d+\/testpack\.zip: .+\. Are you offline\? Download the zip by hand and run deno task models --zip FILE$/,
    );
  });
});
