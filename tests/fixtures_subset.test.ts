/**
 * tests/fixtures (the lone clone's fixture set) stays an honest, small subset of ../shared, and the fixture location
 * is resolved in the documented order.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { IN_REPO_FIXTURES, locateFixtures, REPO_ROOT, SHARED_BESIDE_REPO, skipUnless } from "./support/fixtures";

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();

/** Files that are trimmed copies, not byte copies, of their ../shared original (tests/fixtures/README.md). */
const TRIMMED = new Set(["golden/det_500m+w600k_mbf_int8.json", "faces/deepface/labels.csv", "faces/psd/expected.json"]);
const haveShared = existsSync(path.join(SHARED_BESIDE_REPO, "faces"));

describe("tests/fixtures", () => {
  test("is about 10 MB and documents every file it holds", () => {
    const all = files(IN_REPO_FIXTURES);
    const bytes = all.reduce((n, f) => n + statSync(path.join(IN_REPO_FIXTURES, f)).size, 0);
    expect(bytes).toBeLessThan(10.5e6);
    const readme = readFileSync(path.join(IN_REPO_FIXTURES, "README.md"), "utf8");
    expect(readme).toMatch(/non-commercial research use only/);
    for (const f of all.filter((f) => f !== "README.md" && !f.startsWith("faces/bad/"))) {
      expect(readme, `${f} is not in tests/fixtures/README.md`).toContain(path.basename(f));
    }
  });

  test("every file is byte-identical to ../shared, the trimmed lists hold ../shared's records unchanged", skipUnless(haveShared, "../shared is absent: nothing to compare with"), () => {
    for (const f of files(IN_REPO_FIXTURES).filter((f) => f !== "README.md" && !TRIMMED.has(f))) {
      expect(readFileSync(path.join(IN_REPO_FIXTURES, f)).equals(readFileSync(path.join(SHARED_BESIDE_REPO, f))), f).toBe(true);
    }
    const read = (root: string, f: string) => JSON.parse(readFileSync(path.join(root, f), "utf8"));
    const golden = "golden/det_500m+w600k_mbf_int8.json";
    const [ours, full] = [read(IN_REPO_FIXTURES, golden), read(SHARED_BESIDE_REPO, golden)];
    expect({ ...ours, images: [] }).toEqual({ ...full, images: [] });
    const fullByFile = new Map(full.images.map((i: { file: string }) => [i.file, i]));
    expect(ours.images.length).toBeGreaterThanOrEqual(5);
    for (const image of ours.images) {
      expect(image, image.file).toEqual(fullByFile.get(image.file));
      expect(existsSync(path.join(IN_REPO_FIXTURES, "faces", image.file)), image.file).toBe(true);
    }
    const csv = "faces/deepface/labels.csv";
    const fullRows = new Set(readFileSync(path.join(SHARED_BESIDE_REPO, csv), "utf8").trim().split(/\r?\n/));
    for (const row of readFileSync(path.join(IN_REPO_FIXTURES, csv), "utf8").trim().split(/\r?\n/)) expect(fullRows.has(row), row).toBe(true);
    const psd = "faces/psd/expected.json";
    const fullPsd = read(SHARED_BESIDE_REPO, psd);
    for (const [k, v] of Object.entries(read(IN_REPO_FIXTURES, psd))) expect(v, k).toEqual(fullPsd[k]);
  });
});

describe("locateFixtures", () => {
  test("FACESETS_FIXTURES first (relative to the repository), a missing one is an error naming it", () => {
    expect(locateFixtures({ FACESETS_FIXTURES: "tests/fixtures" })).toEqual({ dir: IN_REPO_FIXTURES, source: "FACESETS_FIXTURES" });
    expect(() => locateFixtures({ FACESETS_FIXTURES: "/nonexistent/fx" })).toThrow("FACESETS_FIXTURES=/nonexistent/fx: /nonexistent/fx does not exist");
  });

  test("then ../shared beside the repository, then tests/fixtures with the reason", () => {
    const located = locateFixtures({});
    expect(SHARED_BESIDE_REPO).toBe(path.resolve(REPO_ROOT, "..", "shared"));
    if (haveShared) expect(located).toEqual({ dir: SHARED_BESIDE_REPO, source: "../shared" });
    else expect(located).toMatchObject({ dir: IN_REPO_FIXTURES, source: "tests/fixtures", fallbackReason: expect.stringContaining(SHARED_BESIDE_REPO) });
  });
});
