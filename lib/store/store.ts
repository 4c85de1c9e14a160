/**
 * The face-record store: one embedded DuckDB file (default `data/facesets.duckdb`) written by `deno task scan` and
 * read by every later step. Tables (lib/store/schema.ts): `meta`, `runs`, `files` (one row per path), `faces`
 * (one row per face of some file CONTENT, so byte-identical copies share faces).
 *
 * [Note: crash safety] Each `commitBatch` is one DuckDB transaction, and DuckDB's write-ahead log makes a committed
 * transaction durable and an uncommitted one vanish: a scan killed with SIGKILL loses at most the batch in flight.
 * Face ids are deterministic (`faceId`) and faces are upserted, so a rerun that re-analyses that batch writes the
 * same rows again. A run left `running` by a killed process is marked `interrupted` by the next writer to open
 * the file (the lock guarantees nobody else is writing).
 *
 * [Note: one writer] DuckDB locks the file: a second process cannot open a store that a writer holds
 * (StoreInUseError names the holder's PID). Within one process, handles on the same file share one DuckDB instance
 * (each with its own connection, so transactions stay isolated).
 */
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import path from "node:path";
import {
  ARRAY,
  BIGINT,
  DOUBLE,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBListValue,
  type DuckDBType,
  type DuckDBValue,
  FLOAT,
  INTEGER,
  LIST,
  listValue,
  TIMESTAMP,
  timestampValue,
  type DuckDBTimestampValue,
  VARCHAR,
} from "@duckdb/node-api";
import type { Landmarks5, Point } from "../types";
import { StoreError, StoreInUseError, StoreModelMismatchError } from "./errors";
import { faceId, newRunId } from "./ids";
import { storeOpenError } from "./lock";
import type {
  FaceFilter,
  FaceInput,
  FaceRow,
  FileOutcome,
  FileStatus,
  RunInfo,
  RunStatus,
  StoreCounts,
  StoredFile,
  StoredRun,
} from "./records";
import { FILE_STATUSES, OUTCOME_STATUSES } from "./records";
import { facesTableSql, META, MIGRATIONS, SCHEMA_VERSION } from "./schema";
import { floatArrayItem, floatArrayValue, readFloatArrays, tryReadFloatArraysFast } from "./vectors";

export { StoreError, StoreInUseError, StoreModelMismatchError } from "./errors";

/** How far an embedding's length may stray from 1 before it is refused as not normalised. */
const UNIT_NORM_TOLERANCE = 1e-3;
/** Rows per appended DuckDB data chunk (DuckDB's standard vector size). */
const CHUNK_ROWS = 2048;
/** Hex chars of a sha256 shown in messages. */
const SHORT_SHA = 8;

const STAGE_FILES = "stage_files";
const STAGE_FACES = "stage_faces";

interface SharedInstance {
  instance: DuckDBInstance;
  readOnly: boolean;
  refs: number;
}

/** Open DuckDB instances of this process, by absolute store path (see [Note: one writer]). */
const instances = new Map<string, Promise<SharedInstance>>();

export interface StoreOpenOptions {
  /** Open for reading only (the file must exist; other readers may share it). Default false. */
  readOnly?: boolean;
}

/** A face ready for the `faces` table. */
interface FaceInsert {
  faceId: string;
  fileSha256: string;
  detIndex: number;
  bbox: ArrayLike<number>;
  kps: ArrayLike<number> | null;
  detScore: number | null;
  faceShortPx: number;
  blur: number | null;
  detSizePx: number | null;
  embedding: Float32Array;
  detectorSha256: string | null;
  analysedPath: string;
}

function shortSha(sha: string): string {
  return sha.length > SHORT_SHA ? `${sha.slice(0, SHORT_SHA)}…` : sha;
}

/** Folder prefixes for `under` matching: the folder plus a separator, so `/a/b` never matches `/a/bc/x.jpg`. */
export function folderPrefixes(folder: string): string[] {
  let f = path.normalize(folder);
  while (f.length > 1 && (f.endsWith("/") || f.endsWith(path.sep))) f = f.slice(0, -1);
  if (f === "/" || f === path.sep) return [f];
  return [...new Set([`${f}/`, `${f}${path.sep}`])];
}

export class FaceStore {
  #closed = false;
  /** Serialises this handle's statements: DuckDB connections run one transaction at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #recognizer: { sha256: string; dim: number } | undefined;
  /** Temp staging tables made on this connection (created outside transactions: see ensureStages). */
  #stagedFiles = false;
  #stagedFacesDim = 0;

  private constructor(
    /** The path as given to `open` (used in messages). */
    readonly path: string,
    private readonly key: string,
    private readonly shared: SharedInstance,
    private readonly con: DuckDBConnection,
    readonly readOnly: boolean,
  ) {}

