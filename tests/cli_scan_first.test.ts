/**
 * The library commands as a person runs them: `deno task cluster-osrc --scan` on a folder nobody scanned before,
 * from an empty store and no library to new face sets, through the real script. Also what --scan must not do:
 * write into the photos, or write the library in a dry run, or re-analyse known files on a second run.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { FaceStore, readLibrary, walkImages } from "../lib/mod";
import { FACES as FACES_DIR, MODELS, needs } from "./support/fixtures";
import { copyPhotos, photosOf, sharedLabels } from "./support/labelled";
import { denoChild, treeFingerprint } from "./support/scan_tree";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-scan-first-"));
const BUCKET = path.join(TMP, "bucket");
const LIBRARY = path.join(TMP, "library");
const STORE = path.join(TMP, "store.duckdb");

async function task(args: readonly string[]): Promise<{ code: number | null; stdout: string[]; stderr: string[]; json: unknown }> {
  const child = denoChild(["task", ...args]);
  const { code } = await child.exited;
  const last = child.stdout.filter((l) => l.trim() !== "").at(-1);
  let json: unknown;
  try {
    json = last === undefined ? undefined : JSON.parse(last);
  } catch {
    json = undefined;
  }
  return { code, stdout: child.stdout, stderr: child.stderr, json };
}

// Runs on tests/fixtures too (seven photos of deepface_p01, det_500m): a lone clone's real scan and discovery.
describe("cluster-osrc --scan", needs("faces/deepface/labels.csv", "models"), () => {
  const labels = sharedLabels();
  const copied = copyPhotos([...photosOf(labels, "deepface_p01"), ...photosOf(labels, "deepface_p10")], BUCKET).length;
  const photosBefore = treeFingerprint(BUCKET);
  const osrc = ["cluster-osrc", "--source", BUCKET, "--library", LIBRARY, "--store", STORE];

  test("--help lists --scan and --models; --models without --scan and a missing store are usage errors", async () => {
    const help = await task(["cluster-osrc", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout.join("\n")).toMatch(/--scan +scan --source into the store first/);
    const stray = await task([...osrc, "--models", MODELS]);
    expect(stray.code).toBe(2);
    expect(stray.stderr.join("\n")).toContain("--models applies only with --scan");
    const unscanned = await task(osrc);
    expect(unscanned.code).toBe(2);
    expect(unscanned.stderr.join("\n")).toContain(`--store ${STORE} does not exist: run deno task scan first, or add --scan`);
    expect(existsSync(STORE)).toBe(false);
  }, 60_000);

  test("a dry run with --scan fills the store and leaves the library unwritten", async () => {
    const dry = await task([...osrc, "--scan", "--models", MODELS, "--dry-run", "--json"]);
    expect(dry.code, dry.stderr.join("\n")).toBe(0);
    expect(copied).toBeGreaterThanOrEqual(7); // 16 with ../shared
    expect(dry.stderr.join("\n")).toMatch(new RegExp(`scanned ${copied} files .*: ${copied} analysed`));
    expect(dry.stdout).toContain("dry run: nothing written");
    expect(existsSync(LIBRARY)).toBe(false);
    const store = await FaceStore.open(STORE, { readOnly: true });
    const faces = await store.selectFaces({ under: BUCKET });
    await store.close();
    expect((dry.json as { faces: number }).faces).toBe(faces.length);
    expect(faces.length).toBeGreaterThanOrEqual(copied);
  }, 240_000);

  test("the real run scans nothing again and writes the sets the dry run planned; the photos are untouched", async () => {
    const run = await task([...osrc, "--scan", "--models", MODELS, "--json"]);
    expect(run.code, run.stderr.join("\n")).toBe(0);
    expect(run.stderr.join("\n")).toMatch(new RegExp(`scanned ${copied} files .*: 0 analysed \\(0 without faces\\), ${copied} skipped`));
    const counts = run.json as { newSets: number; exported: number };
    expect(counts.newSets).toBeGreaterThanOrEqual(1);
    const library = await readLibrary(LIBRARY);
    expect(library.sets.size).toBe(counts.newSets);
    const crops = [...library.sets.values()].reduce((n, s) => n + readdirSync(s.dir).filter((f) => f.endsWith(".png")).length, 0);
    expect(crops).toBe(counts.exported);
    expect(treeFingerprint(BUCKET)).toEqual(photosBefore);
  }, 240_000);

  test("a library inside the photo folder (or around it) is refused before anything is written", async () => {
    for (const [library, message] of [
      [path.join(BUCKET, "facesets"), `--library ${path.join(BUCKET, "facesets")} is inside the photo folder ${BUCKET}`],
      [BUCKET, `--library ${BUCKET} is inside the photo folder ${BUCKET}`],
      [TMP, `the photo folder ${BUCKET} is inside --library ${TMP}`],
    ] as const) {
      const run = await task(["cluster-osrc", "--source", BUCKET, "--library", library, "--store", STORE, "--scan", "--models", MODELS]);
      expect(run.code, library).toBe(2);
      expect(run.stderr.join("\n")).toContain(message);
    }
    expect(existsSync(path.join(BUCKET, "facesets"))).toBe(false);
    expect(treeFingerprint(BUCKET)).toEqual(photosBefore);
  }, 60_000);
});

describe("the walk leaves face-set libraries out", needs("faces/deepface/img2.jpg"), () => {
  test("a folder whose manifest.json lists facesets is skipped and reported; other manifest.json files are not", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "facesets-walk-"));
    const photo = path.join(FACES_DIR, "deepface", "img2.jpg"); // any photo: the walk reads names, not pixels
    const put = (rel: string) => {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      copyFileSync(photo, path.join(root, rel));
    };
    put("a.jpg");
    put("library/faceset_001/face-001.png");
    writeFileSync(path.join(root, "library", "manifest.json"), JSON.stringify({ facesets: [{ name: "faceset_001", count: 1 }] }));
    put("album/b.jpg");
    writeFileSync(path.join(root, "album", "manifest.json"), JSON.stringify({ title: "not a library" }));
    const skipped: string[] = [];
    const files = await walkImages(root, { onLibrarySkipped: (dir) => skipped.push(dir) });
    expect(files.map((f) => path.relative(root, f.path))).toEqual(["a.jpg", path.join("album", "b.jpg")]);
    expect(skipped).toEqual([path.join(root, "library")]);
  });
});
