/**
 * One writer per library: `<library>/.facesets.lock`, a one-line JSON record of the holder (pid, process start
 * time, host, command, since). Two writers reading the same manifest and both appending would lose one's entries;
 * the lock makes the second one fail, at once and by name.
 *
 * A lock whose process is gone, or whose pid now belongs to a process that started at another time (pid reuse),
 * was left by a killed writer: it is taken over with a one-line warning, never left for the owner to find and
 * delete. Right after taking the lock, before anything reads the library, the holder completes the journal of a
 * killed write (pending.ts) and removes the temps of dead processes (temp.ts). While the lock is held, SIGINT and
 * SIGTERM are handled by interrupt.ts (finish or roll back the current step, release the lock, exit non-zero).
 *
 * The lock is re-entrant within one async call chain: a command takes it before its scan and plan, and the
 * library writes it calls (addFacesets, appendToFaceset, curation) run inside it without taking it again.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync, realpathSync, unlinkSync } from "node:fs";
import { link, mkdir, open, readFile, realpath, rename, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import process from "node:process";
import { pauseAt } from "../util/pause";
import { ownProcess, processAlive, sameProcessRunning } from "../util/process";
import { LibraryError } from "./errors";
import { guardLockedWrite } from "./interrupt";
import { recoverJournal } from "./pending";
import { removeDeadTemps } from "./temp";

/** The lock file of a library: one writer at a time. */
export const LOCK_FILE = ".facesets.lock";

/** What a lock file says about its holder. Locks of earlier versions (`pid N since T`) have only pid and since. */
export interface LockHolder {
  pid: number;
  /** processStartTime of the holder; absent when unknown (then only liveness is checked). */
  start?: string | null;
  host?: string;
  command?: string;
  since?: string;
}

export interface LibraryLockOptions {
  /** What the lock file names as the writer (default: this process's command line). */
  command?: string;
  /** Where the notes of taking the lock go (take-over, completed journal, removed temps); default stderr. */
  warn?: (line: string) => void;
}

/** The locks the current async call chain holds: library real path -> whether taking it completed a killed write. */
const held = new AsyncLocalStorage<ReadonlyMap<string, { completedJournal: boolean }>>();
const defaultWarn = (line: string) => process.stderr.write(`warning: ${line}\n`);

function defaultCommand(): string {
  const [script, ...args] = process.argv.slice(1);
  return [script === undefined ? "facesets" : path.basename(script), ...args].join(" ");
}

/** Parse a lock file's text; undefined when it says nothing usable (a hand-made file). */
export function parseLockHolder(text: string): LockHolder | undefined {
  try {
    const json = JSON.parse(text) as LockHolder;
    if (typeof json === "object" && json !== null && Number.isSafeInteger(json.pid)) return json;
  } catch {
    // an older version's plain line, below
  }
  const legacy = /^pid (\d+)(?: since (.*))?$/.exec(text.trim());
  return legacy ? { pid: Number(legacy[1]), since: legacy[2] } : undefined;
}

function describe(holder: LockHolder): string {
  return `pid ${holder.pid}` + (holder.command ? ` "${holder.command}"` : "") + (holder.since ? ` since ${holder.since}` : "");
}

/** Why a lock is stale (its writer is gone), or undefined when its writer may still be writing. */
function staleReason(holder: LockHolder): string | undefined {
  if (holder.host !== undefined && holder.host !== hostname()) return undefined; // cannot check another machine
  if (!processAlive(holder.pid)) return `process ${holder.pid} is gone`;
  if (!sameProcessRunning(holder.pid, holder.start ?? undefined)) {
    return `pid ${holder.pid} now belongs to another process (its start time differs)`;
  }
  return undefined;
}

function heldError(lock: string, text: string, holder: LockHolder | undefined): LibraryError {
  if (holder === undefined) {
    return new LibraryError(
      `${lock}: held by an unknown writer (${JSON.stringify(text.trim().slice(0, 80))}); if no facesets process is running, delete the file`,
      lock,
    );
  }
  if (holder.host !== undefined && holder.host !== hostname()) {
    return new LibraryError(
      `${lock}: another facesets process is writing this library (${describe(holder)} on host ${holder.host}); ` +
        `it cannot be checked from here: if none runs there, delete the file`,
      lock,
    );
  }
  const self = holder.pid === process.pid ? "this same process already writes it: one write at a time" : "wait for it to finish";
  return new LibraryError(`${lock}: another facesets process is writing this library (${describe(holder)}); ${self}`, lock);
}

