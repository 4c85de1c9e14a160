import type { ImageFormat } from "../types";

/**
 * Whether a JPEG, PNG or WebP file's bytes stop before the format's own end (JPEG end-of-image marker, PNG IEND
 * chunk, WebP RIFF size), found by walking the container structure. Returns a one-line description when the data
 * is cut short, undefined when the structure is complete or cannot be judged (TIFF, or bytes that are not the
 * format at all).
 *
 * Why not rely on libvips' message: libvips keeps one error buffer per process, so while other images decode on
 * other threads a failing decode can report "Unknown error" instead of "premature end of JPEG image" (seen in the
 * scan's SIGKILL test). The stored reason must not depend on what else happened to be decoding.
 */
export function truncationOf(bytes: Uint8Array, format: ImageFormat): string | undefined {
  switch (format) {
    case "jpeg":
      return jpegTruncation(bytes);
    case "png":
      return pngTruncation(bytes);
    case "webp":
      return webpTruncation(bytes);
    default:
      return undefined;
  }
}

const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

const JPEG_EOI = 0xd9;
const JPEG_SOS = 0xda;
const isRestartMarker = (m: number) => m >= 0xd0 && m <= 0xd7;

function jpegTruncation(b: Uint8Array): string | undefined {
  const cut = `JPEG data ends after ${b.length} bytes, before its end-of-image marker`;
  const view = viewOf(b);
  let pos = 2; // after SOI
  for (;;) {
    while (pos < b.length && b[pos] === 0xff && b[pos + 1] === 0xff) pos++; // fill bytes
    if (pos + 2 > b.length) return cut;
    if (b[pos] !== 0xff) return undefined; // not a marker where one belongs: corrupt, not cut
    const marker = b[pos + 1]!;
    if (marker === JPEG_EOI) return undefined;
    if (isRestartMarker(marker) || marker === 0x01) {
      pos += 2;
      continue;
    }
    if (pos + 4 > b.length) return cut;
    const segmentEnd = pos + 2 + view.getUint16(pos + 2);
    if (segmentEnd > b.length) return cut;
    pos = segmentEnd;
    if (marker !== JPEG_SOS) continue;
    // Entropy-coded data: a 0xFF byte is either stuffed (FF 00), a restart marker, or the next marker.
    for (;;) {
      if (pos + 1 >= b.length) return cut;
      if (b[pos] === 0xff && b[pos + 1] !== 0x00 && b[pos + 1] !== 0xff && !isRestartMarker(b[pos + 1]!)) break;
      pos++;
    }
  }
}

function pngTruncation(b: Uint8Array): string | undefined {
  const cut = `PNG data ends after ${b.length} bytes, before its IEND chunk`;
  const view = viewOf(b);
  let pos = 8; // after the signature
  for (;;) {
    if (pos + 8 > b.length) return cut;
    const chunkEnd = pos + 12 + view.getUint32(pos);
    if (chunkEnd > b.length) return cut;
    if (String.fromCharCode(b[pos + 4]!, b[pos + 5]!, b[pos + 6]!, b[pos + 7]!) === "IEND") return undefined;
    pos = chunkEnd;
  }
}

function webpTruncation(b: Uint8Array): string | undefined {
  if (b.length < 12) return `WebP data ends after ${b.length} bytes, inside its header`;
  const declared = 8 + viewOf(b).getUint32(4, true);
  return declared > b.length ? `WebP data ends after ${b.length} of the ${declared} bytes its header declares` : undefined;
}
