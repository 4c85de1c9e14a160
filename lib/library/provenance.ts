/**
 * Provenance of sets a facesets command made: `<set>/provenance.json`, written with the set and never changed.
 * The run that made a set is recorded beside it under `<library>/_runs/` (runs.ts).
 */
import path from "node:path";
import type { Library } from "./read";
import { readJsonFile } from "../util/json";
import { LibraryError } from "./errors";
import { ledgerRetiredFaceIds } from "./ledger";

export const PROVENANCE_FILE = "provenance.json";

/** What every new set records about the run that made it (JSON keys as written). */
export interface SetProvenance {
  tool: "facesets";
  command: string;
  run_id: string;
  created_at: string;
  source?: string;
  store?: string;
  detector_sha256: string | null;
  recognizer_sha256: string | null;
  config: unknown;
  /** Store faces this set stands for (exported or not): later discoveries leave them alone. */
  claimed_face_ids: string[];
  [key: string]: unknown;
}

/** The provenance.json file of a new set, as every command writes it. */
export function provenanceFile(provenance: SetProvenance): { name: string; data: string } {
  return { name: PROVENANCE_FILE, data: JSON.stringify(provenance, null, 1) + "\n" };
}

/** The parsed provenance.json of the set in `setDir`; undefined when it has none (hand-made sets). */
export async function readSetProvenance(setDir: string): Promise<unknown> {
  const file = path.join(setDir, PROVENANCE_FILE);
  return await readJsonFile(file, (message) => new LibraryError(message, file), { missingOk: true });
}

/**
 * Face ids no discovery may take: those claimed by the provenance of every set (and thin era) in the library, and
 * those the ledger retired (ledgerRetiredFaceIds: dismissed sets' faces, merged and dismissed sets' claims).
 */
export async function claimedFaceIds(library: Library): Promise<Set<string>> {
  // The owner's decisions first: faces of dismissed sets, and what merged or dismissed sets had claimed.
  const out = ledgerRetiredFaceIds(library.ledger);
  for (const set of [...library.sets.values(), ...library.thin.values()]) {
    const json = await readSetProvenance(set.dir);
    if (json === undefined) continue;
    const file = path.join(set.dir, PROVENANCE_FILE);
    const ids = (json as { claimed_face_ids?: unknown }).claimed_face_ids;
    if (ids === undefined) continue;
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== "string")) {
      throw new LibraryError(`${file}: claimed_face_ids must be an array of strings`, file);
    }
    for (const id of ids as string[]) out.add(id);
  }
  return out;
}
