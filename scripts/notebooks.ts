/**
 * Notebooks: set up the tslab kernel and the importable lib build, and execute notebooks headless (CI).
 *
 *   node_modules/.bin/deno run -A scripts/notebooks.ts setup          # kernel spec + lib build, for Jupyter use
 *   node_modules/.bin/deno run -A scripts/notebooks.ts run [NB...]    # setup, then execute NB (default: notebooks/*.ipynb)
 *   node_modules/.bin/deno run -A scripts/notebooks.ts run --session [NB...]   # the same after a typical session
 *   (npm run notebooks -- run)
 *
 * How a notebook imports the project: `import { ... } from "../.cache/notebook-lib/mod";`
 *   tslab (TypeScript 5.0.4) cannot compile lib/ itself: it rejects code TypeScript 5.9 accepts, and it compiles
 *   local imports only under the kernel's working directory (notebooks/ when opened in Jupyter). So `setup` builds
 *   lib/ with the project's TypeScript into .cache/notebook-lib/ (CommonJS .js + .d.ts; git-ignored), which tslab
 *   loads from any cwd and type-checks against the .d.ts. Re-run `setup` after changing lib/ (`run` always does).
 *   Measured on this machine: build ~8 s; smoke notebook ~5 s including kernel start.
 *
 * How a notebook gets its inputs: environment variables, read in the notebook with process.env. `run` sets each one
 * that is not already set, so CI runs on a small fixture and a person can point a run at real data:
 *   FACESETS_ROOT     absolute project root (for resolving paths whatever the cwd is)
 *   FACESETS_STORE    the face store (DuckDB file)          default: .cache/notebook-fixture/facesets.duckdb
 *   FACESETS_LIBRARY  the identity library folder           default: .cache/notebook-fixture/library
 *   FACESETS_RUN      folder a notebook writes its figures, tables and report into (created; one per notebook:
 *                     <FACESETS_RUN>/<notebook name>)     default: .cache/notebook-runs
 *   FACESETS_LABELS   labels.csv (file, identity) of the photos, relative to its folder  default: the fixture's when
 *                     the store is the fixture's, else none (threshold-sweep then stops, naming the variable)
 *   FACESETS_RUN_RECORD  the run record identity-discovery explains  default: the library's newest cluster-osrc or
 *                     refine record
 *   FACESETS_MODELS   model pack for building the fixture   default: ../shared/models (the small test models)
 *   FACESETS_CONFIG   a JSON config file of overrides (as the commands' --config)  default: the fixture's when the
 *                     store is the fixture's (eras.eraMaxCosDist for the small test models), else none (defaults)
 *   FACESETS_ERA_SET  the set the era view shows ("7" or "faceset_007")  default: the fixture's era set when the
 *                     library is the fixture's, else none (the notebook takes the largest set with capture times)
 * `run --session` builds (once, .cache/notebook-session/) the README's typical session with the real commands on
 * ../shared photos (tests/support/notebook_session.ts: scan, build-folders, scan, cluster-osrc --dry-run,
 * cluster-osrc, extend --scan) and runs the notebooks on its store, library and bucket labels; CI runs both.
 * Executed copies of the notebooks (with outputs) go to .cache/notebooks/ (.cache/notebooks/session/); the sources
 * are not modified.
 * Jupyter runs on Debian's /usr/bin/python3 (apt: jupyter-nbconvert python3-nbclient jupyter-core jupyter-client);
 * the python3 on PATH may be another one without Jupyter. A failing cell (including a type error) fails the run.
 *
 * Exit codes: 0 ok, 1 a notebook or the setup failed, 2 usage error.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import process from "node:process";
import { writeFileAtomic } from "../lib/mod";

const ROOT = resolve(".");
const PYTHON = process.env.FACESETS_PYTHON ?? "/usr/bin/python3";
const KERNEL_DIR = join(ROOT, "jupyter", "kernels", "tslab");
export const NOTEBOOK_LIB = join(ROOT, ".cache", "notebook-lib");
const EXECUTED_DIR = join(ROOT, ".cache", "notebooks");
const FIXTURE_DIR = join(ROOT, ".cache", "notebook-fixture");
const SESSION_DIR = join(ROOT, ".cache", "notebook-session");
/** `<fixture>/READY`, as tests/support/notebook_fixture.ts writes and prints it. */
interface FixtureReady {
  /** The era set's number in the fixture library. */
  eraSet: number;
}
const CELL_TIMEOUT_S = Number(process.env.FACESETS_NOTEBOOK_TIMEOUT ?? 1800);

