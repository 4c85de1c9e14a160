/**
 * Typed records of the face store (lib/store/store.ts). Field names follow the project's camelCase-with-units
 * convention; the SQL columns are their snake_case twins (`detSizePx` <-> `det_size`, `faceShortPx` <->
 * `face_short`). Embeddings are unit length (see [Note: cosine] in lib/types.ts).
 */
import type { BBox, Landmarks5 } from "../types";
import type { AnalysisSettings } from "./analysis";

/**
 * What the store knows about a path.
 * - `ok`: analysed, at least one face; `noface`: analysed, none found; `error`: could not be read or decoded
 *   (`reason` says why);
 * - `alias`: byte-identical to `aliasOf`, not analysed (its faces are the canonical file's, shared by content);
 * - `missing`: seen by an earlier run, gone now. Its faces are kept, so a file that comes back (a remounted
 *   drive) is not analysed again when another live path still holds its bytes.
 */
export type FileStatus = "ok" | "noface" | "error" | "alias" | "missing";
export const FILE_STATUSES: readonly FileStatus[] = ["ok", "noface", "error", "alias", "missing"];

/** The statuses a scan reports for a file it looked at (`missing` is set by `markMissing` only). */
export type OutcomeStatus = Exclude<FileStatus, "missing">;
export const OUTCOME_STATUSES: readonly OutcomeStatus[] = ["ok", "noface", "error", "alias"];

export type RunStatus = "running" | "done" | "interrupted";
export const RUN_STATUSES: readonly RunStatus[] = ["running", "done", "interrupted"];

/** One row of `files`, keyed by path exactly as the scanner gave it (absolute or relative). */
export interface StoredFile {
  path: string;
  /** sha256 of the bytes, lowercase hex; "" when the file could not even be read (status `error`). */
  sha256: string;
  /** Bytes. */
  size: number;
  /** Modification time, ms since the epoch. */
  mtimeMs: number;
  status: FileStatus;
  /** Why an `error` file failed (an ImageErrorReason plus detail); null otherwise. */
  reason: string | null;
  /** Pixels of the decoded, EXIF-oriented image; null when not decoded (alias, error). */
  width: number | null;
  height: number | null;
  /** The canonical path an alias shares its bytes with; null otherwise. */
  aliasOf: string | null;
  /** EXIF DateTimeOriginal as written (camera local time, no zone); null when unknown. */
  captureTime: Date | null;
  firstSeenRun: string;
  lastSeenRun: string;
  /**
   * The settings and model sha256s that made this record (ok, noface, error); null when unknown (aliases, missing
   * files' last state aside, imports, and records of runs that kept no config).
   */
  analysis: AnalysisSettings | null;
  /** When the row last changed. */
  updatedAt: Date;
  /**
   * What was analysed when it was not simply the file's image: `raw-preview: ...` (a RAW file's embedded JPEG),
   * `first-frame: ...` (an animation), `pages: N` (a multi-page TIFF); null otherwise.
   */
  decodeNote: string | null;
}

/**
 * A face to store. A FaceAnalysis from the engine is one; faces imported from another tool's cache may lack
 * landmarks, score, blur or detection size (null) and may bring their own index or id.
 */
export interface FaceInput {
  bbox: BBox;
  kps: Landmarks5 | null;
  detScore: number | null;
  faceShortPx: number;
  blur: number | null;
  /** Size-independent sharpness (faceSharpness); absent or null when not measured (imports, older stores). */
  sharpness?: number | null;
  detSizePx: number | null;
  /** Unit length. */
  embedding: Float32Array;
  /** Default: the face's position in `FileOutcome.faces`. */
  detIndex?: number;
  /** Default: `faceId(sha256, detIndex)`. */
  faceId?: string;
  /**
   * The page of a multi-page file the face is on (default 0). detIndex numbers the faces of all pages together,
   * so face ids stay `faceId(sha256, detIndex)`.
   */
  page?: number;
}

