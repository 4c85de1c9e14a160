/**
 * deno task import-npz — bring an existing InsightFace embedding cache (.npz) into the face store.
 * The key mapping is documented once, in lib/interop/import.ts ([Note: npz key mapping]), and in USAGE below.
 */
import { existsSync } from "node:fs";
import {
  DEFAULT_STORE_PATH,
  FILES,
  HELP_PRINTED,
  JSON_OPTION,
  parseCommandArgs,
  Progress,
  requireOnePositional,
  runMain,
  STORE_OPTION,
  UsageError,
} from "../lib/cli/mod";
import { importNpz } from "../lib/interop/mod";
import { withFaceStore } from "../lib/store/mod";
import { isSha256Hex } from "../lib/util/hash";
import { shellCommand } from "../lib/util/shell";

/** Refused rows listed on stderr before the rest are summarised by count. */
const MAX_REFUSALS_SHOWN = 20;

const USAGE = `usage: deno task import-npz FILE [--store PATH] [--recognizer-sha256 HEX] [--json]

Import the faces of an embedding cache (.npz, e.g. made with InsightFace in Python) into the store.

  FILE                    the .npz (np.savez / np.savez_compressed; no pickled object arrays)
  --store PATH            the store file (default: ${DEFAULT_STORE_PATH}; created if missing)
  --recognizer-sha256 HEX sha256 of the recognizer .onnx that made the embeddings (e.g. w600k_r50.onnx);
                          default: the file's recognizer_sha256 array. Must match the store's recognizer.
  --json                  make the last stdout line the summary as one JSON object
  --help                  show this help

Keys (one row per face, N rows):
  path [N] str                     required: the photo, as the store should record it
  embedding | embeddings | feats   required: [N,D] float, re-normalised to unit length
  bbox [N,4] float                 required: x1, y1, x2, y2 in pixels
  sha256 [N] str                   optional: content hash; else computed from the file (a row whose file is
                                   not on disk and has no sha256 is refused)
  face_id [N] str                  optional: default sha256(f"{sha256}:{det_index}")[:24]
  det_index [N] int                optional: default the face's order among its file's rows
  kps [N,5,2] or [N,10] float      optional (NaN = unknown)
  det_score, blur, face_short [N]  optional (NaN = unknown; face_short defaults to the bbox's short side)
  det_size [N] int                 optional (<= 0 = unknown)
  recognizer_sha256 [] str         optional (see --recognizer-sha256)
Other arrays are ignored; a 'deno task export-store --format npz' file imports back as is.
A file on disk must hash to the given sha256 (stale rows are refused); files not on disk are recorded as
missing; paths or contents already in the store are refused (scan them instead); several paths with the same
bytes become one file plus aliases.

Exit codes: 0 imported (refused rows are listed, not fatal), 1 failure (model mismatch, bad file, store in use),
2 usage error.`;

const OPTIONS = { ...STORE_OPTION, "recognizer-sha256": { type: "string" }, ...JSON_OPTION } as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(process.argv.slice(2), OPTIONS, USAGE, { allowPositionals: true });
  if (parsed === HELP_PRINTED) return 0;
  const { values, positionals } = parsed;
  const file = requireOnePositional(positionals, "FILE");
  if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
  const recognizer = values["recognizer-sha256"]?.toLowerCase();
  if (recognizer !== undefined && !isSha256Hex(recognizer)) {
    throw new UsageError(`--recognizer-sha256 must be 64 hex chars, got ${JSON.stringify(values["recognizer-sha256"])}`);
  }

  return await withFaceStore(values.store, {}, async (store) => {
    const progress = new Progress({ label: "import", unit: FILES, stepPercent: 10 });
    const summary = await importNpz(store, file, {
      recognizerSha256: recognizer,
      command: shellCommand(["import-npz", ...process.argv.slice(2)]),
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.finish();
    for (const r of summary.refused.slice(0, MAX_REFUSALS_SHOWN)) process.stderr.write(`refused row ${r.row} (${r.path}): ${r.reason}\n`);
    if (summary.refused.length > MAX_REFUSALS_SHOWN) process.stderr.write(`... and ${summary.refused.length - MAX_REFUSALS_SHOWN} more refused rows\n`);
    process.stderr.write(
      `imported ${summary.faces} faces (${summary.dim}-d, recognizer ${summary.recognizerSha256.slice(0, 8)}…) of ${summary.rows} rows: ` +
        `${summary.files} files, ${summary.aliases} aliases, ${summary.missing} not on disk, ${summary.refused.length} rows refused\n` +
        `store: ${values.store} (run ${summary.runId})\n`,
    );
    if (values.json) {
      const { rows, faces, files, aliases, missing, dim } = summary;
      console.log(JSON.stringify({ rows, faces, files, aliases, missing, refused: summary.refused.length, dim }));
    }
    return 0;
  });
}

await runMain(main, USAGE);
