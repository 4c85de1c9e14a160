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
import { readSourceFile } from "../util/source_names";
import type { Stopwatch } from "../util/stopwatch";
import { IGNORED_REASONS, type IgnoredReason, walkTree, type WalkedFile } from "./walk";

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

/** A file (or folder) under the source whose record is an error, with the stored reason. */
export interface FailingFile {
  path: string;
  reason: string;
}

/**
 * What a scan did with every entry under the source. Nothing is left out:
 * `files == analysed + skipped + aliases + errors + ignored + sum(unsupported)`.
 */
export interface ScanSummary {
  runId: string;
  /** Every non-folder entry under the source (folders that could not be listed excepted: see unreadableFolders). */
  files: number;
  /** Files with a photo extension, read by this scan (analysed + skipped + aliases + errors). */
  seen: number;
  /** Files decoded and run through the face engine (noface included, errors not). */
  analysed: number;
  /** Files already in the store with the same content, made with this run's settings. */
  skipped: number;
  /**
   * Known files analysed again (counted in `analysed` or `errors` too) because their record was made with other detection
   * settings or models (an error record: also another image.maxPixels).
   */
  reanalysed: number;
  /** What differed for those files: "detection.detSizePx 640 -> 320" -> number of files. */
  settingsChanges: Record<string, number>;
  /** Files whose bytes equal another stored file's: recorded, not analysed. */
  aliases: number;
  /** Files this run recorded as errors (unreadable, undecodable, a RAW without preview, a dangling link). */
  errors: number;
  /** Files with extensions facesets does not read: lowercase extension ("" when none) -> count. */
  unsupported: Record<string, number>;
  /** Files not read on purpose (system files, links not followed, face-set library contents, sockets...). */
  ignored: number;
  ignoredByReason: Record<IgnoredReason, number>;
  /** Folders that could not be listed: each has an error record, and the photos recorded under them keep theirs. */
  unreadableFolders: number;
  /**
   * Every file and folder under the source whose record is an error after this scan (this run's and earlier
   * runs'), sorted by path: what `--strict` fails on and the summary names.
   */
  failures: FailingFile[];
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

