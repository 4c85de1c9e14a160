/**
 * Ctrl-C (SIGINT) and SIGTERM during a library write. While a process holds a library lock, these signals do not
 * kill it mid-rename: a signal that arrives inside a step (libraryStep) lets that step finish (a journaled commit)
 * or roll back (a step that calls checkInterrupted between files and undoes its temp files when it throws), then
 * WriteInterrupted ends the command, the lock is released on the way out, and the CLI exits with 130 / 143 and one
 * line. A signal outside any step (reading, planning, rendering crops) finds nothing half-written (earlier steps
 * are complete): the lock file is removed and the process exits at once. A second signal always exits at once; what it cuts short is left to
 * the journal and the temp clean-up of the next write (pending.ts, temp.ts).
 */
import process from "node:process";
import { resumePauses } from "../util/pause";

type StopSignal = "SIGINT" | "SIGTERM";
const SIGNALS: StopSignal[] = ["SIGINT", "SIGTERM"];
const EXIT_CODES: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** Thrown when a SIGINT or SIGTERM stopped a library write after its current step. */
export class WriteInterrupted extends Error {
  override name = "WriteInterrupted";
  /** The shell's code for death by this signal (130 SIGINT, 143 SIGTERM). */
  readonly exitCode: number;
  /** `what` says how the current step ended, e.g. "extend: commit completed". */
  constructor(readonly signal: StopSignal, readonly what?: string) {
    super(`interrupted by ${signal}` + (what ? `: ${what}` : ""));
    this.exitCode = EXIT_CODES[signal];
  }
}

let received: StopSignal | undefined;
const steps: string[] = [];
/** Releases of the locks this process holds (synchronous: they run just before an immediate exit). */
const releases = new Set<() => void>();

function onSignal(signal: StopSignal): void {
  if (received !== undefined || steps.length === 0) {
    for (const release of releases) release();
    const what = received === undefined
      ? "stopped between library write steps (nothing half-written)"
      : `stopped inside ${steps.at(-1)}; the next write completes or rolls it back`;
    process.stderr.write(`\nerror: interrupted by ${signal}: ${what}; lock released\n`);
    process.exit(EXIT_CODES[signal]);
  }
  received = signal;
  resumePauses();
}

/**
 * Guard the time a lock is held: install the signal handlers (once per process, however many locks) and register
 * `release` for an immediate exit. Returns the function that removes both.
 */
export function guardLockedWrite(release: () => void): () => void {
  if (releases.size === 0) {
    received = undefined;
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  releases.add(release);
  return () => {
    releases.delete(release);
    if (releases.size === 0) for (const s of SIGNALS) process.off(s, onSignal);
  };
}

/** Throw WriteInterrupted if a stop signal has arrived: call between the undoable parts of a step. */
export function checkInterrupted(): void {
  if (received !== undefined) {
    throw new WriteInterrupted(received, `${steps.at(-1) ?? "the write"} rolled back (its temp files removed); the library is as before`);
  }
}

/**
 * Run `fn` as one step of a library write: a stop signal meanwhile does not end the process; when the outermost
 * step ends, WriteInterrupted is thrown instead of returning (so nothing after it runs).
 */
export async function libraryStep<T>(name: string, fn: () => Promise<T>): Promise<T> {
  steps.push(name);
  let result: T;
  try {
    result = await fn();
  } finally {
    steps.pop();
  }
  if (steps.length === 0 && received !== undefined) {
    throw new WriteInterrupted(received, `stopped after completing ${name}`);
  }
  return result;
}
