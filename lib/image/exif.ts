/**
 * Capture time from EXIF: DateTimeOriginal (tag 0x9003 in the Exif sub-IFD), the moment the shutter fired as the
 * camera's clock showed it. Later stages (eras: which faces belong to which years) need when a photo was TAKEN;
 * the file's mtime says when it was copied or edited, so it is never used as a stand-in: no EXIF time means null.
 *
 * The value carries no time zone (EXIF 2.31's OffsetTimeOriginal is rare), so it is returned as a Date whose UTC
 * fields are the camera's wall-clock fields ("UTC-naive"), matching the store's plain TIMESTAMP column.
 */
import sharp from "sharp";

/** The TIFF tag of IFD0 that points at the Exif sub-IFD. Exported, with the others, for writers of test EXIF. */
export const TAG_EXIF_IFD_POINTER = 0x8769;
export const TAG_DATE_TIME_ORIGINAL = 0x9003;
export const TYPE_ASCII = 2;
export const TYPE_LONG = 4;
/** Some writers store ASCII strings as UNDEFINED. */
const TYPE_UNDEFINED = 7;
/** Bytes of one IFD entry: tag, type, count, value-or-offset. */
const ENTRY_BYTES = 12;
/** A corrupt IFD can claim 65535 entries; no real IFD0/ExifIFD has more than a few hundred. */
const MAX_ENTRIES = 1024;
/** The APP1 payload of JPEG starts with this before the TIFF header; sharp's `metadata().exif` includes it. */
const EXIF_PREFIX = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"

/** "YYYY:MM:DD HH:MM:SS" (EXIF 2.x); some writers use '-' in the date or a 'T'; trailing bytes are ignored. */
const EXIF_DATE = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/;

/**
 * DateTimeOriginal of a raw EXIF block (a TIFF structure, with or without the JPEG "Exif\0\0" prefix), as a
 * UTC-naive Date; null when the block is absent, malformed, lacks the tag, or holds a blank/invalid date
 * ("0000:00:00 00:00:00" is common). Every offset is bounds-checked: junk gives null, never an exception.
 */
export function exifDateTimeOriginal(exif: Uint8Array | null | undefined): Date | null {
  if (!exif) return null;
  let tiff = exif;
  if (EXIF_PREFIX.every((b, i) => exif[i] === b)) tiff = exif.subarray(EXIF_PREFIX.length);
  if (tiff.length < 8) return null;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = view.getUint16(0, false);
  const little = order === 0x4949; // "II"; "MM" = 0x4d4d is big-endian
  if (!little && order !== 0x4d4d) return null;
  if (view.getUint16(2, little) !== 42) return null;

  const u16 = (at: number) => (at >= 0 && at + 2 <= tiff.length ? view.getUint16(at, little) : undefined);
  const u32 = (at: number) => (at >= 0 && at + 4 <= tiff.length ? view.getUint32(at, little) : undefined);

  /** The entry offset of `tag` in the IFD at `ifd`, if the IFD is well formed and holds it. */
  const findEntry = (ifd: number, tag: number): number | undefined => {
    const count = u16(ifd);
    if (count === undefined || count > MAX_ENTRIES || ifd + 2 + count * ENTRY_BYTES > tiff.length) return undefined;
    for (let i = 0; i < count; i++) {
      const entry = ifd + 2 + i * ENTRY_BYTES;
      if (u16(entry) === tag) return entry;
    }
    return undefined;
  };

  const ifd0 = u32(4);
  if (ifd0 === undefined) return null;
  const pointer = findEntry(ifd0, TAG_EXIF_IFD_POINTER);
  if (pointer === undefined) return null;
  // The pointer is a LONG (some writers use type IFD = 13, also 4 bytes); its value is the sub-IFD's offset.
  const pointerType = u16(pointer + 2);
  if (pointerType !== TYPE_LONG && pointerType !== 13) return null;
  const exifIfd = u32(pointer + 8);
  if (exifIfd === undefined || exifIfd === ifd0) return null;
  const entry = findEntry(exifIfd, TAG_DATE_TIME_ORIGINAL);
  if (entry === undefined) return null;

  const type = u16(entry + 2);
  const count = u32(entry + 4);
  if ((type !== TYPE_ASCII && type !== TYPE_UNDEFINED) || count === undefined || count < 19 || count > 64) return null;
  const start = count <= 4 ? entry + 8 : u32(entry + 8);
  if (start === undefined || start + count > tiff.length) return null;
  let text = "";
  for (let i = 0; i < count; i++) {
    const c = tiff[start + i]!;
    if (c === 0) break;
    text += String.fromCharCode(c);
  }
  return parseExifDate(text);
}

/** An EXIF date string as a UTC-naive Date; null when blank or not a real calendar time. */
export function parseExifDate(text: string): Date | null {
  const m = EXIF_DATE.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC maps years 0..99 to 1900..1999 and rolls Feb 30 over to March: refuse what does not round-trip.
  date.setUTCFullYear(year);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date;
}

/**
 * The capture time written in an image file's bytes (EXIF DateTimeOriginal), or null: no EXIF, no such tag, a
 * format sharp cannot read (PSD, broken files). Reads the header only, never decodes pixels.
 */
export async function readCaptureTime(bytes: Uint8Array): Promise<Date | null> {
  if (bytes.length === 0) return null;
  try {
    const { exif } = await sharp(bytes).metadata();
    return exifDateTimeOriginal(exif);
  } catch {
    return null; // not an image sharp knows: the scan records its error elsewhere
  }
}
