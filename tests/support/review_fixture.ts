/**
 * A small real library for the review page's tests and screenshots: one person in two hand-sorted folders
 * (build-folders makes two sets of one person, to merge), and a mixed bucket where three people reach 6 photos
 * (cluster-osrc makes their sets) and three stay below (leftover clusters), all from labelled ../shared photos.
 */
import { buildFolders, clusterOsrc, DEFAULT_CONFIG, FaceStore } from "../../lib/mod";
import { type LibraryFixture, makeLibraryFixture } from "./library_fixture";
import { photosOf, sharedLabels } from "./labelled";

export async function makeReviewLibrary(prefix = "facesets-review-"): Promise<LibraryFixture> {
  const labels = sharedLabels();
  const obama = photosOf(labels, "obama");
  const fx = await makeLibraryFixture({
    "people/obama_a": obama.slice(0, 7),
    "people/obama_b": obama.slice(7),
    bucket: [
      ...photosOf(labels, "deepface_p01"),
      ...photosOf(labels, "deepface_p10"),
      ...photosOf(labels, "deepface_p03"),
      ...photosOf(labels, "deepface_p04"),
      ...photosOf(labels, "deepface_p05"),
      ...photosOf(labels, "biden"),
    ],
  }, { prefix });
  const store = await FaceStore.open(fx.store, { readOnly: true });
  try {
    const io = { libraryDir: fx.library, store, storePath: fx.store, config: DEFAULT_CONFIG };
    await buildFolders({ ...io, folders: fx.dir("people") });
    await clusterOsrc({ ...io, source: fx.dir("bucket") });
  } finally {
    await store.close();
  }
  return fx;
}
