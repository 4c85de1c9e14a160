/**
 * Labelled photos of ../shared/faces copied into a temp layout and scanned into a temp store, for the identity
 * workflows' tests. Labels come from each source folder's labels.csv (file, identity); a group photo lists several
 * identities separated by ";".
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_CONFIG, FaceEngine, FaceStore, scanTree } from "../../lib/mod";
import { ANY_TEST_DETECTOR, FACES, TEST_RECOGNIZER } from "./fixtures";

export interface LabelledPhoto {
  /** Relative to ../shared/faces, e.g. "deepface/img1.jpg". */
  file: string;
  /** Identities in the photo (one for a portrait, several for a group photo). */
  identities: string[];
}

/** Every labelled photo present in the shared source folders, in labels.csv order. */
export function sharedLabels(): LabelledPhoto[] {
  const out: LabelledPhoto[] = [];
  for (const folder of ["deepface", "face_recognition", "faceapi"]) {
    // tests/fixtures holds deepface/ only; tests that need the other folders skip through needs(...).
    if (!existsSync(path.join(FACES, folder, "labels.csv"))) continue;
    const lines = readFileSync(path.join(FACES, folder, "labels.csv"), "utf8").trim().split("\n").slice(1);
    for (const line of lines) {
      const [file, identity] = line.split(",");
      if (!file || !identity) continue; // unlabelled (faceapi/groups)
      if (!existsSync(path.join(FACES, folder, file))) continue; // listed duplicates that were not copied
      out.push({ file: `${folder}/${file}`, identities: identity.split(";") });
    }
  }
  return out;
}

export function photosOf(labels: readonly LabelledPhoto[], identity: string): LabelledPhoto[] {
  return labels.filter((l) => l.identities.length === 1 && l.identities[0] === identity);
}

/** Copy `photos` to `<dir>/<photo.file>` (same relative layout) and return the absolute paths. */
export function copyPhotos(photos: readonly LabelledPhoto[], dir: string): string[] {
  return photos.map((p) => {
    const to = path.join(dir, p.file);
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(path.join(FACES, p.file), to);
    return to;
  });
}

/** Scan `folders` into the store at `storePath` with the small test models (det_2.5g, or det_500m in tests/fixtures). */
export async function scanInto(storePath: string, folders: readonly string[]): Promise<void> {
  const engine = await FaceEngine.open({ detectorFile: ANY_TEST_DETECTOR, recognizerFile: TEST_RECOGNIZER });
  const store = await FaceStore.open(storePath);
  try {
    for (const source of folders) await scanTree({ source, store, engine, config: DEFAULT_CONFIG });
  } finally {
    await store.close();
    await engine.close();
  }
}