/** What a scan learned about one file, committed with others in `FaceStore.commitBatch`. */
export interface FileOutcome {
  path: string;
  /** sha256 of the bytes ("" only for an `error` file that could not be read). */
  sha256: string;
  size: number;
  mtimeMs: number;
  status: OutcomeStatus;
  /** Required for `error`. */
  reason?: string;
  width?: number;
  height?: number;
  /** Required for `alias`. */
  aliasOf?: string;
  /**
   * EXIF DateTimeOriginal of the bytes (camera local time as written, as a UTC-naive Date); null when they have
   * none. Absent (undefined) when the writer did not look: a stored time of the same bytes is then kept.
   */
  captureTime?: Date | null;
  /**
   * `ok`: the faces found, in detector order (the index is the face's `detIndex`); these become the complete face
   * set of the content, replacing earlier ones. `noface`: empty or absent. Others: must be absent.
   */
  faces?: FaceInput[];
  /** The settings that made this outcome (ok, noface, error): kept so a scan with other settings redoes it. */
  analysis?: AnalysisSettings;
  /** Model provenance of `faces` (the recognizer must be the store's). */
  detectorSha256?: string;
  recognizerSha256?: string;
  /** See StoredFile.decodeNote. */
  decodeNote?: string;
}

/** One face as read back for notebooks and later stages. */
export interface FaceRow {
  /** sha256(`${fileSha256}:${detIndex}`) truncated to 24 hex chars (see `faceId`). */
  faceId: string;
  /** The content the face belongs to: byte-identical copies share faces. */
  fileSha256: string;
  /**
   * The canonical live path of that content (a non-alias path first, then the smallest path). For a face whose
   * content has no live path any more (listed with `includeRetired` only): the path it was analysed under.
   */
  path: string;
  /** Every live (not missing) path holding the content, sorted; empty when none is left. */
  paths: string[];
  detIndex: number;
  bbox: BBox;
  /** null for faces imported without landmarks. */
  kps: Landmarks5 | null;
  /** null for faces imported without a detector score. */
  detScore: number | null;
  faceShortPx: number;
  /** null for imported faces without a blur measure. */
  blur: number | null;
  /**
   * Size-independent sharpness (lib/face/quality.ts faceSharpness); null (selectFaces) or absent for imported faces
   * and faces stored before it existed: the gates then use `blur`.
   */
  sharpness?: number | null;
  /** The detection pass that found the face (640 or 128); null for imported faces without it. */
  detSizePx: number | null;
  /**
   * Unit-length embedding. Rows read together share one buffer per result chunk (each row holds a view):
   * copy before mutating if other rows must stay untouched.
   */
  embedding: Float32Array;
  retired: boolean;
  /**
   * EXIF DateTimeOriginal of the content, read from its canonical live file (camera local time as a UTC-naive
   * Date); null when the file has none, and for faces without a live path.
   */
  captureTime: Date | null;
  /**
   * The page of a multi-page file (TIFF) the face is on; coordinates are that page's. selectFaces always sets it
   * (0 for single-image files); rows built elsewhere may leave it out, which means 0.
   */
  page?: number;
}

/** Which faces `selectFaces` returns. */
export interface FaceFilter {
  /**
   * Only faces with a live path inside this folder (a path prefix on a separator boundary: `/a/b` matches
   * `/a/b/x.jpg`, never `/a/bc/x.jpg`). Default: all faces.
   */
  under?: string;
  /**
   * Also list retired faces (content replaced or no longer referenced) and faces whose every path is missing;
   * without a live path they match `under` by the path they were analysed under. Default false.
   */
  includeRetired?: boolean;
}

/** What `beginRun` records. */
export interface RunInfo {
  /** The command line (for the record). */
  command: string;
  /** The resolved RunConfig (stored as JSON). */
  config: unknown;
  /** null when unknown (imported embeddings). */
  detectorSha256: string | null;
  recognizerSha256: string;
}

/** One row of `runs`. */
export interface StoredRun {
  runId: string;
  startedAt: Date;
  finishedAt: Date | null;
  command: string;
  config: unknown;
  detectorSha256: string | null;
  recognizerSha256: string | null;
  counts: Record<string, number> | null;
  status: RunStatus;
}

export interface StoreCounts {
  /** Files per status (every status present, zero when none). */
  files: Record<FileStatus, number>;
  /** Faces not retired. */
  faces: number;
  retiredFaces: number;
}
