/**
 * Library write safety as a person meets it through the real scripts: a `--library` that is a symlink into the
 * photos is refused (real paths are compared, not path.resolve results), and a busy library is refused before the
 * scan and the plan, not after them. Kills of library writes: tests/library_kill.test.ts.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { LOCK_FILE, withLibraryLock } from "../lib/mod";
import { FACES, MODELS, needs } from "./support/fixtures";
import { runScript } from "./support/kill";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-safety-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
const PHOTOS = path.join(TMP, "photos");

describe("library commands refuse before they work", needs("faces/deepface/img2.jpg"), () => {
  mkdirSync(path.join(PHOTOS, "album"), { recursive: true });
  copyFileSync(path.join(FACES, "deepface", "img2.jpg"), path.join(PHOTOS, "album", "img2.jpg")); // any photo: tests/fixtures holds img2

  test("a --library symlinked into the photo folder (or photos symlinked into the library) is refused, nothing written", async () => {
    const into = path.join(TMP, "library-link");
    symlinkSync(path.join(PHOTOS, "album"), into); // looks like a folder beside the photos; is inside them
    const store = path.join(TMP, "never.duckdb");
    const run = await runScript(["scripts/cluster_osrc.ts", "--source", PHOTOS, "--library", into, "--store", store, "--scan", "--models", MODELS]);
    expect(run.code).toBe(2);
    expect(run.stderr[0]).toBe(
      `error: --library ${into} (${path.join(PHOTOS, "album")} with symlinks resolved) is inside the photo folder ${PHOTOS}: ` +
        `facesets never writes into the photos; put the library elsewhere`,
    );
    expect(readdirSync(path.join(PHOTOS, "album"))).toEqual(["img2.jpg"]);
    expect(existsSync(store)).toBe(false);

    const library = path.join(TMP, "library");
    mkdirSync(library);
    const photosLink = path.join(TMP, "photos-link");
    symlinkSync(path.join(library), photosLink); // the "photos" are really the library folder
    const reverse = await runScript(["scripts/extend.ts", "--source", photosLink, "--library", library, "--store", store]);
    expect(reverse.code).toBe(2);
    expect(reverse.stderr[0]).toMatch(new RegExp(`^error: --library ${library} is inside the photo folder ${photosLink} \\(${library} with symlinks resolved\\)`));
  }, 60_000);

  test("a library another live process writes is refused at once: before --scan touches the store, naming the writer", async () => {
    const library = path.join(TMP, "busy-library");
    const store = path.join(TMP, "busy.duckdb");
    await withLibraryLock(library, async () => {
      const run = await runScript(["scripts/cluster_osrc.ts", "--source", PHOTOS, "--library", library, "--store", store, "--scan", "--models", MODELS]);
      expect(run.code).toBe(1);
      expect(run.stderr).toEqual([
        `error: ${path.join(library, LOCK_FILE)}: another facesets process is writing this library (pid ${process.pid} "busy test" since ` +
          `${JSON.parse(readFileSync(path.join(library, LOCK_FILE), "utf8")).since}); wait for it to finish`,
      ]);
      expect(existsSync(store)).toBe(false); // the scan never started
      expect(JSON.parse(readFileSync(path.join(library, LOCK_FILE), "utf8")).pid).toBe(process.pid); // ours, untouched
    }, { command: "busy test" });
    expect(existsSync(path.join(library, LOCK_FILE))).toBe(false);
  }, 60_000);
});
