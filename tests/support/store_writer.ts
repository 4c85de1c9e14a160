/**
 * A second process for tests/store_crash.test.ts, run with `node_modules/.bin/deno run -A` (so it also proves the
 * store loads under Deno).
 *
 *   store_writer.ts commit STORE TOTAL BATCH  commit synthetic files 0..TOTAL-1 in fixed batches of BATCH,
 *                                             skipping files already stored (a resumed scan); prints
 *                                             "committing <n>" before and "committed <n>" after every commit
 *                                             (n = files stored once it lands), then "done"
 *   store_writer.ts hold STORE                open the store for writing, print "ready", wait for stdin to close
 *   store_writer.ts try-open STORE [ro]       try to open the store; print one JSON line {name, message, pid}
 */
import { writeSync } from "node:fs";
import process from "node:process";
import { FaceStore } from "../../lib/store/mod";
import { DETECTOR, fileOutcome, RECOGNIZER } from "./store_fixtures";

// Node-compatible APIs only, so the project's tsconfig (which covers tests/) type-checks this file too.
const [mode, storePath, ...rest] = process.argv.slice(2);
const say = (line: string) => writeSync(1, `${line}\n`);

if (!storePath) throw new Error("usage: store_writer.ts commit|hold|try-open STORE ...");

if (mode === "commit") {
  const total = Number(rest[0]);
  const batchSize = Number(rest[1]);
  const store = await FaceStore.open(storePath);
  const known = await store.knownFiles();
  const runId = await store.beginRun({ command: `store_writer commit ${total} ${batchSize}`, config: {}, detectorSha256: DETECTOR, recognizerSha256: RECOGNIZER });
  let stored = known.size;
  for (let start = 0; start < total; start += batchSize) {
    const batch = [];
    for (let i = start; i < Math.min(total, start + batchSize); i++) {
      const outcome = fileOutcome(i);
      if (!known.has(outcome.path)) batch.push(outcome);
    }
    if (batch.length === 0) continue;
    say(`committing ${stored + batch.length}`);
    await store.commitBatch(runId, batch);
    stored += batch.length;
    say(`committed ${stored}`);
  }
  await store.finishRun(runId, { stored });
  await store.close();
  say("done");
} else if (mode === "hold") {
  const store = await FaceStore.open(storePath);
  say("ready");
  await new Promise<void>((resolve) => {
    process.stdin.on("end", resolve);
    process.stdin.on("close", resolve);
    process.stdin.resume();
  });
  await store.close();
} else if (mode === "try-open") {
  try {
    const store = await FaceStore.open(storePath, { readOnly: rest[0] === "ro" });
    await store.close();
    say(JSON.stringify({ name: "opened", message: "", pid: null }));
  } catch (err) {
    const e = err as Error & { pid?: number };
    say(JSON.stringify({ name: e.name, message: e.message, pid: e.pid ?? null }));
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
