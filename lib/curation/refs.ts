/**
 * How the owner names sets and faces: a set by its number (`7`), its folder name (`faceset_007`, or the folder it
 * was renamed to) or its person's name; a face by its id as in the manifests (`face_id`, else the faceKey) or its
 * crop file name. Every lookup that does not find exactly one thing fails with a CurateError naming the reference.
 */
import path from "node:path";
import type { FacesetFace } from "../library/manifest";
import { facesetName } from "../library/manifest";
import type { Ledger, LedgerSet } from "../library/ledger";
import type { Library, LoadedFaceset } from "../library/read";
import { faceKey } from "../library/write";
import { CurateError } from "./errors";

/** "7", "faceset_007", or a person name. */
export type SetRef = string;
/** A face id as in the manifests, or its crop file name. */
export type FaceRef = string;

const describeSets = (ledger: Ledger) => {
  const names = ledger.sets.filter((s) => s.state === "active").map((s) => (s.person ? `${s.name} (${s.person})` : s.name));
  return names.length === 0 ? "the library has no sets" : `sets: ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", ..." : ""}`;
};

/** The ledger set `ref` names (any state); CurateError when none or several. */
export function resolveSet(ledger: Ledger, ref: SetRef): LedgerSet {
  const text = ref.trim();
  let byName: LedgerSet | undefined;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    byName = Number.isSafeInteger(n) ? ledger.sets.find((s) => s.name === facesetName(n)) : undefined;
  } else {
    byName = ledger.sets.find((s) => s.name === text || s.folder === text || path.posix.basename(s.folder) === text);
  }
  if (byName) return byName;
  const byPerson = ledger.sets.filter((s) => s.person !== null && s.person.toLowerCase() === text.toLowerCase());
  const active = byPerson.filter((s) => s.state === "active");
  const pick = active.length > 0 ? active : byPerson;
  if (pick.length === 1) return pick[0]!;
  if (pick.length > 1) {
    throw new CurateError(`set "${ref}" is ambiguous: ${pick.map((s) => s.name).join(", ")} are named so; give the number`);
  }
  throw new CurateError(`unknown set "${ref}" (${describeSets(ledger)})`);
}

/** `resolveSet`, and the set must be active (in the set list). */
export function resolveActiveSet(ledger: Ledger, ref: SetRef): LedgerSet {
  const set = resolveSet(ledger, ref);
  if (set.state === "merged") throw new CurateError(`set "${ref}" (${set.name}) was merged into ${set.mergedInto}; use that set`);
  if (set.state === "dismissed") throw new CurateError(`set "${ref}" (${set.name}) is dismissed; restore it first (curate restore --set ${set.number})`);
  return set;
}

/** A face of a set, where it is. */
export interface FoundFace {
  set: LoadedFaceset;
  face: FacesetFace;
  key: string;
}

const matches = (face: FacesetFace, ref: string) =>
  face.faceId === ref || faceKey(face) === ref || face.crop === ref || path.posix.basename(face.crop) === ref;

/** The face `ref` names, in `within` when given, else in any set of the library; CurateError when none or several. */
export function resolveFace(library: Library, ref: FaceRef, within?: LoadedFaceset): FoundFace {
  const sets = within ? [within] : [...library.sets.values()].sort((a, b) => a.number - b.number);
  const found: FoundFace[] = [];
  for (const set of sets) {
    for (const face of set.manifest.faces) if (matches(face, ref)) found.push({ set, face, key: faceKey(face) });
  }
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    throw new CurateError(`face "${ref}" is ambiguous: it names faces in ${[...new Set(found.map((f) => f.set.name))].join(", ")}; give the face id`);
  }
  throw new CurateError(within ? `unknown face "${ref}" in ${within.name}` : `unknown face "${ref}" (not in any set of the library)`);
}

/** The loaded set folder of an active ledger set. */
export function loadedSet(library: Library, set: LedgerSet): LoadedFaceset {
  const loaded = library.sets.get(set.number);
  if (!loaded) throw new CurateError(`${set.name} has no set folder with a manifest in ${library.dir}`);
  return loaded;
}
