/**
 * The curation functions the review page calls: lib/curation's own, so a decision made on the page is the same
 * decision (and the same ledger line) as `deno task curate` makes.
 */
import {
  createSetFromFaces,
  dismissSet,
  libraryStatus,
  mergeSets,
  moveFaces,
  nameSet,
  rejectFaces,
  restoreSet,
  splitFaces,
  undoLast,
} from "../curation/mod";
import type { CurationApi } from "./decisions";

export const curationApi: Partial<CurationApi> = {
  nameSet,
  mergeSets,
  moveFaces,
  rejectFaces,
  splitFaces,
  dismissSet,
  restoreSet,
  createSetFromFaces: (t, faceIds) => createSetFromFaces(t, faceIds),
  undoLast,
  libraryStatus,
};
