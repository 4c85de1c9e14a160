/**
 * `curate status`: every set the library ever had (active, merged, dismissed) with its number, person and face
 * count, and the hand edits found: those recorded as decisions, and those on disk now that the next command that
 * writes the library will record. Reads only.
 */
import { readDecisions } from "../library/ledger";
import { readLibrary } from "../library/read";
import { type HandEdit, planSync } from "../library/reconcile";

/** Exactly the `curate status --json` object (issue 11). */
export interface LibraryStatus {
  sets: { set: string; person: string | null; state: "active" | "merged" | "dismissed"; faces: number; mergedInto: string | null }[];
  handEdits: { kind: string; set: string; detail: string }[];
}

export interface StatusDetail {
  status: LibraryStatus;
  /** Hand edits on disk not recorded yet (also in status.handEdits, last). */
  pending: HandEdit[];
  warnings: string[];
  /** Whether the library has a ledger yet. */
  hasLedger: boolean;
}

export async function libraryStatusDetail(libraryDir: string): Promise<StatusDetail> {
  const library = await readLibrary(libraryDir, { checkCrops: false });
  const plan = await planSync(library, "status");
  const sets = [...plan.ledger.sets]
    .sort((a, b) => a.number - b.number)
    .map((s) => ({ set: s.name, person: s.person, state: s.state, faces: s.faces.length, mergedInto: s.mergedInto }));
  const recorded = library.ledger ? await readDecisions(libraryDir, library.ledger.lastSeq) : [];
  const handEdits = [
    ...recorded.filter((d) => d.by === "hand-edit").map((d) => ({ kind: d.verb, set: d.sets[0] ?? "", detail: d.detail })),
    ...plan.handEdits,
  ];
  return { status: { sets, handEdits }, pending: plan.handEdits, warnings: library.warnings, hasLedger: library.ledger !== undefined };
}

export async function libraryStatus(libraryDir: string): Promise<LibraryStatus> {
  return (await libraryStatusDetail(libraryDir)).status;
}