  const tree = await walkTree(source, { followSymlinks: options.followSymlinks ?? false, onLibrarySkipped: options.onLibrarySkipped });
  const walked = tree.images;
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
    files: tree.files,
    seen: walked.length,
    analysed: 0,
    skipped: 0,
    reanalysed: 0,
    settingsChanges: {},
    aliases: 0,
    errors: 0,
    unsupported: Object.fromEntries([...tree.unsupported].sort(([a], [b]) => a.localeCompare(b))),
    ignored: [...tree.ignored.values()].reduce((a, b) => a + b, 0),
    ignoredByReason: Object.fromEntries(IGNORED_REASONS.map((r) => [r, tree.ignored.get(r) ?? 0])) as Record<IgnoredReason, number>,
    unreadableFolders: tree.unreadableFolders.length,
    failures: [],
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
  type Prepared = { planned: Planned; images?: LoadedImage[]; error?: ImageLoadError; captureTime?: Date | null };
  const plan = (file: WalkedFile): Promise<Prepared> => {
    const planned = inOrder.then(async (): Promise<Planned> => {
      let bytes: Uint8Array;
      if (file.brokenLink) {
        const error = new ImageLoadError(file.path, "unreadable", "a symbolic link whose target does not exist");
        return { file, sha256: "", decision: { kind: "unreadable", error } };
      }
      try {
        bytes = await readSourceFile(file.path);
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
        const first = await decodeImage(p.decision.bytes, file.path, { maxPixels: config.image.maxPixels }, p.sha256);
        const images = [first];
        // Multi-page TIFF: every page is analysed (one at a time here; the pages of one file are few).
        for (const page of first.pages.slice(1)) {
          images.push(await decodeImage(p.decision.bytes, file.path, { maxPixels: config.image.maxPixels, page }, p.sha256));
        }
        return { planned: p, images, captureTime };
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
      const { planned, images, error, captureTime = null } = settled.value;
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
          if (planned.decision.kind === "analyse" && planned.decision.redo) summary.reanalysed++;
          if (error || !images?.[0]) {
            summary.errors++;
            batch.push({ ...base, status: "error", reason: error ? `${error.reason}: ${error.detail}` : "unknown", analysis: settings });
            break;
          }
          summary.analysed++;
          const faces: (FaceAnalysis & { page: number })[] = [];
          for (const image of images) {
            for (const face of await engine.analyze(image, config.detection, watch)) faces.push({ ...face, page: image.page });
          }
          summary.faces += faces.length;
          if (faces.length === 0) summary.noface++;
          const first = images[0];
          const note = images.length > 1 ? `pages: ${images.length} analysed; faces carry their page` : first.note;
          batch.push({
            ...base,
            status: faces.length > 0 ? "ok" : "noface",
            width: first.width,
            height: first.height,
            faces,
            detectorSha256: engine.detectorSha256,
            recognizerSha256: engine.recognizerSha256,
            analysis: settings,
            ...(note ? { decodeNote: note } : {}),
          });
        }
      }
      if (batch.length >= batchSize) await flush();
      options.onProgress?.(++done, walked.length);
    }
    // A folder that cannot be listed gets an error record (its path ends with a separator, so it is never taken
    // for a file); what is recorded under it is kept as it is: the photos may well still be there.
    const locked = tree.unreadableFolders.map((f) => f.path);
    for (const folder of tree.unreadableFolders) {
      batch.push({ path: folderRecordPath(folder.path), sha256: "", size: 0, mtimeMs: 0, status: "error", reason: `unreadable: ${folder.reason}` });
    }
    await flush();

    const present = new Set([...walked.map((f) => f.path), ...locked.map(folderRecordPath)]);
    const vanished = [...known.values()]
      .filter((f) => f.status !== "missing" && isUnder(f.path, source) && !present.has(f.path))
      .filter((f) => !locked.some((dir) => isUnder(f.path, dir)))
      .map((f) => f.path);
    if (vanished.length > 0) await store.markMissing(runId, vanished);
    // A folder that became readable again is no longer a failure; it is not a vanished photo either.
    summary.missing = vanished.filter((p) => !isFolderRecord(p)).length;

    summary.failures = [...(await store.knownFiles()).values()]
      .filter((f) => f.status === "error" && (isUnder(f.path, source) || f.path === folderRecordPath(source)))
      .map((f) => ({ path: f.path, reason: f.reason ?? "unknown" }));
  } catch (err) {
    await store.finishRun(runId, countsOf(summary), "interrupted").catch(() => {});
    throw err;
  }

  summary.seconds = (performance.now() - started) / 1000;
  summary.imagesPerSecond = summary.seconds > 0 ? summary.analysed / summary.seconds : 0;
  await store.finishRun(runId, countsOf(summary), "done");
  return summary;
}

/** The store path of a folder's own record: the folder with a trailing separator. */
export function folderRecordPath(folder: string): string {
  return folder.endsWith(path.sep) ? folder : folder + path.sep;
}

/** Whether a stored path is a folder's record (see folderRecordPath). */
export function isFolderRecord(p: string): boolean {
  return p.endsWith("/") || p.endsWith(path.sep);
}

/** The run record's counts: every bucket, unsupported files also per extension (`unsupported .txt`). */
export function countsOf(s: ScanSummary): Record<string, number> {
  const { files, seen, analysed, skipped, reanalysed, aliases, errors, ignored, unreadableFolders, noface, faces, missing } = s;
  const unsupported = Object.values(s.unsupported).reduce((a, b) => a + b, 0);
  const perExtension = Object.fromEntries(Object.entries(s.unsupported).map(([ext, n]) => [`unsupported ${ext || "(none)"}`, n]));
  const perIgnored = Object.fromEntries(Object.entries(s.ignoredByReason).map(([why, n]) => [`ignored ${why}`, n]));
  return {
    files, seen, analysed, skipped, reanalysed, aliases, errors, ignored, unsupported, unreadableFolders, noface, faces, missing,
    ...perExtension, ...perIgnored,
  };
}
