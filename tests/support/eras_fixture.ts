/**
 * The eras fixture: labelled photos of ../shared/faces copied to a temp folder and stamped with EXIF
 * DateTimeOriginal (a synthetic capture-time layout), scanned into a temp store, and made into face sets:
 *
 *   faceset_001 (dated)   deepface_p01 stamped 1994-1998, deepface_p10 stamped 2014-2018, 3 photos of
 *                         deepface_p03 stamped 1978-1979 (a thin era: fewer than minEraFaces)
 *   faceset_002 (undated) the same p01 and p10 photos with every EXIF capture time removed
 *
 * The stamp is spliced into the JPEG as an APP1 segment by hand (no re-encoding: pixels stay the source's), so the
 * scan reads the time exactly as it reads a camera's.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import {
  addFacesets,
  DEFAULT_CONFIG,
  type FaceRow,
  FaceStore,
  renderFaces,
  TAG_DATE_TIME_ORIGINAL,
  TAG_EXIF_IFD_POINTER,
  TYPE_ASCII,
  TYPE_LONG,
  unitMean,
  cosDist,
} from "../../lib/mod";
import { FACES } from "./fixtures";
import { type LabelledPhoto, photosOf, scanInto, sharedLabels } from "./labelled";

const TAG_ORIENTATION = 0x0112;
const TYPE_SHORT = 3;
const EXIF_HEADER = Buffer.from("Exif\0\0", "latin1");

/** "YYYY:MM:DD HH:MM:SS" of a UTC-naive Date (camera wall clock). */
export function exifDateText(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}:${p(d.getUTCMonth() + 1)}:${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/**
 * A little-endian TIFF block: IFD0 (Orientation when not 1, the ExifIFD pointer) -> ExifIFD (DateTimeOriginal),
 * with the "Exif\0\0" prefix of a JPEG APP1 payload. Without a time, IFD0 holds only the orientation.
 */
export function exifPayload(time: Date | null, orientation = 1): Buffer {
  const ifd0Entries: [number, number, number, number][] = []; // tag, type, count, value
  if (orientation !== 1) ifd0Entries.push([TAG_ORIENTATION, TYPE_SHORT, 1, orientation]);
  const ifd0Size = 2 + 12 * (ifd0Entries.length + (time ? 1 : 0)) + 4;
  const exifIfd = 8 + ifd0Size;
  if (time) ifd0Entries.push([TAG_EXIF_IFD_POINTER, TYPE_LONG, 1, exifIfd]);
  const text = Buffer.from(time ? exifDateText(time) + "\0" : "", "latin1"); // 20 bytes with the NUL
  const size = 8 + ifd0Size + (time ? 2 + 12 + 4 + text.length : 0);
  const tiff = Buffer.alloc(size);
  tiff.write("II", 0, "latin1");
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(ifd0Entries.length, 8);
  ifd0Entries.forEach(([tag, type, count, value], i) => {
    const at = 10 + 12 * i;
    tiff.writeUInt16LE(tag, at);
    tiff.writeUInt16LE(type, at + 2);
    tiff.writeUInt32LE(count, at + 4);
    if (type === TYPE_SHORT) tiff.writeUInt16LE(value, at + 8);
    else tiff.writeUInt32LE(value, at + 8);
  });
  tiff.writeUInt32LE(0, 10 + 12 * ifd0Entries.length); // no IFD1
  if (time) {
    tiff.writeUInt16LE(1, exifIfd);
    tiff.writeUInt16LE(TAG_DATE_TIME_ORIGINAL, exifIfd + 2);
    tiff.writeUInt16LE(TYPE_ASCII, exifIfd + 4);
    tiff.writeUInt32LE(text.length, exifIfd + 6);
    tiff.writeUInt32LE(exifIfd + 18, exifIfd + 10);
    tiff.writeUInt32LE(0, exifIfd + 14);
    text.copy(tiff, exifIfd + 18);
  }
  return Buffer.concat([EXIF_HEADER, tiff]);
}

/**
 * `jpeg` with its EXIF APP1 segments replaced by one holding `time` (and the source's orientation, so the image
 * still decodes upright); `time` null removes every capture time. Entropy-coded data is copied untouched.
 */
export function stampJpeg(jpeg: Uint8Array, time: Date | null, orientation = 1): Buffer {
  const src = Buffer.from(jpeg);
  if (src[0] !== 0xff || src[1] !== 0xd8) throw new Error("stampJpeg: not a JPEG (no SOI marker)");
  const kept: Buffer[] = [];
  let at = 2;
  let insertAt = 0; // index in `kept` after which our APP1 goes: after APP0 (JFIF) when it leads
  // Walk the header segments up to SOS; everything from SOS on is copied as is.
  while (at + 4 <= src.length && src[at] === 0xff) {
    const marker = src[at + 1]!;
    if (marker === 0xda) break; // SOS
    const length = src.readUInt16BE(at + 2);
    const segment = src.subarray(at, at + 2 + length);
    const isExif = marker === 0xe1 && segment.subarray(4, 10).equals(EXIF_HEADER);
    if (!isExif) {
      kept.push(segment);
      if (marker === 0xe0 && kept.length === 1) insertAt = 1;
    }
    at += 2 + length;
  }
  const payload = time || orientation !== 1 ? exifPayload(time, orientation) : undefined;
  const app1: Buffer[] = [];
  if (payload) {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(0xffe1, 0);
    head.writeUInt16BE(payload.length + 2, 2);
    app1.push(head, payload);
  }
  return Buffer.concat([src.subarray(0, 2), ...kept.slice(0, insertAt), ...app1, ...kept.slice(insertAt), src.subarray(at)]);
}

/** A real JPEG (some files named .jpg are WebP): only these can carry the spliced APP1 segment. */
export function isJpeg(file: string): boolean {
  const head = readFileSync(file).subarray(0, 3);
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

/** Copy `photo` to `<dir>/<photo.file>` stamped with `time` (null: no capture time); returns the path. */
export async function copyStamped(photo: LabelledPhoto, dir: string, time: Date | null): Promise<string> {
  const from = path.join(FACES, photo.file);
  const bytes = readFileSync(from);
  const { orientation = 1 } = await sharp(bytes).metadata();
  const to = path.join(dir, photo.file);
  mkdirSync(path.dirname(to), { recursive: true });
  writeFileSync(to, stampJpeg(bytes, time, orientation));
  return to;
}

export interface StampedPhoto {
  file: string;
  identity: string;
  /** The stamped capture time (UTC-naive), null for the undated copies. */
  time: Date | null;
}

export interface ErasFixture {
  root: string;
  library: string;
  store: string;
  /** Every copied photo: absolute path, identity, stamp. */
  photos: StampedPhoto[];
  /** faceset numbers. */
  dated: number;
  undated: number;
}

/** `count` dates in [firstYear, lastYear], cycling through the years, on varying days. */
export function stampsIn(firstYear: number, lastYear: number, count: number): Date[] {
  const span = lastYear - firstYear + 1;
  return Array.from({ length: count }, (_, i) => new Date(Date.UTC(firstYear + (i % span), (i * 5) % 12, 1 + ((i * 7) % 27), 12, i, 0)));
}

/** The eras layout: who is stamped with which years (see the module note). */
export const ERAS_LAYOUT = [
  { identity: "deepface_p01", years: [1994, 1998], take: 8 },
  { identity: "deepface_p10", years: [2014, 2018], take: 8 },
  { identity: "deepface_p03", years: [1978, 1979], take: 3 },
] as const;

/** The largest face of each file (a portrait's subject), in `files` order; files without a face are skipped. */
function subjectFaces(rows: readonly FaceRow[], files: readonly string[]): FaceRow[] {
  return files.flatMap((file) => {
    const faces = rows.filter((r) => r.path === file).sort((a, b) => b.faceShortPx - a.faceShortPx);
    return faces[0] ? [faces[0]] : [];
  });
}

/** A hand-sorted set of `rows` with crops from alignedCrop (renderFaces) and centroid distances. */
async function handSorted(rows: readonly FaceRow[], dim: number) {
  const centroid = unitMean(rows.map((r) => r.embedding), dim);
  const faces = await renderFaces(rows.map((row) => ({ row, centroidCosDist: cosDist(row.embedding, centroid) })), DEFAULT_CONFIG);
  return { origin: "hand-sorted" as const, provenance: "eras test fixture", faces };
}

/** Build the fixture under `root` (created); takes ~20 s with the small test models. */
export async function buildErasFixture(root: string): Promise<ErasFixture> {
  const labels = sharedLabels();
  const datedDir = path.join(root, "photos", "dated");
  const undatedDir = path.join(root, "photos", "undated");
  const photos: StampedPhoto[] = [];
  for (const { identity, years, take } of ERAS_LAYOUT) {
    // Some files named .jpg are WebP: only real JPEGs can carry the spliced APP1 segment.
    const mine = photosOf(labels, identity).filter((p) => isJpeg(path.join(FACES, p.file))).slice(0, take);
    const stamps = stampsIn(years[0], years[1], mine.length);
    for (const [i, photo] of mine.entries()) {
      photos.push({ file: await copyStamped(photo, datedDir, stamps[i]!), identity, time: stamps[i]! });
      if (identity !== "deepface_p03") {
        photos.push({ file: await copyStamped(photo, undatedDir, null), identity, time: null });
      }
    }
  }
  const store = path.join(root, "store.duckdb");
  await scanInto(store, [datedDir, undatedDir]);

  const library = path.join(root, "library");
  const s = await FaceStore.open(store, { readOnly: true });
  try {
    const rows = await s.selectFaces();
    const dim = s.recognizer!.dim;
    const dated = subjectFaces(rows, photos.filter((p) => p.time !== null).map((p) => p.file));
    const undated = subjectFaces(rows, photos.filter((p) => p.time === null).map((p) => p.file));
    await addFacesets(library, [await handSorted(dated, dim), await handSorted(undated, dim)]);
  } finally {
    await s.close();
  }
  return { root, library, store, photos, dated: 1, undated: 2 };
}
