/**
 * Temp names in a library and the clean-up of those a killed process left. Every temp file or folder a writer
 * makes carries its pid: `.faceset_007.tmp-<pid>` (a set being assembled), `.face_x.png.tmp-<pid>` (a crop before
 * it is linked to its name), `manifest.json.<pid>.tmp` (writeFileAtomic), `.facesets.lock.tmp-<pid>`. Only a lock
 * holder writes, so under the lock (and after the journal was completed, which may still need them) a temp whose
 * process is gone is garbage: the next write removes it and says so.
 */
import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { processAlive } from "../util/process";

const TEMP_MARK = ".tmp-";

/** `.<name>.tmp-<pid>` beside `name`: hidden, and no longer ending in the name's extension (not a crop to readers). */
export function tempPath(dir: string, name: string): string {
  return path.join(dir, `.${name}${TEMP_MARK}${process.pid}`);
}

/** The pid a temp name carries, or undefined for a name that is not a temp. */
export function tempOwner(name: string): number | undefined {
  const m = /^\..+\.(?:tmp|stale)-(\d+)$/.exec(name) ?? /^.+\.(\d+)\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** How deep below the library temps are looked for: sets in it, `_thin/` sets, `_runs/` etc. and their files. */
const MAX_DEPTH = 3;

/**
 * Remove the temps of processes that are gone, from the library folder down to MAX_DEPTH (symlinks are not
 * followed). Call under the library lock. Returns one line per removal, and per temp left because its pid runs.
 */
export async function removeDeadTemps(libraryDir: string): Promise<string[]> {
  const lines: string[] = [];
  const alive = new Map<number, boolean>();
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // vanished or unreadable: nothing of ours to clean there
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const pid = tempOwner(entry.name);
      if (pid !== undefined) {
        if (pid === process.pid) continue;
        if (!alive.has(pid)) alive.set(pid, processAlive(pid));
        const rel = path.relative(libraryDir, full);
        if (alive.get(pid)) {
          lines.push(`${full}: left in place: process ${pid} that made it is running (not holding this library's lock)`);
          continue;
        }
        const kind = (await lstat(full).catch(() => undefined))?.isDirectory() ? "folder" : "file";
        await rm(full, { recursive: true, force: true });
        lines.push(`removed ${rel}, a temp ${kind} of process ${pid}, which is gone (killed during a write)`);
        continue;
      }
      if (entry.isDirectory() && depth < MAX_DEPTH) await visit(full, depth + 1);
    }
  };
  await visit(libraryDir, 1);
  return lines;
}
