/**
 * The README's typical session, run with the real commands on ../shared photos, so CI executes the notebooks on a
 * library a person would have after it (not only on the hand-built fixture): scan the hand-sorted folders,
 * build-folders, scan a mixed bucket, cluster-osrc (dry run first, then for real), then extend with a later folder.
 * The library's newest run record is then extend's: the notebooks must still explain the cluster-osrc run.
 * Test tooling: scripts/notebooks.ts runs this file (`run --session`) and reads the READY marker it prints.
 *
 *   node_modules/.bin/deno run -A tests/support/notebook_session.ts SESSION_DIR   # prints READY's JSON on stdout
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { readLabels, writeFileAtomic } from "../../lib/mod";
import { FACES, MODELS } from "./fixtures";

const log = (msg: string) => console.error(msg);

/** Bump when the session's layout or commands change: a cached session built by another version is rebuilt. */
const SESSION_VERSION = 1;

/** `<session>/READY`: written last, so a half-built session is rebuilt. */
export interface SessionReady {
  version: number;
  builtAt: string;
  store: string;
  library: string;
  /** labels.csv of the mixed bucket (file relative to it, identity). */
  labels: string;
  /** The commands run, in order, as a person would type them. */
  commands: string[];
}

async function readReady(file: string): Promise<SessionReady | undefined> {
  try {
    const ready = JSON.parse(await readFile(file, "utf8")) as Partial<SessionReady>;
    return ready.version === SESSION_VERSION ? ready as SessionReady : undefined;
  } catch {
    return undefined;
  }
}

/** Run `deno task <args>` as a person would (stdout to our stderr, so stdout stays the READY line). */
function task(args: string[]): void {
  const deno = resolve("node_modules/.bin/deno");
  const res = spawnSync(deno, ["task", ...args], { stdio: ["ignore", 2, 2], env: { ...process.env, NO_COLOR: "1" } });
  if (res.error) throw new Error(`deno task ${args.join(" ")}: cannot run (${res.error.message})`);
  if (res.status !== 0) throw new Error(`deno task ${args.join(" ")}: exited with ${res.status ?? res.signal}`);
}

export async function ensureNotebookSession(sessionDir: string): Promise<SessionReady> {
  const ready = join(sessionDir, "READY");
  const built = await readReady(ready);
  if (built) return built;
  if (!existsSync(FACES)) throw new Error(`${FACES} is missing: the session is built from ../shared photos`);
  const start = performance.now();
  await rm(sessionDir, { recursive: true, force: true });
  const rows = [
    ...(await readLabels(join(FACES, "deepface", "labels.csv"))).rows,
    ...(await readLabels(join(FACES, "face_recognition", "labels.csv"))).rows,
  ].filter((r) => r.exists !== false && r.identities.length > 0);
  const of = (identity: string) => rows.filter((r) => r.singleIdentity && r.identity === identity);
  const pictures = join(sessionDir, "Pictures");
  const place = async (list: typeof rows, folder: string, flat: boolean): Promise<string> => {
    const lines = ["file,identity"];
    for (const r of list) {
      const rel = flat ? r.path.split("/").slice(-1)[0]! : relative(FACES, r.path);
      await mkdir(dirname(join(pictures, folder, rel)), { recursive: true });
      await copyFile(r.path, join(pictures, folder, rel));
      lines.push(`${rel},${r.identities.join(";")}`);
    }
    return lines.join("\n") + "\n";
  };
  // Hand-sorted folders (one per person), a mixed bucket (the rest of them, new people, group photos, people with
  // too few photos for a set), and a later folder with more photos of the sorted people (for extend).
  await place(of("deepface_p01").slice(0, 6), "people/Anna", true);
  await place(of("obama").slice(0, 6), "people/Barack", true);
  const bucket = [
    ...of("deepface_p01").slice(6, 7), ...of("obama").slice(6, 10), ...of("deepface_p03"), ...of("deepface_p02"),
    ...of("deepface_p04"), ...of("biden"), ...rows.filter((r) => !r.singleIdentity),
  ];
  const labels = await place(bucket, "bucket-2024", false);
  await writeFileAtomic(join(pictures, "bucket-2024", "labels.csv"), labels);
  await place([...of("deepface_p01").slice(7), ...of("obama").slice(10)], "bucket-2025", false);

  const store = join(sessionDir, "facesets.duckdb");
  const library = join(sessionDir, "facesets");
  const models = process.env.FACESETS_MODELS ?? MODELS;
  const people = join(pictures, "people");
  const b24 = join(pictures, "bucket-2024");
  const b25 = join(pictures, "bucket-2025");
  const commands = [
    ["scan", "--source", people, "--store", store, "--models", models],
    ["build-folders", "--folders", people, "--library", library, "--store", store],
    ["scan", "--source", b24, "--store", store, "--models", models],
    ["cluster-osrc", "--source", b24, "--library", library, "--store", store, "--dry-run"],
    ["cluster-osrc", "--source", b24, "--library", library, "--store", store],
    ["extend", "--source", b25, "--library", library, "--store", store, "--scan", "--models", models],
  ];
  for (const c of commands) {
    log(`notebooks: session: deno task ${c.join(" ")}`);
    task(c);
  }
  const marker: SessionReady = {
    version: SESSION_VERSION,
    builtAt: new Date().toISOString(),
    store,
    library,
    labels: join(b24, "labels.csv"),
    commands: commands.map((c) => `deno task ${c.join(" ")}`),
  };
  await writeFileAtomic(ready, JSON.stringify(marker) + "\n");
  log(`notebooks: session built in ${relative(process.cwd(), sessionDir)}/ in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return marker;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (dir === undefined || process.argv.length !== 3) {
    log("usage: deno run -A tests/support/notebook_session.ts SESSION_DIR");
    process.exit(2);
  }
  try {
    console.log(JSON.stringify(await ensureNotebookSession(resolve(dir))));
  } catch (err) {
    log(`notebooks: session: ${(err as Error).message}`);
    process.exit(1);
  }
}
