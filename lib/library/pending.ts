/**
 * The library write journal: a redo log, so a write killed half-way is completed by the next one.
 *
 * A library write changes several files that no single rename can swap together (new set folders, a set's
 * manifest and the top-level count, crops moved between sets). Every such write has the same shape:
 *
 *  1. prepare, undoable: everything new is written under temp names that carry the writer's pid (temp.ts:
 *     tempPath, tempFacesetFolder). Killed here, the library is unchanged; the next write removes the temps.
 *  2. commit: `commitJournal(libraryDir, kind, steps)` writes `<library>/.facesets-pending.json` atomically (the
 *     commit point), applies the steps in order and removes the journal. Killed in between, the next write
 *     (withLibraryLock, before it reads anything) applies the same steps again: each step is idempotent.
 *
 * Steps (paths relative to the library, `/`-separated, never leaving it):
 *  - `{ op: "rename", from, to }`: move a prepared temp file or folder to its name, never replacing anything (a
 *    file is hard-linked, then its temp unlinked; a folder is renamed after checking the name is free). Already
 *    done when `from` is gone and `to` exists.
 *  - `{ op: "rename", from, to, replace: true }`: the same, replacing `to` (e.g. a prepared manifest).
 *  - `{ op: "write", path, data }`: replace a (small, text) file with `data` atomically, e.g. a manifest.
 *  - `{ op: "remove", path }`: remove a file or folder (recursively); already done when it is gone.
 *
 * Usage (curation: merge/move/split):
 *
 *   await withLibraryLock(libraryDir, async () => {
 *     const library = await readLibrary(libraryDir);                     // read and plan under the lock
 *     await libraryStep("merge: copy crops", async () => {               // undoable part: temps only
 *       for (...) { await copyFile(src, tempPath(targetDir, name)); checkInterrupted(); }
 *     });                                                                // (on a throw, remove your temps)
 *     await commitJournal(libraryDir, "merge", [
 *       { op: "rename", from: "faceset_003/.a.png.tmp-123", to: "faceset_003/a.png" }, ...
 *       { op: "write", path: "faceset_003/manifest.json", data: formatManifest(...) },
 *       { op: "remove", path: "faceset_007" },
 *       { op: "write", path: "manifest.json", data: formatManifest(...) },
 *     ]);
 *   });
 *
 * Journals of an older version (`{ manifest, placed, setManifest }`) are still completed as they were meant.
 */
import { link, lstat, mkdir, readFile, rename, rm, unlink } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { writeFileAtomic } from "../util/atomic";
import { pauseAt } from "../util/pause";
import { LibraryError } from "./errors";
import { libraryStep } from "./interrupt";
import { formatManifest, MANIFEST_FILE } from "./manifest";

export const PENDING_FILE = ".facesets-pending.json";

export type JournalStep =
  | { op: "rename"; from: string; to: string; replace?: boolean }
  | { op: "write"; path: string; data: string }
  | { op: "remove"; path: string };

export interface Journal {
  /** What wrote it ("addFacesets", "extend", "merge", ...), for messages. */
  kind: string;
  pid: number;
  startedAt: string;
  steps: JournalStep[];
}

export function pendingFile(libraryDir: string): string {
  return path.join(libraryDir, PENDING_FILE);
}

/** A step's path as an absolute path inside the library; refuses one that would leave it. */
function inLibrary(libraryDir: string, rel: string, kind: string): string {
  const full = path.resolve(libraryDir, rel);
  const back = path.relative(libraryDir, full);
  if (rel === "" || path.isAbsolute(rel) || back === "" || back.startsWith("..") || path.isAbsolute(back)) {
    throw new LibraryError(`${pendingFile(libraryDir)}: ${kind} step path "${rel}" is not inside the library`);
  }
  return full;
}

/** A library-relative, `/`-separated path for a step. */
export function journalPath(libraryDir: string, full: string): string {
  return path.relative(libraryDir, full).split(path.sep).join("/");
}

const exists = async (p: string) => (await lstat(p).catch(() => undefined)) !== undefined;

/** Move `from` to `to` without replacing anything; idempotent (see the module comment). Returns a warning or undefined. */
async function renameNoReplace(from: string, to: string): Promise<string | undefined> {
  const source = await lstat(from).catch(() => undefined);
  const target = await lstat(to).catch(() => undefined);
  if (!source) return target ? undefined : `${from}: gone, and ${to} was never made; left out`;
  if (target) {
    // Killed between link and unlink: the name already is this file.
    if (!source.isDirectory() && source.ino === target.ino && source.dev === target.dev) {
      await unlink(from);
      return undefined;
    }
    throw new LibraryError(`${to}: already exists; refusing to overwrite it with ${from}`, to);
  }
  await mkdir(path.dirname(to), { recursive: true });
  if (source.isDirectory()) {
    await rename(from, to); // the library lock keeps `to` free since the check above
    return undefined;
  }
  try {
    await link(from, to); // fails if the name appeared meanwhile (another program), unlike rename
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new LibraryError(`${to}: appeared during the write; refusing to overwrite it`, to);
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
    await rename(from, to); // no hard links on this file system
    return undefined;
  }
  await unlink(from);
  return undefined;
}

async function applyStep(libraryDir: string, step: JournalStep): Promise<string | undefined> {
  switch (step.op) {
    case "rename": {
      const from = inLibrary(libraryDir, step.from, "rename");
      const to = inLibrary(libraryDir, step.to, "rename");
      if (!step.replace) return await renameNoReplace(from, to);
      if (!(await exists(from))) return undefined; // done before
      await mkdir(path.dirname(to), { recursive: true });
      await rename(from, to);
      return undefined;
    }
    case "write":
      await writeFileAtomic(inLibrary(libraryDir, step.path, "write"), step.data);
      return undefined;
    case "remove":
      await rm(inLibrary(libraryDir, step.path, "remove"), { recursive: true, force: true });
      return undefined;
    default:
      throw new LibraryError(`${pendingFile(libraryDir)}: unknown step ${JSON.stringify(step)}`);
  }
}

