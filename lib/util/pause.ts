/**
 * A test-only pause at named steps of library writes, so a test can kill a child process at exactly that step.
 *
 *   FACESETS_TEST_PAUSE_AT=append:crop-written#2,journal:written
 *
 * pauses at the 2nd time `pauseAt("append:crop-written")` is reached and at the 1st `journal:written`: the process
 * prints `FACESETS_TEST_PAUSED <step> <pid>` on stderr and waits until it is killed, until a SIGINT/SIGTERM makes
 * the library write resume (resumePauses, so the test sees how the write finishes or rolls back), or 120 s.
 * Unset (always, outside tests), pauseAt is a constant check: zero cost.
 */
import process from "node:process";

const SPEC = process.env.FACESETS_TEST_PAUSE_AT?.trim() || undefined;
/** Step name -> the hit (1-based) to pause at. */
const WANTED: Map<string, number> | undefined = SPEC === undefined ? undefined : new Map(
  SPEC.split(",").map((part) => {
    const [step, nth] = part.trim().split("#");
    return [step!, nth === undefined ? 1 : Number(nth)] as const;
  }),
);
const hits = new Map<string, number>();
const waiting = new Set<() => void>();
const MAX_PAUSE_MS = 120_000;

/** The marker line a paused process writes to stderr. */
export const PAUSE_MARKER = "FACESETS_TEST_PAUSED";

/** Pause here when FACESETS_TEST_PAUSE_AT names this step (and this hit of it); otherwise return at once. */
export function pauseAt(step: string): Promise<void> | undefined {
  if (WANTED === undefined) return undefined;
  const wanted = WANTED.get(step);
  if (wanted === undefined) return undefined;
  const hit = (hits.get(step) ?? 0) + 1;
  hits.set(step, hit);
  if (hit !== wanted) return undefined;
  process.stderr.write(`${PAUSE_MARKER} ${step} ${process.pid}\n`);
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiting.delete(done);
      resolve();
    };
    const timer = setTimeout(done, MAX_PAUSE_MS);
    waiting.add(done);
  });
}

/** End every pause now (called when a signal interrupts a library write, so the write can finish or roll back). */
export function resumePauses(): void {
  for (const done of [...waiting]) done();
}
