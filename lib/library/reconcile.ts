/**
 * The library as the owner left it, turned into decisions. Every library command starts here: the set folders
 * and manifests on disk are compared with the ledger (`_ledger/sets.json`), and what the owner changed by hand
 * becomes a decision instead of something a later run silently undoes:
 *
 *   renamed set folder   recognised by its manifest's `name` (or the ledger's record of the folder); the set keeps
 *                        its number and name, the new folder name (less a leading `faceset_NNN_`) becomes its person
 *   deleted set folder   the set is dismissed: its faces stay in the ledger, so discovery never re-creates it
 *   deleted crop         the face is rejected from its set (taken out of the set's manifest)
 *   face taken out of a set manifest   rejected from that set
 *   deleted top-level manifest         rebuilt from the set folders and the ledger, with a warning
 *   folder moved back from _dismissed/ the set is active again
 *
 * Sets and faces the library commands added since the ledger last looked are recorded too (not hand edits). A
 * library without a ledger gets one from what it holds. Nothing here renumbers a set or touches a crop.
 */
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../util/atomic";
import {
  DISMISSED_FOLDER,
  emptyLedger,
  type Decision,
  type Ledger,
  type LedgerSet,
  commitLedger,
  newSetId,
  setPeople,
} from "./ledger";
import { cleanLedgerLeftovers, recoverLedgerChange } from "./ledger_journal";
import { withLibraryLock } from "./lock";
import {
  type FacesetEntry,
  type FacesetFace,
  facesetManifestJson,
  type FacesetOrigin,
  formatManifest,
  type LibraryManifest,
  libraryManifestJson,
  MANIFEST_FILE,
  parseLibraryManifest,
} from "./manifest";
import { completePendingWrite } from "./pending";
import { type Library, type LoadedFaceset, readLibrary } from "./read";
import { faceKey } from "./write";

export type HandEditKind =
  | "renamed"
  | "folder-deleted"
  | "folder-dismissed"
  | "set-manifest-deleted"
  | "crop-deleted"
  | "face-removed"
  | "manifest-deleted"
  | "folder-restored";

/** One hand edit found on disk (the `handEdits` of `curate status --json`). */
export interface HandEdit {
  kind: HandEditKind;
  set: string;
  detail: string;
}

export interface SyncResult {
  /** The ledger after the sync (as committed, or as it would be on a dry run). */
  ledger: Ledger;
  handEdits: HandEdit[];
  /** Other changes recorded: sets and faces the commands added, the ledger started. */
  notes: string[];
  /** Recovered interrupted writes and the library's own warnings. */
  warnings: string[];
  /** Whether anything was written. */
  written: boolean;
}

export interface SyncOptions {
  /** Find and report, write nothing (default false). */
  dryRun?: boolean;
  /** Who records the sets and faces found new (the command's name; default "facesets"). */
  by?: string;
  /**
   * Start a ledger for a library that has none (default true). false: only when there are hand edits to record,
   * so a run that ends up writing nothing leaves a library without a ledger as it was.
   */
  start?: boolean;
}

/** Set name -> person as the library's ledger (and top-level entries) have them now; empty for no library. */
export async function libraryPeople(libraryDir: string): Promise<Map<string, string>> {
  const library = await readLibrary(libraryDir, { checkCrops: false }).catch(() => undefined);
  return setPeople(library?.ledger, library?.manifest.facesets);
}

/** The person a renamed folder names: `faceset_007_john` -> `john`, `John Smith` -> `John Smith`; null for `faceset_007`. */
export function personFromFolder(folder: string): string | null {
  const rest = path.basename(folder).replace(/^faceset_\d+[\s_.-]*/, "").trim();
  return rest === "" ? null : rest;
}

const ORIGIN_BY_COMMAND: Record<string, FacesetOrigin> = {
  "cluster-osrc": "discovered",
  refine: "auto-cluster",
  "build-folders": "hand-sorted",
  "split-eras": "era-split",
};

async function readProvenanceCommand(dir: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await readFile(path.join(dir, "provenance.json"), "utf8")) as { command?: unknown };
    return typeof json.command === "string" ? json.command : undefined;
  } catch {
    return undefined;
  }
}

const entryJson = (e: FacesetEntry) => libraryManifestJson({ facesets: [e], thinEras: [] }).facesets as Record<string, unknown>[];

/** The set's top-level entry with its count, person and folder as the ledger has them. */
function syncedEntry(base: FacesetEntry, set: LedgerSet, count: number): FacesetEntry {
  const extra = { ...base.extra };
  if (set.person) extra.person = set.person;
  else delete extra.person;
  if (set.folder !== set.name) extra.folder = set.folder;
  else delete extra.folder;
  const entry: FacesetEntry = { ...base, count };
  if (Object.keys(extra).length > 0) entry.extra = extra;
  else delete entry.extra;
  return entry;
}

