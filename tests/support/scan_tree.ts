/**
 * Helpers of tests/scan.test.ts: a byte-level fingerprint of a photo tree (to prove the scan never writes into
 * it), the scan script as a child process, and a store's records without run ids and timestamps.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { FaceStore, type FaceRow, type StoredFile } from "../../lib/mod";

const ROOT = process.cwd();
export const DENO = path.join(ROOT, "node_modules/.bin/deno");

/** Every entry under `dir` (folders with a trailing "/") -> sha256 of its bytes ("" for folders), sorted. */
export function treeFingerprint(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const rel = path.relative(dir, full);
      if (statSync(full).isDirectory()) {
        out.set(`${rel}/`, "");
        visit(full);
      } else {
        out.set(rel, createHash("sha256").update(readFileSync(full)).digest("hex"));
      }
    }
  };
  visit(dir);
  return out;
}

export interface Child {
  proc: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stderr line matching `test`; rejects if the process exits first. */
  waitForStderr(test: (line: string) => boolean): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Run `node_modules/.bin/deno ARGS...` from the project root (or `opts.cwd`), collecting its output line by line;
 * `opts.env` is added to the environment. Also the base of tests/support/kill.ts's children.
 */
export function denoChild(args: readonly string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Child {
  const proc = spawn(DENO, [...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  const lineReader = (sink: string[], notify: boolean) => {
    let buffer = "";
    return (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        sink.push(line);
        if (!notify) continue;
        for (const w of [...waiters]) {
          if (w.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    };
  };
  proc.stdout!.on("data", lineReader(stdout, false));
  proc.stderr!.on("data", lineReader(stderr, true));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on("close", (code, signal) => resolve({ code, signal })),
  );
  const waitForStderr = (test: (line: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const hit = stderr.find(test);
      if (hit !== undefined) return resolve(hit);
      waiters.push({ test, resolve });
      void exited.then((e) => reject(new Error(`deno ${args.join(" ")} exited (${e.code ?? e.signal}) before the expected line; stderr:\n${stderr.join("\n")}`)));
    });
  return { proc, stdout, stderr, waitForStderr, exited };
}

/** The JSON summary a `scan --json` run prints as its last stdout line. */
export interface ScanJson {
  files: number;
  unsupported: Record<string, number>;
  ignored: number;
  unreadableFolders: number;
  failures: { path: string; reason: string }[];
  seen: number;
  analysed: number;
  skipped: number;
  aliases: number;
  errors: number;
  noface: number;
  faces: number;
  missing: number;
  images_per_s: number;
}

/** Run the scan script to completion and return its JSON summary (throws with stderr when it fails). */
export async function runScanScript(args: readonly string[]): Promise<ScanJson> {
  const child = denoChild(["task", "scan", ...args, "--json"]);
  const exit = await child.exited;
  if (exit.code !== 0) throw new Error(`deno task scan ${args.join(" ")} exited ${exit.code ?? exit.signal}:\n${child.stderr.join("\n")}`);
  const last = child.stdout.filter((l) => l.trim() !== "").at(-1);
  if (last === undefined) throw new Error(`deno task scan printed nothing on stdout; stderr:\n${child.stderr.join("\n")}`);
  return JSON.parse(last) as ScanJson;
}

/** A face row as comparable data (the embedding as a plain array, no shared buffers). */
export type FaceRecord = Omit<FaceRow, "embedding"> & { embedding: number[] };
/** A file row without run ids and timestamps of bookkeeping. */
export type FileRecord = Omit<StoredFile, "firstSeenRun" | "lastSeenRun" | "updatedAt">;

/** All faces (retired too) and file rows of a store, without run ids or bookkeeping timestamps. */
export async function storeRecords(storePath: string): Promise<{ faces: FaceRecord[]; files: FileRecord[] }> {
  const store = await FaceStore.open(storePath, { readOnly: true });
  try {
    const faces = (await store.selectFaces({ includeRetired: true })).map((f) => ({ ...f, embedding: Array.from(f.embedding) }));
    const files = [...(await store.knownFiles()).values()].map(({ firstSeenRun: _a, lastSeenRun: _b, updatedAt: _c, ...rest }) => rest);
    return { faces, files };
  } finally {
    await store.close();
  }
}
