/**
 * The Parquet layout of `deno task export-store --format parquet`, defined once: the faces file (the npz export's
 * face columns, with kps as FLOAT[2][5] and `paths`, every live path of the face's content) and the files file
 * (one row per stored path). FaceStore.copyToParquet writes both with DuckDB's COPY; lib/interop/export.ts names
 * the files and makes the writes atomic.
 */
import type { DuckDBType, DuckDBValue } from "@duckdb/node-api";
import { facesQuery } from "./faces_query";
import type { FaceFilter } from "./records";

/** A Parquet column: its name, its SQL over the faces selection (or `files`), and its type in an empty file. */
export interface ParquetColumn {
  name: string;
  sql: string;
  type: string;
}

/** The faces file, over `faces f LEFT JOIN live l` of facesQuery. NULL kps / det_score / blur: unknown. */
export const PARQUET_FACE_COLUMNS: readonly ParquetColumn[] = [
  { name: "face_id", sql: "f.face_id", type: "VARCHAR" },
  { name: "path", sql: "coalesce(l.canonical, f.analysed_path)", type: "VARCHAR" },
  { name: "sha256", sql: "f.file_sha256", type: "VARCHAR" },
  { name: "bbox", sql: "f.bbox", type: "FLOAT[4]" },
  {
    name: "kps",
    sql: "CASE WHEN f.kps IS NULL THEN NULL\n" +
      "            ELSE list_transform(range(5), i -> [f.kps[2 * i + 1], f.kps[2 * i + 2]])::FLOAT[2][5] END",
    type: "FLOAT[2][5]",
  },
  { name: "det_score", sql: "f.det_score::FLOAT", type: "FLOAT" },
  { name: "face_short", sql: "f.face_short::FLOAT", type: "FLOAT" },
  { name: "blur", sql: "f.blur::FLOAT", type: "FLOAT" },
  // facesets' size-independent measure (what minBlur gates on); NULL for imported faces.
  { name: "sharpness", sql: "f.sharpness::FLOAT", type: "FLOAT" },
  { name: "det_index", sql: "f.det_index", type: "INTEGER" },
  { name: "det_size", sql: "f.det_size", type: "INTEGER" },
  { name: "retired", sql: "f.retired", type: "BOOLEAN" },
  { name: "paths", sql: "coalesce(l.paths, []::VARCHAR[])", type: "VARCHAR[]" },
  // FLOAT[D] in a store with faces; an empty store has no D.
  { name: "embedding", sql: "f.embedding", type: "FLOAT[]" },
  // The page of a multi-page TIFF the face is on (its bbox is in that page's pixels); 0 otherwise.
  { name: "page", sql: "coalesce(f.page, 0)", type: "INTEGER" },
];

/** The files file: every stored path, by path (capture_time: EXIF time, a TIMESTAMP without zone). */
export const PARQUET_FILE_COLUMNS: readonly ParquetColumn[] = [
  { name: "file_path", sql: "path", type: "VARCHAR" },
  { name: "file_sha256", sql: "sha256", type: "VARCHAR" },
  { name: "file_status", sql: "status", type: "VARCHAR" },
  { name: "file_reason", sql: "reason", type: "VARCHAR" },
  { name: "file_alias_of", sql: "alias_of", type: "VARCHAR" },
  { name: "file_width", sql: "width", type: "INTEGER" },
  { name: "file_height", sql: "height", type: "INTEGER" },
  { name: "file_capture_time", sql: "capture_time", type: "TIMESTAMP" },
  // What was analysed when not simply the file's image (RAW preview, first frame, TIFF pages).
  { name: "file_decode_note", sql: "decode_note", type: "VARCHAR" },
];

/** The faces Parquet select list, for facesQuery. */
function parquetFaceSelect(): string {
  return PARQUET_FACE_COLUMNS.map((c) => `${c.sql} AS ${c.name}`).join(", ");
}

/** A SQL string literal (quotes doubled): for COPY targets, which take no parameters. */
function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * COPY of the faces selected by `filter` to `out`; with `hasFaces` false (a store without a `faces` table yet) an
 * empty file with the same columns.
 */
export function copyFacesParquetSql(
  out: string,
  filter: FaceFilter,
  hasFaces: boolean,
): { sql: string; params: DuckDBValue[]; types: DuckDBType[] } {
  if (!hasFaces) {
    const empty = PARQUET_FACE_COLUMNS.map((c) => `NULL::${c.type} AS ${c.name}`).join(", ");
    return { sql: `COPY (SELECT ${empty} LIMIT 0) TO ${sqlString(out)} (FORMAT parquet)`, params: [], types: [] };
  }
  const { sql, params, types } = facesQuery(filter, parquetFaceSelect());
  return { sql: `COPY (${sql}) TO ${sqlString(out)} (FORMAT parquet)`, params, types };
}

/** COPY of every file row, by path, to `out`. */
export function copyFilesParquetSql(out: string): string {
  const select = PARQUET_FILE_COLUMNS.map((c) => `${c.sql} AS ${c.name}`).join(", ");
  return `COPY (SELECT ${select} FROM files ORDER BY path) TO ${sqlString(out)} (FORMAT parquet)`;
}
