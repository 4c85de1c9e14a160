/**
 * Why an image could not be loaded. Stored verbatim as a file's `reason` in the face store. `no-usable-preview`:
 * a RAW file without a decodable embedded JPEG preview (facesets does not develop sensor data).
 */
export type ImageErrorReason =
  | "empty-file"
  | "truncated"
  | "corrupt"
  | "not-an-image"
  | "unsupported-format"
  | "too-many-pixels"
  | "unreadable"
  | "no-usable-preview";

export const IMAGE_ERROR_REASONS: readonly ImageErrorReason[] = [
  "empty-file",
  "truncated",
  "corrupt",
  "not-an-image",
  "unsupported-format",
  "too-many-pixels",
  "unreadable",
  "no-usable-preview",
];

/** A typed, one-line error naming the file and the reason. */
export class ImageLoadError extends Error {
  override name = "ImageLoadError";
  constructor(
    readonly file: string,
    readonly reason: ImageErrorReason,
    readonly detail: string,
  ) {
    super(`${file}: ${reason}: ${detail}`);
  }
}
