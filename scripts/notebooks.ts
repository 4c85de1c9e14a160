/**
 * Notebooks: set up the tslab kernel and the importable lib build, and execute notebooks headless (CI).
 *
 *   node_modules/.bin/deno run -A scripts/notebooks.ts setup          # kernel spec + lib build, for Jupyter use
 *   node_modules/.bin/deno run -A scripts/notebooks.ts run [NB...]    # setup, then execute NB (default: notebooks/*.ipynb)
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
 *   FACESETS_LABELS   labels.csv (file, identity) of the photos, relative to its folder  default: the fixture's
 *   FACESETS_MODELS   model pack for building the fixture   default: ../shared/models (the small test models)
 *   FACESETS_CONFIG   a JSON config file of overrides (as the commands' --config)  default: the fixture's when the
 *                     store is the fixture's (eras.eraMaxCosDist for the small test models), else none (defaults)
 *   FACESETS_ERA_SET  the set the era view shows ("7" or "faceset_007")  default: the fixture's era set when the
 *                     library is the fixture's, else none (the notebook takes the largest set with capture times)
 * Executed copies of the notebooks (with outputs) go to .cache/notebooks/; the sources are not modified.
 * Jupyter runs on Debian's /usr/bin/python3 (apt: jupyter-nbconvert python3-nbclient jupyter-core jupyter-client);
 * the python3 on PATH may be another one without Jupyter. A failing cell (including a type error) fails the run.
 *
 * Exit codes: 0 ok, 1 a notebook or the setup failed, 2 usage error.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import {
  addFacesets,
  clusterOsrc,
  cosDist,
  DEFAULT_CONFIG,
  FaceStore,
  openEngineFromModelsDir,
  readLabels,
  renderFaces,
  scanTree,
  unitMean,
  writeFileAtomic,
} from "../lib/mod";
// The fixture stamps capture times into photo copies as the eras tests do (test tooling, not part of lib).
import { copyStamped, isJpeg, stampsIn } from "../tests/support/eras_fixture";

const ROOT = resolve(".");
const PYTHON = process.env.FACESETS_PYTHON ?? "/usr/bin/python3";
const KERNEL_DIR = join(ROOT, "jupyter", "kernels", "tslab");
export const NOTEBOOK_LIB = join(ROOT, ".cache", "notebook-lib");
const EXECUTED_DIR = join(ROOT, ".cache", "notebooks");
const FIXTURE_DIR = join(ROOT, ".cache", "notebook-fixture");
/**
 * Bump when the fixture's layout changes: a cached fixture built by another version is rebuilt.
 * 1: seed + bucket. 2: + the era set (stamped capture times) and config.json.
 */
const FIXTURE_VERSION = 2;
/** The era set of the fixture: two people's photos stamped a decade apart, one set (one "identity" over time). */
const FIXTURE_ERAS = [
  { identity: "deepface_p01", years: [1998, 2001] },
  { identity: "deepface_p10", years: [2012, 2015] },
] as const;

/** `<fixture>/READY`: written last, so a half-built fixture is rebuilt. */
interface FixtureReady {
  version: number;
  builtAt: string;
  /** The era set's number in the fixture library. */
  eraSet: number;
}
const CELL_TIMEOUT_S = Number(process.env.FACESETS_NOTEBOOK_TIMEOUT ?? 1800);

const USAGE = `usage: deno run -A scripts/notebooks.ts setup | run [NOTEBOOK.ipynb...]

  setup   write the tslab kernel spec (jupyter/kernels/tslab) and build lib/ into .cache/notebook-lib/
  run     setup, then execute the notebooks (default: every notebooks/*.ipynb) with nbclient (Jupyter);
          inputs through FACESETS_STORE / FACESETS_LIBRARY / FACESETS_RUN (see the header of this file)

Exit codes: 0 ok, 1 failure, 2 usage error.`;

class NotebookError extends Error {}

/**
 * nbclient driver (rather than `jupyter nbconvert --execute`): on a failing cell it prints what the cell printed.
 * tslab reports compile errors ("Type 'string' is not assignable ...") as cell output, which nbconvert's own error
 * message leaves out, so a CI log would say only that a cell failed. The executed copy is written either way.
 */
const EXECUTE_PY = `
import os, sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
src, dst, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(src, as_version=4)
client = NotebookClient(nb, timeout=timeout, kernel_name="tslab", resources={"metadata": {"path": os.path.dirname(src)}})
failed = None
try:
    client.execute()
except CellExecutionError:
    # Cells run in order and execution stops at the failure: the failing cell is the last one that ran.
    failed = max((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is not None), default=-1)
nbformat.write(nb, dst)
if failed is not None:
    cell = nb.cells[failed] if failed >= 0 else None
    print(f"{src}: cell {failed + 1} failed", file=sys.stderr)
    if cell is not None:
        print("---- cell source ----", cell.source, "---- cell output ----", sep="\\n", file=sys.stderr)
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream": print(o.get("text", ""), end="", file=sys.stderr)
            elif o.get("output_type") == "error": print(o.get("ename", ""), o.get("evalue", ""), *o.get("traceback", []), sep="\\n", file=sys.stderr)
    sys.exit(1)
`;

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

