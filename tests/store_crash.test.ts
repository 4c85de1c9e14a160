/**
 * Crash safety and locking across processes: a Deno writer (tests/support/store_writer.ts) is killed with SIGKILL
 * while committing batches; the store must then hold whole batches only, each file with exactly its faces, and a
 * resumed run must end with exactly the rows of an uninterrupted one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FaceStore, faceId, StoreInUseError } from "../lib/store/mod";
import { DETECTOR, facesOfFile, fileOutcome, RECOGNIZER } from "./support/store_fixtures";

const ROOT = process.cwd();
const DENO = path.join(ROOT, "node_modules/.bin/deno");
const WRITER = "tests/support/store_writer.ts";
const TOTAL = 400;
const BATCH = 8;

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-crash-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first stdout line matching `test`. */
  waitFor(test: (line: string) => boolean): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function writer(...args: string[]): Child {
  const proc = spawn(DENO, ["run", "-A", WRITER, ...args], {
    cwd: ROOT,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let buffer = "";
  let stderr = "";
  proc.stdout!.on("data", (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on("exit", (code, signal) => resolve({ code, signal, stderr })),
  );
  const waitFor = (test: (line: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const hit = lines.find(test);
      if (hit !== undefined) return resolve(hit);
      waiters.push({ test, resolve });
      void exited.then((e) => reject(new Error(`writer exited (${e.code ?? e.signal}) before the expected line; stderr: ${e.stderr}`)));
    });
  return { proc, lines, waitFor, exited };
}

/** Every stored file is one of the first k*BATCH synthetic files (whole batches), each with exactly its faces. */
async function checkWholeBatches(storePath: string): Promise<number> {
  const store = await FaceStore.open(storePath, { readOnly: true });
  try {
    const known = await store.knownFiles();
    const stored = known.size;
    expect(stored % BATCH, `${stored} files stored: a batch was half committed`).toBe(0);
    for (let i = 0; i < stored; i++) {
      const o = fileOutcome(i);
      expect(known.get(o.path)?.sha256, `file ${i} of the committed prefix`).toBe(o.sha256);
    }
    const faces = await store.selectFaces({ includeRetired: true });
    const expected = new Set<string>();
    for (let i = 0; i < stored; i++) {
      for (let k = 0; k < facesOfFile(i); k++) expected.add(faceId(fileOutcome(i).sha256, k));
    }
    const ids = faces.map((f) => f.faceId);
    expect(new Set(ids).size, "duplicate face rows").toBe(ids.length);
    expect(new Set(ids)).toEqual(expected);
    expect(faces.every((f) => !f.retired)).toBe(true);
    return stored;
  } finally {
    await store.close();
  }
}

describe("crash safety", () => {
  it("a writer killed with SIGKILL mid-run leaves whole batches; resuming ends exactly like an uninterrupted run", async () => {
    const storePath = path.join(TMP, "killed.duckdb");
    let stored = 0;
    // Kill at four points of the run: right after a "committing n" line (inside commitBatch: validation, the
    // transaction, or its WAL write, depending on the delay) or right after a "committed n" line (between
    // transactions). Each time the writer resumes by skipping what is stored.
    const rounds = [
      { on: "committing", after: 40, delayMs: 0 },
      { on: "committing", after: 160, delayMs: 6 },
      { on: "committed", after: 240, delayMs: 0 },
      { on: "committing", after: 320, delayMs: 14 },
    ] as const;
    for (const [round, { on, after, delayMs }] of rounds.entries()) {
      const child = writer("commit", storePath, String(TOTAL), String(BATCH));
      await child.waitFor((line) => line.startsWith(`${on} `) && Number(line.slice(on.length + 1)) >= after);
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      child.proc.kill("SIGKILL");
      const exit = await child.exited;
      expect(exit.signal, `round ${round}: the writer finished before it could be killed`).toBe("SIGKILL");
      const reported = (word: string) =>
        Math.max(stored, ...child.lines.filter((l) => l.startsWith(`${word} `)).map((l) => Number(l.slice(word.length + 1))));
      const now = await checkWholeBatches(storePath);
      expect(now).toBeGreaterThanOrEqual(reported("committed")); // a reported commit is durable
      expect(now).toBeLessThanOrEqual(reported("committing")); // nothing beyond the batch in flight
      expect(now).toBeGreaterThanOrEqual(stored);
      stored = now;
    }

    const finish = writer("commit", storePath, String(TOTAL), String(BATCH));
    await finish.waitFor((l) => l === "done");
    expect((await finish.exited).code).toBe(0);
    expect(await checkWholeBatches(storePath)).toBe(TOTAL);

    // The same files committed in one uninterrupted run, in this process.
    const cleanPath = path.join(TMP, "clean.duckdb");
    const clean = await FaceStore.open(cleanPath);
    const runId = await clean.beginRun({ command: "clean", config: {}, detectorSha256: DETECTOR, recognizerSha256: RECOGNIZER });
    for (let start = 0; start < TOTAL; start += BATCH) {
      await clean.commitBatch(runId, Array.from({ length: BATCH }, (_, k) => fileOutcome(start + k)));
    }
    await clean.finishRun(runId, {});
    const cleanFaces = await clean.selectFaces({ includeRetired: true });
    const cleanFiles = await clean.knownFiles();
    await clean.close();

    const resumed = await FaceStore.open(storePath); // writable: marks the killed runs interrupted
    const faces = await resumed.selectFaces({ includeRetired: true });
    const files = await resumed.knownFiles();
    const runs = await resumed.runs();
    await resumed.close();
    expect(faces).toEqual(cleanFaces);
    const strip = (m: typeof files) =>
      [...m.values()].map(({ path: p, sha256, size, mtimeMs, status, reason, width, height, aliasOf }) => ({ p, sha256, size, mtimeMs, status, reason, width, height, aliasOf }));
    expect(strip(files)).toEqual(strip(cleanFiles));
    expect(runs.map((r) => r.status)).toEqual([...rounds.map(() => "interrupted"), "done"]);
  });
});

describe("one writer per store", () => {
  it("a second process gets StoreInUseError naming the writer's PID", async () => {
    const storePath = path.join(TMP, "held-by-child.duckdb");
    const holder = writer("hold", storePath);
    await holder.waitFor((l) => l === "ready");
    try {
      for (const readOnly of [false, true]) {
        const err = await FaceStore.open(storePath, { readOnly }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreInUseError);
        expect((err as StoreInUseError).pid).toBe(holder.proc.pid);
        expect((err as Error).message).toMatch(new RegExp(`^store .*held-by-child\\.duckdb is in use by PID ${holder.proc.pid} \\(.*deno.*store_writer\\.ts hold.*\\): wait for it to finish, or use another --store$`));
      }
    } finally {
      holder.proc.stdin!.end();
    }
    expect((await holder.exited).code).toBe(0);
    const store = await FaceStore.open(storePath); // released on exit
    await store.close();
  });

  it("a writer in this process blocks other processes; readers share with readers", async () => {
    const storePath = path.join(TMP, "held-by-test.duckdb");
    const store = await FaceStore.open(storePath);
    const tryOpen = async (...extra: string[]) => {
      const child = writer("try-open", storePath, ...extra);
      const line = await child.waitFor(() => true);
      await child.exited;
      return JSON.parse(line) as { name: string; message: string; pid: number | null };
    };
    for (const extra of [[], ["ro"]]) {
      const result = await tryOpen(...extra);
      expect(result.name).toBe("StoreInUseError");
      expect(result.pid).toBe(process.pid);
      expect(result.message).toContain(`is in use by PID ${process.pid}`);
    }
    await store.close();

    const reader = await FaceStore.open(storePath, { readOnly: true });
    expect((await tryOpen("ro")).name).toBe("opened");
    const writerAttempt = await tryOpen();
    expect(writerAttempt.name).toBe("StoreInUseError");
    expect(writerAttempt.message).toMatch(/has the store open read-only; close it to write/);
    await reader.close();
    expect((await tryOpen()).name).toBe("opened");
  });
});
