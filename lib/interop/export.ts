/**
 * Export the face store for Python and other tools (`deno task export-store`).
 *
 * npz arrays (N faces, D embedding dims; strings are fixed-width unicode, never pickled objects):
 *   face_id [N] <U24    path [N] <U (canonical live path)    sha256 [N] <U64 (file content)
 *   det_index [N] <i4   bbox [N,4] <f4 (x1,y1,x2,y2 px)      kps [N,5,2] <f4 (NaN when unknown)
 *   det_score [N] <f4 (NaN when unknown)   face_short [N] <f4 (px)   blur [N] <f4 (NaN when unknown)
 *   det_size [N] <i4 (640/128; -1 when unknown)   retired [N] |b1   embedding [N,D] <f4 (unit length)
 *   sharpness [N] <f4 (facesets' size-independent blur measure, not InsightFace's; NaN when unknown)
 *   recognizer_sha256 [] <U64 (0-d; "" for an empty store)
 *   file_path, file_sha256, file_status, file_reason, file_alias_of [F] <U (every stored path; "" for none)
 *   file_capture_time [F] <U19 (EXIF DateTimeOriginal as "YYYY-MM-DDTHH:MM:SS", camera local time; "" for none)
 * Parquet: the faces in `OUT` and the file rows in `<OUT stem>.files.parquet`, in the layout of
 * lib/store/parquet.ts (the same face columns, kps as FLOAT[2][5], NULL when unknown, plus `paths`; the file
 * columns plus file_width, file_height; file_capture_time as a TIMESTAMP without zone).
 */
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import type { FaceFilter } from "../store/records";
import type { FaceStore } from "../store/store";
import { npyBool, npyFloat32, npyInt32, npyStrings } from "./npy";
import { writeNpz } from "./npz";

export type StoreExportFormat = "npz" | "parquet";
export const STORE_EXPORT_FORMATS: readonly StoreExportFormat[] = ["npz", "parquet"];

export interface StoreExportSummary {
  format: StoreExportFormat;
  /** Files written (faces first). */
  outputs: string[];
  faces: number;
  files: number;
  dim: number;
}

/** `<OUT stem>.files.parquet` beside OUT: `faces.parquet` -> `faces.files.parquet`. */
export function filesParquetPath(out: string): string {
  const ext = path.extname(out);
  const stem = ext.toLowerCase() === ".parquet" ? out.slice(0, -ext.length) : out;
  return `${stem}.files.parquet`;
}

/** The format an output name implies, if any. */
export function formatOfPath(out: string): StoreExportFormat | undefined {
  const ext = path.extname(out).toLowerCase();
  return ext === ".npz" ? "npz" : ext === ".parquet" ? "parquet" : undefined;
}

/** Write the store's faces (per `filter`) and all file rows to `out` as an .npz (atomic). */
export async function exportStoreNpz(store: FaceStore, out: string, filter: FaceFilter = {}): Promise<StoreExportSummary> {
  const rows = await store.selectFaces(filter);
  const files = [...(await store.knownFiles()).values()];
  const { dim, data } = store.embeddingMatrix(rows);
  const n = rows.length;
  const bbox = new Float32Array(n * 4);
  const kps = new Float32Array(n * 10).fill(Number.NaN);
  const detScore = new Float32Array(n);
  const faceShort = new Float32Array(n);
  const blur = new Float32Array(n);
  const sharpness = new Float32Array(n);
  const detIndex = new Int32Array(n);
  const detSize = new Int32Array(n);
  rows.forEach((r, i) => {
    bbox.set(r.bbox, i * 4);
    if (r.kps) kps.set(r.kps.flat(), i * 10);
    detScore[i] = r.detScore ?? Number.NaN;
    faceShort[i] = r.faceShortPx;
    blur[i] = r.blur ?? Number.NaN;
    sharpness[i] = r.sharpness ?? Number.NaN;
    detIndex[i] = r.detIndex;
    detSize[i] = r.detSizePx ?? -1;
  });
  await writeNpz(out, [
    ["face_id", npyStrings(rows.map((r) => r.faceId))],
    ["path", npyStrings(rows.map((r) => r.path))],
    ["sha256", npyStrings(rows.map((r) => r.fileSha256))],
    ["det_index", npyInt32(detIndex)],
    ["bbox", npyFloat32(bbox, [n, 4])],
    ["kps", npyFloat32(kps, [n, 5, 2])],
    ["det_score", npyFloat32(detScore)],
    ["face_short", npyFloat32(faceShort)],
    ["blur", npyFloat32(blur)],
    ["det_size", npyInt32(detSize)],
    ["retired", npyBool(rows.map((r) => r.retired))],
    ["embedding", npyFloat32(data, [n, dim])],
    ["sharpness", npyFloat32(sharpness)],
    ["recognizer_sha256", npyStrings([store.recognizer?.sha256 ?? ""], [])],
    ["file_path", npyStrings(files.map((f) => f.path))],
    ["file_sha256", npyStrings(files.map((f) => f.sha256))],
    ["file_status", npyStrings(files.map((f) => f.status))],
    ["file_reason", npyStrings(files.map((f) => f.reason ?? ""))],
    ["file_alias_of", npyStrings(files.map((f) => f.aliasOf ?? ""))],
    ["file_capture_time", npyStrings(files.map((f) => captureTimeText(f.captureTime)))],
  ]);
  return { format: "npz", outputs: [out], faces: n, files: files.length, dim };
}

/** A capture time as numpy can parse it (`np.datetime64`); the store keeps it zone-less, so it is read as UTC. */
export function captureTimeText(time: Date | null): string {
  return time ? time.toISOString().slice(0, 19) : "";
}

/** Write faces to `out` and file rows to `filesParquetPath(out)` as Parquet (each atomic: temp + rename). */
export async function exportStoreParquet(store: FaceStore, out: string, filter: FaceFilter = {}): Promise<StoreExportSummary> {
  const filesOut = filesParquetPath(out);
  const tmpFaces = `${out}.${process.pid}.tmp`;
  const tmpFiles = `${filesOut}.${process.pid}.tmp`;
  try {
    const written = await store.copyToParquet(tmpFaces, tmpFiles, filter);
    await rename(tmpFiles, filesOut);
    await rename(tmpFaces, out);
    return { format: "parquet", outputs: [out, filesOut], faces: written.faces, files: written.files, dim: store.recognizer?.dim ?? 0 };
  } catch (err) {
    await rm(tmpFaces, { force: true });
    await rm(tmpFiles, { force: true });
    throw err;
  }
}
