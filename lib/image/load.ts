import { readFile } from "node:fs/promises";
import sharp, { type Metadata } from "sharp";
import type { ImageFormat, LoadedImage, RgbImage } from "../types";
import { sha256Bytes } from "../util/hash";
import { ImageLoadError } from "./errors";
import { decodePsd } from "./psd";
import { truncationOf } from "./truncation";

export interface LoadOptions {
  /** Refuse images with more pixels than this, read from the header before any decoding. */
  maxPixels?: number;
}

const DEFAULT_MAX_PIXELS = 100_000_000;

/** File extensions the scanner picks up (lowercase, with the dot). */
export const IMAGE_EXTENSIONS: readonly string[] = [".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".psd"];

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** The format from the file's leading bytes (never from its name). */
export function sniffFormat(bytes: Uint8Array): ImageFormat | "other-image" | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "webp";
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return "tiff";
  if (startsWith(bytes, ascii("8BPS"))) return "psd";
  if (
    startsWith(bytes, ascii("GIF8")) || startsWith(bytes, ascii("BM")) || startsWith(bytes, ascii("ftyp"), 4) ||
    startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50])
  ) return "other-image";
  return undefined;
}

/** libvips' stand-in when its process-wide error buffer was emptied by another thread's decode. */
const NO_REASON = /^(unknown error)?$/i;
const NO_REASON_DETAIL = "libvips could not decode it and gave no reason";

/**
 * Map a libvips failure onto the loader's reasons. Data cut short is judged from the bytes themselves, so the
 * stored reason is the same whatever else was decoding at the time (see truncation.ts).
 */
function sharpFailure(file: string, err: unknown, bytes: Uint8Array, format: ImageFormat): ImageLoadError {
  const cut = truncationOf(bytes, format);
  if (cut !== undefined) return new ImageLoadError(file, "truncated", cut);
  const message = String((err as Error)?.message ?? err).split("\n")[0]!.trim();
  if (/premature end|truncated|unexpected end|end of (file|stream)|not enough data|read error/i.test(message)) {
    return new ImageLoadError(file, "truncated", message);
  }
  if (/unsupported image format/i.test(message)) return new ImageLoadError(file, "not-an-image", message);
  if (/pixel limit/i.test(message)) return new ImageLoadError(file, "too-many-pixels", message);
  if (NO_REASON.test(message)) return new ImageLoadError(file, "corrupt", NO_REASON_DETAIL);
  return new ImageLoadError(file, "corrupt", message);
}

/** Run a sharp call; a failure without a reason is tried once more, when libvips usually names it. */
async function withSharp<T>(file: string, bytes: Uint8Array, format: ImageFormat, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (first) {
    const failure = sharpFailure(file, first, bytes, format);
    if (failure.detail !== NO_REASON_DETAIL) throw failure;
    try {
      return await call();
    } catch (second) {
      throw sharpFailure(file, second, bytes, format);
    }
  }
}

/** Grey or grey+alpha rasters expand to RGB as cv2.imread's BGR conversion does. */
function toRgb(data: Uint8Array, width: number, height: number, channels: number): RgbImage {
  if (channels === 3) return { width, height, data };
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < out.length; i += 3, j += channels) {
    out[i] = data[j]!;
    out[i + 1] = data[channels >= 3 ? j + 1 : j]!;
    out[i + 2] = data[channels >= 3 ? j + 2 : j]!;
  }
  return { width, height, data: out };
}

async function decodeWithSharp(bytes: Uint8Array, file: string, format: ImageFormat, maxPixels: number): Promise<RgbImage> {
  const meta: Metadata = await withSharp(file, bytes, format, () => sharp(bytes).metadata());
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > maxPixels) {
    throw new ImageLoadError(
      file,
      "too-many-pixels",
      `${width}x${height} is ${(width * height / 1e6).toFixed(1)} megapixels, over the limit of ${(maxPixels / 1e6).toFixed(1)}`,
    );
  }
  return withSharp(file, bytes, format, async () => {
    // rotate() with no angle applies the EXIF orientation, as cv2.imread does. ignoreIcc: OpenCV never colour-
    // manages, and sharp's default conversion from an embedded profile moved pixels by ~5 grey levels on average
    // (measured on faceapi/groups/bbt5.jpg), enough to move embeddings. failOn "error" accepts what OpenCV
    // accepts with a warning but refuses truncated data.
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: "error", ignoreIcc: true })
      .rotate()
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
  });
}

/**
 * Decode in-memory file bytes; `file` is used for messages only. `knownSha256`: the bytes' hash when the caller
 * has already computed it (the scan hashes every file to de-duplicate before decoding), so it is not computed twice.
 */
export async function decodeImage(bytes: Uint8Array, file: string, options: LoadOptions = {}, knownSha256?: string): Promise<LoadedImage> {
  const { maxPixels = DEFAULT_MAX_PIXELS } = options;
  if (bytes.length === 0) throw new ImageLoadError(file, "empty-file", "the file has 0 bytes");
  const format = sniffFormat(bytes);
  if (format === undefined) throw new ImageLoadError(file, "not-an-image", "no known image signature");
  if (format === "other-image") {
    throw new ImageLoadError(file, "unsupported-format", "an image, but not JPEG, PNG, WebP, TIFF or PSD");
  }
  const raster = format === "psd"
    ? decodePsd(bytes, file, maxPixels)
    : await decodeWithSharp(bytes, file, format, maxPixels);
  return { ...raster, format, sha256: knownSha256 ?? sha256Bytes(bytes), byteLength: bytes.length };
}

/** Read and decode an image file into 8-bit RGB with EXIF orientation applied. Throws ImageLoadError. */
export async function loadImage(file: string, options: LoadOptions = {}): Promise<LoadedImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw new ImageLoadError(file, "unreadable", code === "ENOENT" ? "no such file" : `cannot read (${code || err})`);
  }
  return decodeImage(bytes, file, options);
}
