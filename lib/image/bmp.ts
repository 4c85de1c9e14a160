/**
 * Windows/OS2 BMP decoding. libvips (and so sharp) has no BMP loader of its own, and BMP is simple enough to read
 * here: 1/4/8-bit palettes, 16/24/32-bit direct colour with or without bit masks, RLE4 and RLE8, bottom-up and
 * top-down rows. Alpha is dropped, as cv2.imread(IMREAD_COLOR) drops it. Embedded JPEG/PNG BMPs (printer formats)
 * are refused by name.
 */
import type { RgbImage } from "../types";
import { ImageLoadError } from "./errors";

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

const FILE_HEADER_BYTES = 14;
const CORE_HEADER_BYTES = 12;

/** A channel mask as shift + bit count, so any 1..32-bit field scales to 0..255. */
interface Field {
  shift: number;
  bits: number;
}

function fieldOf(mask: number): Field {
  if (mask === 0) return { shift: 0, bits: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (shift + bits < 32 && ((mask >>> (shift + bits)) & 1) === 1) bits++;
  return { shift, bits };
}

function readField(value: number, f: Field): number {
  if (f.bits === 0) return 0;
  const v = (value >>> f.shift) & (f.bits >= 32 ? 0xffffffff : (1 << f.bits) - 1);
  return f.bits >= 8 ? v >>> (f.bits - 8) : Math.round((v * 255) / ((1 << f.bits) - 1));
}

/** Decode BMP file bytes into 8-bit RGB. Throws ImageLoadError naming `file` and the reason. */
export function decodeBmp(bytes: Uint8Array, file: string, maxPixels: number): RgbImage {
  const fail = (reason: "truncated" | "corrupt" | "unsupported-format" | "too-many-pixels", detail: string) =>
    new ImageLoadError(file, reason, detail);
  if (bytes.length < FILE_HEADER_BYTES + CORE_HEADER_BYTES) throw fail("truncated", "the BMP headers are cut short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  let width: number, height: number, bpp: number, compression = BI_RGB, colorsUsed = 0;
  const core = headerSize === CORE_HEADER_BYTES;
  if (core) {
    width = view.getUint16(18, true);
    height = view.getInt16(20, true);
    bpp = view.getUint16(24, true);
  } else {
    if (headerSize < 40 || FILE_HEADER_BYTES + headerSize > bytes.length) throw fail("corrupt", `BMP info header of ${headerSize} bytes`);
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bpp = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    colorsUsed = view.getUint32(46, true);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  if (width <= 0 || height <= 0) throw fail("corrupt", `BMP size ${width}x${height}`);
  if (width * height > maxPixels) {
    throw fail("too-many-pixels", `${width}x${height} is ${(width * height / 1e6).toFixed(1)} megapixels, over the limit of ${(maxPixels / 1e6).toFixed(1)}`);
  }
  if (compression === BI_JPEG || compression === BI_PNG) throw fail("unsupported-format", "a BMP wrapping JPEG or PNG data (a printer format)");
  if (![BI_RGB, BI_RLE8, BI_RLE4, BI_BITFIELDS, BI_ALPHABITFIELDS].includes(compression)) {
    throw fail("corrupt", `unknown BMP compression ${compression}`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw fail("corrupt", `BMP with ${bpp} bits per pixel`);

  // Bit masks: inside V2+ headers (>= 52 bytes), or right after a 40-byte header when BITFIELDS says so.
  let masks: [number, number, number] | undefined;
  let afterHeader = FILE_HEADER_BYTES + headerSize;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    const at = headerSize >= 52 ? FILE_HEADER_BYTES + 40 : afterHeader;
    if (at + 12 > bytes.length) throw fail("truncated", "the BMP bit masks are cut short");
    masks = [view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true)];
    if (headerSize === 40) afterHeader += compression === BI_ALPHABITFIELDS ? 16 : 12;
  } else if (bpp === 16) masks = [0x7c00, 0x03e0, 0x001f];
  else if (bpp === 32) masks = [0xff0000, 0x00ff00, 0x0000ff];

  let palette: Uint8Array | undefined; // RGB triples
  if (bpp <= 8) {
    const entries = colorsUsed > 0 && colorsUsed <= 1 << bpp ? colorsUsed : 1 << bpp;
    const entryBytes = core ? 3 : 4;
    palette = new Uint8Array((1 << bpp) * 3);
    for (let i = 0; i < entries; i++) {
      const at = afterHeader + i * entryBytes;
      if (at + 3 > bytes.length) throw fail("truncated", "the BMP palette is cut short");
      palette[i * 3] = bytes[at + 2]!;
      palette[i * 3 + 1] = bytes[at + 1]!;
      palette[i * 3 + 2] = bytes[at]!;
    }
  }
  if (pixelOffset >= bytes.length) throw fail("truncated", "the BMP pixel data is missing");

  const out = new Uint8Array(width * height * 3);
  /** Output row of stored row `r` (rows are stored bottom-up unless the height was negative). */
  const rowOf = (r: number) => (topDown ? r : height - 1 - r);

  if (compression === BI_RLE8 || compression === BI_RLE4) {
    if (!palette) throw fail("corrupt", "an RLE BMP without a palette");
    decodeRle(bytes, pixelOffset, width, height, compression === BI_RLE4, (x, r, index) => {
      const to = (rowOf(r) * width + x) * 3;
      out[to] = palette[index * 3]!;
      out[to + 1] = palette[index * 3 + 1]!;
      out[to + 2] = palette[index * 3 + 2]!;
    });
    return { width, height, data: out };
  }

  const stride = Math.ceil((width * bpp) / 32) * 4;
  // The last row need not be padded: only the bytes it uses must be there.
  const needed = pixelOffset + stride * (height - 1) + Math.ceil((width * bpp) / 8);
  if (needed > bytes.length) throw fail("truncated", `the BMP pixel data ends at byte ${bytes.length} of ${needed}`);
  const fields = masks?.map(fieldOf);
  for (let r = 0; r < height; r++) {
    const row = pixelOffset + r * stride;
    let to = rowOf(r) * width * 3;
    for (let x = 0; x < width; x++, to += 3) {
      if (palette) {
        const bitPos = x * bpp;
        const byte = bytes[row + (bitPos >> 3)]!;
        const index = (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1);
        out[to] = palette[index * 3]!;
        out[to + 1] = palette[index * 3 + 1]!;
        out[to + 2] = palette[index * 3 + 2]!;
      } else if (bpp === 24) {
        const at = row + x * 3;
        out[to] = bytes[at + 2]!;
        out[to + 1] = bytes[at + 1]!;
        out[to + 2] = bytes[at]!;
      } else {
        const value = bpp === 16 ? view.getUint16(row + x * 2, true) : view.getUint32(row + x * 4, true);
        out[to] = readField(value, fields![0]!);
        out[to + 1] = readField(value, fields![1]!);
        out[to + 2] = readField(value, fields![2]!);
      }
    }
  }
  return { width, height, data: out };
}

/** Run-length decoding of RLE8/RLE4 pixel data; `put(x, storedRow, paletteIndex)` for every pixel written. */
function decodeRle(
  bytes: Uint8Array,
  start: number,
  width: number,
  height: number,
  nibbles: boolean,
  put: (x: number, row: number, index: number) => void,
): void {
  let at = start, x = 0, row = 0;
  const emit = (index: number) => {
    if (x < width && row < height) put(x, row, index);
    x++;
  };
  while (at + 1 < bytes.length && row < height) {
    const count = bytes[at]!, value = bytes[at + 1]!;
    at += 2;
    if (count > 0) {
      for (let i = 0; i < count; i++) emit(nibbles ? (i % 2 === 0 ? value >> 4 : value & 15) : value);
    } else if (value === 0) {
      x = 0;
      row++;
    } else if (value === 1) {
      return;
    } else if (value === 2) {
      x += bytes[at] ?? 0;
      row += bytes[at + 1] ?? 0;
      at += 2;
    } else {
      const literalBytes = nibbles ? Math.ceil(value / 2) : value;
      for (let i = 0; i < value; i++) {
        const b = bytes[at + (nibbles ? i >> 1 : i)] ?? 0;
        emit(nibbles ? (i % 2 === 0 ? b >> 4 : b & 15) : b);
      }
      at += literalBytes + (literalBytes % 2); // absolute runs are padded to 16 bits
    }
  }
}
