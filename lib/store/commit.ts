/**
 * Writing a batch (FaceStore.commitBatch): the batch is appended to temp staging tables on the handle's connection,
 * then merged into `files` and `faces` with set-based SQL, inside the caller's transaction. The column lists here
 * follow the tables of schema.ts.
 */
import {
  ARRAY,
  BIGINT,
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  FLOAT,
  INTEGER,
  LIST,
  listValue,
  TIMESTAMP,
  timestampValue,
  VARCHAR,
} from "@duckdb/node-api";
import { type FaceInsert, shortSha } from "./batch";
import { StoreError } from "./errors";
import type { FileOutcome } from "./records";
import { floatArrayValue } from "./vectors";

/** Rows per appended DuckDB data chunk (DuckDB's standard vector size). */
const CHUNK_ROWS = 2048;

export const STAGE_FILES = "stage_files";
export const STAGE_FACES = "stage_faces";

/** The staging tables of one connection and the statements that merge them. */
export class BatchStaging {
  /** Temp staging tables made on this connection (created outside transactions: see ensureStages). */
  #stagedFiles = false;
  #stagedFacesDim = 0;

  constructor(private readonly con: DuckDBConnection, private readonly storePath: string) {}

  async stageFiles(batch: readonly FileOutcome[]): Promise<void> {
    const types: DuckDBType[] = [VARCHAR, VARCHAR, BIGINT, DOUBLE, VARCHAR, VARCHAR, INTEGER, INTEGER, VARCHAR, TIMESTAMP, VARCHAR, VARCHAR];
    await this.append(STAGE_FILES, types, batch, (o) => [
      o.path,
      o.sha256,
      BigInt(Math.round(o.size)),
      o.mtimeMs,
      o.status,
      o.reason ?? null,
      o.width ?? null,
      o.height ?? null,
      o.status === "alias" ? o.aliasOf! : null,
      o.captureTime ? dateToTimestamp(o.captureTime, o.path) : null,
      o.analysis && o.status !== "alias" ? JSON.stringify(o.analysis) : null,
      o.decodeNote ?? null,
    ]);
  }

  async mergeFiles(runId: string): Promise<void> {
    await this.con.run(
      `INSERT INTO files (path, sha256, size, mtime_ms, status, reason, width, height, alias_of, capture_time,
                          first_seen_run, last_seen_run, analysis, updated_at, decode_note)
       SELECT path, sha256, size, mtime_ms, status, reason, width, height, alias_of, capture_time, $1, $1, analysis, now(),
              decode_note
       FROM temp.${STAGE_FILES}
       ON CONFLICT (path) DO UPDATE SET
         sha256 = excluded.sha256, size = excluded.size, mtime_ms = excluded.mtime_ms, status = excluded.status,
         reason = excluded.reason, width = excluded.width, height = excluded.height, alias_of = excluded.alias_of,
         capture_time = coalesce(excluded.capture_time, CASE WHEN sha256 = excluded.sha256 THEN capture_time END),
         last_seen_run = excluded.last_seen_run, analysis = excluded.analysis, updated_at = excluded.updated_at,
         decode_note = excluded.decode_note`,
      [runId],
      [VARCHAR],
    );
  }

  async stageFaces(faces: readonly FaceInsert[], dim: number): Promise<void> {
    const types: DuckDBType[] = [
      VARCHAR, VARCHAR, INTEGER, ARRAY(FLOAT, 4), ARRAY(FLOAT, 10), DOUBLE, DOUBLE, DOUBLE, INTEGER,
      ARRAY(FLOAT, dim), VARCHAR, VARCHAR, DOUBLE, INTEGER,
    ];
    await this.append(STAGE_FACES, types, faces, (f) => [
      f.faceId,
      f.fileSha256,
      f.detIndex,
      floatArrayValue(f.bbox),
      floatArrayValue(f.kps),
      f.detScore,
      f.faceShortPx,
      f.blur,
      f.detSizePx,
      floatArrayValue(f.embedding),
      f.detectorSha256,
      f.analysedPath,
      f.sharpness,
      f.page,
    ]);
  }

