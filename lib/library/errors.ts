/**
 * A one-line error about the face-set library: the file, the JSON path inside it when there is one, and what is
 * wrong. Manifests are untrusted input, so every rejection is one of these rather than a TypeError deep inside.
 */
export class LibraryError extends Error {
  override name = "LibraryError";
  constructor(
    message: string,
    /** The file (or folder) the problem is about. */
    readonly file?: string,
    /** Where in that file's JSON, e.g. `facesets[3].origin`; "" for the top level. */
    readonly jsonPath?: string,
  ) {
    super(message);
  }
}
