import sharp, { type Metadata } from "sharp";
import type { ImageFormat, LoadedImage, RgbImage } from "../types";
import { sha256Bytes } from "../util/hash";
import { readSourceFile } from "../util/source_names";
import { decodeBmp } from "./bmp";
import { ImageLoadError } from "./errors";
import { sniffFormat, SUPPORTED_FORMATS_TEXT } from "./formats";
import { decodeHeif } from "./heif";
import { orientRaster } from "./orient";
import { decodePsd } from "./psd";
import { findRawPreview } from "./raw";
import { ifdValue, readTiffStructure, TAG_NEW_SUBFILE_TYPE } from "./tiff_ifd";
import { truncationOf } from "./truncation";


export interface LoadOptions {
  /** Refuse images with more pixels than this, read from the header before any decoding. */
  maxPixels?: number;
  /** The page of a multi-page TIFF to decode (0-based; default: the first analysed page). Ignored by other formats. */
  page?: number;
}

const DEFAULT_MAX_PIXELS = 100_000_000;

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

interface SharpDecode {
  /** Apply the EXIF orientation (JPEG, PNG, WebP, TIFF, GIF), as cv2.imread does; not for HEIF-family files. */
  rotate: boolean;
  page?: number;
}

async function decodeWithSharp(
  bytes: Uint8Array,
  file: string,
  format: ImageFormat,
  maxPixels: number,
  { rotate, page = 0 }: SharpDecode,
): Promise<RgbImage> {
  const meta: Metadata = await withSharp(file, bytes, format, () => sharp(bytes, { page }).metadata());
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
    const pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: "error", ignoreIcc: true, page });
    const { data, info } = await (rotate ? pipeline.rotate() : pipeline)
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
  });
}

/**
 * The pages of a TIFF that hold images of their own: every page of the main IFD chain except reduced-resolution
 * copies (NewSubfileType bit 0: thumbnails of another page, which would find the same faces twice).
 */
function tiffPages(bytes: Uint8Array): number[] {
  const chain = (readTiffStructure(bytes)?.ifds ?? []).filter((ifd) => /^IFD\d+$/.test(ifd.name));
  const pages = chain.flatMap((ifd, i) => ((ifdValue(ifd, TAG_NEW_SUBFILE_TYPE) ?? 0) & 1 ? [] : [i]));
  return pages.length > 0 ? pages : [0];
}

/** How many frames an animation has (GIF, WebP), from its header; 1 when not animated or unknown. */
async function frameCount(bytes: Uint8Array): Promise<number> {
  try {
    return (await sharp(bytes).metadata()).pages ?? 1;
  } catch {
    return 1;
  }
}

/** The raster of one format; `page` only for TIFF. */
async function decodeRaster(
  bytes: Uint8Array,
  file: string,
  format: ImageFormat,
  maxPixels: number,
  page: number,
): Promise<{ raster: RgbImage; note?: string }> {
  switch (format) {
    case "psd":
      return { raster: decodePsd(bytes, file, maxPixels) };
    case "heif":
      return { raster: await decodeHeif(bytes, file, maxPixels) };
    case "avif":
      // libheif inside libvips applies irot/imir; an EXIF orientation in a HEIF-family file is not applied again.
      return { raster: await decodeWithSharp(bytes, file, format, maxPixels, { rotate: false }) };
    case "bmp":
      return { raster: decodeBmp(bytes, file, maxPixels) };
    case "raw": {
      const { preview, problem } = findRawPreview(bytes);
      if (!preview) throw new ImageLoadError(file, "no-usable-preview", `RAW file: ${problem}`);
      // The preview's own EXIF (if any) is ignored: the RAW file's IFD0 orientation is the one that counts.
      const stored = await decodeWithSharp(preview.jpeg, file, "jpeg", maxPixels, { rotate: false }).catch((err: unknown) => {
        throw new ImageLoadError(file, "no-usable-preview", `RAW file: its JPEG preview (${preview.where}) does not decode: ${(err as ImageLoadError).detail ?? err}`);
      });
      const raster = orientRaster(stored, preview.orientation);
      const of = preview.candidates > 1 ? `, largest of ${preview.candidates}` : "";
      return { raster, note: `raw-preview: ${preview.width}x${preview.height} embedded JPEG (${preview.where}${of}), orientation ${preview.orientation}` };
    }
    case "gif":
    case "webp": {
      const raster = await decodeWithSharp(bytes, file, format, maxPixels, { rotate: true });
      const frames = await frameCount(bytes);
      return frames > 1 ? { raster, note: `first-frame: frame 1 of ${frames} analysed` } : { raster };
    }
    case "tiff":
      return { raster: await decodeWithSharp(bytes, file, format, maxPixels, { rotate: true, page }) };
    default:
      return { raster: await decodeWithSharp(bytes, file, format, maxPixels, { rotate: true }) };
  }
}

/**
 * Decode in-memory file bytes; `file` is used for messages (and tells a .nef/.arw RAW from a plain TIFF).
 * `knownSha256`: the bytes' hash when the caller has already computed it (the scan hashes every file to
 * de-duplicate before decoding), so it is not computed twice. Multi-page TIFF: one page per call (`options.page`,
 * default the first); `pages` lists them all.
 */
export async function decodeImage(bytes: Uint8Array, file: string, options: LoadOptions = {}, knownSha256?: string): Promise<LoadedImage> {
  const { maxPixels = DEFAULT_MAX_PIXELS } = options;
  if (bytes.length === 0) throw new ImageLoadError(file, "empty-file", "the file has 0 bytes");
  const format = sniffFormat(bytes, file);
  if (format === undefined) throw new ImageLoadError(file, "not-an-image", `no known image signature (facesets reads ${SUPPORTED_FORMATS_TEXT})`);
  if (format === "other-image") {
    throw new ImageLoadError(file, "unsupported-format", `an image, but not one facesets reads (${SUPPORTED_FORMATS_TEXT})`);
  }
  const pages = format === "tiff" ? tiffPages(bytes) : [0];
  const page = options.page ?? pages[0]!;
  if (!pages.includes(page)) throw new RangeError(`${file}: page ${page} is not one of its analysed pages (${pages.join(", ")})`);
  const { raster, note } = await decodeRaster(bytes, file, format, maxPixels, page);
  return { ...raster, format, sha256: knownSha256 ?? sha256Bytes(bytes), byteLength: bytes.length, page, pages, ...(note ? { note } : {}) };
}

/** Read and decode an image file into 8-bit RGB in display orientation. Throws ImageLoadError. */
export async function loadImage(file: string, options: LoadOptions = {}): Promise<LoadedImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readSourceFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw new ImageLoadError(file, "unreadable", code === "ENOENT" ? "no such file" : `cannot read (${code || err})`);
  }
  return decodeImage(bytes, file, options);
}