  async mergeFaces(runId: string, recognizerSha: string): Promise<void> {
    const [clash] = await this.rows(
      `SELECT s.face_id, s.analysed_path, f.file_sha256 FROM temp.${STAGE_FACES} s JOIN faces f ON f.face_id = s.face_id
       WHERE f.file_sha256 <> s.file_sha256 LIMIT 1`,
    );
    if (clash) {
      throw new StoreError(
        `${this.storePath}: ${clash.analysed_path as string}: face id ${clash.face_id as string} already belongs to other content (${shortSha(clash.file_sha256 as string)})`,
      );
    }
    await this.con.run(
      `INSERT INTO faces (face_id, file_sha256, det_index, bbox, kps, det_score, face_short, blur, sharpness, det_size,
                          embedding, recognizer_sha256, detector_sha256, run_id, analysed_path, retired, retired_at, page)
       SELECT face_id, file_sha256, det_index, bbox, kps, det_score, face_short, blur, sharpness, det_size, embedding,
              $1, detector_sha256, $2, analysed_path, false, NULL, page
       FROM temp.${STAGE_FACES}
       ON CONFLICT (face_id) DO UPDATE SET
         file_sha256 = excluded.file_sha256, det_index = excluded.det_index, bbox = excluded.bbox, kps = excluded.kps,
         det_score = excluded.det_score, face_short = excluded.face_short, blur = excluded.blur,
         sharpness = excluded.sharpness, det_size = excluded.det_size, embedding = excluded.embedding, recognizer_sha256 = excluded.recognizer_sha256,
         detector_sha256 = excluded.detector_sha256, run_id = excluded.run_id, analysed_path = excluded.analysed_path,
         retired = false, retired_at = NULL, page = excluded.page`,
      [recognizerSha, runId],
      [VARCHAR, VARCHAR],
    );
  }

  /**
   * After paths stopped holding some content (bytes changed, or the file went missing): a live alias of content
   * whose canonical left becomes canonical (taking the old canonical's status and size), the other aliases point
   * at it; with `retire`, faces of content no live path holds any more are retired.
   */
  async afterPathsLeftContent(
    left: ReadonlyArray<Record<string, unknown>>,
    { retire = true, dim }: { retire?: boolean; dim: number | undefined },
  ): Promise<void> {
    if (left.length === 0) return;
    const canonicalLeft = new Map<string, Record<string, unknown>>();
    for (const row of left) {
      if (row.status !== "alias" && row.sha256 !== "" && !canonicalLeft.has(row.sha256 as string)) canonicalLeft.set(row.sha256 as string, row);
    }
    if (canonicalLeft.size > 0) {
      const holders = await this.rows(
        `SELECT sha256, count(*) FILTER (WHERE status <> 'alias')::DOUBLE AS canonical,
                min(path) FILTER (WHERE status = 'alias') AS first_alias
         FROM files WHERE status <> 'missing' AND sha256 IN (SELECT unnest($1)) GROUP BY sha256`,
        [listValue([...canonicalLeft.keys()])],
        [LIST(VARCHAR)],
      );
      for (const h of holders) {
        if (h.canonical !== 0 || h.first_alias === null) continue;
        const old = canonicalLeft.get(h.sha256 as string)!;
        await this.con.run(
          `UPDATE files SET status = $2, reason = $3, width = $4, height = $5, analysis = $6, alias_of = NULL, updated_at = now()
           WHERE path = $1`,
          [
            h.first_alias as string, old.status as string, (old.reason as string | null) ?? null, (old.width as number | null) ?? null,
            (old.height as number | null) ?? null, (old.analysis as string | null) ?? null,
          ],
          [VARCHAR, VARCHAR, VARCHAR, INTEGER, INTEGER, VARCHAR],
        );
        await this.con.run(
          `UPDATE files SET alias_of = $1, updated_at = now() WHERE sha256 = $2 AND status IN ('alias', 'missing') AND alias_of IS NOT NULL`,
          [h.first_alias as string, h.sha256 as string],
          [VARCHAR, VARCHAR],
        );
      }
    }
    if (retire && dim !== undefined) {
      const shas = [...new Set(left.map((r) => r.sha256 as string).filter((s) => s !== ""))];
      if (shas.length === 0) return;
      await this.con.run(
        `UPDATE faces SET retired = true, retired_at = now()
         WHERE NOT retired AND file_sha256 IN (SELECT unnest($1))
           AND file_sha256 NOT IN (SELECT sha256 FROM files WHERE status <> 'missing')`,
        [listValue(shas)],
        [LIST(VARCHAR)],
      );
    }
  }

