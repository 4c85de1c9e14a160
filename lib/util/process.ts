/**
 * Is a process still the one we think it is? A pid alone is not enough: pids are reused, so a lock or temp file
 * records the pid with the process's start time, and a process counts as the same only when both match.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";

/**
 * When process `pid` started, as an opaque string comparable only with another value of this function on the same
 * machine: on Linux field 22 of /proc/<pid>/stat (clock ticks since boot); elsewhere `ps -o lstart=` (BSD, macOS).
 * Undefined when the process is gone or the platform offers neither (then only liveness can be checked).
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (the command name) is in parentheses and may hold spaces or ")": fields 3.. follow the last ")".
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = rest[22 - 3];
    if (start !== undefined && /^\d+$/.test(start)) return start;
  } catch {
    // not Linux, or the process is gone: try ps below
  }
  if (process.platform === "win32" || process.platform === "linux") return undefined;
  try {
    const out = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** True while a process with this pid exists (one of another user counts: EPERM). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Our own pid and start time, as written into lock files. */
export function ownProcess(): { pid: number; start: string | undefined } {
  return { pid: process.pid, start: processStartTime(process.pid) };
}

/**
 * Whether the process recorded as `pid` (started at `start`, when known) is still running: false when the pid is
 * gone, or when it now belongs to a process that started at another time (the pid was reused).
 */
export function sameProcessRunning(pid: number, start: string | undefined): boolean {
  if (!processAlive(pid)) return false;
  if (start === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === start;
}
