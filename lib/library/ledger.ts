/**
 * The library's ledger: what its owner decided, in plain readable files under `<library>/_ledger/`.
 *
 *   _ledger/sets.json        every set the library ever had: stable id, number, folder, person, state
 *                            (active | merged | dismissed), the faces it holds and the faces rejected from it,
 *                            pairs marked "not the same person", and the highest number ever given
 *   _ledger/decisions.jsonl  append-only: one JSON object per line, what was decided (or found edited by hand),
 *                            which sets and faces, when
 *   _ledger/undo/<seq>/      what a decision replaced (hard links of the set folders it touched, the top-level
 *                            manifest, sets.json), so `curate undo` can put it back
 *
 * [Note: ledger commit] sets.json is the commit point. A change writes decisions.jsonl first (its new lines carry
 * seq numbers above `lastSeq`), then sets.json (atomically, with the new `lastSeq`). Lines above `lastSeq` are not
 * committed: readers ignore them and the next write drops them. So a kill between the two files leaves the ledger
 * as it was, never half of a decision.
 *
 * Sets are named by their folder name (`faceset_007`) in every field: numbers are never given out twice, so a
 * name stays one set forever (as its id does).
 */
import { mkdir, readFile } from "node:fs/promises";
import { readJsonFile } from "../util/json";
import path from "node:path";
import { writeFileAtomic } from "../util/atomic";
import { LibraryError } from "./errors";
import { facesetNumber } from "./manifest";

export const LEDGER_FOLDER = "_ledger";
export const LEDGER_SETS_FILE = "sets.json";
export const LEDGER_DECISIONS_FILE = "decisions.jsonl";
/** Dismissed sets' folders live here, out of the set list (restore moves them back). */
export const DISMISSED_FOLDER = "_dismissed";
export const LEDGER_FORMAT = "facesets-ledger/1";

export type SetState = "active" | "merged" | "dismissed";
export const SET_STATES: readonly SetState[] = ["active", "merged", "dismissed"];

/** One set as the ledger knows it. */
export interface LedgerSet {
  /** Stable id (`S0001`), never reused. */
  id: string;
  number: number;
  /** `faceset_NNN`: the name in manifests, tables and decisions; never changes. */
  name: string;
  /** Its folder relative to the library: `faceset_007`, a renamed `faceset_007_john`, `_dismissed/faceset_007`. */
  folder: string;
  person: string | null;
  state: SetState;
  /** The set a merged set went into (`faceset_003`); null otherwise. */
  mergedInto: string | null;
  /** Face keys (face ids, see faceKey) the set holds now. */
  faces: string[];
  /** Face keys taken out of the set (rejected, moved away, split off, crop deleted): never put back into it. */
  rejected: string[];
  /** The set's top-level manifest entry as last listed (JSON), so a deleted manifest can be rebuilt. */
  entry: Record<string, unknown> | null;
  /** Dismissed because its folder was deleted by hand: there is nothing to restore. */
  folderDeleted?: boolean;
  /**
   * Store faces a discovery claimed for the set (its provenance.json), kept once the set is merged or dismissed
   * and its provenance has left the set list, so they are never discovered again.
   */
  claimed?: string[];
}

export interface Ledger {
  format: typeof LEDGER_FORMAT;
  /** The seq of the last committed decision (see [Note: ledger commit]). */
  lastSeq: number;
  /** The next set id's number. */
  nextId: number;
  /** The highest set number ever given in this library: new sets are numbered after it. */
  highestNumber: number;
  sets: LedgerSet[];
  /** Pairs of set names marked "not the same person" (each pair sorted). */
  notSame: [string, string][];
  /** The top-level manifest's `thin_eras` as last seen (JSON), for a rebuild. */
  thinEras: unknown[];
}

/** Who made a decision: `curate` (a verb), `hand-edit` (found on disk), or the library command that wrote sets. */
export type DecisionBy = "curate" | "hand-edit" | string;

/** One line of decisions.jsonl. */
export interface Decision {
  seq: number;
  at: string;
  by: DecisionBy;
  /** name, merge, move, reject, split, dismiss, restore, not-same, create, undo; hand edits: renamed, folder-deleted,
   * crop-deleted, face-removed, manifest-deleted, folder-restored; commands: set-added, faces-added. */
  verb: string;
  sets: string[];
  faces: string[];
  /** One human line. */
  detail: string;
  /** The undo snapshot folder under `_ledger/undo/` (decisions that can be undone). */
  snapshot?: string;
  /** For `undo`: the seq it reverted. */
  undoes?: number;
}

export function ledgerDir(libraryDir: string): string {
  return path.join(libraryDir, LEDGER_FOLDER);
}

export function emptyLedger(): Ledger {
  return { format: LEDGER_FORMAT, lastSeq: 0, nextId: 1, highestNumber: 0, sets: [], notSame: [], thinEras: [] };
}