  /**
   * Open (and, unless read-only, create and migrate) the store at `storePath`. Throws StoreInUseError when another
   * process holds the file, StoreError when it is not a store or was written by a newer facesets.
   */
  static async open(storePath: string, { readOnly = false }: StoreOpenOptions = {}): Promise<FaceStore> {
    if (!readOnly) mkdirSync(path.dirname(path.resolve(storePath)), { recursive: true });
    const key = instanceKey(storePath);
    let pending: Promise<SharedInstance> | undefined;
    let shared: SharedInstance;
    let fresh: boolean;
    for (;;) {
      pending = instances.get(key);
      fresh = pending === undefined;
      if (!pending) {
        pending = createInstance(storePath, key, readOnly);
        instances.set(key, pending);
        const mine = pending;
        pending.catch(() => {
          if (instances.get(key) === mine) instances.delete(key);
        });
      }
      shared = await pending;
      if (instances.get(key) === pending) break; // else its last handle closed while we waited: open anew
    }
    if (shared.readOnly && !readOnly) {
      throw new StoreInUseError(
        `store ${storePath} is open read-only in this process (PID ${process.pid}); close that handle before opening it for writing`,
        storePath,
        process.pid,
      );
    }
    shared.refs++;
    let con: DuckDBConnection | undefined;
    try {
      con = await shared.instance.connect();
      const store = new FaceStore(storePath, key, shared, con, readOnly);
      await store.init(fresh);
      return store;
    } catch (err) {
      con?.closeSync();
      releaseInstance(key, shared);
      throw err;
    }
  }

  /** Close this handle (the file is released when the process's last handle on it closes). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => {});
    this.con.closeSync();
    releaseInstance(this.key, this.shared);
  }

  /** The recognizer whose embeddings the store holds; undefined before the first face. */
  get recognizer(): { sha256: string; dim: number } | undefined {
    return this.#recognizer ? { ...this.#recognizer } : undefined;
  }

  // ---------------------------------------------------------------- run bookkeeping

  /** Record the start of a run; returns its id (time-sortable). */
  async beginRun(info: RunInfo): Promise<string> {
    return await this.write(async () => {
      const runId = newRunId();
      await this.con.run(
        `INSERT INTO runs (run_id, started_at, command, config, detector_sha256, recognizer_sha256, status)
         VALUES ($1, now(), $2, $3, $4, $5, 'running')`,
        [runId, info.command, JSON.stringify(info.config ?? null), info.detectorSha256, info.recognizerSha256],
        [VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR],
      );
      return runId;
    });
  }

  /** Record the end of a run with its counts (status `done` unless given). */
  async finishRun(runId: string, counts: Record<string, number>, status: Exclude<RunStatus, "running"> = "done"): Promise<void> {
    if (status !== "done" && status !== "interrupted") throw new StoreError(`finishRun: invalid status ${JSON.stringify(status)} (allowed: done, interrupted)`);
    return await this.write(async () => {
      await this.requireRun(runId);
      await this.con.run(
        `UPDATE runs SET finished_at = now(), counts = $2, status = $3 WHERE run_id = $1`,
        [runId, JSON.stringify(counts), status],
        [VARCHAR, VARCHAR, VARCHAR],
      );
    });
  }

  /** All runs, oldest first. */
  async runs(): Promise<StoredRun[]> {
    const rows = await this.read(() => this.rows(
      `SELECT run_id, started_at, finished_at, command, config::VARCHAR AS config, detector_sha256, recognizer_sha256,
              counts::VARCHAR AS counts, status
       FROM runs ORDER BY run_id`,
    ));
    return rows.map((r) => ({
      runId: r.run_id as string,
      startedAt: r.started_at as Date,
      finishedAt: (r.finished_at as Date | null) ?? null,
      command: r.command as string,
      config: r.config === null ? null : JSON.parse(r.config as string),
      detectorSha256: (r.detector_sha256 as string | null) ?? null,
      recognizerSha256: (r.recognizer_sha256 as string | null) ?? null,
      counts: r.counts === null ? null : JSON.parse(r.counts as string),
      status: r.status as RunStatus,
    }));
  }

