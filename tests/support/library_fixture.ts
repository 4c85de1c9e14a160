/**
 * A temp photo layout of labelled ../shared/faces photos, scanned into a temp store with the small test models,
 * for the library workflows' tests (build-folders, extend, refine, cluster-osrc).
 *
 *   const fx = await makeLibraryFixture({
 *     "people/obama": photosOf(labels, "obama").slice(0, 3),  // one folder per key, created under fx.root
 *     "bucket": [...],
 *   }, { unscanned: ["people/not_yet"] });
 *   fx.dir("people")             absolute folder;  fx.store  the store file;  fx.library  <root>/library (not created)
 *   fx.identitiesOf(face.path)   the labels of the photo a store path (or library `source`) points to
 *
 * Photos are copied flat into their folder under their base name (the relative source path with "/" -> "_" when
 * two share a base name), so a key like "people/obama" looks like a hand-sorted person folder.
 */
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FACES } from "./fixtures";
import { type LabelledPhoto, scanInto } from "./labelled";

export interface FixturePhoto extends LabelledPhoto {
  /** Absolute path of the copy. */
  path: string;
  /** The layout key it was copied into, e.g. "people/obama". */
  folder: string;
}

export interface LibraryFixture {
  /** The temp folder holding everything. */
  root: string;
  /** The scanned store (DEFAULT_CONFIG, det_2.5g + w600k_mbf_int8). */
  store: string;
  /** `<root>/library`: not created, for the workflows to write. */
  library: string;
  photos: FixturePhoto[];
  /** Absolute path of a layout folder (or any path relative to the root). */
  dir(relative: string): string;
  /** The identities labelled in the photo at `file` (a copy's absolute path); throws for an unknown file. */
  identitiesOf(file: string): string[];
}

export interface LibraryFixtureOptions {
  /** mkdtemp prefix (default "facesets-lib-"). */
  prefix?: string;
  /** Layout keys copied but not scanned (to test "scan first" messages). */
  unscanned?: readonly string[];
}

/** Copy `layout` (folder -> photos) under a new temp folder, scan every folder not in `unscanned`, return paths + labels. */
export async function makeLibraryFixture(
  layout: Readonly<Record<string, readonly LabelledPhoto[]>>,
  { prefix = "facesets-lib-", unscanned = [] }: LibraryFixtureOptions = {},
): Promise<LibraryFixture> {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  const photos: FixturePhoto[] = [];
  for (const [folder, list] of Object.entries(layout)) {
    const dir = path.join(root, folder);
    mkdirSync(dir, { recursive: true });
    const bases = list.map((p) => path.basename(p.file));
    list.forEach((photo, i) => {
      const clash = bases.indexOf(bases[i]!) !== bases.lastIndexOf(bases[i]!);
      const to = path.join(dir, clash ? photo.file.replaceAll("/", "_") : bases[i]!);
      copyFileSync(path.join(FACES, photo.file), to);
      photos.push({ ...photo, path: to, folder });
    });
  }
  const store = path.join(root, "store.duckdb");
  const scanned = Object.keys(layout).filter((f) => !unscanned.includes(f)).map((f) => path.join(root, f));
  await scanInto(store, scanned);
  const byPath = new Map(photos.map((p) => [p.path, p]));
  return {
    root,
    store,
    library: path.join(root, "library"),
    photos,
    dir: (relative) => path.join(root, relative),
    identitiesOf(file) {
      const photo = byPath.get(path.resolve(root, file));
      if (!photo) throw new Error(`library fixture: no labelled photo at ${file}`);
      return photo.identities;
    },
  };
}