export function newSetId(ledger: Ledger): string {
  return `S${String(ledger.nextId++).padStart(4, "0")}`;
}

type Json = Record<string, unknown>;

function fail(file: string, where: string, what: string): never {
  throw new LibraryError(`${file}: ${where}: ${what}`, file, where);
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** Validate a parsed sets.json (one-line LibraryError naming the file and the field). */
export function parseLedger(json: unknown, file: string): Ledger {
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail(file, "(top level)", "expected an object");
  const raw = json as Json;
  if (raw.format !== LEDGER_FORMAT) fail(file, "format", `expected "${LEDGER_FORMAT}", got ${JSON.stringify(raw.format)}`);
  for (const key of ["lastSeq", "nextId", "highestNumber"] as const) {
    if (!Number.isSafeInteger(raw[key]) || (raw[key] as number) < 0) fail(file, key, "expected a whole number >= 0");
  }
  if (!Array.isArray(raw.sets)) fail(file, "sets", "expected an array");
  const names = new Set<string>();
  const sets = raw.sets.map((value, i): LedgerSet => {
    const where = `sets[${i}]`;
    if (typeof value !== "object" || value === null) fail(file, where, "expected an object");
    const s = value as Json;
    if (typeof s.id !== "string" || s.id === "") fail(file, `${where}.id`, "expected a non-empty string");
    if (typeof s.name !== "string" || facesetNumber(s.name) === undefined) fail(file, `${where}.name`, "expected faceset_NNN");
    if (s.number !== facesetNumber(s.name)) fail(file, `${where}.number`, `expected ${facesetNumber(s.name)} (from its name)`);
    if (names.has(s.name)) fail(file, `${where}.name`, `"${s.name}" is listed twice`);
    names.add(s.name);
    if (typeof s.folder !== "string" || s.folder === "" || s.folder.includes("..")) fail(file, `${where}.folder`, "expected a folder name in the library");
    if (s.person !== null && typeof s.person !== "string") fail(file, `${where}.person`, "expected a string or null");
    if (!SET_STATES.includes(s.state as SetState)) fail(file, `${where}.state`, `expected one of ${SET_STATES.join("|")}`);
    if (s.mergedInto !== null && (typeof s.mergedInto !== "string" || facesetNumber(s.mergedInto) === undefined)) {
      fail(file, `${where}.mergedInto`, "expected faceset_NNN or null");
    }
    if (!isStringArray(s.faces)) fail(file, `${where}.faces`, "expected an array of face ids");
    if (!isStringArray(s.rejected)) fail(file, `${where}.rejected`, "expected an array of face ids");
    if (s.entry !== null && (typeof s.entry !== "object" || Array.isArray(s.entry))) fail(file, `${where}.entry`, "expected an object or null");
    const set: LedgerSet = {
      id: s.id,
      number: s.number as number,
      name: s.name,
      folder: s.folder,
      person: s.person as string | null,
      state: s.state as SetState,
      mergedInto: s.mergedInto as string | null,
      faces: s.faces,
      rejected: s.rejected,
      entry: s.entry as Json | null,
    };
    if (s.folderDeleted === true) set.folderDeleted = true;
    if (s.claimed !== undefined) {
      if (!isStringArray(s.claimed)) fail(file, `${where}.claimed`, "expected an array of face ids");
      set.claimed = s.claimed;
    }
    return set;
  });
  const notSame = raw.notSame ?? [];
  if (!Array.isArray(notSame) || notSame.some((p) => !isStringArray(p) || p.length !== 2)) {
    fail(file, "notSame", "expected an array of [set, set] pairs");
  }
  const thinEras = raw.thinEras ?? [];
  if (!Array.isArray(thinEras)) fail(file, "thinEras", "expected an array");
  return {
    format: LEDGER_FORMAT,
    lastSeq: raw.lastSeq as number,
    nextId: raw.nextId as number,
    highestNumber: raw.highestNumber as number,
    sets,
    notSame: notSame as [string, string][],
    thinEras,
  };
}

/** Serialised sets.json: one set per block, face lists on one line each, so a person can read and diff it. */
export function formatLedger(ledger: Ledger): string {
  const sets = ledger.sets.map((s) => {
    const fields = Object.entries(s).filter(([, v]) => v !== undefined).map(([k, v]) => `      ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
    return `    {\n${fields.join(",\n")}\n    }`;
  });
  const head = (["format", "lastSeq", "nextId", "highestNumber"] as const).map((k) => `  ${JSON.stringify(k)}: ${JSON.stringify(ledger[k])}`);
  return [
    "{",
    head.join(",\n") + ",",
    `  "sets": [${sets.length > 0 ? `\n${sets.join(",\n")}\n  ` : ""}],`,
    `  "notSame": ${JSON.stringify(ledger.notSame)},`,
    `  "thinEras": ${JSON.stringify(ledger.thinEras)}`,
    "}",
    "",
  ].join("\n");
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new LibraryError(`${file}: cannot read (${code ?? err})`, file);
  }
}

/** The ledger of a library; undefined when it has none yet (the first library command that writes makes it). */
export async function readLedger(libraryDir: string): Promise<Ledger | undefined> {
  const file = path.join(ledgerDir(libraryDir), LEDGER_SETS_FILE);
  const json = await readJsonFile(file, (message) => new LibraryError(message, file), { missingOk: true });
  return json === undefined ? undefined : parseLedger(json, file);
}

/** The committed decisions (seq <= lastSeq), oldest first; a line cut short or uncommitted is left out. */
export async function readDecisions(libraryDir: string, lastSeq: number): Promise<Decision[]> {
  const text = await readText(path.join(ledgerDir(libraryDir), LEDGER_DECISIONS_FILE));
  if (text === undefined) return [];
  const out: Decision[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let d: Decision;
    try {
      d = JSON.parse(line) as Decision;
    } catch {
      continue; // a line a killed write cut short is never committed (its seq is above lastSeq)
    }
    if (typeof d.seq === "number" && d.seq <= lastSeq) out.push(d);
  }
  return out;
}

/**
 * Commit `ledger` with `decisions` appended (see [Note: ledger commit]): decisions get the next seq numbers, the
 * log is rewritten with only committed lines plus the new ones, then sets.json takes the new lastSeq.
 */
export async function commitLedger(
  libraryDir: string,
  ledger: Ledger,
  decisions: readonly Omit<Decision, "seq" | "at">[],
  at = new Date(),
): Promise<Decision[]> {
  const dir = ledgerDir(libraryDir);
  await mkdir(dir, { recursive: true });
  const committed = await readDecisions(libraryDir, ledger.lastSeq);
  const added = decisions.map((d, i): Decision => ({ seq: ledger.lastSeq + 1 + i, at: at.toISOString(), ...d }));
  if (added.length > 0) {
    const lines = [...committed, ...added].map((d) => JSON.stringify(d)).join("\n") + "\n";
    await writeFileAtomic(path.join(dir, LEDGER_DECISIONS_FILE), lines);
  }
  ledger.lastSeq += added.length;
  await writeFileAtomic(path.join(dir, LEDGER_SETS_FILE), formatLedger(ledger));
  return added;
}

/** The seq the next decision of `ledger` will get. */
export const nextSeq = (ledger: Ledger) => ledger.lastSeq + 1;

/** `faceset_007 (NAME)` when the set has a person's name, else `faceset_007`: how tables and reports show a set. */
export function setLabel(name: string, person?: string | null): string {
  return person ? `${name} (${person})` : name;
}

/**
 * Set name -> person, for setLabel: from the ledger when there is one, and from the top-level entries' `person`
 * field (build-folders and `curate name` write it) for sets the ledger does not name.
 */
export function setPeople(
  ledger: Ledger | undefined,
  entries: readonly { name: string; extra?: Record<string, unknown> }[] = [],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries) if (typeof e.extra?.person === "string") out.set(e.name, e.extra.person);
  for (const s of ledger?.sets ?? []) if (s.person) out.set(s.name, s.person);
  return out;
}

/**
 * Face ids no discovery may use again: those of dismissed sets (the owner said "not a set") and those merged or
 * dismissed sets had claimed (their provenance left the set list with their folder).
 */
export function ledgerRetiredFaceIds(ledger: Ledger | undefined): Set<string> {
  const out = new Set<string>();
  for (const s of ledger?.sets ?? []) {
    if (s.state === "active") continue;
    for (const id of s.faces) out.add(id);
    for (const id of s.claimed ?? []) out.add(id);
  }
  return out;
}

/**
 * Face id -> why the face may never join `setName`: the owner took it out of that set, or a set marked not-same
 * with it holds or held it. Empty without a ledger.
 */
export function refusedFaces(ledger: Ledger | undefined, setName: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!ledger) return out;
  const set = ledger.sets.find((s) => s.name === setName);
  for (const id of set?.rejected ?? []) out.set(id, `taken out of ${setName} by its owner; never put back`);
  for (const [a, b] of ledger.notSame) {
    const other = a === setName ? b : b === setName ? a : undefined;
    const partner = other === undefined ? undefined : ledger.sets.find((s) => s.name === other);
    for (const id of [...(partner?.faces ?? []), ...(partner?.rejected ?? [])]) {
      if (!out.has(id)) out.set(id, `${other} holds or held it, marked not the same person as ${setName}`);
    }
  }
  return out;
}

/** Sorted pair key for notSame lookups. */
export function pairOf(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

export function isNotSame(ledger: Ledger, a: string, b: string): boolean {
  const [x, y] = pairOf(a, b);
  return ledger.notSame.some(([p, q]) => p === x && q === y);
}
