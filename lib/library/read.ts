import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { existsSync } from "node:fs";
import { readJsonFile } from "../util/json";
import { LibraryError } from "./errors";
import { pendingFile } from "./pending";
import { DISMISSED_FOLDER, type Ledger, readLedger } from "./ledger";
import {
  checkCropPath,
  claimedFacesetNumber,
  faceKey,
  type FacesetManifest,
  facesetName,
  facesetNumber,
  type LibraryManifest,
  MANIFEST_FILE,
  parseFacesetManifest,
  parseLibraryManifest,
  thinEraName,
} from "./manifest";

/** The folder under the library that holds thin eras. */
export const THIN_FOLDER = "_thin";

export interface ReadLibraryOptions {
  /**
   * Check every crop on disk (default true): a crop that resolves outside its set folder through a symlink is an
   * error; a missing crop is a warning. One lstat/realpath per face.
   */
  checkCrops?: boolean;
}

/** One set folder and its manifest. */
export interface LoadedFaceset {
  number: number;
  /** `faceset_NNN`. */
  name: string;
  /** The set folder. */
  dir: string;
  manifest: FacesetManifest;
}

export interface Library {
  dir: string;
  /** The top-level manifest; an empty one when the file does not exist (see hasManifest). */
  manifest: LibraryManifest;
  hasManifest: boolean;
  /** `<library>/faceset_NNN` folders that have a manifest.json, by number. */
  sets: Map<number, LoadedFaceset>;
  /** `<library>/_thin/faceset_NNN` folders that have a manifest.json, by number. */
  thin: Map<number, LoadedFaceset>;
  /**
   * Every entry name in the library or `_thin/` that claims a set number, relative to the library
   * (`faceset_007`, `_thin/faceset_012`), folder or not: numbering never reuses any of them.
   */
  numberedFolders: string[];
  /** Inconsistencies that do not stop a read (listed set without folder, count mismatch, missing crop...). */
  warnings: string[];
  /** `<library>/_ledger/sets.json` (the owner's decisions, see ledger.ts); undefined before the first write. */
  ledger?: Ledger;
  /** `<library>/_dismissed/<folder>` folders by set number (dismissed sets: out of the set list, numbers kept). */
  dismissed: Map<number, string>;
}

/** A library JSON file; undefined when it does not exist. Errors are LibraryErrors about the file's top level. */
export async function readLibraryJson(file: string): Promise<unknown | undefined> {
  return await readJsonFile(file, (message) => new LibraryError(message, file, ""), { missingOk: true });
}

/** Read one set manifest file (undefined when absent). */
export async function readFacesetManifest(file: string): Promise<FacesetManifest | undefined> {
  const json = await readLibraryJson(file);
  return json === undefined ? undefined : parseFacesetManifest(json, file);
}

/** The entries of `dir` (sorted) with whether each is a folder (symlinks followed); [] when `dir` does not exist. */
async function listFolder(dir: string): Promise<{ name: string; isFolder: boolean }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    throw new LibraryError(`${dir}: cannot list the folder (${code ?? err})`, dir);
  }
  const out: { name: string; isFolder: boolean }[] = [];
  for (const name of names.sort()) {
    const info = await stat(path.join(dir, name)).catch(() => undefined);
    out.push({ name, isFolder: info?.isDirectory() ?? false });
  }
  return out;
}

const isInside = (root: string, p: string) =>
  p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** Missing crops become warnings; a crop that resolves outside the set folder is refused. */
async function checkCropsOnDisk(set: LoadedFaceset, file: string, warnings: string[]): Promise<void> {
  const root = await realpath(set.dir);
  for (const [i, face] of set.manifest.faces.entries()) {
    const cropPath = path.join(set.dir, face.crop);
    const info = await lstat(cropPath).catch(() => undefined);
    if (!info) {
      warnings.push(`${file}: faces[${i}].crop: "${face.crop}" does not exist`);
      continue;
    }
    const real = await realpath(cropPath).catch(() => undefined);
    if (real === undefined || !isInside(root, real)) {
      throw new LibraryError(
        `${file}: faces[${i}].crop: "${face.crop}" resolves outside the set folder (symlink); crops must be files inside it`,
        file,
        `faces[${i}].crop`,
      );
    }
  }
}

