import { readFile } from "node:fs/promises";
import path from "node:path";
import type { RunConfig } from "../config";
import type { FaceEngine } from "../face/engine";
import { ImageLoadError } from "../image/errors";
import { readCaptureTime } from "../image/exif";
import { decodeImage } from "../image/load";
import { analysisChanges, analysisSettings } from "../store/analysis";
import type { FaceStore } from "../store/store";
import type { FileOutcome } from "../store/records";
import type { FaceAnalysis, LoadedImage } from "../types";
import { sha256Bytes } from "../util/hash";
import { prefetched } from "../util/prefetch";
import type { Stopwatch } from "../util/stopwatch";
import { walkImages, type WalkedFile } from "./walk";

export interface ScanOptions {
  /** The photo tree. Read only: nothing is ever created, changed or deleted under it. */
  source: string;
  store: FaceStore;
  engine: FaceEngine;
  config: RunConfig;
  /** Re-analyse files recorded as noface or error (default false). */
  retry?: boolean;
  followSymlinks?: boolean;
  /** Files per store transaction: a killed scan loses at most one batch of work (default 16). */
  batchSize?: number;
  /** Decodes kept in flight ahead of the model (default 2). */
  prefetchDepth?: number;
  /** The command line, recorded with the run. */
  command?: string;
  onProgress?: (done: number, total: number) => void;
  /** Told of each face-set library under the source, which the scan leaves out (its crops are not photos). */
  onLibrarySkipped?: (dir: string) => void;
  watch?: Stopwatch;
}

export interface ScanSummary {
  runId: string;
  /** Image files found under the source. */
  seen: number;
  /** Files read, decoded and run through the face engine (errors included). */
  analysed: number;
  /** Files already in the store with the same content, made with this run's settings. */
  skipped: number;
  /**
   * Known files analysed again (counted in `analysed` too) because their record was made with other detection
   * settings or models (an error record: also another image.maxPixels).
   */
  reanalysed: number;
  /** What differed for those files: "detection.detSizePx 640 -> 320" -> number of files. */
  settingsChanges: Record<string, number>;
  /** Files whose bytes equal another stored file's: recorded, not analysed. */
  aliases: number;
  errors: number;
  noface: number;
  /** Faces found by this run's analyses. */
  faces: number;
  /** Stored files under the source that are gone. */
  missing: number;
  seconds: number;
  /** Analysed files per second of wall time. */
  imagesPerSecond: number;
}

/** What to do with one file, decided in walk order so that the first copy of some bytes is always canonical. */
type Decision =
  | { kind: "skip" }
  | { kind: "alias"; aliasOf: string; bytes: Uint8Array }
  | { kind: "analyse"; bytes: Uint8Array; redo?: boolean }
  | { kind: "unreadable"; error: ImageLoadError };

interface Planned {
  file: WalkedFile;
  sha256: string;
  decision: Decision;
}

