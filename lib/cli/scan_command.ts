/**
 * The scan as a command runs it: store opened for writing, the engine from --models (the default pack fetched on
 * first use), progress on stderr and a one-line summary. Shared by `deno task scan` and the library commands'
 * `--scan` (scan the source, then plan on it), so both scan identically.
 */
import path from "node:path";
import type { RunConfig } from "../config";
import { isUnder, type ScanSummary, scanTree } from "../scan/scan";
import { withFaceStore } from "../store/store";
import { displayPath } from "../util/source_names";
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

/** Failing files named in a summary; the rest are counted and `listCommand` says how to see them all. */
export const FAILURES_SHOWN = 10;

/** The command that lists every failing file (known files are skipped, so it re-reads nothing). */
export function listFailuresCommand(source: string, storePath: string): string {
  return `deno task scan --source ${shellWord(source)} --store ${shellWord(storePath)} --failures`;
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The human summary of a scan: every bucket (they add up to the files under the source), then up to
 * FAILURES_SHOWN failing files with their reasons and how to list all of them.
 */
export function scanSummaryText(summary: ScanSummary, { listCommand }: { listCommand: string }): string {
  const s = summary;
  const unsupported = Object.entries(s.unsupported);
  const unsupportedTotal = unsupported.reduce((a, [, n]) => a + n, 0);
  const perExt = unsupported.map(([ext, n]) => `${ext || "(no extension)"} ${n}`).join(", ");
  const lines = [
    `scanned ${s.files} files in ${s.seconds.toFixed(1)} s: ${s.analysed} analysed (${s.noface} without faces), ` +
    `${s.skipped} skipped (known), ${s.aliases} aliases, ${s.errors} errors, ${s.ignored} ignored, ` +
    `${unsupportedTotal} unsupported${perExt ? ` (${perExt})` : ""}; ${s.faces} faces, ${s.missing} missing` +
    `${s.unreadableFolders > 0 ? `, ${s.unreadableFolders} unreadable folder${s.unreadableFolders === 1 ? "" : "s"}` : ""}; ` +
    `${s.imagesPerSecond.toFixed(2)} images/s`,
  ];
  if (s.ignored > 0) {
    const why = Object.entries(s.ignoredByReason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(", ");
    lines.push(`ignored: ${why}`);
  }
  if (s.failures.length > 0) {
    lines.push(`failing files under the source (${s.failures.length}, this run's and earlier):`);
    for (const f of s.failures.slice(0, FAILURES_SHOWN)) lines.push(`  ${displayPath(f.path)}: ${f.reason}`);
    if (s.failures.length > FAILURES_SHOWN) lines.push(`  ... and ${s.failures.length - FAILURES_SHOWN} more`);
    lines.push(`list them all: ${listCommand}`);
  }
  return lines.join("\n") + "\n";
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
      process.stderr.write(scanSummaryText(summary, { listCommand: listFailuresCommand(source, options.storePath) }));
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