  /**
   * Refuse to mix recognition models: throws StoreModelMismatchError when the store holds embeddings of another
   * recognizer (or dimension). The first call on an empty store records them (and creates the `faces` table).
   */
  async assertRecognizer(sha256: string, dim: number): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new StoreError(`recognizer sha256 must be 64 lowercase hex chars, got ${JSON.stringify(sha256)}`);
    if (!Number.isInteger(dim) || dim < 1) throw new StoreError(`embedding dimension must be a positive integer, got ${dim}`);
    if (this.readOnly) {
      const known = await this.read(() => this.currentRecognizer());
      if (known) this.checkRecognizer(known, sha256, dim); // nothing stored: nothing to mix
      return;
    }
    await this.write(() => this.recordRecognizer(sha256, dim));
  }

  // ---------------------------------------------------------------- scan support

  /** Every stored path with its row. */
  async knownFiles(): Promise<Map<string, StoredFile>> {
    const rows = await this.read(() => this.rows(
      `SELECT path, sha256, size::DOUBLE AS size, mtime_ms, status, reason, width, height, alias_of, capture_time,
              first_seen_run, last_seen_run, updated_at
       FROM files ORDER BY path`,
    ));
    const out = new Map<string, StoredFile>();
    for (const r of rows) {
      out.set(r.path as string, {
        path: r.path as string,
        sha256: r.sha256 as string,
        size: r.size as number,
        mtimeMs: r.mtime_ms as number,
        status: r.status as FileStatus,
        reason: (r.reason as string | null) ?? null,
        width: (r.width as number | null) ?? null,
        height: (r.height as number | null) ?? null,
        aliasOf: (r.alias_of as string | null) ?? null,
        captureTime: (r.capture_time as Date | null) ?? null,
        firstSeenRun: r.first_seen_run as string,
        lastSeenRun: r.last_seen_run as string,
        updatedAt: r.updated_at as Date,
      });
    }
    return out;
  }

  /** sha256 -> canonical path, over live analysed files (ok, noface, error); the smallest path when several. */
  async knownContent(): Promise<Map<string, string>> {
    const rows = await this.read(() => this.rows(
      `SELECT sha256, min(path) AS path FROM files
       WHERE status IN ('ok', 'noface', 'error') AND sha256 <> '' GROUP BY sha256`,
    ));
    return new Map(rows.map((r) => [r.sha256 as string, r.path as string]));
  }

  /**
   * Commit what a run learned about a batch of files, in ONE transaction (see [Note: crash safety]):
   * - upsert the file rows (a path keeps its `first_seen_run`; `capture_time` is the outcome's `captureTime`
   *   when given, else kept while the bytes stay the same and cleared when they changed);
   * - for `ok`/`noface` outcomes, the given faces become the content's complete face set: they are upserted
   *   (un-retiring them if needed) and the content's other faces are retired;
   * - faces of content that no live path references any more (a file whose bytes changed) are retired;
   * - when a canonical file's bytes changed, a live alias of its old bytes becomes the new canonical.
   * Invalid outcomes (missing alias target, wrong embedding size, ...) are refused before anything is written.
   */
  async commitBatch(runId: string, batch: readonly FileOutcome[]): Promise<void> {
    await this.write(async () => {
      await this.requireRun(runId, "running");
      if (batch.length === 0) return;
      const faces = this.validateBatch(batch);
      await this.currentRecognizer();
      const recognizerSha = this.batchRecognizer(batch);
      if (faces.length > 0) {
        const dim = faces[0]!.embedding.length;
        if (recognizerSha === undefined) {
          throw new StoreError(`store ${this.path}: faces arrived without recognizerSha256 and the store has no recognizer recorded`);
        }
        if (this.#recognizer) this.checkRecognizer(this.#recognizer, recognizerSha, dim);
        else await this.recordRecognizer(recognizerSha, dim);
        for (const f of faces) {
          if (f.embedding.length !== dim) {
            throw new StoreError(`${f.analysedPath}: face ${f.detIndex} has a ${f.embedding.length}-d embedding, expected ${dim}`);
          }
        }
      }
      await this.ensureStages();
      await this.transaction(async () => {
        // Staged first, so every statement below joins against the batch instead of scanning with lists.
        await this.stageFiles(batch);
        if (faces.length > 0) await this.stageFaces(faces);
        const previous = await this.rows(
          `SELECT path, sha256, status, reason, width, height FROM files WHERE path IN (SELECT path FROM temp.${STAGE_FILES})`,
        );
        await this.mergeFiles(runId);
        if (this.#recognizer) {
          await this.con.run(
            `UPDATE faces SET retired = true, retired_at = now()
             WHERE NOT retired
               AND file_sha256 IN (SELECT sha256 FROM temp.${STAGE_FILES} WHERE status IN ('ok', 'noface'))
               AND face_id NOT IN (SELECT face_id FROM temp.${STAGE_FACES})`,
          );
          if (faces.length > 0) await this.mergeFaces(runId, recognizerSha!);
        }
        const newSha = new Map(batch.map((o) => [o.path, o.sha256]));
        const changed = previous.filter((p) => p.status !== "missing" && newSha.get(p.path as string) !== p.sha256);
        await this.afterPathsLeftContent(changed);
        await this.con.run(`DELETE FROM temp.${STAGE_FILES}`);
        if (this.#recognizer) await this.con.run(`DELETE FROM temp.${STAGE_FACES}`);
      });
    });
  }

  /** Mark paths as gone (status `missing`). Their faces stay; a live alias of a missing canonical takes its place. */
  async markMissing(runId: string, paths: readonly string[]): Promise<void> {
    await this.write(async () => {
      await this.requireRun(runId, "running");
      if (paths.length === 0) return;
      await this.transaction(async () => {
        const previous = await this.rows(
          `SELECT path, sha256, status, reason, width, height FROM files WHERE path IN (SELECT unnest($1)) AND status <> 'missing'`,
          [listValue([...paths])],
          [LIST(VARCHAR)],
        );
        await this.con.run(
          `UPDATE files SET status = 'missing', updated_at = now() WHERE path IN (SELECT unnest($1)) AND status <> 'missing'`,
          [listValue([...paths])],
          [LIST(VARCHAR)],
        );
        await this.afterPathsLeftContent(previous, { retire: false });
      });
    });
  }

  // ---------------------------------------------------------------- reading

  /**
   * Faces with their paths, ordered by (path, detIndex). Default: faces not retired whose content has a live path
   * (under `filter.under` when given); see FaceFilter and FaceRow.
   */
  async selectFaces(filter: FaceFilter = {}): Promise<FaceRow[]> {
    const { sql, params, types } = facesQuery(filter);
    return await this.read(async () => {
      const dim = (await this.currentRecognizer())?.dim;
      if (dim === undefined) return [];
      const result = await this.con.stream(sql, params, types);
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
            detSizePx: (detSize.getItem(r) as number | null) ?? null,
            embedding: embeddings.subarray(r * dim, (r + 1) * dim),
            retired: retired.getItem(r) as boolean,
            captureTime: timestampToDate(captures.getItem(r) as DuckDBTimestampValue | null),
          });
        }
      }
      return out;
    });
  }

  /** The rows' embeddings as one row-major [rows.length x dim] matrix (row i is rows[i]'s). */
  embeddingMatrix(rows: readonly FaceRow[]): { dim: number; data: Float32Array } {
    const dim = this.#recognizer?.dim ?? rows[0]?.embedding.length ?? 0;
    const data = new Float32Array(rows.length * dim);
    rows.forEach((row, i) => {
      if (row.embedding.length !== dim) throw new StoreError(`face ${row.faceId} has a ${row.embedding.length}-d embedding, expected ${dim}`);
      data.set(row.embedding, i * dim);
    });
    return { dim, data };
  }

  /** Files per status, live faces, retired faces. */
  async counts(): Promise<StoreCounts> {
    return await this.read(async () => {
      const files = Object.fromEntries(FILE_STATUSES.map((s) => [s, 0])) as Record<FileStatus, number>;
      for (const r of await this.rows(`SELECT status, count(*)::DOUBLE AS n FROM files GROUP BY status`)) {
        files[r.status as FileStatus] = r.n as number;
      }
      if (!(await this.currentRecognizer())) return { files, faces: 0, retiredFaces: 0 };
      const [f] = await this.rows(
        `SELECT count(*) FILTER (WHERE NOT retired)::DOUBLE AS live, count(*) FILTER (WHERE retired)::DOUBLE AS retired FROM faces`,
      );
      return { files, faces: (f?.live as number) ?? 0, retiredFaces: (f?.retired as number) ?? 0 };
    });
  }

  /**
   * Write the faces selected by `filter` and all file rows to two Parquet files with DuckDB's COPY (same columns
   * as the npz export: see lib/interop/export.ts). Paths are written as given; callers handle atomic renames.
   * Returns the rows written.
   */
  async copyToParquet(facesOut: string, filesOut: string, filter: FaceFilter = {}): Promise<{ faces: number; files: number }> {
    return await this.read(async () => {
      const dim = (await this.currentRecognizer())?.dim;
      let faces;
      if (dim !== undefined) {
        const { sql, params, types } = facesQuery(filter, { parquet: true });
        faces = await this.con.run(`COPY (${sql}) TO ${sqlString(facesOut)} (FORMAT parquet)`, params, types);
      } else {
        faces = await this.con.run(
          `COPY (SELECT NULL::VARCHAR AS face_id, NULL::VARCHAR AS path, NULL::VARCHAR AS sha256, NULL::FLOAT[4] AS bbox,
                        NULL::FLOAT[2][5] AS kps, NULL::FLOAT AS det_score, NULL::FLOAT AS face_short, NULL::FLOAT AS blur,
                        NULL::INTEGER AS det_index, NULL::INTEGER AS det_size, NULL::BOOLEAN AS retired,
                        NULL::VARCHAR[] AS paths, NULL::FLOAT[] AS embedding LIMIT 0)
           TO ${sqlString(facesOut)} (FORMAT parquet)`,
        );
      }
      const files = await this.con.run(
        `COPY (SELECT path AS file_path, sha256 AS file_sha256, status AS file_status, reason AS file_reason,
                      alias_of AS file_alias_of, width AS file_width, height AS file_height,
                      capture_time AS file_capture_time
               FROM files ORDER BY path)
         TO ${sqlString(filesOut)} (FORMAT parquet)`,
      );
      return { faces: faces.rowsChanged, files: files.rowsChanged };
    });
  }

  // ---------------------------------------------------------------- internals

  private async init(fresh: boolean): Promise<void> {
    if (!this.readOnly) await this.migrate();
    const version = await this.schemaVersion();
    if (version > SCHEMA_VERSION) {
      throw new StoreError(`store ${this.path} has schema version ${version}, newer than this facesets (${SCHEMA_VERSION}): upgrade facesets`);
    }
    if (version < SCHEMA_VERSION) {
      throw new StoreError(`store ${this.path} has schema version ${version} (current ${SCHEMA_VERSION}): open it once for writing to migrate it`);
    }
    await this.currentRecognizer();
    if (fresh && !this.readOnly) {
      // Only a process holding the write lock gets here, so a `running` run is one whose process died.
      await this.con.run(`UPDATE runs SET status = 'interrupted' WHERE status = 'running'`);
    }
  }

  private async schemaVersion(): Promise<number> {
    const [exists] = await this.rows(`SELECT count(*)::DOUBLE AS n FROM duckdb_tables() WHERE table_name = 'meta' AND schema_name = 'main'`);
    if (!exists || exists.n === 0) return 0;
    const v = (await this.meta()).get(META.schemaVersion);
    return v === undefined ? 0 : Number(v);
  }

  /** The recorded recognizer (re-read while unknown: another handle of this process may have recorded it). */
  private async currentRecognizer(): Promise<{ sha256: string; dim: number } | undefined> {
    if (this.#recognizer) return this.#recognizer;
    const meta = await this.meta();
    const sha = meta.get(META.recognizerSha256);
    const dim = meta.get(META.embeddingDim);
    if (sha !== undefined && dim !== undefined) this.#recognizer = { sha256: sha, dim: Number(dim) };
    return this.#recognizer;
  }

  private async meta(): Promise<Map<string, string>> {
    const rows = await this.rows(`SELECT key, value FROM meta`);
    return new Map(rows.map((r) => [r.key as string, r.value as string]));
  }

  private async migrate(): Promise<void> {
    const current = await this.schemaVersion();
    if (current > SCHEMA_VERSION) return; // init() refuses it with a message
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await this.transaction(async () => {
        await m.up(this.con);
        await this.setMeta(META.schemaVersion, String(m.version));
      });
    }
  }

  private async setMeta(key: string, value: string): Promise<void> {
    await this.con.run(
      `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [key, value],
      [VARCHAR, VARCHAR],
    );
  }

  private checkRecognizer(known: { sha256: string; dim: number }, sha256: string, dim: number): void {
    if (known.sha256 === sha256 && known.dim === dim) return;
    throw new StoreModelMismatchError(
      `store ${this.path} holds embeddings of recognizer ${shortSha(known.sha256)} (${known.dim}-d); ` +
        `this run uses ${shortSha(sha256)} (${dim}-d) — use another --store`,
      this.path,
      known.sha256,
      known.dim,
      sha256,
      dim,
    );
  }

  /** Record the store's recognizer and create `faces` (called inside `write`). */
  private async recordRecognizer(sha256: string, dim: number): Promise<void> {
    const known = await this.currentRecognizer();
    if (known) return this.checkRecognizer(known, sha256, dim);
    await this.transaction(async () => {
      await this.con.run(facesTableSql(dim));
      await this.setMeta(META.recognizerSha256, sha256);
      await this.setMeta(META.embeddingDim, String(dim));
    });
    this.#recognizer = { sha256, dim };
  }

  private batchRecognizer(batch: readonly FileOutcome[]): string | undefined {
    let sha: string | undefined;
    for (const o of batch) {
      if (!o.faces || o.faces.length === 0) continue;
      const given = o.recognizerSha256 ?? this.#recognizer?.sha256;
      if (given === undefined) continue;
      if (sha !== undefined && sha !== given) {
        throw new StoreModelMismatchError(
          `batch mixes recognizers ${shortSha(sha)} and ${shortSha(given)} (${o.path})`,
          this.path,
          sha,
          0,
          given,
          0,
        );
      }
      sha = given;
    }
    return sha ?? this.#recognizer?.sha256;
  }

  /** Check a batch's outcomes and build its face rows; throws naming the first bad file. */
  private validateBatch(batch: readonly FileOutcome[]): FaceInsert[] {
    const seen = new Set<string>();
    const faces: FaceInsert[] = [];
    for (const o of batch) {
      const where = `${this.path}: commitBatch: ${o.path}`;
      if (typeof o.path !== "string" || o.path.length === 0) throw new StoreError(`${this.path}: commitBatch: empty path`);
      if (seen.has(o.path)) throw new StoreError(`${where}: appears twice in one batch`);
      seen.add(o.path);
      if (!OUTCOME_STATUSES.includes(o.status)) {
        throw new StoreError(`${where}: invalid status ${JSON.stringify(o.status)} (allowed: ${OUTCOME_STATUSES.join(", ")})`);
      }
      if (o.status !== "error" && !/^[0-9a-f]{64}$/.test(o.sha256)) throw new StoreError(`${where}: sha256 must be 64 lowercase hex chars`);
      if (!Number.isFinite(o.size) || !Number.isFinite(o.mtimeMs)) throw new StoreError(`${where}: size and mtimeMs must be finite numbers`);
      if (o.status === "alias" && !o.aliasOf) throw new StoreError(`${where}: an alias needs aliasOf`);
      if (o.status === "alias" && o.aliasOf === o.path) throw new StoreError(`${where}: a file cannot be an alias of itself`);
      if (o.status === "error" && !o.reason) throw new StoreError(`${where}: an error needs a reason`);
      const n = o.faces?.length ?? 0;
      if (o.status === "ok" && n === 0) throw new StoreError(`${where}: status ok without faces (use noface)`);
      if (o.status !== "ok" && n > 0) throw new StoreError(`${where}: status ${o.status} cannot carry faces`);
      const indices = new Set<number>();
      o.faces?.forEach((face, position) => {
        const f = faceInsert(o, face, position, where);
        if (indices.has(f.detIndex)) throw new StoreError(`${where}: two faces with detIndex ${f.detIndex}`);
        indices.add(f.detIndex);
        faces.push(f);
      });
    }
    const ids = new Set<string>();
    for (const f of faces) {
      if (ids.has(f.faceId)) throw new StoreError(`${this.path}: commitBatch: ${f.analysedPath}: face id ${f.faceId} occurs twice in the batch`);
      ids.add(f.faceId);
    }
    return faces;
  }

  private async stageFiles(batch: readonly FileOutcome[]): Promise<void> {
    const types: DuckDBType[] = [VARCHAR, VARCHAR, BIGINT, DOUBLE, VARCHAR, VARCHAR, INTEGER, INTEGER, VARCHAR, TIMESTAMP];
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
    ]);
  }

  private async mergeFiles(runId: string): Promise<void> {
    await this.con.run(
      `INSERT INTO files (path, sha256, size, mtime_ms, status, reason, width, height, alias_of, capture_time,
                          first_seen_run, last_seen_run, updated_at)
       SELECT path, sha256, size, mtime_ms, status, reason, width, height, alias_of, capture_time, $1, $1, now()
       FROM temp.${STAGE_FILES}
       ON CONFLICT (path) DO UPDATE SET
         sha256 = excluded.sha256, size = excluded.size, mtime_ms = excluded.mtime_ms, status = excluded.status,
         reason = excluded.reason, width = excluded.width, height = excluded.height, alias_of = excluded.alias_of,
         capture_time = coalesce(excluded.capture_time, CASE WHEN sha256 = excluded.sha256 THEN capture_time END),
         last_seen_run = excluded.last_seen_run, updated_at = excluded.updated_at`,
      [runId],
      [VARCHAR],
    );
  }

  private async stageFaces(faces: readonly FaceInsert[]): Promise<void> {
    const dim = this.#recognizer!.dim;
    const types: DuckDBType[] = [
      VARCHAR, VARCHAR, INTEGER, ARRAY(FLOAT, 4), ARRAY(FLOAT, 10), DOUBLE, DOUBLE, DOUBLE, INTEGER,
      ARRAY(FLOAT, dim), VARCHAR, VARCHAR,
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
    ]);
  }

  private async mergeFaces(runId: string, recognizerSha: string): Promise<void> {
    const [clash] = await this.rows(
      `SELECT s.face_id, s.analysed_path, f.file_sha256 FROM temp.${STAGE_FACES} s JOIN faces f ON f.face_id = s.face_id
       WHERE f.file_sha256 <> s.file_sha256 LIMIT 1`,
    );
    if (clash) {
      throw new StoreError(
        `${this.path}: ${clash.analysed_path as string}: face id ${clash.face_id as string} already belongs to other content (${shortSha(clash.file_sha256 as string)})`,
      );
    }
    await this.con.run(
      `INSERT INTO faces (face_id, file_sha256, det_index, bbox, kps, det_score, face_short, blur, det_size, embedding,
                          recognizer_sha256, detector_sha256, run_id, analysed_path, retired, retired_at)
       SELECT face_id, file_sha256, det_index, bbox, kps, det_score, face_short, blur, det_size, embedding,
              $1, detector_sha256, $2, analysed_path, false, NULL
       FROM temp.${STAGE_FACES}
       ON CONFLICT (face_id) DO UPDATE SET
         file_sha256 = excluded.file_sha256, det_index = excluded.det_index, bbox = excluded.bbox, kps = excluded.kps,
         det_score = excluded.det_score, face_short = excluded.face_short, blur = excluded.blur,
         det_size = excluded.det_size, embedding = excluded.embedding, recognizer_sha256 = excluded.recognizer_sha256,
         detector_sha256 = excluded.detector_sha256, run_id = excluded.run_id, analysed_path = excluded.analysed_path,
         retired = false, retired_at = NULL`,
      [recognizerSha, runId],
      [VARCHAR, VARCHAR],
    );
  }

  /**
   * After paths stopped holding some content (bytes changed, or the file went missing): a live alias of content
   * whose canonical left becomes canonical (taking the old canonical's status and size), the other aliases point
   * at it; with `retire`, faces of content no live path holds any more are retired.
   */
  private async afterPathsLeftContent(
    left: ReadonlyArray<Record<string, unknown>>,
    { retire = true }: { retire?: boolean } = {},
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
          `UPDATE files SET status = $2, reason = $3, width = $4, height = $5, alias_of = NULL, updated_at = now()
           WHERE path = $1`,
          [h.first_alias as string, old.status as string, (old.reason as string | null) ?? null, (old.width as number | null) ?? null, (old.height as number | null) ?? null],
          [VARCHAR, VARCHAR, VARCHAR, INTEGER, INTEGER],
        );
        await this.con.run(
          `UPDATE files SET alias_of = $1, updated_at = now() WHERE sha256 = $2 AND status IN ('alias', 'missing') AND alias_of IS NOT NULL`,
          [h.first_alias as string, h.sha256 as string],
          [VARCHAR, VARCHAR],
        );
      }
    }
    if (retire && this.#recognizer) {
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

  private async ensureStages(): Promise<void> {
    if (!this.#stagedFiles) {
      await this.con.run(
        `CREATE TEMP TABLE IF NOT EXISTS ${STAGE_FILES} (path VARCHAR, sha256 VARCHAR, size BIGINT, mtime_ms DOUBLE,
           status VARCHAR, reason VARCHAR, width INTEGER, height INTEGER, alias_of VARCHAR, capture_time TIMESTAMP)`,
      );
      this.#stagedFiles = true;
    }
    if (this.#recognizer && this.#stagedFacesDim !== this.#recognizer.dim) {
      await this.con.run(
        `CREATE TEMP TABLE IF NOT EXISTS ${STAGE_FACES} (face_id VARCHAR, file_sha256 VARCHAR, det_index INTEGER,
           bbox FLOAT[4], kps FLOAT[10], det_score DOUBLE, face_short DOUBLE, blur DOUBLE, det_size INTEGER,
           embedding FLOAT[${this.#recognizer.dim}], detector_sha256 VARCHAR, analysed_path VARCHAR)`,
      );
      this.#stagedFacesDim = this.#recognizer.dim;
    }
  }

  /**
   * Bulk-append rows to a temp staging table through DuckDB data chunks. [Note: appender] Measured with 512-d faces
   * (Node 20, same machine as schema.ts): whole data chunks of column values stage 10,000 faces and upsert them in
   * ~0.9 s; the appender's row-wise `appendArray` (a DuckDB value per float) needs ~12.5 s; a multi-row INSERT with
   * bound ARRAY parameters ~11.5 s; one prepared INSERT per face ~65 s. For a scan-sized commit (50 faces) the
   * chunk path costs ~15 ms, against ~40 ms (row-wise appender, multi-row INSERT) and ~200 ms (prepared INSERT
   * per face). Staging also gives the appender, which cannot
   * upsert, `INSERT ... ON CONFLICT` semantics.
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

  private async requireRun(runId: string, status?: RunStatus): Promise<void> {
    const [row] = await this.rows(`SELECT status FROM runs WHERE run_id = $1`, [runId], [VARCHAR]);
    if (!row) throw new StoreError(`store ${this.path}: unknown run ${JSON.stringify(runId)} (call beginRun first)`);
    if (status && row.status !== status) throw new StoreError(`store ${this.path}: run ${runId} is ${row.status as string}, not ${status}`);
  }

  private async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.con.run("BEGIN TRANSACTION");
    try {
      const result = await fn();
      await this.con.run("COMMIT");
      return result;
    } catch (err) {
      await this.con.run("ROLLBACK").catch(() => {});
      throw err;
    }
  }

  private assertOpen(): void {
    if (this.#closed) throw new StoreError(`store ${this.path} is closed`);
  }

  /** Run `fn` after this handle's earlier statements (one connection, one statement stream). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => {});
    return next;
  }

  private read<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.serial(fn);
  }

  private write<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.readOnly) return Promise.reject(new StoreError(`store ${this.path} is open read-only`));
    return this.serial(fn);
  }

  /** A query on this handle's connection (callers are inside `read`/`write`, or in `init`). */
  private async rows(sql: string, params?: DuckDBValue[], types?: DuckDBType[]): Promise<Record<string, unknown>[]> {
    return (await this.con.runAndReadAll(sql, params, types)).getRowObjectsJS();
  }
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
} as const;

/** The faces selection shared by `selectFaces` and the Parquet export. */
function facesQuery(
  { under, includeRetired = false }: FaceFilter,
  { parquet = false }: { parquet?: boolean } = {},
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
  const select = parquet
    ? `f.face_id, coalesce(l.canonical, f.analysed_path) AS path, f.file_sha256 AS sha256, f.bbox,
       CASE WHEN f.kps IS NULL THEN NULL
            ELSE list_transform(range(5), i -> [f.kps[2 * i + 1], f.kps[2 * i + 2]])::FLOAT[2][5] END AS kps,
       f.det_score::FLOAT AS det_score, f.face_short::FLOAT AS face_short, f.blur::FLOAT AS blur,
       f.det_index, f.det_size, f.retired, coalesce(l.paths, []::VARCHAR[]) AS paths, f.embedding`
    : `f.face_id, f.file_sha256, f.det_index, f.bbox, f.kps, f.det_score, f.face_short, f.blur, f.det_size, f.retired,
       coalesce(l.canonical, f.analysed_path) AS path, coalesce(l.paths, []::VARCHAR[]) AS paths, f.embedding,
       l.capture_time`;
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

/** A UTC-naive Date (see lib/image/exif.ts) as a DuckDB TIMESTAMP (microseconds); refuses an invalid Date. */
function dateToTimestamp(date: Date, where: string): DuckDBTimestampValue {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new StoreError(`${where}: captureTime is an invalid Date`);
  return timestampValue(BigInt(ms) * 1000n);
}

/** A DuckDB TIMESTAMP back as a Date whose UTC fields are the stored ones (sub-millisecond digits dropped). */
function timestampToDate(value: DuckDBTimestampValue | null): Date | null {
  if (value === null) return null;
  return new Date(Number(value.micros / 1000n));
}

/** A SQL string literal (quotes doubled): for COPY targets, which take no parameters. */
function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function toLandmarks(k: number[]): Landmarks5 {
  const p = (i: number): Point => [k[2 * i]!, k[2 * i + 1]!];
  return [p(0), p(1), p(2), p(3), p(4)];
}

function faceInsert(o: FileOutcome, face: FaceInput, position: number, where: string): FaceInsert {
  const detIndex = face.detIndex ?? position;
  const at = `${where}: face ${detIndex}`;
  if (!Number.isInteger(detIndex) || detIndex < 0) throw new StoreError(`${at}: detIndex must be an integer >= 0`);
  const bbox = face.bbox;
  if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(Number.isFinite)) throw new StoreError(`${at}: bbox must be 4 finite numbers`);
  const kps = face.kps === null ? null : face.kps.flat();
  if (kps !== null && (kps.length !== 10 || !kps.every(Number.isFinite))) throw new StoreError(`${at}: kps must be 5 finite points`);
  for (const [name, value] of [["detScore", face.detScore], ["blur", face.blur], ["detSizePx", face.detSizePx]] as const) {
    if (value !== null && !Number.isFinite(value)) throw new StoreError(`${at}: ${name} must be a finite number or null`);
  }
  if (!Number.isFinite(face.faceShortPx)) throw new StoreError(`${at}: faceShortPx must be a finite number`);
  const e = face.embedding;
  if (!(e instanceof Float32Array) || e.length === 0) throw new StoreError(`${at}: embedding must be a non-empty Float32Array`);
  let norm2 = 0;
  for (let i = 0; i < e.length; i++) norm2 += e[i]! * e[i]!;
  if (!Number.isFinite(norm2) || Math.abs(Math.sqrt(norm2) - 1) > UNIT_NORM_TOLERANCE) {
    throw new StoreError(`${at}: embedding is not unit length (norm ${Math.sqrt(norm2).toFixed(4)})`);
  }
  return {
    faceId: face.faceId ?? faceId(o.sha256, detIndex),
    fileSha256: o.sha256,
    detIndex,
    bbox,
    kps,
    detScore: face.detScore,
    faceShortPx: face.faceShortPx,
    blur: face.blur,
    detSizePx: face.detSizePx === null ? null : Math.round(face.detSizePx),
    embedding: e,
    detectorSha256: o.detectorSha256 ?? null,
    analysedPath: o.path,
  };
}

async function createInstance(storePath: string, key: string, readOnly: boolean): Promise<SharedInstance> {
  if (readOnly && !existsSync(key)) {
    throw new StoreError(`store ${storePath} does not exist (nothing scanned into it yet?)`);
  }
  try {
    const instance = await DuckDBInstance.create(key, readOnly ? { access_mode: "READ_ONLY" } : {});
    return { instance, readOnly, refs: 0 };
  } catch (err) {
    throw storeOpenError(err, storePath);
  }
}

/** One key per file, however it is named (relative, via a symlinked folder): the real folder plus the name. */
function instanceKey(storePath: string): string {
  const abs = path.resolve(storePath);
  try {
    return path.join(realpathSync(path.dirname(abs)), path.basename(abs));
  } catch {
    return abs; // the folder does not exist yet
  }
}

function releaseInstance(key: string, shared: SharedInstance): void {
  shared.refs--;
  if (shared.refs > 0) return;
  instances.delete(key);
  shared.instance.closeSync();
}

/** Open the store at `storePath`, hand it to `use`, and close it however `use` ends. */
export async function withFaceStore<T>(
  storePath: string,
  options: StoreOpenOptions,
  use: (store: FaceStore) => Promise<T>,
): Promise<T> {
  const store = await FaceStore.open(storePath, options);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