/** Whether `file` lies inside `folder` (on a path-separator boundary). */
export function isUnder(file: string, folder: string): boolean {
  const rel = path.relative(folder, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/**
 * Scan a photo tree into the store: hash every image, skip known content, record byte-identical copies as
 * aliases, analyse the rest, mark vanished files missing. Work is committed in batches, so a killed scan
 * resumes where its last batch ended and produces exactly the records of an uninterrupted one.
 */
export async function scanTree(options: ScanOptions): Promise<ScanSummary> {
  const { store, engine, config, retry = false, batchSize = 16, prefetchDepth = 2, watch } = options;
  const source = path.resolve(options.source);
  const started = performance.now();

  const walked = await walkImages(source, { followSymlinks: options.followSymlinks ?? false, onLibrarySkipped: options.onLibrarySkipped });
  const known = await store.knownFiles();
  const knownContent = await store.knownContent();
  await store.assertRecognizer(engine.recognizerSha256, engine.embedder.dim);
  const runId = await store.beginRun({
    command: options.command ?? "scan",
    config,
    detectorSha256: engine.detectorSha256,
    recognizerSha256: engine.recognizerSha256,
  });

  const summary: ScanSummary = {
    runId,
    seen: walked.length,
    analysed: 0,
    skipped: 0,
    reanalysed: 0,
    settingsChanges: {},
    aliases: 0,
    errors: 0,
    noface: 0,
    faces: 0,
    missing: 0,
    seconds: 0,
    imagesPerSecond: 0,
  };

  /** sha256 -> the path that holds that content canonically, as decided so far in walk order. */
  const claims = new Map<string, string>(knownContent);

  // The settings every record this run writes is made with; a known record made with others is redone.
  const settings = analysisSettings(config, engine);
  const decide = (file: WalkedFile, sha256: string, bytes: Uint8Array): Decision => {
    const previous = known.get(file.path);
    if (previous && previous.status !== "missing" && previous.sha256 === sha256) {
      const retryable = previous.status === "noface" || previous.status === "error";
      if (retry && retryable) return { kind: "analyse", bytes };
      // Unknown settings (imports, records older than the store's memory of them) are taken as they are.
      const changes = previous.status === "alias" || previous.analysis === null
        ? []
        : analysisChanges(previous.analysis, settings, { errorRecord: previous.status === "error" });
      if (changes.length === 0) return { kind: "skip" };
      for (const c of changes) summary.settingsChanges[c] = (summary.settingsChanges[c] ?? 0) + 1;
      return { kind: "analyse", bytes, redo: true };
    }
    const canonical = claims.get(sha256);
    if (canonical !== undefined && canonical !== file.path) return { kind: "alias", aliasOf: canonical, bytes };
    claims.set(sha256, file.path);
    return { kind: "analyse", bytes };
  };

  // Reading and hashing run strictly in walk order (each waits for the previous), so decisions are deterministic;
  // decoding of the files that need it then overlaps with inference.
  let inOrder: Promise<unknown> = Promise.resolve();
  type Prepared = { planned: Planned; image?: LoadedImage; error?: ImageLoadError; captureTime?: Date | null };
  const plan = (file: WalkedFile): Promise<Prepared> => {
    const planned = inOrder.then(async (): Promise<Planned> => {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(file.path));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        const error = new ImageLoadError(file.path, "unreadable", `cannot read (${code})`);
        return { file, sha256: "", decision: { kind: "unreadable", error } };
      }
      const sha256 = sha256Bytes(bytes);
      return { file, sha256, decision: decide(file, sha256, bytes) };
    });
    inOrder = planned.catch(() => {});
    return planned.then(async (p): Promise<Prepared> => {
      if (p.decision.kind === "unreadable") return { planned: p, error: p.decision.error };
      if (p.decision.kind === "skip") return { planned: p };
      // Every outcome we write carries the capture time of its bytes (aliases too: an alias becomes canonical
      // when its canonical file changes or vanishes, and must then still know when the photo was taken).
      const captureTime = await readCaptureTime(p.decision.bytes);
      if (p.decision.kind === "alias") return { planned: p, captureTime };
      try {
        const image = await decodeImage(p.decision.bytes, file.path, { maxPixels: config.image.maxPixels }, p.sha256);
        return { planned: p, image, captureTime };
      } catch (err) {
        if (err instanceof ImageLoadError) return { planned: p, error: err, captureTime };
        throw err;
      }
    });
  };

  let batch: FileOutcome[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await store.commitBatch(runId, batch);
    batch = [];
  };

  let done = 0;
  try {
    for await (const [file, settled] of prefetched(walked, plan, prefetchDepth)) {
      if (!settled.ok) throw settled.error;
      const { planned, image, error, captureTime = null } = settled.value;
      const base = { path: file.path, sha256: planned.sha256, size: file.size, mtimeMs: file.mtimeMs, captureTime };
      switch (planned.decision.kind) {
        case "skip":
          summary.skipped++;
          break;
        case "alias":
          summary.aliases++;
          batch.push({ ...base, status: "alias", aliasOf: planned.decision.aliasOf });
          break;
        default: {
          summary.analysed++;
          if (planned.decision.kind === "analyse" && planned.decision.redo) summary.reanalysed++;
          if (error || !image) {
            summary.errors++;
            batch.push({ ...base, status: "error", reason: error ? `${error.reason}: ${error.detail}` : "unknown", analysis: settings });
            break;
          }
          const faces: FaceAnalysis[] = await engine.analyze(image, config.detection, watch);
          summary.faces += faces.length;
          if (faces.length === 0) summary.noface++;
          batch.push({
            ...base,
            status: faces.length > 0 ? "ok" : "noface",
            width: image.width,
            height: image.height,
            faces,
            detectorSha256: engine.detectorSha256,
            recognizerSha256: engine.recognizerSha256,
            analysis: settings,
          });
        }
      }
      if (batch.length >= batchSize) await flush();
      options.onProgress?.(++done, walked.length);
    }
    await flush();

    const present = new Set(walked.map((f) => f.path));
    const vanished = [...known.values()]
      .filter((f) => f.status !== "missing" && isUnder(f.path, source) && !present.has(f.path))
      .map((f) => f.path);
    if (vanished.length > 0) await store.markMissing(runId, vanished);
    summary.missing = vanished.length;
  } catch (err) {
    await store.finishRun(runId, countsOf(summary), "interrupted").catch(() => {});
    throw err;
  }

  summary.seconds = (performance.now() - started) / 1000;
  summary.imagesPerSecond = summary.seconds > 0 ? summary.analysed / summary.seconds : 0;
  await store.finishRun(runId, countsOf(summary), "done");
  return summary;
}

function countsOf(s: ScanSummary): Record<string, number> {
  const { seen, analysed, skipped, reanalysed, aliases, errors, noface, faces, missing } = s;
  return { seen, analysed, skipped, reanalysed, aliases, errors, noface, faces, missing };
}
