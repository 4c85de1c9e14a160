/**
 * One curation step, the same for every verb: under the library lock, finish interrupted writes and record hand
 * edits (syncLedgerLocked), let the verb plan on the library and a copy of the ledger, then (unless a dry run)
 * snapshot what it touches and journal it (ledger_journal.ts), apply the file moves, write the top-level
 * manifest the ledger implies, and commit the ledger with the decision. Killed anywhere, the next writer puts the
 * snapshot back; a committed decision keeps the snapshot for `curate undo`.
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../util/atomic";
import { pauseAt } from "../util/pause";
import { commitLedger, type Decision, type Ledger, type LedgerSet, nextSeq } from "../library/ledger";
import { beginLedgerChange, endLedgerChange, recoverLedgerChange } from "../library/ledger_journal";
import { libraryStep } from "../library/interrupt";
import { withLibraryLock } from "../library/lock";
import {
  type FacesetFace,
  facesetManifestJson,
  type FacesetOrigin,
  formatManifest,
  libraryManifestJson,
  MANIFEST_FILE,
} from "../library/manifest";
import { type Library, type LoadedFaceset, readLibrary } from "../library/read";
import { type HandEdit, ledgerManifest, planSync, syncLedgerLocked } from "../library/reconcile";
import { CurateError } from "./errors";

/** Which library a curation acts on. */
export interface CurateTarget {
  libraryDir: string;
  /** The face store (createSetFromFaces renders crops from it). */
  storePath?: string;
  /** Plan and report, write nothing (default false). */
  dryRun?: boolean;
}

/** What a curation did (or, on a dry run, would do). */
export interface CurateOutcome {
  verb: string;
  /** One human line per change. */
  changes: string[];
  /** Folder names (`faceset_NNN`) of the sets touched. */
  sets: string[];
  /** Hand edits found (and, unless a dry run, recorded) before the verb ran. */
  handEdits: HandEdit[];
  warnings: string[];
  dryRun: boolean;
  /** The decision's seq in decisions.jsonl (undefined on a dry run or when nothing changed). */
  seq?: number;
}

/** What a verb works on: the library as read after the sync, and a ledger copy it changes in place. */
export interface CurateContext {
  libraryDir: string;
  library: Library;
  ledger: Ledger;
  dryRun: boolean;
}

/** A verb's plan: what it reports, what it touches, and the file work that makes it true. */
export interface CurateStep {
  changes: string[];
  sets: string[];
  /** Library-relative paths the step changes (snapshotted first). */
  touched: string[];
  decision: Omit<Decision, "seq" | "at" | "by" | "snapshot">;
  /** The file work (crop moves, folder renames, set manifests); the top-level manifest and ledger come after. */
  apply?: () => Promise<void>;
  /** Nothing to do (e.g. a name given twice): nothing is written. */
  noop?: boolean;
}

export const exists = async (p: string) => (await lstat(p).catch(() => undefined)) !== undefined;

/** Replace a set's manifest (atomically) with `faces`. */
export async function writeSetManifest(set: LoadedFaceset, faces: FacesetFace[]): Promise<void> {
  const manifest = { ...set.manifest, name: set.manifest.name ?? set.name, faces };
  await writeFileAtomic(path.join(set.dir, MANIFEST_FILE), formatManifest(facesetManifestJson(manifest)));
}

const originOf = (set: LedgerSet): FacesetOrigin => {
  const origin = set.entry?.origin;
  return typeof origin === "string" ? (origin as FacesetOrigin) : "hand-sorted";
};

/** Run one verb (see the module comment). */
export async function runCuration(
  target: CurateTarget,
  verb: string,
  plan: (ctx: CurateContext) => Promise<CurateStep> | CurateStep,
): Promise<CurateOutcome> {
  const libraryDir = path.resolve(target.libraryDir);
  const dryRun = target.dryRun ?? false;
  if (!(await lstat(libraryDir).catch(() => undefined))?.isDirectory()) {
    throw new CurateError(`--library ${target.libraryDir}: no such library folder`);
  }
  const work = async (): Promise<CurateOutcome> => {
    let library: Library;
    let ledger: Ledger;
    let handEdits: HandEdit[];
    let warnings: string[];
    if (dryRun) {
      library = await readLibrary(libraryDir, { checkCrops: false });
      const p = await planSync(library, "curate");
      [ledger, handEdits, warnings] = [p.ledger, p.handEdits, library.warnings];
    } else {
      const synced = await syncLedgerLocked(libraryDir, "curate");
      [library, ledger, handEdits, warnings] = [synced.library, structuredClone(synced.ledger), synced.handEdits, synced.warnings];
    }
    const step = await plan({ libraryDir, library, ledger, dryRun });
    const outcome: CurateOutcome = { verb, changes: step.changes, sets: step.sets, handEdits, warnings, dryRun };
    if (dryRun || step.noop) return outcome;

    const seq = nextSeq(ledger);
    const committedBefore = library.ledger;
    const snapshot = await beginLedgerChange(libraryDir, seq, verb, step.touched);
    try {
      await pauseAt("curate:snapshot-taken"); // test-only kill points (lib/util/pause.ts)
      await step.apply?.();
      await pauseAt("curate:applied");
      const { manifest } = ledgerManifest(library.manifest, ledger, originOf);
      await writeFileAtomic(path.join(libraryDir, MANIFEST_FILE), formatManifest(libraryManifestJson(manifest)));
      await pauseAt("curate:manifest-written");
      for (const n of ledger.sets.map((s) => s.number)) ledger.highestNumber = Math.max(ledger.highestNumber, n);
      await commitLedger(libraryDir, ledger, [{ by: "curate", ...step.decision, snapshot }]);
    } catch (err) {
      // Put everything back now rather than leave it to the next command (the journal says how).
      await recoverLedgerChange(libraryDir, committedBefore);
      throw err;
    }
    await endLedgerChange(libraryDir);
    outcome.seq = seq;
    return outcome;
  };
  // One library step: a Ctrl-C during a curation lets it finish (it is short), then the command stops (interrupt.ts).
  return dryRun ? await work() : await withLibraryLock(libraryDir, () => libraryStep(`curate ${verb}`, work));
}