async function readReady(file: string): Promise<FixtureReady | undefined> {
  try {
    const ready = JSON.parse(await readFile(file, "utf8")) as Partial<FixtureReady>;
    return ready.version === FIXTURE_VERSION && typeof ready.eraSet === "number" ? ready as FixtureReady : undefined;
  } catch {
    return undefined; // missing, or a version 1 marker (a bare timestamp)
  }
}

/**
 * Inputs for the default run: a small fixture built from ../shared/faces (test photos, beside the project in CI)
 * with the small test models (../shared/models, or $FACESETS_MODELS): a library seeded by a first cluster-osrc run
 * on part of two people's photos, then a second run on a labelled mixed bucket (the rest of them, new people and
 * group photos), so the notebooks have routed faces, discovered sets and a run record. Then the era set: copies of
 * two people's photos stamped with EXIF capture times a decade apart (FIXTURE_ERAS), scanned and added as one
 * hand-sorted set (no run record, so the cluster-osrc run stays the library's latest), for the era view.
 * Built once (READY marker, FIXTURE_VERSION).
 */
async function ensureFixture(): Promise<FixtureReady> {
  const ready = join(FIXTURE_DIR, "READY");
  const built = await readReady(ready);
  if (built) return built;
  const shared = resolve(ROOT, "../shared");
  if (!existsSync(join(shared, "faces"))) {
    throw new NotebookError(`${shared}/faces is missing: set FACESETS_STORE and FACESETS_LIBRARY to run on your own data`);
  }
  const start = performance.now();
  await rm(FIXTURE_DIR, { recursive: true, force: true });
  const rows = [
    ...(await readLabels(join(shared, "faces", "deepface", "labels.csv"))).rows,
    ...(await readLabels(join(shared, "faces", "face_recognition", "labels.csv"))).rows,
  ].filter((r) => r.exists !== false && r.identities.length > 0);
  const of = (identity: string) => rows.filter((r) => r.singleIdentity && r.identity === identity);
  const seed = [...of("deepface_p01").slice(0, 6), ...of("deepface_p10").slice(0, 7)];
  const bucket = [
    ...of("deepface_p01").slice(6), ...of("deepface_p10").slice(7), ...of("deepface_p03"), ...of("deepface_p02"),
    ...of("obama"), ...of("biden"), ...rows.filter((r) => !r.singleIdentity),
  ];
  const photos = join(FIXTURE_DIR, "photos");
  const place = async (list: typeof rows, folder: string) => {
    const lines = ["file,identity"];
    for (const r of list) {
      const rel = relative(join(shared, "faces"), r.path);
      await mkdir(dirname(join(photos, folder, rel)), { recursive: true });
      await copyFile(r.path, join(photos, folder, rel));
      lines.push(`${rel},${r.identities.join(";")}`);
    }
    return lines.join("\n") + "\n";
  };
  await place(seed, "seed");
  const labels = await place(bucket, "bucket");
  await writeFileAtomic(join(photos, "bucket", "labels.csv"), labels);
  // Stamped copies (the sources in ../shared are never written); the copies' bytes differ, so they are new files.
  const eraFiles: string[] = [];
  for (const { identity, years } of FIXTURE_ERAS) {
    const mine = of(identity).filter((r) => isJpeg(r.path));
    const stamps = stampsIn(years[0], years[1], mine.length);
    for (const [i, r] of mine.entries()) {
      const photo = { file: relative(join(shared, "faces"), r.path), identities: r.identities };
      eraFiles.push(await copyStamped(photo, join(photos, "eras"), stamps[i]!));
    }
  }
  // The small test models spread one person wider than buffalo_l: the eras tests sub-cluster at the identity
  // threshold (tests/eras_split.test.ts); notebooks read this file through FACESETS_CONFIG.
  const eraConfig = { eras: { eraMaxCosDist: DEFAULT_CONFIG.identity.clusterMaxCosDist } };
  await writeFileAtomic(join(FIXTURE_DIR, "config.json"), JSON.stringify(eraConfig, null, 1) + "\n");

  const models = process.env.FACESETS_MODELS ?? join(shared, "models");
  const engine = await openEngineFromModelsDir(models);
  const storePath = join(FIXTURE_DIR, "facesets.duckdb");
  const store = await FaceStore.open(storePath);
  let eraSet = 0;
  try {
    for (const folder of ["seed", "bucket", "eras"]) {
      const s = await scanTree({ source: join(photos, folder), store, engine, config: DEFAULT_CONFIG });
      log(`notebooks: fixture: scanned ${folder}: ${s.analysed} files, ${s.faces} faces`);
    }
  } finally {
    await engine.close();
  }
  try {
    for (const folder of ["seed", "bucket"]) {
      const r = await clusterOsrc({
        source: join(photos, folder),
        libraryDir: join(FIXTURE_DIR, "library"),
        store,
        storePath,
        config: DEFAULT_CONFIG,
        command: `notebook fixture: cluster-osrc ${folder}`,
      });
      log(`notebooks: fixture: cluster-osrc ${folder}: ${r.plan.counts.routed} routed, ${r.plan.counts.newSets} new sets`);
    }
    eraSet = await addEraSet(store, eraFiles);
  } finally {
    await store.close();
  }
  const marker: FixtureReady = { version: FIXTURE_VERSION, builtAt: new Date().toISOString(), eraSet };
  await writeFileAtomic(ready, JSON.stringify(marker) + "\n");
  log(`notebooks: fixture built in ${relative(ROOT, FIXTURE_DIR)}/ in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return marker;
}

/** The era set: the subject (largest) face of each stamped photo, cropped and added as one hand-sorted set. */
async function addEraSet(store: FaceStore, files: readonly string[]): Promise<number> {
  const rows = await store.selectFaces({ under: join(FIXTURE_DIR, "photos", "eras") });
  const subjects = files.flatMap((file) => {
    const faces = rows.filter((r) => r.path === file).sort((a, b) => b.faceShortPx - a.faceShortPx);
    return faces[0] ? [faces[0]] : [];
  });
  const centroid = unitMean(subjects.map((r) => r.embedding), store.recognizer!.dim);
  const faces = await renderFaces(subjects.map((row) => ({ row, centroidCosDist: cosDist(row.embedding, centroid) })), DEFAULT_CONFIG);
  const layout = FIXTURE_ERAS.map((e) => `${e.identity} stamped ${e.years.join("-")}`).join(", ");
  const [set] = await addFacesets(join(FIXTURE_DIR, "library"), [{
    origin: "hand-sorted",
    provenance: `notebook fixture: era set (${layout})`,
    extra: { person: "fixture person" },
    faces,
  }]);
  log(`notebooks: fixture: era set ${set!.name}: ${faces.length} faces (${layout})`);
  return set!.number;
}

async function inputsEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    FACESETS_ROOT: ROOT,
    FACESETS_STORE: process.env.FACESETS_STORE ?? join(FIXTURE_DIR, "facesets.duckdb"),
    FACESETS_LIBRARY: process.env.FACESETS_LIBRARY ?? join(FIXTURE_DIR, "library"),
    FACESETS_RUN: resolve(process.env.FACESETS_RUN ?? join(ROOT, ".cache", "notebook-runs")),
    // The fixture's bucket labels (file relative to the photos folder): the threshold-sweep notebook scores with them.
    FACESETS_LABELS: process.env.FACESETS_LABELS ?? join(FIXTURE_DIR, "photos", "bucket", "labels.csv"),
    JUPYTER_PATH: [join(ROOT, "jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(":"),
  };
  if (!process.env.FACESETS_STORE || !process.env.FACESETS_LIBRARY) {
    const fixture = await ensureFixture();
    // The era view's set and the config for the small test models: defaults only where the inputs are the fixture's.
    if (!process.env.FACESETS_LIBRARY && !process.env.FACESETS_ERA_SET) env.FACESETS_ERA_SET = String(fixture.eraSet);
    if (!process.env.FACESETS_STORE && !process.env.FACESETS_CONFIG) env.FACESETS_CONFIG = join(FIXTURE_DIR, "config.json");
  }
  return env;
}

async function setup(): Promise<void> {
  await writeKernelSpec();
  await buildLib();
}

async function run(notebooks: string[]): Promise<number> {
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
  const env = await inputsEnv();
  await mkdir(EXECUTED_DIR, { recursive: true });
  const failed: string[] = [];
  for (const nb of list) {
    const name = basename(nb, ".ipynb");
    const runDir = join(env.FACESETS_RUN!, name);
    await mkdir(runDir, { recursive: true });
    const start = performance.now();
    log(`notebooks: ${relative(ROOT, nb)} ...`);
    try {
      // The kernel runs in the notebook's folder, as under Jupyter, so imports work the same in both.
      runTool(PYTHON, ["-c", EXECUTE_PY, nb, join(EXECUTED_DIR, basename(nb)), String(CELL_TIMEOUT_S)], relative(ROOT, nb), {
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
  log(`notebooks: all ${list.length} ran; executed copies in ${relative(ROOT, EXECUTED_DIR)}/`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "setup" && rest.length === 0) {
      await setup();
      return 0;
    }
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
