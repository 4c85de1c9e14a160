/**
 * Writing to the library without disturbing what exists: new sets are built in a temp folder and renamed into
 * place (never over an existing folder), crops are added under names never used before, and manifests are
 * replaced atomically (temp file + rename). Existing set folders are never touched by addFacesets; existing
 * top-level entries are written back exactly as read (unknown fields included). Both writes prepare temps first
 * and then commit through the journal (pending.ts), under the library lock (lock.ts): killed at any point, the
 * next write completes or removes what this one left, and a re-run adds nothing twice.
 */
import { lstat, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { pauseAt } from "../util/pause";
import { LibraryError } from "./errors";
import { checkInterrupted, libraryStep } from "./interrupt";
import { takenCropNames, unusedCropName } from "./crop_names";
import { withLibraryLock } from "./lock";
import { commitJournal, journalPath, type JournalStep } from "./pending";
import { tempPath } from "./temp";
import {
  checkCropPath,
  claimedFacesetNumber,
  type ExtraFields,
  type FacesetEntry,
  type FacesetFace,
  type FacesetManifest,
  faceKey,
  facesetManifestJson,
  facesetName,
  type FacesetOrigin,
  formatManifest,
  type LibraryManifest,
  libraryManifestJson,
  MANIFEST_FILE,
  parseFacesetManifest,
  type Provenance,
  thinEraName,
  type ThinEra,
} from "./manifest";
import { type Library, type LoadedFaceset, nextFacesetNumber, readLibrary, THIN_FOLDER } from "./read";

/** A face to write: its record, with `crop` the wanted file name (a plain name, no folders), and the PNG bytes. */
export interface NewFace extends FacesetFace {
  png: Uint8Array;
}

export interface NewFaceset {
  /**
   * The set number to use (default: the next free one, see nextFacesetNumber). A number that is listed or has
   * any entry in the library or `_thin/` is refused.
   */
  number?: number;
  origin: FacesetOrigin;
  provenance?: Provenance;
  /** Further fields for the set's top-level entry. */
  extra?: ExtraFields;
  faces: NewFace[];
  /** Further files written into the set folder with it (e.g. `provenance.json`): plain names, never `manifest.json`. */
  files?: { name: string; data: Uint8Array | string }[];
  /**
   * A thin era: the set goes to `<library>/_thin/faceset_NNN/` and is listed in `thin_eras` instead of `facesets`
   * (it still takes a number from the same sequence, so numbers stay unique across the library).
   */
  thin?: boolean;
}

export interface AppendOptions {
  /**
   * Skip faces already in the set (same faceKey) instead of adding them twice (default true), so re-running
   * `extend` with the same input adds nothing.
   */
  skipKnownFaces?: boolean;
}

export interface AppendResult {
  /** The set as it is now on disk. */
  set: LoadedFaceset;
  /** The records written, with their final crop names. */
  added: FacesetFace[];
  skipped: { face: FacesetFace; reason: string }[];
  warnings: string[];
}

export { faceKey }; // defined beside the records (manifest.ts), so the reader can use it too

/** Where a new set is assembled before it is renamed to its real name: `.faceset_NNN.tmp-<pid>` (see temp.ts). */
export function tempFacesetFolder(libraryDir: string, number: number): string {
  return tempPath(libraryDir, facesetName(number));
}

/** A face record without the PNG bytes. */
function record(face: NewFace): FacesetFace {
  const { png: _png, ...rest } = face;
  return rest;
}

/** New crops are plain file names: no folders, nothing hidden (temp files start with a dot). */
function checkNewCropName(crop: string, where: string): void {
  const problem = checkCropPath(crop) ??
    (crop.includes("/") ? "has a folder; new crops are plain file names" : undefined) ??
    (crop.startsWith(".") ? "starts with a dot (reserved for temp files)" : undefined);
  if (problem) throw new LibraryError(`${where}.crop: "${crop}" ${problem}`);
}

/** Validate records the way a reader will, so nothing unreadable is ever written. */
function checkWritable(manifest: FacesetManifest, label: string): void {
  parseFacesetManifest(facesetManifestJson(manifest), label);
}

async function exists(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => undefined)) !== undefined;
}