/**
 * A set folder the owner renamed (`faceset_007` -> `faceset_007_john`, or `John`): a folder whose manifest names a
 * canonical set (`"name": "faceset_007"`, as facesets always writes), or that the ledger records as the set's
 * folder, or (a set another tool made, no name) whose faces are exactly those the ledger records for a set. Recognised only when no canonical folder of that number exists (otherwise it is a copy, and warned).
 */
async function loadRenamedSet(
  parent: string,
  folder: string,
  into: Map<number, LoadedFaceset>,
  ledger: Ledger | undefined,
  warnings: string[],
  checkCrops: boolean,
): Promise<void> {
  const dir = path.join(parent, folder);
  const file = path.join(dir, MANIFEST_FILE);
  const manifest = await readFacesetManifest(file);
  if (!manifest) return;
  // Without a name (sets of other tools): the ledger's record of the folder, else the set holding the same faces.
  const active = ledger?.sets.filter((s) => s.state === "active") ?? [];
  const keys = manifest.faces.map(faceKey).sort().join("\n");
  const number = (manifest.name === undefined ? undefined : facesetNumber(manifest.name)) ??
    active.find((s) => s.folder === folder)?.number ??
    (keys === "" ? undefined : active.find((s) => [...s.faces].sort().join("\n") === keys)?.number);
  if (number === undefined) return;
  const held = into.get(number);
  if (held) {
    warnings.push(`${dir}: its manifest names ${held.name}, which is the folder ${path.basename(held.dir)}; not read as a set`);
    return;
  }
  const set: LoadedFaceset = { number, name: facesetName(number), dir, manifest };
  if (checkCrops) await checkCropsOnDisk(set, file, warnings);
  into.set(number, set);
}

async function loadSets(
  parent: string,
  prefix: string,
  into: Map<number, LoadedFaceset>,
  numbered: string[],
  warnings: string[],
  checkCrops: boolean,
  renamed?: { ledger: Ledger | undefined },
): Promise<string[]> {
  const entries = await listFolder(parent);
  const maybeRenamed: string[] = [];
  for (const { name, isFolder } of entries) {
    const canonical = facesetNumber(name) !== undefined;
    if (renamed && isFolder && !canonical && !name.startsWith("_") && !name.startsWith(".")) maybeRenamed.push(name);
    if (claimedFacesetNumber(name) === undefined) continue;
    // Any entry with a set's name reserves its number, folder or not (a dangling link to an unmounted drive too).
    numbered.push(prefix + name);
    if (!isFolder) {
      warnings.push(`${path.join(parent, name)}: named like a set but not a folder; its number is kept reserved`);
      continue;
    }
    const number = facesetNumber(name);
    if (number === undefined) {
      if (!renamed) warnings.push(`${path.join(parent, name)}: not a canonical set name (faceset_NNN); its number is kept reserved`);
      continue;
    }
    const dir = path.join(parent, name);
    const file = path.join(dir, MANIFEST_FILE);
    const manifest = await readFacesetManifest(file);
    if (!manifest) {
      warnings.push(`${file}: missing; the folder is not read as a set (its number stays reserved)`);
      continue;
    }
    if (manifest.name !== undefined && manifest.name !== name) {
      warnings.push(`${file}: name: "${manifest.name}" differs from its folder "${name}"`);
    }
    const set: LoadedFaceset = { number, name, dir, manifest };
    if (checkCrops) await checkCropsOnDisk(set, file, warnings);
    into.set(number, set);
  }
  for (const folder of maybeRenamed) {
    const before = into.size;
    await loadRenamedSet(parent, folder, into, renamed!.ledger, warnings, checkCrops);
    if (into.size === before && claimedFacesetNumber(folder) !== undefined) {
      warnings.push(`${path.join(parent, folder)}: not a canonical set name (faceset_NNN); its number is kept reserved`);
    }
  }
  return entries.filter((e) => e.isFolder).map((e) => e.name);
}