async function applySteps(libraryDir: string, steps: readonly JournalStep[]): Promise<string[]> {
  const warnings: string[] = [];
  for (const step of steps) {
    const warning = await applyStep(libraryDir, step);
    if (warning) warnings.push(warning);
    await pauseAt(`journal:${step.op}`);
  }
  return warnings;
}

/**
 * Commit a prepared write: journal `steps`, apply them, remove the journal. Call under the library lock once every
 * temp the steps rename is complete. Runs as one library step: a Ctrl-C meanwhile lets it finish. Returns warnings
 * (renames whose temp was gone).
 */
export async function commitJournal(libraryDir: string, kind: string, steps: readonly JournalStep[]): Promise<string[]> {
  for (const step of steps) {
    if (step.op === "rename") [step.from, step.to].forEach((p) => inLibrary(libraryDir, p, "rename"));
    else inLibrary(libraryDir, step.path, step.op);
  }
  return await libraryStep(`${kind}: commit`, async () => {
    const journal: Journal = { kind, pid: process.pid, startedAt: new Date().toISOString(), steps: [...steps] };
    await writeFileAtomic(pendingFile(libraryDir), JSON.stringify(journal) + "\n");
    await pauseAt("journal:written");
    const warnings = await applySteps(libraryDir, steps);
    await rm(pendingFile(libraryDir), { force: true });
    return warnings;
  });
}

async function readJson(file: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Complete the write a killed process left journaled. withLibraryLock calls it right after taking the lock, before
 * anything reads the library. Returns what was done (for a warning), undefined when nothing was pending.
 */
export async function recoverJournal(libraryDir: string): Promise<string[]> {
  const file = pendingFile(libraryDir);
  if (!(await exists(file))) return [];
  const json = await readJson(file) as Partial<Journal> & Partial<LegacyPendingWrite> | undefined;
  if (json === undefined || typeof json !== "object" || json === null) {
    // Not written by writeFileAtomic (it renames only whole files), so a hand edit: nothing safe to redo.
    throw new LibraryError(`${file}: not a readable journal; move it away to write this library again`, file);
  }
  if (!Array.isArray(json.steps)) {
    const legacy = await completeLegacy(libraryDir, json as LegacyPendingWrite);
    await rm(file, { force: true });
    return [legacy];
  }
  let warnings: string[];
  try {
    warnings = await applySteps(libraryDir, json.steps);
  } catch (err) {
    throw new LibraryError(
      `${file}: cannot complete the interrupted ${json.kind ?? "write"} of process ${json.pid ?? "?"}: ${(err as Error).message}`,
      file,
    );
  }
  await rm(file, { force: true });
  return [
    `completed the interrupted ${json.kind ?? "write"} of process ${json.pid ?? "?"} (${json.steps.length} journaled steps)`,
    ...warnings,
  ];
}

/** The journal of earlier versions: the top-level manifest to write and what had to be on disk for it. */
interface LegacyPendingWrite {
  manifest: Record<string, unknown>;
  placed: { name: string; dir: string }[];
  setManifest?: { dir: string; faces: number };
}

async function facesIn(setDir: string): Promise<number | undefined> {
  const json = await readJson(path.join(setDir, MANIFEST_FILE)) as { faces?: unknown } | undefined;
  return Array.isArray(json?.faces) ? json.faces.length : undefined;
}

async function completeLegacy(libraryDir: string, pending: LegacyPendingWrite): Promise<string> {
  const file = pendingFile(libraryDir);
  if (typeof pending.manifest !== "object" || pending.manifest === null || !Array.isArray(pending.placed)) {
    throw new LibraryError(`${file}: not a readable journal; move it away to write this library again`, file);
  }
  if (pending.setManifest) {
    const setDir = inLibrary(libraryDir, pending.setManifest.dir, "setManifest");
    if ((await facesIn(setDir)) !== pending.setManifest.faces) {
      return `${file}: an interrupted write had not replaced ${pending.setManifest.dir}/${MANIFEST_FILE}; dropped it`;
    }
  }
  const missing = new Set<string>();
  for (const p of pending.placed) {
    if ((await facesIn(inLibrary(libraryDir, p.dir, "placed"))) === undefined) missing.add(p.name);
  }
  const manifest = { ...pending.manifest };
  const keep = (e: unknown) => !(typeof e === "object" && e !== null && missing.has((e as { name?: string }).name ?? ""));
  for (const key of ["facesets", "thin_eras"]) {
    if (Array.isArray(manifest[key])) manifest[key] = (manifest[key] as unknown[]).filter(keep);
  }
  await writeFileAtomic(path.join(libraryDir, MANIFEST_FILE), formatManifest(manifest));
  const arrived = pending.placed.filter((p) => !missing.has(p.name)).map((p) => p.name);
  return `${file}: completed an interrupted write` + (arrived.length > 0 ? ` (listed ${arrived.join(", ")})` : "");
}

/**
 * recoverJournal as one line (undefined when nothing was pending). withLibraryLock already completes a journal when
 * it takes the lock, so under the lock this normally finds nothing; kept for callers written against it.
 */
export async function completePendingWrite(libraryDir: string): Promise<string | undefined> {
  const lines = await recoverJournal(libraryDir);
  return lines.length > 0 ? lines.join("; ") : undefined;
}