/** The journal step that replaces the top-level manifest. */
function libraryManifestStep(manifest: LibraryManifest): JournalStep {
  return { op: "write", path: MANIFEST_FILE, data: formatManifest(libraryManifestJson(manifest)) };
}

const listed = (names: readonly string[], max = 3) =>
  names.slice(0, max).join(", ") + (names.length > max ? `, ... (${names.length} in all)` : "");

/** Sorted face keys (faceKey): two face lists with the same signature hold the same faces. */
export const faceKeySignature = (keys: readonly string[]) => [...keys].sort().join("\n");
const signature = (faces: readonly FacesetFace[]) => faceKeySignature(faces.map(faceKey));

/**
 * Add new sets to a library, numbered from nextFacesetNumber on, and append their entries to the top-level
 * manifest. Each set folder is assembled as `.faceset_NNN.tmp-<pid>` and renamed into place; a target that
 * exists is refused, never overwritten. Refused before anything is written: a set with no faces, bad records,
 * and a set whose faces (by faceKey) are exactly those of an existing set or of another new set in the call
 * ("already added": a second addFacesets of the same set is refused, not a no-op). A folder with set folders
 * but no top-level manifest is refused too (the new manifest would not list the old sets).
 */
export function addFacesets(libraryDir: string, newSets: readonly NewFaceset[]): Promise<LoadedFaceset[]> {
  return withLibraryLock(libraryDir, async () => {
    const library = await readLibrary(libraryDir, { checkCrops: false });
    const manifestFile = path.join(libraryDir, MANIFEST_FILE);
    if (!library.hasManifest && library.numberedFolders.length > 0) {
      throw new LibraryError(
        `${manifestFile}: missing while set folders exist (${listed(library.numberedFolders)}); ` +
          `write a top-level manifest listing them before adding sets`,
        manifestFile,
      );
    }

    const known = new Map<string, string>();
    for (const set of [...library.sets.values(), ...library.thin.values()]) {
      const where = library.thin.get(set.number) === set ? `${THIN_FOLDER}/${set.name}` : set.name;
      known.set(signature(set.manifest.faces), where);
    }

    const inUse = new Set(
      [
        ...library.manifest.facesets.map((e) => e.name),
        ...library.manifest.thinEras.map(thinEraName),
        ...library.numberedFolders.map((f) => path.posix.basename(f)),
        ...(library.ledger?.sets ?? []).map((s) => s.name), // merged and deleted sets' numbers stay given
      ].map(claimedFacesetNumber).filter((n) => n !== undefined),
    );
    const explicit = newSets.flatMap((s) => (s.number === undefined ? [] : [s.number]));
    let number = Math.max(nextFacesetNumber(library), ...explicit.map((n) => n + 1));
    const planned = newSets.map((newSet, s) => {
      const label = `addFacesets newSets[${s}]`;
      if (newSet.faces.length === 0) throw new LibraryError(`${label}: faces: a new set needs at least one face`);
      const taken = takenCropNames([], []);
      const faces = newSet.faces.map((face, i) => {
        checkNewCropName(face.crop, `${label}.faces[${i}]`);
        return { ...record(face), crop: unusedCropName(face.crop, taken) };
      });
      let setNumber: number;
      if (newSet.number === undefined) {
        setNumber = number++;
      } else {
        setNumber = newSet.number;
        facesetName(setNumber); // RangeError for a bad number
        if (inUse.has(setNumber)) {
          throw new LibraryError(
            `${label}: number: ${facesetName(setNumber)} already exists or is listed; refusing to overwrite`,
          );
        }
      }
      inUse.add(setNumber);
      const name = facesetName(setNumber);
      const manifest: FacesetManifest = { name, faces };
      checkWritable(manifest, label);
      const sig = signature(faces);
      const same = known.get(sig);
      if (same !== undefined) {
        throw new LibraryError(`${label}: holds exactly the faces of ${same}; it was already added (nothing written)`);
      }
      known.set(sig, `newSets[${s}]`);
      const entry: FacesetEntry = { name, count: faces.length, origin: newSet.origin };
      if (newSet.provenance !== undefined) entry.provenance = newSet.provenance;
      if (newSet.extra !== undefined) entry.extra = newSet.extra;
      for (const [f, extraFile] of (newSet.files ?? []).entries()) {
        checkNewCropName(extraFile.name, `${label}.files[${f}]`);
        if (taken.has(extraFile.name.toLowerCase())) {
          throw new LibraryError(`${label}.files[${f}]: "${extraFile.name}" clashes with a crop or the manifest`);
        }
        taken.add(extraFile.name.toLowerCase());
      }
      const dir = newSet.thin ? path.join(libraryDir, THIN_FOLDER, name) : path.join(libraryDir, name);
      return { newSet, number: setNumber, name, manifest, entry, dir, temp: tempFacesetFolder(libraryDir, setNumber) };
    });

    // Prepare (undoable): each set assembled in its temp folder. Killed here, the next write removes the temps.
    const made: string[] = [];
    try {
      await libraryStep("addFacesets: write crops", async () => {
        for (const p of planned) {
          if (await exists(p.dir)) {
            throw new LibraryError(`${p.dir}: already exists; refusing to overwrite a set folder`, p.dir);
          }
          await rm(p.temp, { recursive: true, force: true }); // only ever our own leftover: the name carries our pid
          made.push(p.temp);
          await mkdir(p.temp);
          for (const extraFile of p.newSet.files ?? []) {
            await writeFile(path.join(p.temp, extraFile.name), extraFile.data, { flag: "wx" });
          }
          for (const [i, face] of p.manifest.faces.entries()) {
            await writeFile(path.join(p.temp, face.crop), p.newSet.faces[i]!.png, { flag: "wx" });
            await pauseAt("add:crop-written");
            checkInterrupted();
          }
          await writeFile(path.join(p.temp, MANIFEST_FILE), formatManifest(facesetManifestJson(p.manifest)), {
            flag: "wx",
          });
          await pauseAt("add:set-prepared");
          checkInterrupted();
        }
      });
    } catch (err) {
      for (const temp of made) await rm(temp, { recursive: true, force: true });
      throw err;
    }
    // Commit (journaled, see pending.ts): the folders renamed into place, then the manifest listing them.
    await commitJournal(libraryDir, "addFacesets", [
      ...planned.map((p): JournalStep => ({ op: "rename", from: journalPath(libraryDir, p.temp), to: journalPath(libraryDir, p.dir) })),
      libraryManifestStep(withNewEntries(library.manifest, planned)),
    ]);
    return planned.map((p) => ({ number: p.number, name: p.name, dir: p.dir, manifest: p.manifest }));
  });
}

