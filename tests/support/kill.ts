/**
 * Helpers of the real kill tests (tests/library_kill.test.ts): run a facesets script as a Deno child process,
 * pause it at a named step of a library write (FACESETS_TEST_PAUSE_AT, lib/util/pause.ts) and send it a real
 * signal there; and a library's content as comparable data (so "equal to an uninterrupted run" is one toEqual).
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { PAUSE_MARKER } from "../../lib/util/pause";
import { REPO_ROOT } from "./fixtures";
import { denoChild } from "./scan_tree";

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  pid: number;
  stdout: string[];
  stderr: string[];
}

export interface Child {
  pid: number;
  kill(signal: NodeJS.Signals): void;
  /** Resolves when a stderr line matches; rejects if the process ends first. */
  waitForStderr(test: (line: string) => boolean): Promise<string>;
  exited: Promise<Ran>;
}

function spawnDeno(args: readonly string[], env: Record<string, string> = {}): Child {
  const child = denoChild(["run", "-A", ...args], { env, cwd: REPO_ROOT });
  const pid = child.proc.pid!;
  return {
    pid,
    kill: (signal) => child.proc.kill(signal),
    waitForStderr: child.waitForStderr,
    exited: child.exited.then(({ code, signal }) => ({ code, signal, pid, stdout: child.stdout, stderr: child.stderr })),
  };
}

/** The writeFileAtomic kill test's writer (tests/support/atomic_writer.ts), optionally paused at `pauseAt`. */
export function spawnAtomicWriter(file: string, count: number, size: number, pauseAt?: string): Child {
  return spawnDeno(["tests/support/atomic_writer.ts", file, String(count), String(size)], pauseAt ? { FACESETS_TEST_PAUSE_AT: pauseAt } : {});
}

/** Run a script to its end. */
export async function runScript(args: readonly string[]): Promise<Ran> {
  return await spawnDeno(args).exited;
}

/**
 * Run a script paused at `step` (e.g. `journal:rename#2`), send `signal` once it reports the pause, and wait for
 * its end. Rejects if the script ends without reaching the step (a wrong step name must not pass as "no damage").
 */
export async function killAt(args: readonly string[], step: string, signal: NodeJS.Signals): Promise<Ran> {
  const child = spawnDeno(args, { FACESETS_TEST_PAUSE_AT: step });
  const name = step.split("#")[0]!;
  await child.waitForStderr((line) => line.startsWith(`${PAUSE_MARKER} ${name} `));
  child.kill(signal);
  return await child.exited;
}

/** Keys whose values differ between two runs of the same write (ids and times), blanked by librarySnapshot. */
const VOLATILE = new Set(["run_id", "runId", "created_at", "createdAt", "startedAt", "finishedAt", "at", "since"]);

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, VOLATILE.has(k) ? "*" : normalise(v)]));
}

/**
 * Every file and folder under a library (hidden ones included: a leftover temp, lock or journal is a difference)
 * -> its content: JSON files parsed with run ids and times blanked, `.jsonl` per line likewise, others as sha256.
 * `_runs/` is left out (each run writes its own record under its own id). An absent library is empty.
 */
export function librarySnapshot(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!existsSync(dir)) return out;
  const visit = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const rel = path.relative(dir, full).split(path.sep).join("/");
      if (rel === "_runs") continue;
      if (lstatSync(full).isDirectory()) {
        out[`${rel}/`] = "";
        visit(full);
        continue;
      }
      const bytes = readFileSync(full);
      try {
        if (name.endsWith(".json")) out[rel] = normalise(JSON.parse(bytes.toString("utf8")));
        else if (name.endsWith(".jsonl")) out[rel] = bytes.toString("utf8").trim().split("\n").map((l) => normalise(JSON.parse(l)));
        else out[rel] = createHash("sha256").update(bytes).digest("hex");
      } catch {
        out[rel] = `unparsable: ${createHash("sha256").update(bytes).digest("hex")}`;
      }
    }
  };
  visit(dir);
  return out;
}

/** Paths in a snapshot that a finished write must not leave: temps, the lock, journals. */
export function leftovers(snapshot: Record<string, unknown>): string[] {
  return Object.keys(snapshot).filter((p) =>
    /(^|\/)\.[^/]*\.(tmp|stale)-\d+\/?$/.test(p) || /\.\d+\.tmp$/.test(p) || /(^|\/)\.facesets(\.lock|-pending\.json)$/.test(p) ||
    p === "_ledger/pending.json"
  );
}
