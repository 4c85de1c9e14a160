/**
 * deno task export-store — the face store as NumPy .npz or Parquet, for Python and other tools.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { runMain, UsageError } from "../lib/cli/errors";
import {
  exportStoreNpz,
  exportStoreParquet,
  filesParquetPath,
  formatOfPath,
  STORE_EXPORT_FORMATS,
  type StoreExportFormat,
} from "../lib/interop/mod";
import { FaceStore } from "../lib/store/mod";

const DEFAULT_STORE = "data/facesets.duckdb";

const USAGE = `usage: deno task export-store [--store PATH] [--format npz|parquet] [--under DIR] [--include-retired] OUT

Write the store's faces (and its file rows) to OUT. The store is opened read-only; OUT appears whole or not at all.

  --store PATH       the store file (default: ${DEFAULT_STORE})
  --format FMT       npz or parquet (default: from OUT's extension, .npz or .parquet)
  --under DIR        only faces with a live path inside DIR (path prefix on a separator boundary)
  --include-retired  also faces that were retired or whose files are all missing
  --help             show this help

npz (numpy.load(OUT, allow_pickle=False)), N faces, D dims, F file rows:
  face_id, path, sha256 [N] str; det_index [N] int32; bbox [N,4] f4; kps [N,5,2] f4 (NaN = unknown);
  det_score, face_short, blur [N] f4 (NaN = unknown); det_size [N] int32 (-1 = unknown); retired [N] bool;
  embedding [N,D] f4 (unit length); recognizer_sha256 [] str;
  file_path, file_sha256, file_status, file_reason, file_alias_of [F] str ("" = none)
parquet: the face columns in OUT (kps as FLOAT[2][5], NULL = unknown; plus paths, every live path of the face's
  content), the file columns (plus file_width, file_height) in <OUT stem>.files.parquet, e.g. faces.parquet ->
  faces.files.parquet.

Exit codes: 0 written, 1 failure (store missing or in use, ...), 2 usage error.`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        store: { type: "string", default: DEFAULT_STORE },
        format: { type: "string" },
        under: { type: "string" },
        "include-retired": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "OUT is required" : `one OUT expected, got ${positionals.length}`);
  const out = positionals[0]!;
  const format = (values.format ?? formatOfPath(out)) as StoreExportFormat | undefined;
  if (format === undefined) throw new UsageError(`cannot tell the format from ${JSON.stringify(out)}: give --format npz|parquet`);
  if (!STORE_EXPORT_FORMATS.includes(format)) {
    throw new UsageError(`invalid --format ${JSON.stringify(values.format)} (allowed: ${STORE_EXPORT_FORMATS.join(", ")})`);
  }
  const outDir = path.dirname(path.resolve(out));
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new UsageError(`the folder of OUT (${outDir}) does not exist`);
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`OUT ${out} is a folder`);
  if (path.resolve(out) === path.resolve(values.store) || (format === "parquet" && path.resolve(filesParquetPath(out)) === path.resolve(values.store))) {
    throw new UsageError("OUT would overwrite the store");
  }

  const store = await FaceStore.open(values.store, { readOnly: true });
  try {
    const filter = { under: values.under, includeRetired: values["include-retired"] };
    const summary = format === "npz" ? await exportStoreNpz(store, out, filter) : await exportStoreParquet(store, out, filter);
    process.stderr.write(
      `exported ${summary.faces} faces (${summary.dim}-d) and ${summary.files} file rows to ${summary.outputs.join(" and ")}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

await runMain(main, USAGE);