  async ensureStages(dim: number | undefined): Promise<void> {
    if (!this.#stagedFiles) {
      await this.con.run(
        `CREATE TEMP TABLE IF NOT EXISTS ${STAGE_FILES} (path VARCHAR, sha256 VARCHAR, size BIGINT, mtime_ms DOUBLE,
           status VARCHAR, reason VARCHAR, width INTEGER, height INTEGER, alias_of VARCHAR, capture_time TIMESTAMP,
           analysis VARCHAR, decode_note VARCHAR)`,
      );
      this.#stagedFiles = true;
    }
    if (dim !== undefined && this.#stagedFacesDim !== dim) {
      await this.con.run(
        `CREATE TEMP TABLE IF NOT EXISTS ${STAGE_FACES} (face_id VARCHAR, file_sha256 VARCHAR, det_index INTEGER,
           bbox FLOAT[4], kps FLOAT[10], det_score DOUBLE, face_short DOUBLE, blur DOUBLE, det_size INTEGER,
           embedding FLOAT[${dim}], detector_sha256 VARCHAR, analysed_path VARCHAR, sharpness DOUBLE, page INTEGER)`,
      );
      this.#stagedFacesDim = dim;
    }
  }

  /**
   * Bulk-append rows to a temp staging table through DuckDB data chunks. [Note: appender] Measured with 512-d faces
   * (Node 20, same machine as schema.ts): whole data chunks of column values stage 10,000 faces and upsert them in
   * ~0.9 s; the appender's row-wise `appendArray` (a DuckDB value per float) needs ~12.5 s; a multi-row INSERT with
   * bound ARRAY parameters ~11.5 s; one prepared INSERT per face ~65 s. For a scan-sized commit (50 faces) the
   * chunk path costs ~15 ms, against ~40 ms (row-wise appender, multi-row INSERT) and ~200 ms (prepared INSERT
   * per face). Staging also gives the appender, which cannot upsert, `INSERT ... ON CONFLICT` semantics.
   */
  private async append<T>(table: string, types: DuckDBType[], items: readonly T[], row: (item: T) => DuckDBValue[]): Promise<void> {
    const appender = await this.con.createAppender(table, "main", "temp");
    try {
      for (let start = 0; start < items.length; start += CHUNK_ROWS) {
        const part = items.slice(start, start + CHUNK_ROWS);
        const chunk = DuckDBDataChunk.create(types, part.length);
        const columns: DuckDBValue[][] = types.map(() => new Array<DuckDBValue>(part.length));
        part.forEach((item, r) => row(item).forEach((v, c) => (columns[c]![r] = v)));
        chunk.setColumns(columns);
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  private async rows(sql: string, params?: DuckDBValue[], types?: DuckDBType[]): Promise<Record<string, unknown>[]> {
    return (await this.con.runAndReadAll(sql, params, types)).getRowObjectsJS();
  }
}

/** A UTC-naive Date (see lib/image/exif.ts) as a DuckDB TIMESTAMP (microseconds); refuses an invalid Date. */
function dateToTimestamp(date: Date, where: string): DuckDBTimestampValue {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new StoreError(`${where}: captureTime is an invalid Date`);
  return timestampValue(BigInt(ms) * 1000n);
}
