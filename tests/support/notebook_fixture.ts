/**
 * The notebooks' default inputs (scripts/notebooks.ts `run` builds them when FACESETS_STORE / FACESETS_LIBRARY are
 * not set): a small store and library from ../shared/faces and the small test models. Test tooling, not product
 * code, so the script does not import it: it runs this file and reads the READY marker it prints.
 *
 *   node_modules/.bin/deno run -A tests/support/notebook_fixture.ts FIXTURE_DIR   # prints READY's JSON on stdout
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  addFacesets,
  clusterOsrc,
  cosDist,
  DEFAULT_CONFIG,
  FaceStore,
  readLabels,
  renderFaces,
  scanTree,
  unitMean,
  writeFileAtomic,
} from "../../lib/mod";
import { openEngineFromModelsDir } from "../../lib/cli/mod";
// The fixture stamps capture times into photo copies as the eras tests do.
import { copyStamped, isJpeg, stampsIn } from "./eras_fixture";
import { FACES, MODELS } from "./fixtures";

const log = (msg: string) => console.error(msg);

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
export interface FixtureReady {
  version: number;
  builtAt: string;
  /** The era set's number in the fixture library. */
  eraSet: number;
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
export async function ensureNotebookFixture(fixtureDir: string): Promise<FixtureReady> {
  const ready = join(fixtureDir, "READY");
  const built = await readReady(ready);
  if (built) return built;
  if (!existsSync(FACES)) {
    throw new Error(`${FACES} is missing: set FACESETS_STORE and FACESETS_LIBRARY to run on your own data`);
  }
  const start = performance.now();
  await rm(fixtureDir, { recursive: true, force: true });
  const rows = [
    ...(await readLabels(join(FACES, "deepface", "labels.csv"))).rows,
    ...(await readLabels(join(FACES, "face_recognition", "labels.csv"))).rows,
  ].filter((r) => r.exists !== false && r.identities.length > 0);
  const of = (identity: string) => rows.filter((r) => r.singleIdentity && r.identity === identity);
  const seed = [...of("deepface_p01").slice(0, 6), ...of("deepface_p10").slice(0, 7)];
  const bucket = [
    ...of("deepface_p01").slice(6), ...of("deepface_p10").slice(7), ...of("deepface_p03"), ...of("deepface_p02"),
    ...of("obama"), ...of("biden"), ...rows.filter((r) => !r.singleIdentity),
  ];
  const photos = join(fixtureDir, "photos");
  const place = async (list: typeof rows, folder: string) => {
    const lines = ["file,identity"];
    for (const r of list) {
      const rel = relative(FACES, r.path);
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
      const photo = { file: relative(FACES, r.path), identities: r.identities };
      eraFiles.push(await copyStamped(photo, join(photos, "eras"), stamps[i]!));
    }
  }
  // The small test models spread one person wider than buffalo_l: the eras tests sub-cluster at the identity
  // threshold (tests/eras_split.test.ts); notebooks read this file through FACESETS_CONFIG.
  const eraConfig = { eras: { eraMaxCosDist: DEFAULT_CONFIG.identity.clusterMaxCosDist } };
  await writeFileAtomic(join(fixtureDir, "config.json"), JSON.stringify(eraConfig, null, 1) + "\n");

  const models = process.env.FACESETS_MODELS ?? MODELS;
  const engine = await openEngineFromModelsDir(models);
  const storePath = join(fixtureDir, "facesets.duckdb");
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
        libraryDir: join(fixtureDir, "library"),
        store,
        storePath,
        config: DEFAULT_CONFIG,
        command: `notebook fixture: cluster-osrc ${folder}`,
      });
      log(`notebooks: fixture: cluster-osrc ${folder}: ${r.plan.counts.routed} routed, ${r.plan.counts.newSets} new sets`);
    }
    eraSet = await addEraSet(fixtureDir, store, eraFiles);
  } finally {
    await store.close();
  }
  const marker: FixtureReady = { version: FIXTURE_VERSION, builtAt: new Date().toISOString(), eraSet };
  await writeFileAtomic(ready, JSON.stringify(marker) + "\n");
  log(`notebooks: fixture built in ${relative(process.cwd(), fixtureDir)}/ in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return marker;
}

/** The era set: the subject (largest) face of each stamped photo, cropped and added as one hand-sorted set. */
async function addEraSet(fixtureDir: string, store: FaceStore, files: readonly string[]): Promise<number> {
  const rows = await store.selectFaces({ under: join(fixtureDir, "photos", "eras") });
  const subjects = files.flatMap((file) => {
    const faces = rows.filter((r) => r.path === file).sort((a, b) => b.faceShortPx - a.faceShortPx);
    return faces[0] ? [faces[0]] : [];
  });
  const centroid = unitMean(subjects.map((r) => r.embedding), store.recognizer!.dim);
  const faces = await renderFaces(subjects.map((row) => ({ row, centroidCosDist: cosDist(row.embedding, centroid) })), DEFAULT_CONFIG);
  const layout = FIXTURE_ERAS.map((e) => `${e.identity} stamped ${e.years.join("-")}`).join(", ");
  const [set] = await addFacesets(join(fixtureDir, "library"), [{
    origin: "hand-sorted",
    provenance: `notebook fixture: era set (${layout})`,
    extra: { person: "fixture person" },
    faces,
  }]);
  log(`notebooks: fixture: era set ${set!.name}: ${faces.length} faces (${layout})`);
  return set!.number;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (dir === undefined || process.argv.length !== 3) {
    log("usage: deno run -A tests/support/notebook_fixture.ts FIXTURE_DIR");
    process.exit(2);
  }
  try {
    console.log(JSON.stringify(await ensureNotebookFixture(resolve(dir))));
  } catch (err) {
    log(`notebooks: fixture: ${(err as Error).message}`);
    process.exit(1);
  }
}
