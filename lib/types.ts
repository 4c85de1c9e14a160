/**
 * Plain typed records that flow through the pipeline: files -> face records -> identities -> exports -> reports.
 *
 * Conventions (explained once, referred to everywhere):
 * - Coordinates are in pixels of the decoded, EXIF-oriented original image; `BBox` is [x1, y1, x2, y2].
 * - `embedding` is always L2-normalised (unit length). [Note: cosine] For unit vectors the dot product is the
 *   cosine similarity, and cosine distance = 1 - dot(a, b).
 */

/** A 2-D point [x, y] in pixels. */
export type Point = [number, number];

/** Axis-aligned box [x1, y1, x2, y2] in pixels (floats, not clamped to the image, as InsightFace returns them). */
export type BBox = [number, number, number, number];

/** The five InsightFace landmarks: left eye (image left), right eye, nose, left mouth corner, right mouth corner. */
export type Landmarks5 = [Point, Point, Point, Point, Point];

/** An interleaved 8-bit RGB raster (3 bytes per pixel, row-major, no padding). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Image formats the loader accepts (see SUPPORTED_FORMATS in lib/image/formats.ts). `raw`: a TIFF-based camera
 * RAW file, read through its largest embedded JPEG preview.
 */
export type ImageFormat = "jpeg" | "png" | "webp" | "tiff" | "psd" | "heif" | "avif" | "gif" | "bmp" | "raw";

/** A decoded source image plus the identity of its bytes. */
export interface LoadedImage extends RgbImage {
  format: ImageFormat;
  /** sha256 of the file's bytes, lowercase hex. */
  sha256: string;
  byteLength: number;
  /** The page (0-based) of a multi-page file this raster is; 0 for every other file. */
  page: number;
  /** Every page of the file that is analysed, in order ([0] for single-image files; multi-page TIFF: all pages). */
  pages: number[];
  /**
   * Set when the raster is not simply "the file's image": a RAW file's embedded preview, the first frame of an
   * animation. Recorded with the file (`decode_note`) so a reader knows what was analysed.
   */
  note?: string;
}

/** One SCRFD detection before recognition. */
export interface Detection {
  bbox: BBox;
  kps: Landmarks5;
  detScore: number;
  /** The detector input size (square, px) of the pass that found this face: 640 normally, 128 for the second pass. */
  detSizePx: number;
}

/** A detected, aligned and embedded face with its quality metrics. */
export interface FaceAnalysis extends Detection {
  /** min(x2 - x1, y2 - y1) of the bbox, in pixels. */
  faceShortPx: number;
  /** Variance of the 3x3 Laplacian over the grey bbox crop (OpenCV semantics); higher is sharper. */
  blur: number;
  /**
   * Size-independent sharpness: the same Laplacian variance on the grey box area-averaged down to a 64 px shorter
   * side (equal to `blur` for faces up to 64 px); what `identity.minBlur` gates on (lib/face/quality.ts).
   */
  sharpness: number;
  /** Unit-length ArcFace embedding. */
  embedding: Float32Array;
}

/** The result of analysing one image. */
export interface ImageAnalysis {
  width: number;
  height: number;
  sha256: string;
  format: ImageFormat;
  faces: FaceAnalysis[];
}
