/**
 * A curation request that cannot be done as asked: an unknown set or face (named), a refused merge (not the same
 * person), a set in the wrong state. The `curate` command exits 2 on it; nothing was written.
 */
export class CurateError extends Error {
  override name = "CurateError";
}