/**
 * Read a library folder. A folder that does not exist or has no top-level manifest reads as empty plus whatever
 * set folders it holds (their own manifests are read). Malformed JSON anywhere throws LibraryError; mere
 * inconsistencies between the top-level manifest and the folders are returned as warnings.
 */
export async function readLibrary(dir: string, options: ReadLibraryOptions = {}): Promise<Library> {
  const { checkCrops = true } = options;
  const manifestFile = path.join(dir, MANIFEST_FILE);
  const json = await readLibraryJson(manifestFile);
  const manifest = json === undefined ? { facesets: [], thinEras: [] } : parseLibraryManifest(json, manifestFile);
  const library: Library = {
    dir,
    manifest,
    hasManifest: json !== undefined,
    sets: new Map(),
    thin: new Map(),
    numberedFolders: [],
    warnings: [],
    ledger: await readLedger(dir),
    dismissed: new Map(),
  };
  const { sets, thin, numberedFolders, warnings } = library;
  if (existsSync(pendingFile(dir))) {
    warnings.push(`${pendingFile(dir)}: a write was interrupted; the next command that writes this library completes it`);
  }
  await loadSets(dir, "", sets, numberedFolders, warnings, checkCrops, { ledger: library.ledger });
  for (const { name, isFolder } of await listFolder(path.join(dir, DISMISSED_FOLDER))) {
    const number = claimedFacesetNumber(name);
    if (number === undefined) continue;
    numberedFolders.push(`${DISMISSED_FOLDER}/${name}`);
    if (isFolder) library.dismissed.set(number, name);
  }
  const thinDir = path.join(dir, THIN_FOLDER);
  const thinFolders = await loadSets(thinDir, THIN_FOLDER + "/", thin, numberedFolders, warnings, checkCrops);

  if (library.hasManifest) {
    const listed = new Set<number>();
    manifest.facesets.forEach((entry, i) => {
      const number = facesetNumber(entry.name)!; // validated on parse
      listed.add(number);
      const set = sets.get(number);
      if (!set) {
        warnings.push(`${manifestFile}: facesets[${i}]: "${entry.name}" has no set folder with a manifest`);
      } else if (set.manifest.faces.length !== entry.count) {
        warnings.push(
          `${manifestFile}: facesets[${i}].count: ${entry.count}, but ${entry.name}/manifest.json lists ${set.manifest.faces.length} faces`,
        );
      }
    });
    for (const set of sets.values()) {
      if (!listed.has(set.number)) warnings.push(`${set.dir}: a set folder not listed in ${manifestFile}`);
    }
    manifest.thinEras.forEach((entry, i) => {
      if (!thinFolders.includes(thinEraName(entry))) {
        warnings.push(`${manifestFile}: thin_eras[${i}]: "${thinEraName(entry)}" has no folder under ${THIN_FOLDER}/`);
      }
    });
  }
  return library;
}

/**
 * The number for the next new set: one more than the largest number in use anywhere — top-level `facesets`,
 * `thin_eras` names, folder names in the library, `_thin/` and `_dismissed/` (non-canonical ones included), and
 * every number the ledger ever gave (merged and deleted sets too). 1 for an empty library.
 */
export function nextFacesetNumber(library: Library): number {
  const names = [
    ...library.manifest.facesets.map((e) => e.name),
    ...library.manifest.thinEras.map(thinEraName),
    ...library.numberedFolders.map((f) => path.posix.basename(f)),
  ];
  let max = library.ledger?.highestNumber ?? 0;
  for (const name of names) max = Math.max(max, claimedFacesetNumber(name) ?? 0);
  for (const set of library.ledger?.sets ?? []) max = Math.max(max, set.number);
  return max + 1;
}

/** The absolute path of a face's crop; refuses paths that would leave the set folder (see checkCropPath). */
export function cropPath(set: LoadedFaceset, crop: string): string {
  const problem = checkCropPath(crop);
  if (problem) throw new LibraryError(`${set.dir}: crop path "${crop}" ${problem}`, set.dir);
  return path.join(set.dir, crop);
}
