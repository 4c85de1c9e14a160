/**
 * Which files facesets reads as photos, and how each format is decoded: the one table behind the scanner's
 * extension list, the README's "Supported formats" and the message for an unsupported file.
 */
import type { ImageFormat } from "../types";
import { looksLikeRaw, RAW_EXTENSIONS } from "./raw";
import { isTiffHeader } from "./tiff_ifd";

export interface FormatInfo {
  format: ImageFormat;
  /** Name for people. */
  label: string;
  /** Lowercase extensions with the dot. */
  extensions: readonly string[];
  /** What is analysed, in a few words. */
  reads: string;
}

export const SUPPORTED_FORMATS: readonly FormatInfo[] = [
  { format: "jpeg", label: "JPEG", extensions: [".jpg", ".jpeg", ".jpe"], reads: "the image, EXIF orientation applied" },
  { format: "png", label: "PNG", extensions: [".png"], reads: "the image" },
  { format: "webp", label: "WebP", extensions: [".webp"], reads: "the image; an animation's first frame" },
  { format: "tiff", label: "TIFF", extensions: [".tif", ".tiff"], reads: "every page (faces carry the page index)" },
  { format: "psd", label: "PSD", extensions: [".psd"], reads: "the composite, else the visible layers" },
  { format: "heif", label: "HEIF/HEIC", extensions: [".heic", ".heif", ".hif"], reads: "the primary image, in HEIF's own display orientation" },
  { format: "avif", label: "AVIF", extensions: [".avif"], reads: "the primary image, in HEIF's own display orientation" },
  { format: "gif", label: "GIF", extensions: [".gif"], reads: "the first frame" },
  { format: "bmp", label: "BMP", extensions: [".bmp", ".dib"], reads: "the image" },
  { format: "raw", label: "RAW (TIFF-based)", extensions: RAW_EXTENSIONS, reads: "the largest embedded JPEG preview, in the file's orientation" },
];

/** File extensions the scanner picks up (lowercase, with the dot). */
export const IMAGE_EXTENSIONS: readonly string[] = SUPPORTED_FORMATS.flatMap((f) => f.extensions);

/** "JPEG, PNG, ..." for messages. */
export const SUPPORTED_FORMATS_TEXT = SUPPORTED_FORMATS.map((f) => f.label).join(", ");

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** ISO-BMFF brands of HEIF images (HEVC and the generic image brands) and of AVIF. */
const HEIF_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "msf1"]);
const AVIF_BRANDS = new Set(["avif", "avis"]);

/** The brands of an ISO-BMFF `ftyp` box at the start of the file (major brand first). */
function ftypBrands(b: Uint8Array): string[] {
  if (!startsWith(b, ascii("ftyp"), 4)) return [];
  const size = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const end = Math.min(size, b.length, 4096);
  const brands = [String.fromCharCode(...b.subarray(8, 12))];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(String.fromCharCode(...b.subarray(at, at + 4)));
  return brands;
}

/**
 * The format from the file's leading bytes, never from its name, with one exception: a TIFF container named
 * .nef/.arw/... is a RAW file (Nikon and Sony RAWs are plain TIFF structures; DNG and CR2 are also recognised by
 * their own marks). "other-image": an image format facesets does not read (JPEG 2000, ...).
 */
export function sniffFormat(bytes: Uint8Array, name = ""): ImageFormat | "other-image" | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "webp";
  if (isTiffHeader(bytes)) {
    const ext = name.slice(name.lastIndexOf(".")).toLowerCase();
    return RAW_EXTENSIONS.includes(ext) || looksLikeRaw(bytes) ? "raw" : "tiff";
  }
  if (startsWith(bytes, ascii("8BPS"))) return "psd";
  if (startsWith(bytes, ascii("GIF8"))) return "gif";
  if (startsWith(bytes, ascii("BM")) && bytes.length >= 26) return "bmp";
  const brands = ftypBrands(bytes);
  if (brands.some((b) => AVIF_BRANDS.has(b))) return "avif";
  if (brands.some((b) => HEIF_BRANDS.has(b))) return "heif";
  if (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50]) || startsWith(bytes, [0xff, 0x4f, 0xff, 0x51])) return "other-image";
  return undefined;
}