function entryFromLedger(set: LedgerSet, fallbackOrigin: FacesetOrigin): FacesetEntry {
  const json = { name: set.name, count: 0, origin: fallbackOrigin, ...(set.entry ?? {}) };
  const parsed = parseLibraryManifest({ facesets: [json] }, `${set.name} (ledger entry)`);
  return parsed.facesets[0]!;
}

/**
 * The top-level manifest the ledger implies, from `base` (the one on disk): entries of sets no longer active
 * leave, active sets' entries get their count (faces the ledger holds), person and folder, and active sets not
 * listed come back from the ledger's copy of their entry (`originOf` when it has none). Order and unknown fields
 * are kept. Also records each entry back into the ledger.
 */
export function ledgerManifest(
  base: LibraryManifest,
  ledger: Ledger,
  originOf: (set: LedgerSet) => FacesetOrigin,
): { manifest: LibraryManifest; notes: string[] } {
  const byName = new Map(ledger.sets.map((s) => [s.name, s]));
  const notes: string[] = [];
  const facesets: FacesetEntry[] = [];
  for (const entry of base.facesets) {
    const ls = byName.get(entry.name);
    if (!ls) {
      facesets.push(entry); // listed, no folder, never known: readLibrary warns; the owner decides
    } else if (ls.state !== "active") {
      notes.push(`${entry.name}: entry removed from manifest.json (${ls.state})`);
    } else {
      facesets.push(syncedEntry(entry, ls, ls.faces.length));
    }
  }
  for (const ls of ledger.sets.filter((s) => s.state === "active").sort((a, b) => a.number - b.number)) {
    if (facesets.some((e) => e.name === ls.name)) continue;
    facesets.push(syncedEntry(entryFromLedger(ls, originOf(ls)), ls, ls.faces.length));
    notes.push(`${ls.name}: listed in manifest.json`);
  }
  for (const e of facesets) {
    const ls = byName.get(e.name);
    if (ls) ls.entry = entryJson(e)[0]!;
  }
  const manifest = { ...base, facesets };
  ledger.thinEras = libraryManifestJson(manifest).thin_eras as unknown[];
  return { manifest, notes };
}

interface SyncPlan {
  ledger: Ledger;
  handEdits: HandEdit[];
  notes: string[];
  decisions: Omit<Decision, "seq" | "at">[];
  setManifests: { set: LoadedFaceset; faces: FacesetFace[] }[];
  manifest: LibraryManifest | undefined;
}

const exists = async (p: string) => (await lstat(p).catch(() => undefined)) !== undefined;
/** The set folder is there but its manifest is not. */
const onlyManifestGone = async (dir: string) => (await exists(dir)) && !(await exists(path.join(dir, MANIFEST_FILE)));

const cropExists = async (set: LoadedFaceset, face: FacesetFace) =>
  (await lstat(path.join(set.dir, face.crop)).catch(() => undefined)) !== undefined;

