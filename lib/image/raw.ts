/**
 * TIFF-based RAW files (DNG, NEF, CR2, ARW): facesets does not develop sensor data. Cameras embed a JPEG preview
 * (often full size) for their own screens and for viewers; the largest one is what the photographer saw, and is
 * what gets analysed, turned by the RAW file's own Orientation (IFD0), and recorded as a preview. A RAW file whose
 * previews are missing or not decodable JPEGs (lossless-JPEG sensor data is not a preview) is an error that says so.
 */
import {
  type Ifd,
  ifdValue,
  readTiffStructure,
  TAG_COMPRESSION,
  TAG_DNG_VERSION,
  TAG_JPEG_IF_LENGTH,
  TAG_JPEG_IF_OFFSET,
  TAG_ORIENTATION,
  TAG_STRIP_BYTE_COUNTS,
  TAG_STRIP_OFFSETS,
} from "./tiff_ifd";

/** RAW extensions read through their embedded preview (lowercase, with the dot). */
export const RAW_EXTENSIONS: readonly string[] = [".dng", ".nef", ".cr2", ".arw"];

/** TIFF Compression values whose single strip may hold a JPEG (6: old-style JPEG, 7: JPEG). */
const JPEG_COMPRESSIONS = new Set([6, 7]);

export interface RawPreview {
  /** The JPEG bytes (a view into the file). */
  jpeg: Uint8Array;
  width: number;
  height: number;
  /** The RAW file's Orientation (IFD0), 1 when absent. */
  orientation: number;
  /** Where it was found ("IFD0/SubIFD0", ...). */
  where: string;
  /** Baseline/progressive JPEG previews found in all. */
  candidates: number;
}

/** Whether TIFF bytes look like a RAW file by structure: a DNGVersion tag, or Canon's "CR" after the header. */
export function looksLikeRaw(bytes: Uint8Array): boolean {
  if (bytes[8] === 0x43 && bytes[9] === 0x52) return true; // CR2
  const tiff = readTiffStructure(bytes);
  return tiff?.ifds[0]?.values.has(TAG_DNG_VERSION) ?? false;
}

/** Width and height from a JPEG's frame header, if it is a baseline/extended/progressive (not lossless) JPEG. */
export function jpegFrameSize(jpeg: Uint8Array): { width: number; height: number } | undefined {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return undefined;
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) return undefined;
    const marker = jpeg[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!;
    // SOF0 baseline, SOF1 extended, SOF2 progressive: what libjpeg decodes. SOF3 (lossless) is sensor data.
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      if (at + 9 > jpeg.length) return undefined;
      const height = (jpeg[at + 5]! << 8) | jpeg[at + 6]!;
      const width = (jpeg[at + 7]! << 8) | jpeg[at + 8]!;
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    if (marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return undefined;
    if (marker === 0xda || length < 2) return undefined;
    at += 2 + length;
  }
  return undefined;
}

/** JPEG streams an IFD points at: JPEGInterchangeFormat, or a single JPEG-compressed strip. */
function jpegRanges(ifd: Ifd): [number, number][] {
  const out: [number, number][] = [];
  const offset = ifdValue(ifd, TAG_JPEG_IF_OFFSET);
  const length = ifdValue(ifd, TAG_JPEG_IF_LENGTH);
  if (offset !== undefined && length !== undefined) out.push([offset, length]);
  const strips = ifd.values.get(TAG_STRIP_OFFSETS);
  const counts = ifd.values.get(TAG_STRIP_BYTE_COUNTS);
  if (JPEG_COMPRESSIONS.has(ifdValue(ifd, TAG_COMPRESSION) ?? 0) && strips?.length === 1 && counts?.length === 1) {
    out.push([strips[0]!, counts[0]!]);
  }
  return out;
}

/**
 * The largest decodable JPEG preview of a TIFF-based RAW file (by pixels, then bytes), with the file's
 * orientation; undefined when there is none. `problem` is set to why, for the error record.
 */
export function findRawPreview(bytes: Uint8Array): { preview?: RawPreview; problem?: string } {
  const tiff = readTiffStructure(bytes);
  if (!tiff || tiff.ifds.length === 0) return { problem: "not a readable TIFF structure" };
  const orientation = ifdValue(tiff.ifds[0]!, TAG_ORIENTATION) ?? 1;
  let best: RawPreview | undefined;
  let candidates = 0;
  const seen = new Set<number>();
  for (const ifd of tiff.ifds) {
    for (const [offset, length] of jpegRanges(ifd)) {
      if (seen.has(offset) || length < 4 || offset + length > bytes.length) continue;
      seen.add(offset);
      const jpeg = bytes.subarray(offset, offset + length);
      const size = jpegFrameSize(jpeg);
      if (!size) continue;
      candidates++;
      const better = !best || size.width * size.height > best.width * best.height ||
        (size.width * size.height === best.width * best.height && length > best.jpeg.length);
      if (better) best = { jpeg, ...size, orientation: orientation >= 1 && orientation <= 8 ? orientation : 1, where: ifd.name, candidates: 0 };
    }
  }
  if (!best) return { problem: "no embedded JPEG preview (facesets reads RAW files through their preview; export a JPEG)" };
  best.candidates = candidates;
  return { preview: best };
}
