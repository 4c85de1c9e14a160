/**
 * deno task export-store — the face store as NumPy .npz or Parquet, for Python and other tools.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import {
  DEFAULT_STORE_PATH,
  HELP_PRINTED,
  parseCommandArgs,
  requireOnePositional,
  runMain,
  STORE_OPTION,
  UsageError,
} from "../lib/cli/mod";
import {
  exportStoreNpz,
  exportStoreParquet,
  filesParquetPath,
  formatOfPath,
  STORE_EXPORT_FORMATS,
  type StoreExportFormat,
} from "../lib/interop/mod";
import { withFaceStore } from "../lib/store/mod";

const USAGE = `usage: deno task export-store [--store PATH] [--format npz|parquet] [--under DIR] [--include-retired] OUT

Write the store's faces (and its file rows) to OUT. The store is opened read-only; OUT appears whole or not at all.

  --store PATH       the store file (default: ${DEFAULT_STORE_PATH})
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

const OPTIONS = {
  ...STORE_OPTION,
  format: { type: "string" },
  under: { type: "string" },
  "include-retired": { type: "boolean", default: false },
} as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(process.argv.slice(2), OPTIONS, USAGE, { allowPositionals: true });
  if (parsed === HELP_PRINTED) return 0;
  const { values, positionals } = parsed;
  const out = requireOnePositional(positionals, "OUT");
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

  return await withFaceStore(values.store, { readOnly: true }, async (store) => {
    const filter = { under: values.under, includeRetired: values["include-retired"] };
    const summary = format === "npz" ? await exportStoreNpz(store, out, filter) : await exportStoreParquet(store, out, filter);
    process.stderr.write(
      `exported ${summary.faces} faces (${summary.dim}-d) and ${summary.files} file rows to ${summary.outputs.join(" and ")}\n`,
    );
    return 0;
  });
}

await runMain(main, USAGE);