/** Create `lock` holding `content`, complete or not at all (a temp file hard-linked to the name). False if it exists. */
async function createExclusive(lock: string, content: string): Promise<boolean> {
  const temp = `${lock}.tmp-${process.pid}`;
  await writeFile(temp, content);
  try {
    await link(temp, lock);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
    // No hard links here: an exclusive create (a kill between create and write leaves an empty, unknown lock).
    let handle;
    try {
      handle = await open(lock, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e;
    }
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return true;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Remove a stale lock whose text is `staleText`, unless it changed meanwhile: another process may have taken it
 * over first. Moved aside under our own name, checked, and put back if it was not the stale one.
 */
async function takeOver(lock: string, staleText: string): Promise<boolean> {
  const aside = `${lock}.stale-${process.pid}`;
  try {
    await rename(lock, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  const moved = await readFile(aside, "utf8").catch(() => undefined);
  if (moved !== staleText) await link(aside, lock).catch(() => undefined); // someone's fresh lock: put it back
  await unlink(aside).catch(() => undefined);
  return moved === staleText;
}

async function acquire(lock: string, content: string, warn: (line: string) => void): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(lock, content)) return;
    const text = await readFile(lock, "utf8").catch(() => undefined);
    if (text === undefined) continue; // released meanwhile
    const holder = parseLockHolder(text);
    const reason = holder === undefined ? undefined : staleReason(holder);
    if (holder === undefined || reason === undefined) throw heldError(lock, text, holder);
    if (await takeOver(lock, text)) warn(`${lock}: took over the lock of ${describe(holder)}: ${reason} (killed during a write?)`);
  }
  throw new LibraryError(`${lock}: could not take the lock: other processes keep taking it; try again`, lock);
}

/** True when the current async call chain holds the lock of `libraryDir` (a resolved path). */
export function holdsLibraryLock(libraryDir: string): boolean {
  let key: string;
  try {
    key = realpathSync(libraryDir);
  } catch {
    return false;
  }
  return held.getStore()?.has(key) ?? false;
}

/**
 * True when the lock the current call chain holds on `libraryDir` completed a killed writer's journal when it was
 * taken: that write's sets or faces are now in the library, but what the killed run would have done after its
 * commit (recording them in the ledger) is for the current run to do.
 */
export function lockCompletedJournal(libraryDir: string): boolean {
  try {
    return held.getStore()?.get(realpathSync(libraryDir))?.completedJournal ?? false;
  } catch {
    return false;
  }
}

/**
 * Run `fn` holding `<library>/.facesets.lock` (the library folder is created if needed). Re-entrant: inside `fn`
 * (and what it awaits) another withLibraryLock on the same library just runs. Refuses (LibraryError) while a live
 * writer holds it; takes over a dead writer's lock; then completes a journaled write and removes dead temps
 * (see the module comment), reporting each through `warn`.
 */
export async function withLibraryLock<T>(libraryDir: string, fn: () => Promise<T>, options: LibraryLockOptions = {}): Promise<T> {
  await mkdir(libraryDir, { recursive: true });
  const key = await realpath(libraryDir);
  const outer = held.getStore() ?? new Map<string, { completedJournal: boolean }>();
  if (outer.has(key)) return await fn();

  const warn = options.warn ?? defaultWarn;
  const lock = path.join(libraryDir, LOCK_FILE);
  const { pid, start } = ownProcess();
  const content = JSON.stringify({
    pid,
    start: start ?? null,
    host: hostname(),
    command: options.command ?? defaultCommand(),
    since: new Date().toISOString(),
  }) + "\n";
  await acquire(lock, content, warn);
  // Only ever remove our own lock: after a wrong take-over the file may be another writer's.
  const release = () => {
    try {
      if (readFileSync(lock, "utf8") === content) unlinkSync(lock);
    } catch {
      // already gone
    }
  };
  const unguard = guardLockedWrite(release);
  try {
    const completed = await recoverJournal(libraryDir);
    for (const line of completed) warn(line);
    for (const line of await removeDeadTemps(libraryDir)) warn(line);
    await pauseAt("lock:taken");
    return await held.run(new Map([...outer, [key, { completedJournal: completed.length > 0 }]]), fn);
  } finally {
    unguard();
    release();
  }
}
