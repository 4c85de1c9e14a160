/**
 * deno task scan — an incremental, crash-safe scan of a photo tree into the face store.
 */
import { displayPath, readConfigFile, shellCommand, SUPPORTED_FORMATS_TEXT } from "../lib/mod";
import {
  CONFIG_OPTION,
  DEFAULT_STORE_PATH,
  HELP_PRINTED,
  JSON_OPTION,
  parseCommandArgs,
  requireFolder,
  requireOption,
  runMain,
  scanWithProgress,
  STORE_OPTION,
  FAILURES_SHOWN,
} from "../lib/cli/mod";

const USAGE = `usage: deno task scan --source DIR [--store PATH] [--models DIR] [--json] [--retry] [--strict] [--failures]

Find every face in a photo tree and keep the records in the face store. Incremental: known files are skipped,
byte-identical copies become aliases, changed files are re-analysed, vanished files are marked missing. Files
whose records were made with other detection settings or models (errors: also another image.maxPixels) are
analysed again, and the summary says which settings changed.
Each file's EXIF DateTimeOriginal is recorded as its capture time (none: null; the mtime is never used).
The photos are only read, never written. A folder holding a face-set library (a manifest.json listing facesets)
is left out: its crops are not photos. Every file under the source is counted in one bucket (analysed, skipped,
aliases, errors, ignored, unsupported by extension); up to ${FAILURES_SHOWN} failing files are named with their reasons.

  --source DIR        the photo tree (${SUPPORTED_FORMATS_TEXT}; extensions in any case)
  --store PATH        the store file (default: ${DEFAULT_STORE_PATH})
  --models DIR        model folder (default: $FACESETS_MODELS, else models/buffalo_l, fetched on first use)
  --config FILE       JSON overrides of the run config
  --set KEY=VALUE     one config setting, e.g. --set identity.minUniqueSources=4
                      (repeatable, applied after --config, validated like it)
  --retry             re-analyse files recorded as noface or error
  --follow-symlinks   follow symbolic links (default: not followed, so loops cannot happen)
  --strict            exit 1 when any file or folder under the source has an error record (this run's or earlier)
  --failures          print every failing file under the source to stdout, one per line: PATH<TAB>REASON
  --json              make the last stdout line the summary as one JSON object (with every failing file)
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
  failures: { type: "boolean", default: false },
  ...JSON_OPTION,
} as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const source = requireFolder("--source", requireOption(values, "source", "DIR"));
  const config = await readConfigFile(values.config, values.set);
  const summary = await scanWithProgress({
    source,
    storePath: values.store,
    models: values.models,
    config,
    retry: values.retry,
    followSymlinks: values["follow-symlinks"],
    command: shellCommand(["scan", ...Deno.args]),
  });
  if (values.failures) for (const f of summary.failures) console.log(`${displayPath(f.path)}\t${f.reason}`);
  if (values.json) {
    const { files, seen, analysed, skipped, reanalysed, settingsChanges, aliases, errors, ignored, unsupported, unreadableFolders } = summary;
    const { noface, faces, missing } = summary;
    console.log(JSON.stringify({
      files, seen, analysed, skipped, reanalysed, settingsChanges, aliases, errors, ignored, unsupported, unreadableFolders,
      noface, faces, missing,
      ignored_by_reason: summary.ignoredByReason,
      failures: summary.failures,
      images_per_s: summary.imagesPerSecond,
    }));
  }
  if (values.strict && summary.failures.length > 0) {
    process.stderr.write(`--strict: ${summary.failures.length} failing file(s) under ${source}\n`);
    return 1;
  }
  return 0;
}

await runMain(main, USAGE);
