/** Errors of the face store: one line each, naming the store file, the value and the way out. */

/** A store problem that is not a lock or model conflict (bad input, unknown run, newer schema, ...). */
export class StoreError extends Error {
  override name = "StoreError";
}

/** Another process (or this one, for a read-only handle) holds the store file. */
export class StoreInUseError extends StoreError {
  override name = "StoreInUseError";
  constructor(
    message: string,
    readonly storePath: string,
    /** The holder's process id, when DuckDB named it. */
    readonly pid: number | null,
  ) {
    super(message);
  }
}

/** The store holds embeddings of another recognition model (or dimension) than the caller's. */
export class StoreModelMismatchError extends StoreError {
  override name = "StoreModelMismatchError";
  constructor(
    message: string,
    readonly storePath: string,
    readonly storedSha256: string,
    readonly storedDim: number,
    readonly givenSha256: string,
    readonly givenDim: number,
  ) {
    super(message);
  }
}
