/**
 * deno task scan — an incremental, crash-safe scan of a photo tree into the face store.
 */
import path from "node:path";
import {
  CONFIG_OPTION,
  DEFAULT_STORE_PATH,
  FILES,
  HELP_PRINTED,
  isUnder,
  JSON_OPTION,
  openEngineFromModelsDir,
  parseCommandArgs,
  Progress,
  readConfigFile,
  requireFolder,
  requireOption,
  runMain,
  scanTree,
  STORE_OPTION,
  UsageError,
  withFaceStore,
} from "../lib/mod";

const USAGE = `usage: deno task scan --source DIR [--store PATH] [--models DIR] [--json] [--retry] [--strict]

Find every face in a photo tree and keep the records in the face store. Incremental: known files are skipped,
byte-identical copies become aliases, changed files are re-analysed, vanished files are marked missing.
Each file's EXIF DateTimeOriginal is recorded as its capture time (none: null; the mtime is never used).
The photos are only read, never written.

  --source DIR        the photo tree (JPEG, PNG, WebP, TIFF, PSD; extensions in any case)
  --store PATH        the store file (default: ${DEFAULT_STORE_PATH})
  --models DIR        model folder (default: $FACESETS_MODELS, else models/buffalo_l, fetched on first use)
  --config FILE       JSON overrides of the run config
  --retry             re-analyse files recorded as noface or error
  --follow-symlinks   follow symbolic links (default: not followed, so loops cannot happen)
  --strict            exit 1 when any file could not be read as an image
  --json              make the last stdout line the summary as one JSON object
  --help              show this help

Exit codes: 0 scan completed (unreadable images are counted, not fatal), 1 the scan could not proceed
(store in use, models missing, ...) or --strict with errors, 2 usage error.`;

const OPTIONS = {
  source: { type: "string" },
  ...STORE_OPTION,
  models: { type: "string" },
  ...CONFIG_OPTION,
  retry: { type: "boolean", default: false },
  "follow-symlinks": { type: "boolean", default: false },
  strict: { type: "boolean", default: false },
  ...JSON_OPTION,
} as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const source = requireFolder("--source", requireOption(values, "source", "DIR"));
  const storePath = path.resolve(values.store);
  if (isUnder(storePath, source)) {
    throw new UsageError(`--store ${values.store} is inside --source: facesets never writes into the photo tree`);
  }
  const config = await readConfigFile(values.config);

  return await withFaceStore(storePath, {}, async (store) => {
    const engine = await openEngineFromModelsDir(values.models, { fetchDefault: true });
    try {
      const progress = new Progress({ label: "scan", unit: FILES, stepPercent: 5 });
      const summary = await scanTree({
        source,
        store,
        engine,
        config,
        retry: values.retry,
        followSymlinks: values["follow-symlinks"],
        command: ["scan", ...Deno.args].join(" "),
        onProgress: (done, total) => progress.update(done, total),
      });
      progress.finish();
      const line = `scanned ${summary.seen} files in ${summary.seconds.toFixed(1)} s: ${summary.analysed} analysed, ` +
        `${summary.skipped} skipped, ${summary.aliases} aliases, ${summary.errors} errors, ${summary.noface} without faces, ` +
        `${summary.faces} faces, ${summary.missing} missing; ${summary.imagesPerSecond.toFixed(2)} images/s`;
      process.stderr.write(`${line}\nstore: ${storePath} (run ${summary.runId})\n`);
      if (values.json) {
        const { seen, analysed, skipped, aliases, errors, noface, faces, missing } = summary;
        console.log(JSON.stringify({ seen, analysed, skipped, aliases, errors, noface, faces, missing, images_per_s: summary.imagesPerSecond }));
      }
      return values.strict && summary.errors > 0 ? 1 : 0;
    } finally {
      await engine.close();
    }
  });
}

await runMain(main, USAGE);
