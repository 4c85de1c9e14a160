/**
 * What the store knows about one source folder, summarised for run records, reports and notebooks: files by
 * extension and status, byte-duplicates, PSDs, and face statistics.
 */
import path from "node:path";
import type { FaceRow, FileStatus, StoredFile } from "../store/records";
import { isFolderRecord, isUnder } from "./scan";
import type { IgnoredReason, WalkResult } from "./walk";

export interface ExtensionCoverage {
  /** Lower-case extension with the dot (".jpg"). */
  extension: string;
  files: number;
  /** Files analysed (ok or noface). */
  analysed: number;
  withFaces: number;
  errors: number;
  /** Byte-identical copies of another file (not analysed again). */
  aliases: number;
  missing: number;
}

/** The source as it is on disk now: the scan's buckets for what the store does not hold (walkTree). */
export interface DiskCoverage {
  /** Every non-folder entry under the source. */
  files: number;
  /** Files with a photo extension (their state is in the store buckets). */
  photos: number;
  /** Lowercase extension ("" when none) -> files facesets does not read. */
  unsupported: Record<string, number>;
  ignored: Record<IgnoredReason, number>;
  /** Folders that could not be listed (their files are not counted). */
  unreadableFolders: string[];
}

export interface SourceCoverage {
  source: string;
  /** Photo files the store holds records of under the source (folder records excluded). */
  files: number;
  byStatus: Record<FileStatus, number>;
  byExtension: ExtensionCoverage[];
  /** Files whose bytes equal another file's (aliases). */
  byteDuplicates: number;
  psdFiles: number;
  /** Why files failed, with counts (the loader's typed reason, before the colon). */
  errorReasons: { reason: string; files: number }[];
  faces: number;
  /** Photos with k faces, for k = 0.. (analysed files only; aliases count once, with their canonical file). */
  facesPerImage: { faces: number; images: number }[];
  median: { faceShortPx: number | null; detScore: number | null; blur: number | null };
  /** The on-disk buckets, when the source was walked for this summary. */
  disk?: DiskCoverage;
}

/** A walk's buckets as DiskCoverage. */
export function diskCoverage(tree: WalkResult): DiskCoverage {
  return {
    files: tree.files,
    photos: tree.images.length,
    unsupported: Object.fromEntries([...tree.unsupported].sort(([a], [b]) => a.localeCompare(b))),
    ignored: Object.fromEntries([...tree.ignored].sort(([a], [b]) => a.localeCompare(b))) as Record<IgnoredReason, number>,
    unreadableFolders: tree.unreadableFolders.map((f) => f.path),
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Summarise `files` (e.g. store.knownFiles()) and `faces` (store.selectFaces({ under })) under `source`; `tree`
 * (walkTree of the source) adds what is on disk but not in the store: unsupported and ignored files.
 */
export function sourceCoverage(source: string, files: Iterable<StoredFile>, faces: readonly FaceRow[], tree?: WalkResult): SourceCoverage {
  const root = path.resolve(source);
  const under = [...files].filter((f) => isUnder(f.path, root) && !isFolderRecord(f.path));
  const byStatus: Record<FileStatus, number> = { ok: 0, noface: 0, error: 0, alias: 0, missing: 0 };
  const byExt = new Map<string, ExtensionCoverage>();
  const reasons = new Map<string, number>();
  for (const f of under) {
    byStatus[f.status]++;
    const extension = path.extname(f.path).toLowerCase();
    let e = byExt.get(extension);
    if (!e) byExt.set(extension, e = { extension, files: 0, analysed: 0, withFaces: 0, errors: 0, aliases: 0, missing: 0 });
    e.files++;
    if (f.status === "ok" || f.status === "noface") e.analysed++;
    if (f.status === "ok") e.withFaces++;
    if (f.status === "error") {
      e.errors++;
      const reason = (f.reason ?? "unknown").split(":")[0]!;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    if (f.status === "alias") e.aliases++;
    if (f.status === "missing") e.missing++;
  }
  const perContent = new Map<string, number>();
  for (const face of faces) perContent.set(face.fileSha256, (perContent.get(face.fileSha256) ?? 0) + 1);
  const histogram = new Map<number, number>([[0, byStatus.noface]]);
  for (const k of perContent.values()) histogram.set(k, (histogram.get(k) ?? 0) + 1);
  return {
    source: root,
    files: under.length,
    byStatus,
    byExtension: [...byExt.values()].sort((a, b) => b.files - a.files || a.extension.localeCompare(b.extension)),
    byteDuplicates: byStatus.alias,
    psdFiles: byExt.get(".psd")?.files ?? 0,
    errorReasons: [...reasons].map(([reason, files]) => ({ reason, files })).sort((a, b) => b.files - a.files),
    faces: faces.length,
    facesPerImage: [...histogram].map(([k, images]) => ({ faces: k, images })).sort((a, b) => a.faces - b.faces),
    median: {
      faceShortPx: median(faces.map((f) => f.faceShortPx)),
      detScore: median(faces.flatMap((f) => (f.detScore === null ? [] : [f.detScore]))),
      blur: median(faces.flatMap((f) => (f.blur === null ? [] : [f.blur]))),
    },
    ...(tree ? { disk: diskCoverage(tree) } : {}),
  };
}