/** Compare the library on disk with its ledger; nothing is written. */
export async function planSync(library: Library, by: string): Promise<SyncPlan> {
  const started = library.ledger === undefined;
  const ledger: Ledger = structuredClone(library.ledger ?? emptyLedger());
  const byName = new Map(ledger.sets.map((s) => [s.name, s]));
  const handEdits: HandEdit[] = [];
  const notes: string[] = [];
  const decisions: SyncPlan["decisions"] = [];
  const edit = (kind: HandEditKind, set: string, detail: string, faces: string[] = []) => {
    handEdits.push({ kind, set, detail });
    decisions.push({ by: "hand-edit", verb: kind, sets: [set], faces, detail });
  };
  const setManifests: SyncPlan["setManifests"] = [];
  const seen = new Set<string>();

  for (const set of [...library.sets.values()].sort((a, b) => a.number - b.number)) {
    seen.add(set.name);
    const folder = path.relative(library.dir, set.dir).split(path.sep).join("/");
    const present: FacesetFace[] = [];
    const missing: FacesetFace[] = [];
    for (const face of set.manifest.faces) ((await cropExists(set, face)) ? present : missing).push(face);
    if (missing.length > 0) {
      setManifests.push({ set, faces: present });
      edit(
        "crop-deleted",
        set.name,
        `${missing.length} crop(s) deleted by hand (${missing.map((f) => f.crop).join(", ")}): rejected from ${set.name}`,
        missing.map(faceKey),
      );
    }
    const keys = present.map(faceKey);
    const listed = library.manifest.facesets.find((e) => e.name === set.name);
    let ls = byName.get(set.name);
    if (!ls) {
      const person = typeof listed?.extra?.person === "string" ? listed.extra.person : null;
      ls = {
        id: newSetId(ledger),
        number: set.number,
        name: set.name,
        folder: set.name,
        person,
        state: "active",
        mergedInto: null,
        faces: keys,
        rejected: missing.map(faceKey),
        entry: listed ? entryJson(listed)[0]! : null,
      };
      ledger.sets.push(ls);
      byName.set(set.name, ls);
      if (!started) {
        notes.push(`${set.name}: new set, ${keys.length} faces`);
        decisions.push({ by, verb: "set-added", sets: [set.name], faces: [], detail: `${set.name} added (${keys.length} faces)` });
      }
    } else {
      if (ls.state !== "active") {
        edit("folder-restored", set.name, `${set.name} (${ls.state}) is back in the library as ${folder}: active again`);
        ls.state = "active";
        ls.mergedInto = null;
        delete ls.folderDeleted;
      }
      const removed = ls.faces.filter((k) => !keys.includes(k) && !missing.some((f) => faceKey(f) === k));
      if (removed.length > 0) {
        edit("face-removed", set.name, `${removed.length} face(s) taken out of ${set.name}/manifest.json by hand: rejected from it`, removed);
      }
      const added = keys.filter((k) => !ls!.faces.includes(k));
      if (added.length > 0) {
        notes.push(`${set.name}: ${added.length} new face(s)`);
        decisions.push({ by, verb: "faces-added", sets: [set.name], faces: added, detail: `${added.length} face(s) added to ${set.name}` });
      }
      ls.rejected = [...new Set([...ls.rejected, ...removed])];
      ls.faces = keys;
    }
    if (ls.folder !== folder) {
      const person = personFromFolder(folder) ?? ls.person;
      edit("renamed", set.name, `folder ${ls.folder} renamed to ${folder} by hand` + (person ? `; person "${person}"` : ""));
      ls.folder = folder;
      ls.person = person;
    }
    ls.rejected = ls.rejected.filter((k) => !ls!.faces.includes(k));
    for (const face of missing) if (!ls.rejected.includes(faceKey(face))) ls.rejected.push(faceKey(face));
  }

  for (const ls of ledger.sets) {
    if (seen.has(ls.name)) continue;
    const dismissedFolder = library.dismissed.get(ls.number);
    if (ls.state === "active") {
      if (dismissedFolder !== undefined) {
        edit("folder-dismissed", ls.name, `${ls.folder} moved to ${DISMISSED_FOLDER}/ by hand: dismissed`);
        ls.folder = `${DISMISSED_FOLDER}/${dismissedFolder}`;
      } else if (await onlyManifestGone(path.join(library.dir, ls.folder))) {
        // The folder is there, its manifest is not: the set cannot be read, so it is dismissed where it lies.
        edit(
          "set-manifest-deleted",
          ls.name,
          `${ls.folder}/${MANIFEST_FILE} deleted by hand: dismissed (its ${ls.faces.length} faces stay known and are never re-discovered; put the manifest back to restore it)`,
          ls.faces,
        );
      } else {
        edit("folder-deleted", ls.name, `folder ${ls.folder} deleted by hand: dismissed (its ${ls.faces.length} faces stay known and are never re-discovered)`, ls.faces);
        ls.folderDeleted = true;
      }
      ls.state = "dismissed";
    } else if (ls.state === "dismissed" && !ls.folderDeleted && dismissedFolder === undefined) {
      edit("folder-deleted", ls.name, `dismissed folder ${ls.folder} deleted by hand: it cannot be restored`);
      ls.folderDeleted = true;
    }
  }

  // The top-level manifest: stale entries out, counts/person/folder in step, missing entries back (a rebuild).
  let manifest: LibraryManifest | undefined;
  if (ledger.sets.length > 0 || library.manifest.thinEras.length > 0) {
    const origins = new Map<string, FacesetOrigin>();
    for (const ls of ledger.sets) {
      const set = library.sets.get(ls.number);
      const command = set ? await readProvenanceCommand(set.dir) : undefined;
      origins.set(ls.name, ORIGIN_BY_COMMAND[command ?? ""] ?? "hand-sorted");
    }
    const base = library.hasManifest
      ? library.manifest
      : { ...library.manifest, thinEras: parseLibraryManifest({ facesets: [], thin_eras: ledger.thinEras }, "ledger thinEras").thinEras };
    const synced = ledgerManifest(base, ledger, (ls) => origins.get(ls.name) ?? "hand-sorted");
    notes.push(...synced.notes.filter(() => library.hasManifest));
    manifest = synced.manifest;
    if (!library.hasManifest) {
      const file = path.join(library.dir, MANIFEST_FILE);
      const detail = `${file} was missing: rebuilt from the set folders and the ledger (${manifest.facesets.length} sets)`;
      handEdits.push({ kind: "manifest-deleted", set: "", detail });
      decisions.push({ by: "hand-edit", verb: "manifest-deleted", sets: [], faces: [], detail });
    } else if (JSON.stringify(libraryManifestJson(manifest)) === JSON.stringify(libraryManifestJson(library.manifest))) {
      manifest = undefined;
    }
  }
  for (const n of [...library.sets.keys(), ...library.thin.keys(), ...library.dismissed.keys()]) {
    ledger.highestNumber = Math.max(ledger.highestNumber, n);
  }
  for (const s of ledger.sets) ledger.highestNumber = Math.max(ledger.highestNumber, s.number);
  if (started && ledger.sets.length > 0) {
    notes.push(`ledger started: ${ledger.sets.length} set(s)`);
    decisions.unshift({ by, verb: "start", sets: ledger.sets.map((s) => s.name), faces: [], detail: `ledger started with ${ledger.sets.length} set(s)` });
  }
  return { ledger, handEdits, notes, decisions, setManifests, manifest };
}

