/**
 * A face set's faces as the store knows them: each manifest face matched to its store face (FaceIndex rules: face
 * id, else source path or alias and box overlap) and dated by the EXIF capture time of its file. split-eras and
 * the era view read a set this way.
 */
import { FaceIndex } from "./centroids";
import type { FacesetFace } from "../library/manifest";
import type { LoadedFaceset } from "../library/read";
import type { FaceRow } from "../store/records";
import type { FaceStore } from "../store/store";

/** The store's faces, indexed for matching set faces, and the capture time of each (its file's EXIF time). */
export interface StoreFaceLookup {
  index: FaceIndex;
  captureTimeOf(row: FaceRow): Date | null;
}

/** Read the store once for any number of datedSetFaces calls. */
export async function storeFaceLookup(store: FaceStore): Promise<StoreFaceLookup> {
  const index = new FaceIndex(await store.selectFaces());
  const times = new Map([...(await store.knownFiles()).values()].map((f) => [f.path, f.captureTime]));
  // Under any of the face's live paths: an alias can carry the EXIF its canonical copy lost.
  const captureTimeOf = (row: FaceRow) => {
    for (const p of [row.path, ...row.paths]) {
      const t = times.get(p);
      if (t) return t;
    }
    return null;
  };
  return { index, captureTimeOf };
}

/** A set's face with its store face (embedding) and the capture time of its file. */
export interface DatedSetFace {
  face: FacesetFace;
  row: FaceRow;
  captureTime: Date | null;
}

/** Match each face of `set` to the store (FaceIndex rules) and date it; faces with no store face are `unmatched`. */
export function datedSetFaces(
  lookup: StoreFaceLookup,
  set: LoadedFaceset,
  libraryDir: string,
): { matched: DatedSetFace[]; unmatched: FacesetFace[] } {
  const matched: DatedSetFace[] = [];
  const unmatched: FacesetFace[] = [];
  for (const face of set.manifest.faces) {
    const hit = lookup.index.match(face, libraryDir);
    if (hit) matched.push({ face, row: hit.row, captureTime: lookup.captureTimeOf(hit.row) });
    else unmatched.push(face);
  }
  return { matched, unmatched };
}
