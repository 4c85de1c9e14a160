/**
 * Real kills of library writes. The real scripts run as Deno child processes on labelled ../shared photos (small
 * test models): cluster-osrc (addFacesets), extend (appendToFaceset), split-eras (addFacesets with thin eras) and
 * curate merge. Each is paused at a named step (FACESETS_TEST_PAUSE_AT, lib/util/pause.ts) and sent SIGKILL or
 * SIGINT there. After every kill, a plain re-run of the same command must succeed with no manual step and leave
 * the library equal to the one an uninterrupted run makes (same folders, same crop bytes, manifests equal but for
 * run ids and times; no temp, lock or journal left). SIGINT must end the process with 130 and one line, the lock
 * released, the current step rolled back (library unchanged) or completed (library consistent, no journal).
 * writeFileAtomic: a reader polling a file that a child rewrites (and that is SIGKILLed) never sees a partial one.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildFolders, DEFAULT_CONFIG, FaceStore, readLibrary, withLibraryLock } from "../lib/mod";
import { buildErasFixture } from "./support/eras_fixture";
import { needsFullSet } from "./support/fixtures";
import { killAt, leftovers, librarySnapshot, type Ran, runScript, spawnAtomicWriter } from "./support/kill";
import { type LabelledPhoto, photosOf, sharedLabels } from "./support/labelled";
import { type LibraryFixture, makeLibraryFixture } from "./support/library_fixture";
import { versionBytes, versionOf } from "./support/atomic_versions";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-kill-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

type Kill =
  | { at: string; signal: "SIGKILL"; says: RegExp }
  /** unchanged: the write was rolled back whole; consistent: earlier steps stay complete, no journal, no warning. */
  | { at: string; signal: "SIGINT" | "SIGTERM"; leaves: "unchanged" | "consistent" };

interface Scenario {
  /** The library before the command (copied for every round); undefined: no library yet. */
  pristine: string | undefined;
  args: (library: string) => string[];
  kills: Kill[];
  /** Check right after each kill that every PNG in a set folder is listed in that folder's manifest. */
  cropsListedAfterKill?: boolean;
}

