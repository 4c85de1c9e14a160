/**
 * HEIF/HEIC (HEVC-coded, as phones write them) through libheif compiled to WebAssembly (`libheif-js`): sharp's
 * prebuilt libvips reads AVIF but carries no HEVC decoder. Only the primary image is decoded. libheif applies the
 * file's own display transforms (`irot` rotation, `imir` mirror, `clap` crop) while decoding, which is the HEIF
 * rule for display orientation; an EXIF Orientation tag inside the file describes the stored pixels before those
 * transforms and must not be applied again, so it is never read here.
 *
 * The WebAssembly module (~2 MB) is loaded on the first HEIF file only.
 */
import type { RgbImage } from "../types";
import { ImageLoadError } from "./errors";

/** The slice of libheif-js's binding used here (it ships no types for the bundle). */
interface HeifError {
  code: unknown;
  message: string;
}
interface HeifChannel {
  width: number;
  height: number;
  stride: number;
  data: Uint8Array;
}
interface Libheif {
  heif_context_alloc(): unknown;
  heif_context_free(ctx: unknown): void;
  heif_context_read_from_memory(ctx: unknown, bytes: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(ctx: unknown): unknown;
  heif_image_handle_get_width(handle: unknown): number;
  heif_image_handle_get_height(handle: unknown): number;
  heif_image_handle_release(handle: unknown): void;
  heif_js_decode_image2(handle: unknown, colorspace: unknown, chroma: unknown): Promise<(HeifError & { image?: unknown; channels?: HeifChannel[] }) | null>;
  heif_image_release(image: unknown): void;
  heif_error_code: { heif_error_Ok: unknown };
  heif_colorspace: { heif_colorspace_RGB: unknown };
  heif_chroma: { heif_chroma_interleaved_RGB: unknown };
}

let loading: Promise<Libheif> | undefined;

/** The libheif module, loaded once per process. The specifier is a variable so bundlers and tsc leave it alone. */
function libheif(): Promise<Libheif> {
  const specifier: string = "libheif-js/wasm-bundle.js";
  loading ??= import(specifier).then((mod: { default?: Libheif }) => (mod.default ?? mod) as Libheif);
  return loading;
}

function isError(lib: Libheif, e: HeifError | null | undefined): boolean {
  return !e || (e.code !== undefined && e.code !== lib.heif_error_code.heif_error_Ok);
}

/** Decode the primary image of HEIF bytes in display orientation (irot/imir applied), as 8-bit RGB. */
export async function decodeHeif(bytes: Uint8Array, file: string, maxPixels: number): Promise<RgbImage> {
  const lib = await libheif();
  const ctx = lib.heif_context_alloc();
  let handle: unknown;
  try {
    const read = lib.heif_context_read_from_memory(ctx, bytes);
    if (isError(lib, read)) throw heifFailure(file, read?.message ?? "libheif could not parse it");
    handle = lib.heif_js_context_get_primary_image_handle(ctx);
    if (!handle || (handle as Partial<HeifError>).code !== undefined) {
      throw heifFailure(file, (handle as Partial<HeifError> | undefined)?.message ?? "no primary image");
    }
    const width = lib.heif_image_handle_get_width(handle);
    const height = lib.heif_image_handle_get_height(handle);
    if (width * height > maxPixels) {
      throw new ImageLoadError(
        file,
        "too-many-pixels",
        `${width}x${height} is ${(width * height / 1e6).toFixed(1)} megapixels, over the limit of ${(maxPixels / 1e6).toFixed(1)}`,
      );
    }
    const decoded = await lib.heif_js_decode_image2(handle, lib.heif_colorspace.heif_colorspace_RGB, lib.heif_chroma.heif_chroma_interleaved_RGB);
    if (!decoded || isError(lib, decoded) || !decoded.channels?.[0]) throw heifFailure(file, decoded?.message || "libheif could not decode it");
    try {
      const channel = decoded.channels[0];
      const rowBytes = channel.width * 3;
      const data = new Uint8Array(rowBytes * channel.height);
      for (let y = 0; y < channel.height; y++) data.set(channel.data.subarray(y * channel.stride, y * channel.stride + rowBytes), y * rowBytes);
      return { width: channel.width, height: channel.height, data };
    } finally {
      lib.heif_image_release(decoded.image);
    }
  } finally {
    if (handle) lib.heif_image_handle_release(handle);
    lib.heif_context_free(ctx);
  }
}

function heifFailure(file: string, message: string): ImageLoadError {
  const text = message.trim() || "libheif gave no reason";
  if (/end of file|outside of file bounds|truncated|not enough data/i.test(text)) return new ImageLoadError(file, "truncated", `HEIF: ${text}`);
  if (/unsupported/i.test(text)) return new ImageLoadError(file, "unsupported-format", `HEIF: ${text}`);
  return new ImageLoadError(file, "corrupt", `HEIF: ${text}`);
}
