import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { LibraryError } from "./errors";

/** The lock file of a library: one writer at a time. */
export const LOCK_FILE = ".facesets.lock";

/**
 * Run `fn` holding `<library>/.facesets.lock` (created exclusively, removed afterwards). Two writers reading the
 * same manifest and both appending would lose one's entries; the lock makes the second one fail instead.
 */
export async function withLibraryLock<T>(libraryDir: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(libraryDir, { recursive: true });
  const lock = path.join(libraryDir, LOCK_FILE);
  let handle;
  try {
    handle = await open(lock, "wx");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const holder = (await readFile(lock, "utf8").catch(() => "")).trim() || "unknown";
    throw new LibraryError(
      `${lock}: another facesets process is writing this library (${holder}); if none is running, delete the file`,
      lock,
    );
  }
  try {
    try {
      await handle.writeFile(`pid ${process.pid} since ${new Date().toISOString()}\n`);
    } finally {
      await handle.close();
    }
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}
