/**
 * Run records: `<library>/_runs/<runId>.json`, one per command run that read or changed the library. They hold
 * every number and per-face decision of a run, so the report (and a person) can explain it later without
 * re-running anything. Written once, atomically; never changed.
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../util/atomic";
import { readJsonFile } from "../util/json";

export const RUNS_FOLDER = "_runs";

/** A run record that cannot be read or is not the record asked for. */
export class RunRecordError extends Error {
  override name = "RunRecordError";
}

/** Write a run record as `<library>/_runs/<runId>.json` (atomically); returns its path. */
export async function writeRunRecord(libraryDir: string, runId: string, record: unknown): Promise<string> {
  const dir = path.join(libraryDir, RUNS_FOLDER);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${runId}.json`);
  await writeFileAtomic(file, JSON.stringify(record, null, 1) + "\n");
  return file;
}

/** The run records of a library, oldest first. */
export async function listRunRecords(libraryDir: string): Promise<string[]> {
  const dir = path.join(libraryDir, RUNS_FOLDER);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith(".json")).sort().map((n) => path.join(dir, n));
}

/** The parsed JSON of a run record file; RunRecordError when it cannot be read or parsed. */
export async function readRunRecordJson(file: string): Promise<unknown> {
  return await readJsonFile(file, (message) => new RunRecordError(message), { what: "run record" });
}

/**
 * The newest run record of a library whose `kind` is one of `kinds`, or undefined when it has none. Files that
 * cannot be read or parsed are passed over here: readRunRecordJson names the problem when one is asked for.
 */
export async function latestRunRecord(libraryDir: string, kinds: readonly string[]): Promise<string | undefined> {
  for (const file of (await listRunRecords(libraryDir)).reverse()) {
    try {
      const { kind } = JSON.parse(await readFile(file, "utf8")) as { kind?: unknown };
      if (kinds.includes(kind as string)) return file;
    } catch {
      continue;
    }
  }
  return undefined;
}
