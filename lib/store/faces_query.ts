/**
 * Reading faces: the one faces selection (live paths, `under` folders, retired faces) that `selectFaces` and the
 * Parquet export share, and its result chunks turned into FaceRows.
 */
import path from "node:path";
import {
  type DuckDBListValue,
  type DuckDBResult,
  type DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from "@duckdb/node-api";
import type { Landmarks5, Point } from "../types";
import type { FaceFilter, FaceRow } from "./records";
import { floatArrayItem, readFloatArrays, tryReadFloatArraysFast } from "./vectors";

/** Folder prefixes for `under` matching: the folder plus a separator, so `/a/b` never matches `/a/bc/x.jpg`. */
export function folderPrefixes(folder: string): string[] {
  let f = path.normalize(folder);
  while (f.length > 1 && (f.endsWith("/") || f.endsWith(path.sep))) f = f.slice(0, -1);
  if (f === "/" || f === path.sep) return [f];
  return [...new Set([`${f}/`, `${f}${path.sep}`])];
}

/** Column positions of `facesQuery` results. */
const FACE_COLUMNS = {
  face_id: 0,
  file_sha256: 1,
  det_index: 2,
  bbox: 3,
  kps: 4,
  det_score: 5,
  face_short: 6,
  blur: 7,
  det_size: 8,
  retired: 9,
  path: 10,
  paths: 11,
  embedding: 12,
  capture_time: 13,
  sharpness: 14,
  page: 15,
} as const;

/** The select list whose columns FACE_COLUMNS numbers. */
const FACE_SELECT = `f.face_id, f.file_sha256, f.det_index, f.bbox, f.kps, f.det_score, f.face_short, f.blur, f.det_size, f.retired,
       coalesce(l.canonical, f.analysed_path) AS path, coalesce(l.paths, []::VARCHAR[]) AS paths, f.embedding,
       l.capture_time, f.sharpness, f.page`;

/** The faces selection shared by `selectFaces` and the Parquet export (parquet.ts). */
export function facesQuery(
  { under, includeRetired = false }: FaceFilter,
  /** Another select list over `faces f LEFT JOIN live l` (the Parquet layout); default the FACE_COLUMNS one. */
  select = FACE_SELECT,
): { sql: string; params: DuckDBValue[]; types: DuckDBType[] } {
  const prefixes = under === undefined ? [] : folderPrefixes(under);
  const params: DuckDBValue[] = prefixes.length > 0 ? [listValue(prefixes)] : [];
  const types: DuckDBType[] = prefixes.length > 0 ? [LIST(VARCHAR)] : [];
  const underSql = (col: string) => `list_bool_or(list_transform($1, p -> starts_with(${col}, p)))`;
  const liveHit = prefixes.length > 0 ? `l.hit` : `true`;
  const orphanHit = prefixes.length > 0 ? underSql("f.analysed_path") : `true`;
  const where = includeRetired
    ? `(l.sha256 IS NOT NULL AND ${liveHit}) OR (l.sha256 IS NULL AND ${orphanHit})`
    : `l.sha256 IS NOT NULL AND NOT f.retired AND ${liveHit}`;
  const sql = `
    WITH live AS (
      SELECT sha256,
             first(path ORDER BY status = 'alias', path) AS canonical,
             list(path ORDER BY path) AS paths,
             first(capture_time ORDER BY status = 'alias', path) AS capture_time,
             ${prefixes.length > 0 ? `bool_or(${underSql("path")})` : "true"} AS hit
      FROM files WHERE status <> 'missing' AND sha256 <> '' GROUP BY sha256
    )
    SELECT ${select}
    FROM faces f LEFT JOIN live l ON l.sha256 = f.file_sha256
    WHERE ${where}
    ORDER BY path, f.det_index, f.face_id`;
  return { sql, params, types };
}

/** The rows of a facesQuery result (not for the Parquet layout), `dim`-float embeddings, in result order. */
export async function readFaceRows(result: DuckDBResult, dim: number): Promise<FaceRow[]> {
  const out: FaceRow[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    const col = (name: keyof typeof FACE_COLUMNS) => chunk.getColumnVector(FACE_COLUMNS[name]);
    const embeddings = new Float32Array(n * dim);
    readFloatArrays(col("embedding"), n, dim, embeddings);
    const bboxes = new Float32Array(n * 4);
    readFloatArrays(col("bbox"), n, 4, bboxes);
    const [ids, shas, idx, kps, score, short, blur, detSize, retired, paths, pathLists, captures] = [
      col("face_id"), col("file_sha256"), col("det_index"), col("kps"), col("det_score"), col("face_short"),
      col("blur"), col("det_size"), col("retired"), col("path"), col("paths"), col("capture_time"),
    ];
    const sharpness = col("sharpness");
    const pages = col("page");
    const kpsBuf = new Float32Array(n * 10);
    const kpsFlat = tryReadFloatArraysFast(kps, n, 10, kpsBuf); // else some face has none: read row by row
    for (let r = 0; r < n; r++) {
      const k = kpsFlat ? Array.from(kpsBuf.subarray(r * 10, r * 10 + 10)) : floatArrayItem(kps, r);
      const b = bboxes.subarray(r * 4, r * 4 + 4);
      out.push({
        faceId: ids.getItem(r) as string,
        fileSha256: shas.getItem(r) as string,
        path: paths.getItem(r) as string,
        paths: ((pathLists.getItem(r) as DuckDBListValue | null)?.items ?? []) as string[],
        detIndex: idx.getItem(r) as number,
        bbox: [b[0]!, b[1]!, b[2]!, b[3]!],
        kps: k === null ? null : toLandmarks(k),
        detScore: (score.getItem(r) as number | null) ?? null,
        faceShortPx: short.getItem(r) as number,
        blur: (blur.getItem(r) as number | null) ?? null,
        sharpness: (sharpness.getItem(r) as number | null) ?? null,
        detSizePx: (detSize.getItem(r) as number | null) ?? null,
        embedding: embeddings.subarray(r * dim, (r + 1) * dim),
        retired: retired.getItem(r) as boolean,
        captureTime: timestampToDate(captures.getItem(r) as DuckDBTimestampValue | null),
        page: (pages.getItem(r) as number | null) ?? 0,
      });
    }
  }
  return out;
}

/** A DuckDB TIMESTAMP back as a Date whose UTC fields are the stored ones (sub-millisecond digits dropped). */
function timestampToDate(value: DuckDBTimestampValue | null): Date | null {
  if (value === null) return null;
  return new Date(Number(value.micros / 1000n));
}

function toLandmarks(k: number[]): Landmarks5 {
  const p = (i: number): Point => [k[2 * i]!, k[2 * i + 1]!];
  return [p(0), p(1), p(2), p(3), p(4)];
}