const changed = (plan: SyncPlan, before: Ledger | undefined) =>
  plan.decisions.length > 0 || plan.manifest !== undefined || plan.setManifests.length > 0 ||
  (plan.ledger.sets.length > 0 && JSON.stringify(plan.ledger) !== JSON.stringify(before));

/** Write what planSync found (call under the library lock, after recovering interrupted writes). */
export async function applySync(library: Library, plan: SyncPlan): Promise<boolean> {
  if (!changed(plan, library.ledger)) return false;
  for (const { set, faces } of plan.setManifests) {
    const manifest = { ...set.manifest, name: set.manifest.name ?? set.name, faces };
    await writeFileAtomic(path.join(set.dir, MANIFEST_FILE), formatManifest(facesetManifestJson(manifest)));
  }
  if (plan.manifest) {
    await writeFileAtomic(path.join(library.dir, MANIFEST_FILE), formatManifest(libraryManifestJson(plan.manifest)));
  }
  await commitLedger(library.dir, plan.ledger, plan.decisions);
  return true;
}

/**
 * Under the library lock: finish interrupted writes, read the library, record hand edits and new sets/faces in
 * the ledger (and the manifests they change). Returns the library as read after the sync.
 */
export async function syncLedgerLocked(libraryDir: string, by: string, start = true): Promise<SyncResult & { library: Library }> {
  const warnings: string[] = [];
  const recovered = await recoverLedgerChange(libraryDir, (await readLibrary(libraryDir, { checkCrops: false })).ledger);
  if (recovered) warnings.push(recovered);
  const completed = await completePendingWrite(libraryDir);
  if (completed) warnings.push(completed);
  const before = await readLibrary(libraryDir, { checkCrops: false });
  const plan = await planSync(before, by);
  const deferred = !start && before.ledger === undefined && plan.handEdits.length === 0;
  const written = deferred ? false : await applySync(before, plan);
  if (written || before.ledger) await cleanLedgerLeftovers(libraryDir, plan.ledger);
  const library = written ? await readLibrary(libraryDir, { checkCrops: false }) : before;
  return { ledger: plan.ledger, handEdits: plan.handEdits, notes: plan.notes, warnings: [...warnings, ...library.warnings], written, library };
}

/**
 * Bring the ledger up to date with the library on disk (see the module comment). A dry run only reports. A folder
 * that does not exist yet is left alone (nothing to record).
 */
export async function syncLedger(libraryDir: string, { dryRun = false, by = "facesets", start = true }: SyncOptions = {}): Promise<SyncResult> {
  const exists = (await lstat(libraryDir).catch(() => undefined))?.isDirectory() ?? false;
  if (!exists) return { ledger: emptyLedger(), handEdits: [], notes: [], warnings: [], written: false };
  if (dryRun) {
    const library = await readLibrary(libraryDir, { checkCrops: false });
    const plan = await planSync(library, by);
    return { ledger: plan.ledger, handEdits: plan.handEdits, notes: plan.notes, warnings: library.warnings, written: false };
  }
  return await withLibraryLock(libraryDir, async () => {
    const { library: _library, ...result } = await syncLedgerLocked(libraryDir, by, start);
    return result;
  });
}
