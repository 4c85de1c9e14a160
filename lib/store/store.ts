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
 *
 * FaceStore is the one door; behind it: schema.ts (the tables and their migrations), instances.ts (one DuckDB
 * instance per file), batch.ts (checking a batch before anything is written), commit.ts (staging and merge SQL),
 * faces_query.ts (the faces selection and FaceRows), parquet.ts (the Parquet export layout), vectors.ts (float
 * arrays in and out of DuckDB chunks).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type DuckDBConnection, type DuckDBType, type DuckDBValue, LIST, listValue, VARCHAR } from "@duckdb/node-api";
import { batchRecognizer, shortSha, validateBatch } from "./batch";
import { BatchStaging, STAGE_FACES, STAGE_FILES } from "./commit";
import { StoreError, StoreInUseError, StoreModelMismatchError } from "./errors";
import { facesQuery, readFaceRows } from "./faces_query";
import { newRunId } from "./ids";
import { acquireInstance, releaseInstance, type SharedInstance } from "./instances";
import { copyFacesParquetSql, copyFilesParquetSql } from "./parquet";
import type { FaceFilter, FaceRow, FileOutcome, FileStatus, RunInfo, RunStatus, StoreCounts, StoredFile, StoredRun } from "./records";
import { FILE_STATUSES } from "./records";
import { facesTableSql, META, MIGRATIONS, SCHEMA_VERSION } from "./schema";
import { isSha256Hex } from "../util/hash";

export { StoreError, StoreInUseError, StoreModelMismatchError } from "./errors";
export { folderPrefixes } from "./faces_query";

export interface StoreOpenOptions {
  /** Open for reading only (the file must exist; other readers may share it). Default false. */
  readOnly?: boolean;
}

export class FaceStore {
  #closed = false;
  /** Serialises this handle's statements: DuckDB connections run one transaction at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #recognizer: { sha256: string; dim: number } | undefined;
  readonly #staging: BatchStaging;

  private constructor(
    /** The path as given to `open` (used in messages). */
    readonly path: string,
    private readonly key: string,
    private readonly shared: SharedInstance,
    private readonly con: DuckDBConnection,
    readonly readOnly: boolean,
  ) {
    this.#staging = new BatchStaging(con, path);
  }

  /**
   * Open (and, unless read-only, create and migrate) the store at `storePath`. Throws StoreInUseError when another
   * process holds the file, StoreError when it is not a store or was written by a newer facesets.
   */
  static async open(storePath: string, { readOnly = false }: StoreOpenOptions = {}): Promise<FaceStore> {
    if (!readOnly) mkdirSync(path.dirname(path.resolve(storePath)), { recursive: true });
    const { key, shared, fresh } = await acquireInstance(storePath, readOnly);
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
    if (!isSha256Hex(sha256)) throw new StoreError(`recognizer sha256 must be 64 lowercase hex chars, got ${JSON.stringify(sha256)}`);
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
              first_seen_run, last_seen_run, analysis::VARCHAR AS analysis, updated_at, decode_note
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
        analysis: r.analysis === null ? null : JSON.parse(r.analysis as string),
        updatedAt: r.updated_at as Date,
        decodeNote: (r.decode_note as string | null) ?? null,
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
      const faces = validateBatch(this.path, batch);
      await this.currentRecognizer();
      const recognizerSha = batchRecognizer(this.path, batch, this.#recognizer?.sha256);
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
      await this.#staging.ensureStages(this.#recognizer?.dim);
      await this.transaction(async () => {
        // Staged first, so every statement below joins against the batch instead of scanning with lists.
        await this.#staging.stageFiles(batch);
        if (faces.length > 0) await this.#staging.stageFaces(faces, this.#recognizer!.dim);
        const previous = await this.rows(
          `SELECT path, sha256, status, reason, width, height, analysis::VARCHAR AS analysis FROM files WHERE path IN (SELECT path FROM temp.${STAGE_FILES})`,
        );
        await this.#staging.mergeFiles(runId);
        if (this.#recognizer) {
          await this.con.run(
            `UPDATE faces SET retired = true, retired_at = now()
             WHERE NOT retired
               AND file_sha256 IN (SELECT sha256 FROM temp.${STAGE_FILES} WHERE status IN ('ok', 'noface'))
               AND face_id NOT IN (SELECT face_id FROM temp.${STAGE_FACES})`,
          );
          if (faces.length > 0) await this.#staging.mergeFaces(runId, recognizerSha!);
        }
        const newSha = new Map(batch.map((o) => [o.path, o.sha256]));
        const changed = previous.filter((p) => p.status !== "missing" && newSha.get(p.path as string) !== p.sha256);
        await this.#staging.afterPathsLeftContent(changed, { dim: this.#recognizer?.dim });
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
          `SELECT path, sha256, status, reason, width, height, analysis::VARCHAR AS analysis FROM files WHERE path IN (SELECT unnest($1)) AND status <> 'missing'`,
          [listValue([...paths])],
          [LIST(VARCHAR)],
        );
        await this.con.run(
          `UPDATE files SET status = 'missing', updated_at = now() WHERE path IN (SELECT unnest($1)) AND status <> 'missing'`,
          [listValue([...paths])],
          [LIST(VARCHAR)],
        );
        await this.#staging.afterPathsLeftContent(previous, { retire: false, dim: this.#recognizer?.dim });
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
      return await readFaceRows(await this.con.stream(sql, params, types), dim);
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
   * Write the faces selected by `filter` and all file rows to two Parquet files with DuckDB's COPY (the layout of
   * parquet.ts). Paths are written as given; callers handle atomic renames.
   * Returns the rows written.
   */
  async copyToParquet(facesOut: string, filesOut: string, filter: FaceFilter = {}): Promise<{ faces: number; files: number }> {
    return await this.read(async () => {
      const dim = (await this.currentRecognizer())?.dim;
      const copyFaces = copyFacesParquetSql(facesOut, filter, dim !== undefined);
      const faces = await this.con.run(copyFaces.sql, copyFaces.params, copyFaces.types);
      const files = await this.con.run(copyFilesParquetSql(filesOut));
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
      // Library commands open the store read-only; a scan (or --scan) opens it for writing and migrates it.
      throw new StoreError(
        `store ${this.path} has schema version ${version} (current ${SCHEMA_VERSION}): open it once for writing to migrate it ` +
          `(a scan does: deno task scan --source DIR --store ${this.path}, or add --scan)`,
      );
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
