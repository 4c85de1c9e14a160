/**
 * The skeleton every library workflow (build-folders, cluster-osrc, refine, extend, split-eras) shares around its
 * plan: the options it is called with, opening a run (id, record header, the store's recognizer, the library),
 * the fields every run record begins with, the provenance of the sets it makes, and ending the run (finishedAt;
 * the run record is written only when the run wrote to the library).
 */
import path from "node:path";
import type { RunConfig } from "../config";
import { WriteInterrupted } from "../library/interrupt";
import { lockCompletedJournal, withLibraryLock } from "../library/lock";
import { type SetProvenance } from "../library/provenance";
import { type Library, readLibrary } from "../library/read";
import { type HandEdit, syncLedger, type SyncResult } from "../library/reconcile";
import { writeRunRecord } from "../library/runs";
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

/** The header and the fields every library workflow's run record holds next. */
export interface RunRecordBase<Kind extends string> extends RunRecordHeader<Kind> {
  /** The library and the store, as absolute paths. */
  library: string;
  store: string;
  config: RunConfig;
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

/** An open workflow run: what every workflow reads before it plans. */
export interface WorkflowRun<Kind extends string> extends RunStart<Kind> {
  kind: Kind;
  libraryDir: string;
  storePath: string;
  store: FaceStore;
  config: RunConfig;
  dryRun: boolean;
  log: (line: string) => void;
  recognizer: { sha256: string; dim: number };
  library: Library;
  /** Hand edits found when the run opened (recorded in the ledger unless a dry run); also in library.warnings. */
  handEdits: HandEdit[];
}

/** The lines a library command prints for what the ledger sync found (hand edits, rolled-back writes). */
export function syncLines(synced: SyncResult, dryRun: boolean): string[] {
  return [
    ...synced.handEdits.map((e) => `hand edit ${dryRun ? "found (a run that writes records it)" : "recorded"}: ${e.detail}`),
    ...synced.warnings,
  ];
}

export interface OpenRunOptions {
  /** What to do when the store holds no faces (storeRecognizer's hint). */
  scanHint?: string;
  /**
   * Checks of the library that come before the store's: when given, the library is read first and this runs
   * before the recognizer is asked for (split-eras names a missing set before an empty store).
   */
  checkLibrary?: (library: Library) => void;
}

/** Open a run of `kind`: start it, resolve the paths, take the store's recognizer and read the library. */
export async function openRun<Kind extends string>(
  kind: Kind,
  options: LibraryWorkflowOptions,
  { scanHint, checkLibrary }: OpenRunOptions = {},
): Promise<WorkflowRun<Kind>> {
  const { store, config, dryRun = false } = options;
  const start = startRun(kind, options);
  const libraryDir = path.resolve(options.libraryDir);
  // The owner's hand edits become decisions before anything is planned (lib/library/reconcile.ts).
  const synced = await syncLedger(libraryDir, { dryRun, by: kind, start: false });
  const read = async () => {
    const library = await readLibrary(libraryDir);
    library.warnings.unshift(...syncLines(synced, dryRun));
    return library;
  };
  let library: Library | undefined;
  if (checkLibrary) {
    library = await read();
    checkLibrary(library);
  }
  const recognizer = storeRecognizer(store, options.storePath, scanHint);
  library ??= await read();
  return {
    ...start,
    kind,
    libraryDir,
    storePath: path.resolve(options.storePath),
    store,
    config,
    dryRun,
    log: options.log ?? (() => {}),
    recognizer,
    library,
    handEdits: synced.handEdits,
  };
}

/** The header and the shared fields of the run's record; each workflow adds its own after them. */
export function recordBase<Kind extends string>(run: WorkflowRun<Kind>): RunRecordBase<Kind> {
  return { ...run.header, library: run.libraryDir, store: run.storePath, config: run.config };
}

/**
 * The provenance.json of a set the run makes: the run, the store and models, the config, then the command's own
 * `fields` (e.g. `cluster`, `person`, era fields) and the store faces the set claims.
 */
export function setProvenance(
  run: WorkflowRun<string>,
  detectorSha256: string | null,
  fields: { source?: string; claimedFaceIds: string[]; [key: string]: unknown },
): SetProvenance {
  const { source, claimedFaceIds, ...own } = fields;
  return {
    tool: "facesets",
    command: run.kind,
    run_id: run.runId,
    created_at: run.startedAt.toISOString(),
    ...(source !== undefined ? { source } : {}),
    store: run.storePath,
    detector_sha256: detectorSha256,
    recognizer_sha256: run.recognizer.sha256,
    config: run.config,
    ...own,
    claimed_face_ids: claimedFaceIds,
  };
}

/** End a run that writes nothing (a dry run, or nothing to do): stamp finishedAt; no run record is written. */
export function endRun<R extends { finishedAt: string }>(record: R): R {
  record.finishedAt = new Date().toISOString();
  return record;
}

/**
 * End a run that wrote to the library: record the sets and faces it added in the ledger, stamp finishedAt and
 * write its run record; returns the record's path.
 */
export async function finishRun(run: WorkflowRun<string>, record: { finishedAt: string }): Promise<string> {
  await syncLedger(run.libraryDir, { by: run.kind });
  return await writeRunRecord(run.libraryDir, run.runId, endRun(record));
}

/**
 * Run a workflow under the library lock, taken before it reads or plans anything (a refusal comes first, and a
 * killed earlier write is completed before the plan reads the library). A dry run writes nothing and takes no lock.
 */
export function underLibraryLock<T>(
  options: Pick<LibraryWorkflowOptions, "libraryDir" | "dryRun" | "command" | "log">,
  kind: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (options.dryRun) return fn();
  const log = options.log;
  const locked = async () => {
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      // Ctrl-C after a completed commit: record what it wrote in the ledger, as finishRun would have, then stop.
      if (err instanceof WriteInterrupted) {
        await syncLedger(options.libraryDir, { by: kind }).catch((e: unknown) =>
          log?.(`warning: ${options.libraryDir}: the ledger was not updated after the interruption (${(e as Error).message}); the next command records it`)
        );
      }
      throw err;
    }
    // A killed run's write was completed when the lock was taken: record it in the ledger, as its finishRun would
    // have (a no-op when this run's own finishRun already did).
    if (lockCompletedJournal(options.libraryDir)) await syncLedger(options.libraryDir, { by: kind });
    return result;
  };
  return withLibraryLock(options.libraryDir, locked, {
    command: options.command ?? kind,
    warn: log ? (line) => log(`warning: ${line}`) : undefined,
  });
}