/** The top-level manifest with the entries of `sets` appended (sets to `facesets`, thin eras to `thin_eras`). */
function withNewEntries(
  manifest: LibraryManifest,
  sets: readonly { newSet: NewFaceset; entry: FacesetEntry }[],
): LibraryManifest {
  return {
    ...manifest,
    facesets: [...manifest.facesets, ...sets.filter((p) => !p.newSet.thin).map((p) => p.entry)],
    thinEras: [...manifest.thinEras, ...sets.filter((p) => p.newSet.thin).map((p) => thinEntry(p.entry))],
  };
}

function thinEntry(entry: FacesetEntry): ThinEra {
  const { name, count, origin, provenance, extra } = entry;
  return { name, count, origin, ...(provenance !== undefined ? { provenance } : {}), ...(extra ? { extra } : {}) };
}

/**
 * Add faces to an existing set (the `extend` command): each crop gets a file name that no file in the folder and
 * no face of the manifest has ever used (`x.png` -> `x-2.png`), the set manifest is replaced atomically, and the
 * set's `count` in the top-level manifest is updated (every other entry is written back as read). Existing crops
 * are never renamed or overwritten. Only sets directly in the library (not `_thin/`) can be extended.
 */
export function appendToFaceset(
  libraryDir: string,
  n: number,
  faces: readonly NewFace[],
  options: AppendOptions = {},
): Promise<AppendResult> {
  const { skipKnownFaces = true } = options;
  return withLibraryLock(libraryDir, async () => {
    const library: Library = await readLibrary(libraryDir, { checkCrops: false });
    const name = facesetName(n);
    const set = library.sets.get(n);
    if (!set) {
      const hint = library.thin.has(n) ? ` (it is a thin era under ${THIN_FOLDER}/, which extend does not touch)` : "";
      throw new LibraryError(`${path.join(libraryDir, name)}: no such set with a manifest${hint}`);
    }
    const label = `appendToFaceset ${name}`;
    const warnings: string[] = [];
    const skipped: AppendResult["skipped"] = [];
    const inSet = new Set(set.manifest.faces.map(faceKey));
    const inCall = new Set<string>();
    const accepted: NewFace[] = [];
    faces.forEach((face, i) => {
      checkNewCropName(face.crop, `${label} faces[${i}]`);
      const key = faceKey(face);
      if (skipKnownFaces && (inSet.has(key) || inCall.has(key))) {
        const where = inSet.has(key) ? `already in ${name}` : "repeated in this call";
        skipped.push({ face: record(face), reason: `${where} (face key ${key})` });
        return;
      }
      inCall.add(key);
      accepted.push(face);
    });
    checkWritable({ faces: accepted.map(record) }, label);
    if (accepted.length === 0) return { set, added: [], skipped, warnings };

    // Names no file of the folder (temps of other processes included) and no face of the manifest ever used.
    const taken = takenCropNames(await readdir(set.dir), set.manifest.faces);
    const added: FacesetFace[] = accepted.map((face) => ({ ...record(face), crop: unusedCropName(face.crop, taken) }));

    // Prepare (undoable): each crop as a temp file. Killed here, the next write removes the temps, and a re-run
    // picks the same names again (nothing was added).
    const temps: string[] = [];
    try {
      await libraryStep(`appendToFaceset ${name}: write crops`, async () => {
        for (const [i, face] of added.entries()) {
          const temp = tempPath(set.dir, face.crop);
          temps.push(temp);
          await writeFile(temp, accepted[i]!.png);
          await pauseAt("append:crop-written");
          checkInterrupted();
        }
      });
    } catch (err) {
      for (const temp of temps) await rm(temp, { force: true });
      throw err;
    }

    const manifest: FacesetManifest = {
      ...set.manifest,
      name: set.manifest.name ?? set.name,
      faces: [...set.manifest.faces, ...added],
    };
    const manifestFile = path.join(libraryDir, MANIFEST_FILE);
    const index = library.manifest.facesets.findIndex((e) => e.name === name);
    const counted = index < 0 ? undefined : {
      ...library.manifest,
      facesets: library.manifest.facesets.map((e, i) => (i === index ? { ...e, count: manifest.faces.length } : e)),
    };
    if (!library.hasManifest) {
      warnings.push(`${manifestFile}: missing; ${name}'s count is only in its own manifest`);
    } else if (!counted) {
      warnings.push(`${manifestFile}: does not list ${name}; its count was not recorded there`);
    }
    // Commit (journaled, see pending.ts): the set manifest first, then the crops to their names, then the top-level
    // count. Manifest first, so that a kill mid-commit never leaves a crop in the folder that no manifest lists (a
    // tool reading the folder's PNGs sees only listed faces); the next write renames the rest.
    warnings.push(
      ...(await commitJournal(libraryDir, "extend", [
        { op: "write", path: journalPath(libraryDir, path.join(set.dir, MANIFEST_FILE)), data: formatManifest(facesetManifestJson(manifest)) },
        ...added.map((face, i): JournalStep => ({
          op: "rename",
          from: journalPath(libraryDir, temps[i]!),
          to: journalPath(libraryDir, path.join(set.dir, face.crop)),
        })),
        ...(library.hasManifest && counted ? [libraryManifestStep(counted)] : []),
      ])),
    );
    return { set: { ...set, manifest }, added, skipped, warnings };
  });
}
