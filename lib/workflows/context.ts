/**
 * What the library workflows (build-folders, cluster-osrc, refine, extend, split-eras) share around their plans:
 * the options they are called with, the start of a run and its record, and what they need of the store.
 */
import type { RunConfig } from "../config";
import { newRunId } from "../store/ids";
import type { FaceStore } from "../store/store";

export interface LibraryWorkflowOptions {
  libraryDir: string;
  store: FaceStore;
  /** Recorded with the run (provenance of each set, run record). */
  storePath: string;
  config: RunConfig;
  /** Plan only, write nothing (default false). */
  dryRun?: boolean;
  /** The command line, for the run record (default: the command's name). */
  command?: string;
  /** The `--set KEY=VALUE` settings `config` was made with, in order, for the run record (default none). */
  configSettings?: readonly string[];
  /** Progress of crop rendering. */
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

/** The fields every run record (`<library>/_runs/<runId>.json`) begins with, in this order. */
export interface RunRecordHeader<Kind extends string> {
  kind: Kind;
  runId: string;
  startedAt: string;
  /** "" until the run ends (a dry run ends after planning). */
  finishedAt: string;
  command: string;
  dryRun: boolean;
  /** The `--set KEY=VALUE` config settings of the run, in the order given ([] when none; the resolved config has them applied). */
  configSettings: string[];
}

export interface RunStart<Kind extends string> {
  runId: string;
  startedAt: Date;
  header: RunRecordHeader<Kind>;
}

/** Start a run of `kind` now: its id (from the start time) and its record's header. */
export function startRun<Kind extends string>(
  kind: Kind,
  { dryRun = false, command, configSettings = [] }: Pick<LibraryWorkflowOptions, "dryRun" | "command" | "configSettings">,
): RunStart<Kind> {
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  return {
    runId,
    startedAt,
    header: { kind, runId, startedAt: startedAt.toISOString(), finishedAt: "", command: command ?? kind, dryRun, configSettings: [...configSettings] },
  };
}

/**
 * The recognizer of the store's faces, whose dimension every plan needs. A store without faces has none:
 * the message says to scan (`scanHint`, default "run scan first").
 */
export function storeRecognizer(store: FaceStore, storePath: string, scanHint = "run scan first"): { sha256: string; dim: number } {
  const recognizer = store.recognizer;
  if (!recognizer) throw new Error(`${storePath}: the store holds no faces yet; ${scanHint}`);
  return recognizer;
}

/** The detector of the store's latest finished scan, for provenance; null when no run recorded one (imports). */
export async function latestDetectorSha256(store: FaceStore): Promise<string | null> {
  return (await store.runs()).filter((r) => r.status === "done" && r.detectorSha256).at(-1)?.detectorSha256 ?? null;
}
