/**
 * Hand-built files of formats the tests need but no installed encoder writes: BMP (every layout the decoder
 * handles) and TIFF-based RAW containers wrapping real JPEG previews.
 */
import type { RgbImage } from "../../lib/mod";

export interface BmpLayout {
  bpp: 8 | 16 | 24 | 32;
  topDown?: boolean;
  /** 32-bit: BI_BITFIELDS with masks after a 40-byte header (else BI_RGB). 16-bit: 5-6-5 bit fields (else 5-5-5). */
  bitfields?: boolean;
}

/**
 * A BMP of `image`. 8-bit: a grey palette of the pixels' green channel (so the expected decode is exact);
 * 16-bit: the channels truncated to 5/6 bits; 24/32-bit: exact.
 */
export function encodeBmp(image: RgbImage, { bpp, topDown = false, bitfields = false }: BmpLayout): Uint8Array {
  const { width, height, data } = image;
  const stride = Math.ceil((width * bpp) / 32) * 4;
  const masks = bitfields ? 12 : 0;
  const palette = bpp === 8 ? 256 * 4 : 0;
  const pixelOffset = 14 + 40 + masks + palette;
  const out = new Uint8Array(pixelOffset + stride * height);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, out.length, true);
  view.setUint32(10, pixelOffset, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, topDown ? -height : height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, bpp, true);
  view.setUint32(30, bitfields ? 3 : 0, true);
  if (bitfields) {
    const [r, g, b] = bpp === 16 ? [0xf800, 0x07e0, 0x001f] : [0x00ff0000, 0x0000ff00, 0x000000ff];
    view.setUint32(54, r, true);
    view.setUint32(58, g, true);
    view.setUint32(62, b, true);
  }
  if (bpp === 8) for (let i = 0; i < 256; i++) out.set([i, i, i, 0], 54 + masks + i * 4);
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = [data[(y * width + x) * 3]!, data[(y * width + x) * 3 + 1]!, data[(y * width + x) * 3 + 2]!];
      if (bpp === 8) out[row + x] = g;
      else if (bpp === 24) out.set([b, g, r], row + x * 3);
      else if (bpp === 32) out.set([b, g, r, 255], row + x * 4);
      else view.setUint16(row + x * 2, bitfields ? ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3) : ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3), true);
    }
  }
  return out;
}

/** The pixels encodeBmp's layout keeps (what a correct decoder must return). */
export function bmpExpected(image: RgbImage, { bpp, bitfields = false }: BmpLayout): RgbImage {
  const data = new Uint8Array(image.data.length);
  const scale = (v: number, bits: number) => Math.round(((v >> (8 - bits)) * 255) / ((1 << bits) - 1));
  for (let i = 0; i < data.length; i += 3) {
    const [r, g, b] = [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
    if (bpp === 8) data.set([g, g, g], i);
    else if (bpp === 16) data.set(bitfields ? [scale(r, 5), scale(g, 6), scale(b, 5)] : [scale(r, 5), scale(g, 5), scale(b, 5)], i);
    else data.set([r, g, b], i);
  }
  return { width: image.width, height: image.height, data };
}

type Entry = [tag: number, type: 1 | 3 | 4, values: number[]];

/** An IFD's entries; the blob, if any, is stored in the file and its offset/length filled by `blobEntries`. */
export interface RawIfd {
  entries: Entry[];
  blob?: Uint8Array;
  /** How the blob is referenced: a single JPEG-compressed strip, or JPEGInterchangeFormat (+Length). */
  blobAs?: "strip" | "jpeg-interchange";
}

/**
 * A little-endian TIFF container as RAW files are laid out: IFD0 (with its blob and orientation) -> SubIFDs of
 * IFD0, and IFD1 chained after IFD0. Every entry value fits in 4 bytes (no external values).
 */
export function buildRawTiff({ ifd0, subIfds = [], ifd1 }: { ifd0: RawIfd; subIfds?: RawIfd[]; ifd1?: RawIfd }): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(8)];
  let size = 8;
  const place = (bytes: Uint8Array) => {
    const at = size;
    parts.push(bytes);
    size += bytes.length;
    if (size % 2) {
      parts.push(new Uint8Array(1));
      size++;
    }
    return at;
  };
  const withBlob = (ifd: RawIfd): Entry[] => {
    if (!ifd.blob) return ifd.entries;
    const at = place(ifd.blob);
    const refs: Entry[] = ifd.blobAs === "jpeg-interchange"
      ? [[0x201, 4, [at]], [0x202, 4, [ifd.blob.length]]]
      : [[0x111, 4, [at]], [0x117, 4, [ifd.blob.length]]];
    return [...ifd.entries, ...refs];
  };
  const placeIfd = (entries: Entry[], next: number) => {
    const sorted = [...entries].sort((a, b) => a[0] - b[0]);
    const bytes = new Uint8Array(2 + 12 * sorted.length + 4);
    const v = new DataView(bytes.buffer);
    v.setUint16(0, sorted.length, true);
    sorted.forEach(([tag, type, values], i) => {
      const e = 2 + 12 * i;
      v.setUint16(e, tag, true);
      v.setUint16(e + 2, type, true);
      v.setUint32(e + 4, values.length, true);
      values.forEach((value, k) => {
        if (type === 1) v.setUint8(e + 8 + k, value);
        else if (type === 3) v.setUint16(e + 8 + 2 * k, value, true);
        else v.setUint32(e + 8 + 4 * k, value, true);
      });
    });
    v.setUint32(2 + 12 * sorted.length, next, true);
    return place(bytes);
  };
  const subOffsets = subIfds.map((s) => placeIfd(withBlob(s), 0));
  const ifd1Offset = ifd1 ? placeIfd(withBlob(ifd1), 0) : 0;
  const entries0 = withBlob(ifd0);
  if (subOffsets.length > 0) entries0.push([0x14a, 4, subOffsets.slice(0, 1)]);
  const ifd0Offset = placeIfd(entries0, ifd1Offset);
  const header = parts[0]!;
  header.set([0x49, 0x49, 0x2a, 0x00]);
  new DataView(header.buffer).setUint32(4, ifd0Offset, true);
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
