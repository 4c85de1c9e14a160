/**
 * Benchmark of the whole scan (walk, read, hash, EXIF, decode, models, store commits) against the models alone:
 * a scan can never beat inference, so the ratio says how much of the machine the rest of the scan costs.
 */
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RunConfig } from "../config";
import type { FaceEngine } from "../face/engine";
import { scanTree } from "../scan/scan";
import { FaceStore } from "../store/store";
import { Stopwatch } from "../util/stopwatch";

export interface ScanBenchOptions {
  /** The folder `files` lie under; their paths relative to it are kept in the copy (so names cannot clash). */
  root: string;
  config: RunConfig;
  /** Fresh scans to run, keeping the fastest (default 1). */
  repeats?: number;
  /**
   * The model-only time of the same images measured in this run (benchEngine's `images` and `modelOnlyMs`):
   * the reference of the ratio. Required, so the two numbers always come from one run on one machine state.
   */
  modelOnly: { images: number; ms: number };
}

export interface ScanBench {
  /** Image files scanned. */
  files: number;
  /** Files analysed (all of them: every scan starts from an empty store). */
  analysed: number;
  faces: number;
  /** Wall time of the fastest scan, ms (the copy into the temp folder is not timed). */
  scanMs: number;
  /** analysed / scan seconds. */
  scanImagesPerSecond: number;
  /** modelOnly.images / modelOnly seconds. */
  modelImagesPerSecond: number;
  /** scanImagesPerSecond / modelImagesPerSecond (1.0: the scan costs nothing beyond inference). */
  ratio: number;
  /** Per-stage totals inside the fastest scan (engine stages), ms. */
  stagesMs: Record<string, number>;
}

/**
 * Copy `files` into a temp folder and scan it into a temp store `repeats` times (a fresh store each time, so
 * every file is analysed); both are removed afterwards. The source of the scan is the copy, never `files`.
 */
export async function benchScan(engine: FaceEngine, files: readonly string[], options: ScanBenchOptions): Promise<ScanBench> {
  const { root, config, repeats = 1, modelOnly } = options;
  if (files.length === 0) throw new RangeError("benchScan needs at least one image");
  if (!(modelOnly.images > 0 && modelOnly.ms > 0)) throw new RangeError(`benchScan: invalid model-only reference ${JSON.stringify(modelOnly)}`);
  const dir = await mkdtemp(path.join(tmpdir(), "facesets-scan-bench-"));
  try {
    const source = path.join(dir, "photos");
    for (const file of files) {
      const relative = path.relative(root, file);
      if (relative.startsWith("..") || path.isAbsolute(relative)) throw new RangeError(`benchScan: ${file} is not under ${root}`);
      const target = path.join(source, relative);
      await mkdir(path.dirname(target), { recursive: true });
      await copyFile(file, target);
    }
    let best: { ms: number; analysed: number; faces: number; watch: Stopwatch } | undefined;
    for (let r = 0; r < repeats; r++) {
      const storePath = path.join(dir, `store-${r}.duckdb`);
      const store = await FaceStore.open(storePath);
      const watch = new Stopwatch();
      try {
        const start = performance.now();
        const summary = await scanTree({ source, store, engine, config, command: "bench scan", watch });
        const ms = performance.now() - start;
        if (!best || ms < best.ms) best = { ms, analysed: summary.analysed, faces: summary.faces, watch };
      } finally {
        await store.close();
      }
    }
    const scanImagesPerSecond = best!.analysed / (best!.ms / 1000);
    const modelImagesPerSecond = modelOnly.images / (modelOnly.ms / 1000);
    return {
      files: files.length,
      analysed: best!.analysed,
      faces: best!.faces,
      scanMs: best!.ms,
      scanImagesPerSecond,
      modelImagesPerSecond,
      ratio: scanImagesPerSecond / modelImagesPerSecond,
      stagesMs: Object.fromEntries(best!.watch.totalsMs),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
