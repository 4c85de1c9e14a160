/**
 * A minimal, bounds-checked reader of TIFF image file directories (IFDs), enough to find the JPEG previews that
 * TIFF-based RAW files (DNG, NEF, CR2, ARW) embed and the orientation they are shown in. It never throws on junk:
 * a malformed structure just yields fewer entries.
 */

export const TAG_NEW_SUBFILE_TYPE = 0x00fe;
export const TAG_IMAGE_WIDTH = 0x0100;
export const TAG_IMAGE_LENGTH = 0x0101;
export const TAG_COMPRESSION = 0x0103;
export const TAG_STRIP_OFFSETS = 0x0111;
export const TAG_ORIENTATION = 0x0112;
export const TAG_STRIP_BYTE_COUNTS = 0x0117;
export const TAG_SUB_IFDS = 0x014a;
export const TAG_JPEG_IF_OFFSET = 0x0201;
export const TAG_JPEG_IF_LENGTH = 0x0202;
export const TAG_EXIF_IFD = 0x8769;
export const TAG_DNG_VERSION = 0xc612;

export const TYPE_BYTE = 1;
export const TYPE_SHORT = 3;
export const TYPE_LONG = 4;
/** TIFF 6.0 / Adobe: an IFD offset, stored like a LONG. */
const TYPE_IFD = 13;

/** A corrupt IFD can claim 65535 entries; real RAW IFDs hold at most a few hundred. */
const MAX_ENTRIES = 1024;
/** IFDs visited at most (a multi-page TIFF's chain and SubIFD trees); with the visited set, guards against loops. */
const MAX_IFDS = 10_000;

/** One IFD: tag -> its numeric values (BYTE, SHORT, LONG or IFD types only; other types are left out). */
export interface Ifd {
  offset: number;
  /** Where the IFD was found: "IFD0", "IFD1", "IFD0/SubIFD0", ... (for messages). */
  name: string;
  values: Map<number, number[]>;
}

export interface TiffStructure {
  littleEndian: boolean;
  /** Every IFD reachable from the header: the main chain, SubIFDs and the Exif IFD, in visiting order. */
  ifds: Ifd[];
}

/** Whether the bytes start with a TIFF header ("II*\0" or "MM\0*"). */
export function isTiffHeader(bytes: Uint8Array): boolean {
  return (bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 0x2a && bytes[3] === 0x00) ||
    (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0x00 && bytes[3] === 0x2a);
}

/** Read the IFD tree of a TIFF file; null when the header is not TIFF. */
export function readTiffStructure(bytes: Uint8Array): TiffStructure | null {
  if (bytes.length < 8 || !isTiffHeader(bytes)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  const u16 = (at: number) => (at >= 0 && at + 2 <= bytes.length ? view.getUint16(at, little) : undefined);
  const u32 = (at: number) => (at >= 0 && at + 4 <= bytes.length ? view.getUint32(at, little) : undefined);
  const ifds: Ifd[] = [];
  const seen = new Set<number>();

  const readIfd = (offset: number, name: string): Ifd | undefined => {
    if (seen.has(offset) || ifds.length >= MAX_IFDS) return undefined;
    const count = u16(offset);
    if (count === undefined || count === 0 || count > MAX_ENTRIES || offset + 2 + count * 12 + 4 > bytes.length) return undefined;
    seen.add(offset);
    const values = new Map<number, number[]>();
    for (let i = 0; i < count; i++) {
      const entry = offset + 2 + i * 12;
      const tag = u16(entry)!;
      const type = u16(entry + 2)!;
      const n = u32(entry + 4)!;
      const size = type === TYPE_BYTE ? 1 : type === TYPE_SHORT ? 2 : type === TYPE_LONG || type === TYPE_IFD ? 4 : 0;
      if (size === 0 || n === 0 || n > 4096) continue;
      const at = n * size <= 4 ? entry + 8 : u32(entry + 8)!;
      if (at + n * size > bytes.length) continue;
      const list: number[] = [];
      for (let k = 0; k < n; k++) list.push(size === 1 ? bytes[at + k]! : size === 2 ? u16(at + 2 * k)! : u32(at + 4 * k)!);
      values.set(tag, list);
    }
    const ifd: Ifd = { offset, name, values };
    ifds.push(ifd);
    return ifd;
  };

  const visitTree = (offset: number, name: string) => {
    const ifd = readIfd(offset, name);
    if (!ifd) return;
    (ifd.values.get(TAG_SUB_IFDS) ?? []).forEach((sub, i) => visitTree(sub, `${name}/SubIFD${i}`));
    const exif = ifd.values.get(TAG_EXIF_IFD)?.[0];
    if (exif !== undefined) visitTree(exif, `${name}/Exif`);
  };

  // The main chain: IFD0 -> IFD1 -> ... through each IFD's next-IFD pointer.
  let next = u32(4);
  for (let i = 0; next !== undefined && next !== 0 && i < MAX_IFDS; i++) {
    const start = next;
    visitTree(start, `IFD${i}`);
    const count = u16(start);
    if (count === undefined || count > MAX_ENTRIES) break;
    next = u32(start + 2 + count * 12);
    if (next !== undefined && seen.has(next)) break;
  }
  return { littleEndian: little, ifds };
}

/** The first value of `tag` in `ifd`, if present. */
export function ifdValue(ifd: Ifd, tag: number): number | undefined {
  return ifd.values.get(tag)?.[0];
}
