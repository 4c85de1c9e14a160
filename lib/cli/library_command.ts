/**
 * How the library commands (build-folders, cluster-osrc, extend, refine) run their workflow once their own
 * arguments are checked, and what they print around its plan. Notes go to stderr, so that stdout holds only the
 * plan and, with --json, ends with the outcome line.
 */
import { realpathSync } from "node:fs";
import path from "node:path";
import { readConfigFile } from "../config";
import { withLibraryLock } from "../library/lock";
import { isUnder } from "../scan/scan";
import { withFaceStore } from "../store/store";
import type { LibraryWorkflowOptions } from "../workflows/context";
import { requireExistingPath } from "./args";
import { UsageError } from "./errors";
import { Progress } from "./progress";
import { scanWithProgress } from "./scan_command";

/** The values of LIBRARY_COMMAND_OPTIONS, as parseCommandArgs returns them. */
export interface LibraryCommandValues {
  store: string;
  config?: string;
  /** --set KEY=VALUE, repeatable. */
  set?: string[];
  "dry-run": boolean;
  json: boolean;
  /** SCAN_FIRST_OPTIONS, for the commands that take them. */
  scan?: boolean;
  models?: string;
}

/** What the command hands its workflow: the store (read-only), the config, and where progress and notes go. */
export type WorkflowIo = Required<Pick<LibraryWorkflowOptions, "store" | "storePath" | "config" | "configSettings" | "dryRun" | "onProgress" | "log">>;

export interface LibraryWorkflowRun<R> {
  workflow: (io: WorkflowIo) => Promise<R>;
  printPlan: (result: R) => void;
  /** With --json: the outcome, printed as one JSON object on the last stdout line. */
  outcome: (result: R) => unknown;
  /** Told when --store does not exist (default "run deno task scan first, or add --scan"). */
  scanHint?: string;
  /** The photo folder `--scan` scans into the store before the workflow runs (its --source or --folders). */
  scanSource?: string;
  /** --library: refused when it and scanSource lie one inside the other. */
  libraryDir?: string;
}

/**
 * The real path of `p` with every symlink resolved, also when `p` does not exist yet (a library about to be
 * created): the real path of its nearest existing ancestor, plus the rest.
 */
export function realPathOf(p: string): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  for (let at = abs; ; at = path.dirname(at)) {
    try {
      return path.join(realpathSync(at), ...rest.reverse());
    } catch {
      if (path.dirname(at) === at) return abs;
      rest.push(path.basename(at));
    }
  }
}

/**
 * Refuse a library inside the photo folder (or the reverse): facesets would write crops into the photos, and the
 * next scan would read them back as photos, so extend and refine would feed on their own output. Compared as real
 * paths: a symlinked --library that leads into the photos is refused too.
 */
export function assertLibraryOutsidePhotos(libraryDir: string, photos: string): void {
  const lib = realPathOf(libraryDir);
  const src = realPathOf(photos);
  // Name the resolved path too when a symlink made the difference.
  const shown = (given: string, real: string) => (path.resolve(given) === real ? given : `${given} (${real} with symlinks resolved)`);
  if (lib === src || isUnder(lib, src)) {
    throw new UsageError(
      `--library ${shown(libraryDir, lib)} is inside the photo folder ${shown(photos, src)}: facesets never writes into the photos; put the library elsewhere`,
    );
  }
  if (isUnder(src, lib)) {
    throw new UsageError(
      `the photo folder ${shown(photos, src)} is inside --library ${shown(libraryDir, lib)}: facesets would read its own crops as photos`,
    );
  }
}

export function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}

/**
 * Read --config and --set, take the library lock (unless a dry run: before the scan and the plan, so a busy
 * library is refused first), scan the source first with --scan, check that --store exists, then run the workflow
 * on the store opened read-only, with crop-rendering progress and its notes on stderr, and print its warnings, its
 * plan, where its run record went (or that a dry run wrote nothing) and, with --json, its outcome.
 */
export async function runLibraryWorkflow<R extends { warnings: readonly string[]; recordFile?: string }>(
  values: LibraryCommandValues,
  run: LibraryWorkflowRun<R>,
): Promise<void> {
  const { scanSource, libraryDir } = run;
  if (scanSource !== undefined && libraryDir !== undefined) assertLibraryOutsidePhotos(libraryDir, scanSource);
  if (values.models !== undefined && !values.scan) throw new UsageError("--models applies only with --scan");
  const configSettings = values.set ?? [];
  const config = await readConfigFile(values.config, configSettings);
  if (libraryDir === undefined || values["dry-run"]) return await runUnlocked(values, run, config, configSettings);
  // A missing store is a bad argument: refused before the lock, which would create the library folder.
  if (!values.scan) requireExistingPath("--store", values.store, run.scanHint ?? SCAN_HINT);
  await withLibraryLock(libraryDir, () => runUnlocked(values, run, config, configSettings), { command: commandLine() });
}

const SCAN_HINT = "run deno task scan first, or add --scan";

/** The command line as typed (the script's name and its arguments), for the lock file. */
function commandLine(): string {
  const [script, ...args] = process.argv.slice(1);
  return [path.basename(script ?? "facesets", ".ts").replaceAll("_", "-"), ...args].join(" ");
}

async function runUnlocked<R extends { warnings: readonly string[]; recordFile?: string }>(
  values: LibraryCommandValues,
  { workflow, printPlan, outcome, scanHint = SCAN_HINT, scanSource }: LibraryWorkflowRun<R>,
  config: Awaited<ReturnType<typeof readConfigFile>>,
  configSettings: string[],
): Promise<void> {
  if (values.scan) {
    if (scanSource === undefined) throw new Error("runLibraryWorkflow: --scan needs the command's scanSource");
    // The store is facesets' own cache, so --scan updates it even in a dry run; only the library stays untouched.
    await scanWithProgress({ source: scanSource, storePath: values.store, models: values.models, config, command: `scan ${scanSource} (--scan)` });
  }
  requireExistingPath("--store", values.store, scanHint);
  const dryRun = values["dry-run"];
  await withFaceStore(path.resolve(values.store), { readOnly: true }, async (store) => {
    const progress = new Progress({ label: "export" });
    const result = await workflow({
      store,
      storePath: values.store,
      config,
      configSettings,
      dryRun,
      onProgress: (done, total) => progress.update(done, total),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    progress.finish();
    printWarnings(result.warnings);
    printPlan(result);
    if (dryRun) console.log("\ndry run: nothing written");
    else console.log(`\nrun record: ${result.recordFile}`);
    if (values.json) console.log(JSON.stringify(outcome(result)));
  });
}
