/**
 * The face store's schema and its ordered migrations.
 *
 * [Note: embedding column type] Embeddings are a fixed-size `FLOAT[D]` ARRAY column, so SQL can rank faces with
 * `array_cosine_distance(embedding, $q::FLOAT[512])` directly. Measured before choosing (100,000 x 512 random
 * float32 rows, `SELECT e FROM t ORDER BY i` streamed chunk by chunk into one Float32Array; Debian 12 VM with 2 shared
 * cores, @duckdb/node-api 1.5.6-r.1; median of 7 reads in ms, the machine was shared, so expect +-30%):
 *
 *   layout / read path                                     Node 20   Deno 2.9.6   file size
 *   FLOAT[512] ARRAY, child Float32Array, 1 copy per chunk    710        670       175 MB
 *   FLOAT[512] ARRAY, public getItem(row).items              1450       1280
 *   FLOAT[]    LIST,  public childVector.getItem per float   1150       1010       175 MB
 *   BLOB of little-endian float32, getItemBytes per row       600        600       207 MB
 *   (DuckDB scan alone, no copy: ARRAY ~520 / ~390, BLOB ~200 / ~220)
 *
 * The BLOB reads a little faster but hides the vectors from SQL (no cosine distance, no casts); the ARRAY read
 * through its child vector is within ~100 ms of it, and is what `readFloatArrays` (vectors.ts) does, with the
 * public per-row path as its fallback. A LIST would also work in SQL (`list_cosine_distance`) but reads slower
 * through the public API and does not enforce the dimension.
 *
 * Because the ARRAY's width is part of the type, the `faces` table is created when the recognizer (and so the
 * dimension) is first recorded (`facesTableSql`), not by a migration. Later migrations that change `faces` must
 * therefore check that it exists.
 *
 * Timestamps of bookkeeping (`started_at`, `updated_at`, ...) are TIMESTAMPTZ; `capture_time` is a plain TIMESTAMP
 * because EXIF DateTimeOriginal is camera local time without a zone.
 */

import { type DuckDBConnection, VARCHAR } from "@duckdb/node-api";
import { analysisSettingsOfRun } from "./analysis";

/** The schema this code writes; a file with a higher version was written by a newer facesets. */
export const SCHEMA_VERSION = 3;

/** `meta` keys. */
export const META = {
  schemaVersion: "schema_version",
  recognizerSha256: "recognizer_sha256",
  embeddingDim: "embedding_dim",
} as const;

interface Migration {
  /** The schema version this migration produces. */
  version: number;
  description: string;
  up(con: DuckDBConnection): Promise<void>;
}

/** Ordered: migration N takes a file from version N-1 to N. Never edit a released one; append. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "meta, runs, files (faces come with the first recognizer)",
    async up(con) {
      await con.run(`
        CREATE TABLE IF NOT EXISTS meta (
          key VARCHAR PRIMARY KEY,
          value VARCHAR NOT NULL
        )`);
      await con.run(`
        CREATE TABLE runs (
          run_id VARCHAR PRIMARY KEY,
          started_at TIMESTAMPTZ NOT NULL,
          finished_at TIMESTAMPTZ,
          command VARCHAR NOT NULL,
          config JSON,
          detector_sha256 VARCHAR,
          recognizer_sha256 VARCHAR,
          counts JSON,
          status VARCHAR NOT NULL CHECK (status IN ('running', 'done', 'interrupted'))
        )`);
      await con.run(`
        CREATE TABLE files (
          path VARCHAR PRIMARY KEY,
          sha256 VARCHAR NOT NULL,
          size BIGINT NOT NULL,
          mtime_ms DOUBLE NOT NULL,
          status VARCHAR NOT NULL CHECK (status IN ('ok', 'noface', 'error', 'alias', 'missing')),
          reason VARCHAR,
          width INTEGER,
          height INTEGER,
          alias_of VARCHAR,
          capture_time TIMESTAMP,
          first_seen_run VARCHAR NOT NULL,
          last_seen_run VARCHAR NOT NULL,
          updated_at TIMESTAMPTZ NOT NULL
        )`);
    },
  },
  {
    version: 2,
    description: "files.analysis (settings and model sha256s that made the record), faces.sharpness",
    async up(con) {
      await con.run(`ALTER TABLE files ADD COLUMN analysis JSON`);
      const faces = await con.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM duckdb_tables() WHERE table_name = 'faces' AND schema_name = 'main'`);
      if ((faces.getRowObjectsJS()[0]!.n as number) > 0) await con.run(`ALTER TABLE faces ADD COLUMN sharpness DOUBLE`);
      // A record was written by the last run that committed its row (skipped files are not written), so that run's
      // config and models are the settings that made it. Runs without a config (imports) leave it unknown (NULL).
      const runs = (await con.runAndReadAll(
        `SELECT run_id, config::VARCHAR AS config, detector_sha256, recognizer_sha256 FROM runs`,
      )).getRowObjectsJS();
      for (const run of runs) {
        const settings = analysisSettingsOfRun(run.config === null ? null : JSON.parse(run.config as string), {
          detectorSha256: (run.detector_sha256 as string | null) ?? null,
          recognizerSha256: (run.recognizer_sha256 as string | null) ?? null,
        });
        if (!settings) continue;
        await con.run(
          `UPDATE files SET analysis = $2 WHERE last_seen_run = $1 AND status IN ('ok', 'noface', 'error')`,
          [run.run_id as string, JSON.stringify(settings)],
          [VARCHAR, VARCHAR],
        );
      }
    },
  },
  {
    version: 3,
    description: "files.decode_note (RAW previews, first frames, TIFF pages) and faces.page (multi-page TIFF)",
    async up(con) {
      await con.run(`ALTER TABLE files ADD COLUMN IF NOT EXISTS decode_note VARCHAR`);
      const faces = await con.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM duckdb_tables() WHERE table_name = 'faces' AND schema_name = 'main'`);
      if ((faces.getRowObjectsJS()[0]!.n as number) > 0) await con.run(`ALTER TABLE faces ADD COLUMN IF NOT EXISTS page INTEGER DEFAULT 0`);
    },
  },
];

/**
 * DDL of `faces` for embeddings of `dim` floats. Faces belong to file content (`file_sha256`), not to a path:
 * byte-identical copies share them. `analysed_path` is the path the face was found under (provenance, and the
 * only path left once a face is retired).
 */
export function facesTableSql(dim: number): string {
  if (!Number.isInteger(dim) || dim < 1 || dim > 65536) throw new RangeError(`embedding dimension must be an integer in 1..65536, got ${dim}`);
  return `
    CREATE TABLE faces (
      face_id VARCHAR PRIMARY KEY,
      file_sha256 VARCHAR NOT NULL,
      det_index INTEGER NOT NULL,
      bbox FLOAT[4] NOT NULL,
      kps FLOAT[10],
      det_score DOUBLE,
      face_short DOUBLE NOT NULL,
      blur DOUBLE,
      det_size INTEGER,
      sharpness DOUBLE,
      embedding FLOAT[${dim}] NOT NULL,
      recognizer_sha256 VARCHAR NOT NULL,
      detector_sha256 VARCHAR,
      run_id VARCHAR NOT NULL,
      analysed_path VARCHAR NOT NULL,
      retired BOOLEAN NOT NULL DEFAULT false,
      retired_at TIMESTAMPTZ,
      page INTEGER DEFAULT 0
    )`;
}
