/**
 * The scan as a command runs it: store opened for writing, the engine from --models (the default pack fetched on
 * first use), progress on stderr and a one-line summary. Shared by `deno task scan` and the library commands'
 * `--scan` (scan the source, then plan on it), so both scan identically.
 */
import path from "node:path";
import type { RunConfig } from "../config";
import { isUnder, type ScanSummary, scanTree } from "../scan/scan";
import { withFaceStore } from "../store/store";
import { openEngineFromModelsDir } from "./engine";
import { UsageError } from "./errors";
import { FILES, Progress } from "./progress";

/** The options of a command that can scan its source before its own work (`--scan`, `--models DIR`). */
export const SCAN_FIRST_OPTIONS = { scan: { type: "boolean", default: false }, models: { type: "string" } } as const;

/** The usage lines of SCAN_FIRST_OPTIONS, for a command whose photo folder is given by `photosFlag`. */
export function scanFirstUsage(photosFlag: string): string {
  return `  --scan          scan ${photosFlag} into the store first (incremental, as deno task scan; also with --dry-run,
                  which leaves only the library untouched)
  --models DIR    with --scan: model folder (default: $FACESETS_MODELS, else models/buffalo_l, fetched on first use)`;
}

export interface ScanCommandOptions {
  /** The photo tree (already checked to be a folder). */
  source: string;
  storePath: string;
  /** --models; undefined: $FACESETS_MODELS, else models/buffalo_l, fetched when missing. */
  models?: string;
  config: RunConfig;
  retry?: boolean;
  followSymlinks?: boolean;
  /** Recorded with the scan's run. */
  command: string;
}

/** Scan `source` into the store at `storePath`, with a progress bar and a summary line on stderr. */
export async function scanWithProgress(options: ScanCommandOptions): Promise<ScanSummary> {
  const { source, config } = options;
  const storePath = path.resolve(options.storePath);
  if (isUnder(storePath, path.resolve(source))) {
    throw new UsageError(`--store ${options.storePath} is inside ${source}: facesets never writes into the photo tree`);
  }
  return await withFaceStore(storePath, {}, async (store) => {
    const engine = await openEngineFromModelsDir(options.models, { fetchDefault: true });
    try {
      const progress = new Progress({ label: "scan", unit: FILES, stepPercent: 5 });
      const summary = await scanTree({
        source,
        store,
        engine,
        config,
        retry: options.retry ?? false,
        followSymlinks: options.followSymlinks ?? false,
        command: options.command,
        onProgress: (done, total) => progress.update(done, total),
        onLibrarySkipped: (dir) => process.stderr.write(`skipped ${dir}: a face-set library, its crops are not photos\n`),
      });
      progress.finish();
      const line = `scanned ${summary.seen} files in ${summary.seconds.toFixed(1)} s: ${summary.analysed} analysed, ` +
        `${summary.skipped} skipped, ${summary.aliases} aliases, ${summary.errors} errors, ${summary.noface} without faces, ` +
        `${summary.faces} faces, ${summary.missing} missing; ${summary.imagesPerSecond.toFixed(2)} images/s`;
      process.stderr.write(`${line}\n`);
      if (summary.reanalysed > 0) {
        // Say why known files were not skipped: their records were made with other settings.
        const why = Object.entries(summary.settingsChanges).map(([change, n]) => `${change} (${n})`).join(", ");
        process.stderr.write(`re-analysed ${summary.reanalysed} known files made with other settings: ${why}\n`);
      }
      process.stderr.write(`store: ${storePath} (run ${summary.runId})\n`);
      return summary;
    } finally {
      await engine.close();
    }
  });
}