const USAGE = `usage: deno run -A scripts/notebooks.ts setup | run [NOTEBOOK.ipynb...]

  setup   write the tslab kernel spec (jupyter/kernels/tslab) and build lib/ into .cache/notebook-lib/
  run     setup, then execute the notebooks (default: every notebooks/*.ipynb) with nbclient (Jupyter);
          inputs through FACESETS_STORE / FACESETS_LIBRARY / FACESETS_RUN (see the header of this file)
  run --session   the same on the store and library of a typical session (scan, build-folders, cluster-osrc,
          extend) built from ../shared photos with the real commands

Exit codes: 0 ok, 1 failure, 2 usage error.`;

class NotebookError extends Error {}

/** Executes one notebook with nbclient and prints the failing cell's source and output (see its header). */
const EXECUTE_PY = join(ROOT, "scripts", "notebooks_execute.py");

const log = (msg: string) => console.error(msg);

function runTool(cmd: string, args: string[], what: string, env?: Record<string, string>): void {
  const res = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...env } });
  if (res.error) throw new NotebookError(`${what}: cannot run ${cmd} (${res.error.message})`);
  if (res.status !== 0) throw new NotebookError(`${what}: ${cmd} exited with ${res.status ?? res.signal}`);
}

/** The kernel spec names this clone's tslab by absolute path, hence generated, not committed (jupyter/ is ignored). */
async function writeKernelSpec(): Promise<void> {
  const tslab = join(ROOT, "node_modules", ".bin", "tslab");
  if (!existsSync(tslab)) throw new NotebookError(`${tslab}: tslab is not installed; run npm ci`);
  await mkdir(KERNEL_DIR, { recursive: true });
  const spec = {
    argv: [tslab, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript (tslab)",
    language: "typescript",
  };
  await writeFileAtomic(join(KERNEL_DIR, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
}

/** Build lib/ with the project's TypeScript (not tslab's: node_modules/.bin/tsc is tslab's 5.0.4). */
async function buildLib(): Promise<void> {
  await rm(NOTEBOOK_LIB, { recursive: true, force: true });
  const start = performance.now();
  runTool("node", [
    join(ROOT, "node_modules", "typescript", "bin", "tsc"),
    "lib/mod.ts",
    "--outDir", NOTEBOOK_LIB,
    "--rootDir", "lib",
    // CommonJS: tslab runs cells as CommonJS, and extensionless imports resolve under require().
    "--module", "commonjs",
    "--moduleResolution", "node10",
    "--target", "es2022",
    "--declaration",
    "--strict",
    "--noUncheckedIndexedAccess",
    "--esModuleInterop",
    "--skipLibCheck",
    "--types", "node",
  ], "building lib for notebooks");
  // The project's package.json says "type": "module"; this folder's .js files are CommonJS.
  await writeFileAtomic(join(NOTEBOOK_LIB, "package.json"), '{ "type": "commonjs" }\n');
  log(`notebooks: lib built into ${relative(ROOT, NOTEBOOK_LIB)}/ in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

function checkJupyter(): void {
  const res = spawnSync(PYTHON, ["-c", "import nbconvert, nbclient"], { stdio: "ignore" });
  if (res.status !== 0) {
    throw new NotebookError(
      `${PYTHON} has no Jupyter; apt-get install -y --no-install-recommends jupyter-nbconvert python3-nbclient ` +
        `jupyter-core jupyter-client (or set FACESETS_PYTHON)`,
    );
  }
}

/**
 * The default inputs: the small fixture tests/support/notebook_fixture.ts builds from ../shared (once; it prints
 * its READY marker). Run as its own process: scripts do not import test tooling.
 */
function ensureFixture(): FixtureReady {
  return runBuilder("notebook_fixture.ts", FIXTURE_DIR, "notebook fixture") as FixtureReady;
}

/** `<session>/READY`, as tests/support/notebook_session.ts writes and prints it. */
interface SessionReady {
  store: string;
  library: string;
  labels: string;
}

/** Run a test-support builder (tests/support/NAME DIR) and parse the READY line it prints. */
function runBuilder(name: string, dir: string, what: string): unknown {
  const builder = join(ROOT, "tests", "support", name);
  const res = spawnSync(Deno.execPath(), ["run", "-A", builder, dir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  if (res.error) throw new NotebookError(`${what}: cannot run ${builder} (${res.error.message})`);
  if (res.status !== 0) throw new NotebookError(`${what}: ${relative(ROOT, builder)} exited with ${res.status ?? res.signal}`);
  return JSON.parse(res.stdout);
}

/** The inputs after a typical session: its store, library and bucket labels; the era view on its defaults. */
function sessionEnv(): Record<string, string> {
  const session = runBuilder("notebook_session.ts", SESSION_DIR, "notebook session") as SessionReady;
  return {
    FACESETS_ROOT: ROOT,
    FACESETS_STORE: session.store,
    FACESETS_LIBRARY: session.library,
    FACESETS_LABELS: session.labels,
    FACESETS_RUN: resolve(process.env.FACESETS_RUN ?? join(ROOT, ".cache", "notebook-runs", "session")),
    JUPYTER_PATH: [join(ROOT, "jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(":"),
  };
}

async function inputsEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    FACESETS_ROOT: ROOT,
    FACESETS_STORE: process.env.FACESETS_STORE ?? join(FIXTURE_DIR, "facesets.duckdb"),
    FACESETS_LIBRARY: process.env.FACESETS_LIBRARY ?? join(FIXTURE_DIR, "library"),
    FACESETS_RUN: resolve(process.env.FACESETS_RUN ?? join(ROOT, ".cache", "notebook-runs")),
    JUPYTER_PATH: [join(ROOT, "jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(":"),
  };
  if (!process.env.FACESETS_STORE || !process.env.FACESETS_LIBRARY) {
    const fixture = ensureFixture();
    // The era view's set and the config for the small test models: defaults only where the inputs are the fixture's.
    if (!process.env.FACESETS_LIBRARY && !process.env.FACESETS_ERA_SET) env.FACESETS_ERA_SET = String(fixture.eraSet);
    if (!process.env.FACESETS_STORE && !process.env.FACESETS_CONFIG) env.FACESETS_CONFIG = join(FIXTURE_DIR, "config.json");
  }
  // The fixture's bucket labels (file relative to the photos folder), only with the fixture's store: on a person's
  // own store they would name photos it never saw.
  if (process.env.FACESETS_LABELS) env.FACESETS_LABELS = process.env.FACESETS_LABELS;
  else if (!process.env.FACESETS_STORE) env.FACESETS_LABELS = join(FIXTURE_DIR, "photos", "bucket", "labels.csv");
  return env;
}

async function setup(): Promise<void> {
  await writeKernelSpec();
  await buildLib();
}

async function run(notebooks: string[], session = false): Promise<number> {
  checkJupyter();
  await setup();
  const list = notebooks.length > 0
    ? notebooks.map((nb) => resolve(nb))
    : readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).sort().map((f) => join(ROOT, "notebooks", f));
  for (const nb of list) if (!existsSync(nb)) throw new NotebookError(`${nb}: no such notebook`);
  if (list.length === 0) {
    log("notebooks: no notebooks/*.ipynb to run");
    return 0;
  }
  const env = session ? sessionEnv() : await inputsEnv();
  const executedDir = session ? join(EXECUTED_DIR, "session") : EXECUTED_DIR;
  await mkdir(executedDir, { recursive: true });
  const failed: string[] = [];
  for (const nb of list) {
    const name = basename(nb, ".ipynb");
    const runDir = join(env.FACESETS_RUN!, name);
    await mkdir(runDir, { recursive: true });
    const start = performance.now();
    log(`notebooks: ${relative(ROOT, nb)} ...`);
    try {
      // The kernel runs in the notebook's folder, as under Jupyter, so imports work the same in both.
      runTool(PYTHON, [EXECUTE_PY, nb, join(executedDir, basename(nb)), String(CELL_TIMEOUT_S)], relative(ROOT, nb), {
        ...env,
        FACESETS_RUN: runDir,
      });
      log(`notebooks: ${relative(ROOT, nb)} ok in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    } catch (err) {
      if (!(err instanceof NotebookError)) throw err;
      log(`notebooks: ${err.message}`);
      failed.push(relative(ROOT, nb));
    }
  }
  if (failed.length > 0) {
    log(`notebooks: ${failed.length} of ${list.length} failed: ${failed.join(", ")}`);
    return 1;
  }
  log(`notebooks: all ${list.length} ran${session ? " after the typical session" : ""}; executed copies in ${relative(ROOT, executedDir)}/`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "setup" && rest.length === 0) {
      await setup();
      return 0;
    }
    if (command === "run" && rest[0] === "--session") return await run(rest.slice(1), true);
    if (command === "run") return await run(rest);
    if (command === "--help" || command === "-h") {
      console.log(USAGE);
      return 0;
    }
    log(USAGE);
    return 2;
  } catch (err) {
    log(`notebooks: ${err instanceof NotebookError ? err.message : (err as Error).stack ?? String(err)}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exit(await main(Deno.args));
}