/** PNGs in set folders (and `_thin/` ones) that their folder's manifest.json does not list. */
function unlistedCrops(lib: string): string[] {
  const out: string[] = [];
  for (const parent of [lib, path.join(lib, "_thin")]) {
    if (!existsSync(parent)) continue;
    for (const set of readdirSync(parent).filter((n) => /^faceset_\d+$/.test(n))) {
      const dir = path.join(parent, set);
      const manifest = path.join(dir, "manifest.json");
      const listed = new Set(existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")).faces as { crop: string }[]).map((f) => f.crop) : []);
      for (const png of readdirSync(dir).filter((n) => n.endsWith(".png"))) if (!listed.has(png)) out.push(`${set}/${png}`);
    }
  }
  return out;
}

let round = 0;
function freshCopy(pristine: string | undefined): string {
  const dir = path.join(TMP, `round-${++round}`, "library");
  mkdirSync(path.dirname(dir), { recursive: true });
  if (pristine) cpSync(pristine, dir, { recursive: true });
  return dir;
}

const explain = (r: Ran) => `exit ${r.code ?? r.signal}\nstdout:\n${r.stdout.join("\n")}\nstderr:\n${r.stderr.join("\n")}`;

/** The uninterrupted run's library, then every kill of `s` followed by a plain re-run compared with it. */
async function checkScenario(s: Scenario): Promise<Record<string, unknown>> {
  const clean = freshCopy(s.pristine);
  const ran = await runScript(s.args(clean));
  expect(ran.code, explain(ran)).toBe(0);
  const reference = librarySnapshot(clean);
  expect(leftovers(reference)).toEqual([]);

  // Each kill works on its own copy of the library, so two run side by side (two cores); failures are reported
  // after both lanes ended, so no child outlives the test.
  const one = async (kill: Kill) => {
    const where = `${kill.signal} at ${kill.at}`;
    const lib = freshCopy(s.pristine);
    const before = librarySnapshot(lib);
    const killed = await killAt(s.args(lib), kill.at, kill.signal);
    if (kill.signal === "SIGKILL") {
      expect(killed.signal, `${where}: ${explain(killed)}`).toBe("SIGKILL");
      expect(existsSync(path.join(lib, ".facesets.lock")), `${where}: the killed writer held the lock`).toBe(true);
      if (s.cropsListedAfterKill) expect(unlistedCrops(lib), `${where}: crops no manifest lists`).toEqual([]);
    } else {
      expect(killed.code, `${where}: ${explain(killed)}`).toBe(kill.signal === "SIGINT" ? 130 : 143);
      expect(killed.stderr.at(-1), where).toMatch(new RegExp(`^error: interrupted by ${kill.signal}: .*; lock released$`));
      const after = librarySnapshot(lib);
      expect(leftovers(after), where).toEqual([]);
      if (kill.leaves === "unchanged") expect(after, `${where}: rolled back`).toEqual(before);
      else expect((await readLibrary(lib)).warnings, `${where}: completed, consistent`).toEqual([]);
    }

    const rerun = await runScript(s.args(lib));
    expect(rerun.code, `${where}, re-run: ${explain(rerun)}`).toBe(0);
    const notes = rerun.stderr.join("\n");
    if (kill.signal === "SIGKILL") {
      expect(notes, `${where}: the re-run names the dead writer's lock`).toContain(`took over the lock of pid ${killed.pid}`);
      expect(notes, `${where}: the re-run says what it cleaned up or completed`).toMatch(kill.says);
    }
    expect(librarySnapshot(lib), `${where}: the library after kill + re-run`).toEqual(reference);
  };
  const lanes = [0, 1].map(async (lane) => {
    for (const [i, kill] of s.kills.entries()) if (i % 2 === lane) await one(kill);
  });
  const failed = (await Promise.allSettled(lanes)).find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return reference;
}

const labels = sharedLabels();
const obama = photosOf(labels, "obama");
const p01 = photosOf(labels, "deepface_p01");
const p10 = photosOf(labels, "deepface_p10");
const p03 = photosOf(labels, "deepface_p03");

describe("real kills of library writes", needsFullSet(), () => {
  let fx: LibraryFixture;
  /** build-folders' library of people/ (4 sets: obama, obama_2, p01, p10): extend's and curate's start. */
  let people: string;

  beforeAll(async () => {
    const layout: Record<string, LabelledPhoto[]> = {
      "people/obama": obama.slice(0, 3),
      "people/obama_2": obama.slice(3, 6),
      "people/p01": p01.slice(0, 3),
      "people/p10": p10.slice(0, 3),
      bucket: [...obama.slice(6), ...p01.slice(3), ...p10.slice(3), ...p03],
      // cluster-osrc's bucket (copies: the store keeps them as byte aliases, nothing is analysed twice).
      osrc: [...p01, ...p10, ...p03],
    };
    fx = await makeLibraryFixture(layout, { prefix: "facesets-kill-fx-" });
    people = path.join(TMP, "people-library");
    const store = await FaceStore.open(fx.store, { readOnly: true });
    try {
      await buildFolders({ folders: fx.dir("people"), libraryDir: people, store, storePath: fx.store, config: DEFAULT_CONFIG });
    } finally {
      await store.close();
    }
    expect([...(await readLibrary(people)).sets.keys()]).toEqual([1, 2, 3, 4]);
  }, 180_000);

  afterAll(() => {
    if (fx) rmSync(fx.root, { recursive: true, force: true });
  });

  test("cluster-osrc (addFacesets): SIGKILL and SIGINT before, during and after the renames", async () => {
    const reference = await checkScenario({
      pristine: undefined,
      args: (lib) => ["scripts/cluster_osrc.ts", "--source", fx.dir("osrc"), "--library", lib, "--store", fx.store],
      cropsListedAfterKill: true,
      kills: [
        { at: "add:crop-written#5", signal: "SIGKILL", says: /removed \.faceset_001\.tmp-\d+, a temp folder of process \d+, which is gone/ },
        { at: "journal:rename#1", signal: "SIGKILL", says: /completed the interrupted addFacesets of process \d+ \(4 journaled steps\)/ },
        { at: "journal:write", signal: "SIGKILL", says: /completed the interrupted addFacesets/ },
        { at: "add:crop-written#5", signal: "SIGINT", leaves: "unchanged" },
        { at: "journal:rename#1", signal: "SIGINT", leaves: "consistent" },
      ],
    });
    // Three discovered sets (p01, p10, p03): the kill after the first rename leaves one placed and two not.
    expect(Object.keys(reference).filter((p) => /^faceset_\d+\/$/.test(p))).toEqual(["faceset_001/", "faceset_002/", "faceset_003/"]);
  }, 600_000);

  test("extend (appendToFaceset): kills inside one set's append and between sets; nothing added twice", async () => {
    const reference = await checkScenario({
      pristine: people,
      args: (lib) => ["scripts/extend.ts", "--source", fx.dir("bucket"), "--library", lib, "--store", fx.store],
      cropsListedAfterKill: true,
      kills: [
        { at: "append:crop-written#2", signal: "SIGKILL", says: /removed faceset_00\d\/\.[^ ]+\.png\.tmp-\d+, a temp file of process \d+, which is gone/ },
        { at: "journal:write#1", signal: "SIGKILL", says: /completed the interrupted extend of process \d+/ },
        { at: "journal:rename#2", signal: "SIGKILL", says: /completed the interrupted extend of process \d+/ },
        { at: "journal:written#2", signal: "SIGKILL", says: /completed the interrupted extend of process \d+/ },
        { at: "append:crop-written#1", signal: "SIGINT", leaves: "unchanged" },
        { at: "append:crop-written#3", signal: "SIGTERM", leaves: "consistent" },
        { at: "journal:written#2", signal: "SIGINT", leaves: "consistent" },
      ],
    });
    const crops = Object.keys(reference).filter((p) => p.endsWith(".png"));
    expect(crops.filter((p) => /-\d+\.png$/.test(p)), "no face added twice under a -2 name").toEqual([]);
    // Three sets were extended, so the kill at the second set's journal falls between sets.
    const grown = [1, 2, 3, 4].filter((n) => {
      const name = `faceset_00${n}`;
      return crops.filter((p) => p.startsWith(`${name}/`)).length > readdirSync(path.join(people, name)).filter((f) => f.endsWith(".png")).length;
    });
    expect(grown.length).toBeGreaterThanOrEqual(3);
  }, 600_000);

  test("curate merge: SIGKILL at its snapshot, mid-move and after the manifest; SIGINT lets it finish", async () => {
    const base = path.join(TMP, "curate-base");
    cpSync(people, base, { recursive: true });
    const status = await runScript(["scripts/curate.ts", "status", "--library", base]); // starts the ledger
    expect(status.code, explain(status)).toBe(0);
    const merge = (lib: string) => ["scripts/curate.ts", "merge", "--set", "obama_2", "--into", "obama", "--library", lib, "--store", fx.store];
    const reference = await checkScenario({
      pristine: base,
      args: merge,
      cropsListedAfterKill: true,
      kills: [
        { at: "curate:snapshot-taken", signal: "SIGKILL", says: /an interrupted curate merge was rolled back/ },
        { at: "curate:applied", signal: "SIGKILL", says: /an interrupted curate merge was rolled back/ },
        { at: "curate:manifest-written", signal: "SIGKILL", says: /an interrupted curate merge was rolled back/ },
      ],
    });
    expect(Object.keys(reference).filter((p) => /^faceset_\d+\/$/.test(p))).toEqual(["faceset_001/", "faceset_003/", "faceset_004/"]);

    // SIGINT: the merge is one library step, so it completes; the process then stops with 130 and the lock released.
    const lib = freshCopy(base);
    const killed = await killAt(merge(lib), "curate:applied", "SIGINT");
    expect(killed.code, explain(killed)).toBe(130);
    expect(killed.stderr.at(-1)).toMatch(/^error: interrupted by SIGINT: stopped after completing curate merge; lock released$/);
    expect(librarySnapshot(lib)).toEqual(reference);
  }, 600_000);
});

describe("split-eras: real kills", needsFullSet(), () => {
  let library: string;
  let store: string;
  let config: string;

  beforeAll(async () => {
    const fx = await buildErasFixture(path.join(TMP, "eras"));
    library = fx.library;
    store = fx.store;
    config = path.join(TMP, "eras-config.json");
    writeFileSync(config, JSON.stringify({ eras: { eraMaxCosDist: DEFAULT_CONFIG.identity.clusterMaxCosDist } }));
  }, 180_000);

  test("SIGKILL while copying crops and between renames (two eras placed, one not); SIGINT in the commit", async () => {
    const reference = await checkScenario({
      pristine: library,
      args: (lib) => ["scripts/split_eras.ts", "--library", lib, "--faceset", "1", "--store", store, "--config", config],
      cropsListedAfterKill: true,
      kills: [
        { at: "add:crop-written#3", signal: "SIGKILL", says: /removed \.faceset_003\.tmp-\d+, a temp folder/ },
        { at: "journal:rename#2", signal: "SIGKILL", says: /completed the interrupted addFacesets/ },
        { at: "journal:written", signal: "SIGINT", leaves: "consistent" },
      ],
    });
    expect(Object.keys(reference).filter((p) => /^(_thin\/)?faceset_\d+\/$/.test(p))).toEqual([
      "_thin/faceset_003/", "faceset_001/", "faceset_002/", "faceset_004/", "faceset_005/",
    ]); // eras in time order: p03's thin era (1978), then p01's and p10's sets
  }, 600_000);
});

describe("writeFileAtomic: a reader never sees a partial file", () => {
  const SIZE = 4 << 20;

  test("polling reads while a child rewrites the file and is SIGKILLed mid-run: every read is one whole version", async () => {
    const dir = path.join(TMP, "atomic");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "data.bin");
    writeFileSync(file, versionBytes(0, SIZE));
    const child = spawnAtomicWriter(file, 400, SIZE);
    const seen = new Set<number>();
    let reads = 0;
    let stop = false;
    const poll = (async () => {
      while (!stop) {
        const bytes = readFileSync(file);
        const v = versionOf(bytes, SIZE); // throws on a partial or mixed file
        seen.add(v);
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    poll.catch(() => child.kill("SIGKILL")); // a partial read ends the run; `await poll` below reports it
    await child.waitForStderr((line) => line === "wrote 60");
    child.kill("SIGKILL");
    const exit = await child.exited;
    stop = true;
    await poll;
    expect(exit.signal).toBe("SIGKILL");
    expect(seen.size, `versions seen over ${reads} reads`).toBeGreaterThanOrEqual(10);
    expect(versionOf(readFileSync(file), SIZE)).toBeGreaterThanOrEqual(60);
  }, 120_000);

  test("killed between its temp file and the rename: the old version stays whole; the next library write removes the temp", async () => {
    const dir = path.join(TMP, "atomic-paused");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "manifest.json");
    writeFileSync(file, versionBytes(0, 1 << 16));
    const child = spawnAtomicWriter(file, 3, 1 << 16, "atomic:temp-written#2");
    await child.waitForStderr((line) => line.startsWith("FACESETS_TEST_PAUSED atomic:temp-written"));
    child.kill("SIGKILL");
    await child.exited;
    expect(versionOf(readFileSync(file), 1 << 16)).toBe(1);
    const temp = `manifest.json.${child.pid}.tmp`;
    expect(versionOf(readFileSync(path.join(dir, temp)), 1 << 16)).toBe(2);
    const warnings: string[] = [];
    await withLibraryLock(dir, async () => {}, { warn: (l) => warnings.push(l) });
    expect(warnings).toEqual([`removed ${temp}, a temp file of process ${child.pid}, which is gone (killed during a write)`]);
    expect(readdirSync(dir)).toEqual(["manifest.json"]);
  }, 60_000);
});
