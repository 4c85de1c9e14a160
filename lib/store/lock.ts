/**
 * DuckDB's file lock, in facesets' words. DuckDB takes an OS lock on the database file (exclusive for a writer,
 * shared for read-only opens), so a second process fails to open with
 *   IO Error: Could not set lock on file "/x.duckdb": Conflicting lock is held in /usr/bin/node (PID 123). ...
 * and, when the holder is a reader and the caller a writer, "However, you would be able to open this database in
 * read-only mode". Within one process the lock does not protect (OS locks are per process), so FaceStore shares
 * one DuckDB instance per file among its handles instead (store.ts).
 */
import { readFileSync } from "node:fs";
import { oneLine } from "../util/text";
import { StoreError, StoreInUseError } from "./errors";

const LOCK_CONFLICT = /Could not set lock on file .*?Conflicting lock is held in (.*?) \(PID (\d+)\)/s;
const HOLDER_IS_READER = /open this database in read-only mode/;
const MAX_COMMAND_CHARS = 160;

/** The command line of a process, from /proc (Linux); undefined elsewhere or when it is gone. */
export function processCommandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const line = raw.split("\0").filter((s) => s.length > 0).join(" ");
    if (line.length === 0) return undefined;
    return line.length > MAX_COMMAND_CHARS ? `${line.slice(0, MAX_COMMAND_CHARS - 1)}…` : line;
  } catch {
    return undefined;
  }
}

/** A DuckDB open failure as a StoreInUseError naming the holder, or a one-line StoreError. */
export function storeOpenError(err: unknown, storePath: string): StoreError {
  const message = err instanceof Error ? err.message : String(err);
  const conflict = LOCK_CONFLICT.exec(message);
  if (conflict) {
    const program = conflict[1] ?? "another program";
    const pid = Number(conflict[2]);
    const holder = processCommandLine(pid) ?? program;
    const why = HOLDER_IS_READER.test(message)
      ? "it has the store open read-only; close it to write, or use another --store"
      : "wait for it to finish, or use another --store";
    return new StoreInUseError(`store ${storePath} is in use by PID ${pid} (${holder}): ${why}`, storePath, pid);
  }
  return new StoreError(`store ${storePath}: cannot open (${oneLine(err)})`);
}
