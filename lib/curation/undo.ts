/**
 * `undo`: revert the last curate decision that has not been undone, from the snapshot it kept (set folders as
 * they were, and those sets' ledger records). Refused when a later change (another decision, a command adding
 * faces, a hand edit) touched the same sets: putting the old folders back would lose it. Undo again to go further
 * back; an undo itself is not undone.
 */
import path from "node:path";
import { type Decision, type LedgerSet, parseLedger, readDecisions } from "../library/ledger";
import { readSnapshotMeta, restoreSnapshot, snapshotLedgerText } from "../library/ledger_journal";
import { ledgerDir } from "../library/ledger";
import { CurateError } from "./errors";
import { type CurateOutcome, type CurateTarget, runCuration } from "./run";

/** The decision `undo` would revert, and what stands in its way; undefined when there is none. */
export function lastUndoable(decisions: readonly Decision[]): { decision: Decision; blockedBy?: Decision } | undefined {
  const undone = new Set(decisions.flatMap((d) => (d.verb === "undo" && d.undoes !== undefined ? [d.undoes] : [])));
  const live = decisions.filter((d) => d.verb !== "undo" && !undone.has(d.seq));
  const decision = [...live].reverse().find((d) => d.by === "curate" && d.snapshot !== undefined);
  if (!decision) return undefined;
  const blockedBy = live.find((d) => d.seq > decision.seq && d.sets.some((s) => decision.sets.includes(s)));
  return { decision, blockedBy };
}

export function undoLast(target: CurateTarget): Promise<CurateOutcome> {
  return runCuration(target, "undo", async ({ libraryDir, ledger }) => {
    const found = lastUndoable(await readDecisions(libraryDir, ledger.lastSeq));
    if (!found) throw new CurateError("nothing to undo: no curate decision in the ledger that is not undone yet");
    const { decision, blockedBy } = found;
    if (blockedBy) {
      throw new CurateError(
        `cannot undo #${decision.seq} (${decision.detail}): ${blockedBy.sets.join(", ")} changed since (#${blockedBy.seq} ${blockedBy.verb} by ${blockedBy.by})`,
      );
    }
    const snapshot = decision.snapshot!;
    const meta = await readSnapshotMeta(libraryDir, snapshot);
    const text = await snapshotLedgerText(libraryDir, snapshot);
    const old = text === undefined ? [] : parseLedger(JSON.parse(text), path.join(ledgerDir(libraryDir), snapshot, "sets.json")).sets;
    const oldPairs = text === undefined ? [] : parseLedger(JSON.parse(text), snapshot).notSame;
    const names = new Set(decision.sets);
    const restored: LedgerSet[] = [];
    for (const name of names) {
      const i = ledger.sets.findIndex((s) => s.name === name);
      const before = old.find((s) => s.name === name);
      if (before && i >= 0) ledger.sets[i] = before;
      else if (before) ledger.sets.push(before);
      else if (i >= 0) ledger.sets.splice(i, 1); // made by the decision; its number stays given (highestNumber)
      if (before) restored.push(before);
    }
    const involves = ([a, b]: [string, string]) => names.has(a) || names.has(b);
    ledger.notSame = [...ledger.notSame.filter((p) => !involves(p)), ...oldPairs.filter(involves)];
    const line = `undid #${decision.seq}: ${decision.detail}`;
    return {
      changes: [line],
      sets: [...names],
      touched: meta.touched.map((t) => t.path),
      decision: { verb: "undo", undoes: decision.seq, sets: [...names], faces: [], detail: line },
      apply: async () => {
        await restoreSnapshot(libraryDir, snapshot);
      },
    };
  });
}
