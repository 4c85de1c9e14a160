/**
 * build-folders says when a person folder holds two people (its faces form two groups at clusterMaxCosDist, each
 * of 2+ photos), and why it made no set. Real photos of ../shared/faces, the small test models.
 */
import { describe, expect, test, beforeAll, afterAll } from "vitest";
import { buildFolders, buildFoldersWhy, DEFAULT_CONFIG, FaceStore, folderGroupsWarning, libraryPeople, setLabel } from "../lib/mod";
import { needsFullSet } from "./support/fixtures";
import { photosOf, sharedLabels } from "./support/labelled";
import { type LibraryFixture, makeLibraryFixture } from "./support/library_fixture";

const labels = sharedLabels();
const p04 = photosOf(labels, "deepface_p04"); // 5 portraits
const p11 = photosOf(labels, "deepface_p11"); // 5 portraits
const p12 = photosOf(labels, "deepface_p12"); // 4 portraits

let fx: LibraryFixture;
let store: FaceStore;

describe("build-folders: a folder of two people", needsFullSet(), () => {
  beforeAll(async () => {
    fx = await makeLibraryFixture({
      "People/Opa": [...p04, ...p11], // two people sorted into one folder
      "People/Oma": p12, // one person
      "People/Onkel": [...p11, p04[0]!], // one person and a single photo of another: a group needs 2 photos
    }, { prefix: "facesets-two-people-" });
    store = await FaceStore.open(fx.store, { readOnly: true });
  }, 180_000);

  afterAll(async () => {
    await store?.close();
  });

  test("warns for Opa with the group sizes; not for one person, nor for a single stray photo", async () => {
    const result = await buildFolders({ folders: fx.dir("People"), libraryDir: fx.library, store, storePath: fx.store, config: DEFAULT_CONFIG, dryRun: true });
    const byPerson = new Map(result.folders.map((o) => [o.person, o]));
    expect(byPerson.get("Opa")!.plan!.groups).toEqual([5, 5]);
    expect(byPerson.get("Oma")!.plan!.groups).toEqual([4]);
    expect(byPerson.get("Onkel")!.plan!.groups).toEqual([5]);
    const warnings = result.warnings.filter((w) => w.includes("may hold"));
    expect(warnings).toEqual([
      `People/Opa: may hold 2 people (groups of 5 and 5 photos); check ${fx.dir("People/Opa")} (clustered at identity.clusterMaxCosDist 0.55)`,
    ]);
    // The set is still planned as the owner sorted it.
    expect(byPerson.get("Opa")!.status).toBe("new");
    expect(buildFoldersWhy(result.folders, fx.dir("People"))).toBeUndefined();
  });

  test("the warning text at its edges: one group says nothing, three name every size", () => {
    expect(folderGroupsWarning("People/Opa", [5])).toBeUndefined();
    expect(folderGroupsWarning("People/Opa", [])).toBeUndefined();
    expect(folderGroupsWarning("People/Opa", [5, 5])).toBe("People/Opa: may hold 2 people (groups of 5 and 5 photos)");
    expect(folderGroupsWarning("People/Opa", [6, 3, 2])).toBe("People/Opa: may hold 3 people (groups of 6, 3 and 2 photos)");
  });

  test("a re-run makes no set and says why, with the numbers", async () => {
    await buildFolders({ folders: fx.dir("People"), libraryDir: fx.library, store, storePath: fx.store, config: DEFAULT_CONFIG });
    const again = await buildFolders({ folders: fx.dir("People"), libraryDir: fx.library, store, storePath: fx.store, config: DEFAULT_CONFIG, dryRun: true });
    expect(buildFoldersWhy(again.folders, fx.dir("People"))).toBe(
      "3 person folders, 0 new sets: 3 already have a set (Oma: faceset_001, Onkel: faceset_002, Opa: faceset_003)",
    );
    // Reports and notebooks show the person with the set (curate's setLabel over the library's names).
    const people = await libraryPeople(fx.library);
    expect(["faceset_001", "faceset_003", "faceset_009"].map((name) => setLabel(name, people.get(name)))).toEqual(["faceset_001 (Oma)", "faceset_003 (Opa)", "faceset_009"]);
  });
});
