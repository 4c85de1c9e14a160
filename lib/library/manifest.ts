/**
 * The owner's face-set library on disk, as typed records.
 *
 *   <library>/manifest.json             LibraryManifest: `facesets` and `thin_eras`
 *   <library>/faceset_NNN/manifest.json FacesetManifest: one record per face, crops beside it
 *   <library>/faceset_NNN/*.png         aligned face crops
 *   <library>/_thin/<name>/             small sets ("thin eras"), listed in `thin_eras`
 *
 * JSON keys are snake_case (the owner's files came from Python); the TypeScript records use the project's
 * camelCase-with-units names (`det_score` <-> `detScore`, `face_short` <-> `faceShortPx`). Every record keeps the
 * JSON fields this version does not know in `extra`, and writes them back, so a read -> write round trip never
 * drops what a newer (or older) tool put there.
 *
 * [Note: untrusted manifests] A manifest may come from anywhere. Reading validates every field and fails with a
 * one-line LibraryError naming the file and the JSON path; crop paths must stay inside their set folder.
 */
import type { BBox, Landmarks5 } from "../types";
import { LibraryError } from "./errors";
import { isSha256Hex } from "../util/hash";

/** How a set came to be. */
export type FacesetOrigin = "auto-cluster" | "hand-sorted" | "era-split" | "discovered";
export const FACESET_ORIGINS: readonly FacesetOrigin[] = ["auto-cluster", "hand-sorted", "era-split", "discovered"];

/** Free text, or a record (pipeline version, model hashes, resolved config, command line...). */
export type Provenance = string | { [key: string]: unknown };

/** JSON fields a record does not know, kept verbatim for the round trip. */
export type ExtraFields = { [key: string]: unknown };

/** One entry of the top-level `facesets` array. */
export interface FacesetEntry {
  /** The set's folder name, `faceset_NNN` (see facesetName). */
  name: string;
  /** Number of faces in the set's manifest. */
  count: number;
  origin: FacesetOrigin;
  provenance?: Provenance;
  extra?: ExtraFields;
}

/** One entry of `thin_eras`: a small set kept under `<library>/_thin/<name>/`. */
export interface ThinEra {
  name: string;
  count?: number;
  origin?: FacesetOrigin;
  provenance?: Provenance;
  extra?: ExtraFields;
}

/** A thin era as an object, or as its bare folder name (both forms are read and written back as they were). */
export type ThinEraEntry = string | ThinEra;

/** `<library>/manifest.json`. */
export interface LibraryManifest {
  facesets: FacesetEntry[];
  thinEras: ThinEraEntry[];
  extra?: ExtraFields;
}

/** One face of a set (JSON keys in brackets). */
export interface FacesetFace {
  /** [source] The source image path as recorded when the face was added. */
  source: string;
  /** [bbox] In pixels of the EXIF-oriented source image (see types.ts). */
  bbox: BBox;
  /** [det_score] */
  detScore: number;
  /** [face_short] min(bbox width, height), px. */
  faceShortPx: number;
  /** [blur] Laplacian variance over the bbox crop; higher is sharper. */
  blur: number;
  /** [crop] The crop file, relative to the set folder; never leaves it (see checkCropPath). */
  crop: string;
  /** [centroid_cos_dist] Cosine distance of the face's embedding to the set's centroid when it was written. */
  centroidCosDist: number;
  /** [face_id] Deterministic face id (file hash + box), when known. */
  faceId?: string;
  /** [source_sha256] sha256 of the source file's bytes, lowercase hex, when known. */
  sourceSha256?: string;
  /** [kps] The five landmarks in source pixels, when known (lets a crop be re-made at another size). */
  kps?: Landmarks5;
  extra?: ExtraFields;
}

/** `<library>/faceset_NNN/manifest.json`. */
export interface FacesetManifest {
  /** The set's folder name; optional on read (older files may lack it), always written. */
  name?: string;
  faces: FacesetFace[];
  extra?: ExtraFields;
}

/**
 * Identity of a face across runs: its face_id when recorded, otherwise source file (sha256, else path) + bbox.
 * [Note: face ids] face ids are deterministic from file hash + box, so the two forms agree on the same data.
 */
export function faceKey(face: FacesetFace): string {
  return face.faceId ?? `${face.sourceSha256 ?? face.source}|${face.bbox.join(",")}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Names and numbers

const FACESET_PREFIX = "faceset_";
/** Set numbers are zero padded to this many digits; 1000 and above simply use more digits (faceset_1000). */
const FACESET_DIGITS = 3;
const CANONICAL_NAME = /^faceset_(\d{3,})$/;

/** `faceset_001` for 1, `faceset_1000` for 1000. */
export function facesetName(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`faceset number must be a non-negative integer, got ${n}`);
  }
  return FACESET_PREFIX + String(n).padStart(FACESET_DIGITS, "0");
}

/** The number of a canonical set name (`faceset_007` -> 7); undefined for anything else (`faceset_07`, `x`). */
export function facesetNumber(name: string): number | undefined {
  const m = CANONICAL_NAME.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return facesetName(n) === name ? n : undefined;
}

/**
 * The number a folder or entry name claims for numbering purposes: canonical names, and also non-canonical ones
 * (`faceset_07`, `faceset_012_1990s`) so a new set never takes a number that is visibly in use.
 */
export function claimedFacesetNumber(name: string): number | undefined {
  const m = /^faceset_(\d+)(?!\d)/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function thinEraName(entry: ThinEraEntry): string {
  return typeof entry === "string" ? entry : entry.name;
}

// ---------------------------------------------------------------------------------------------------------------
// Crop paths

/**
 * Why `crop` is not a safe path inside its set folder, or undefined when it is. Refused: empty, absolute
 * (`/x`, `C:x`), backslashes (a separator on Windows), empty, `.` or `..` segments (even `a/../b`, which stays
 * inside on paper but not once `a` is a symlink), NUL, and `manifest.json` itself.
 */
export function checkCropPath(crop: string): string | undefined {
  if (crop.length === 0) return "is empty";
  if (crop.includes("\0")) return "contains a NUL character";
  if (crop.includes("\\")) return "contains a backslash (use / and stay inside the set folder)";
  if (crop.startsWith("/") || /^[A-Za-z]:/.test(crop)) return "is absolute; crop paths are relative to the set folder";
  const segments = crop.split("/");
  if (segments.includes("..")) return "has a '..' segment and could leave the set folder";
  if (segments.some((s) => s === "" || s === ".")) return "has an empty or '.' segment; write it normalised";
  if (crop === MANIFEST_FILE) return "is the set's own manifest";
  return undefined;
}

export const MANIFEST_FILE = "manifest.json";

// ---------------------------------------------------------------------------------------------------------------
// Validation

type JsonObject = { [key: string]: unknown };

function describe(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "number") return String(value); // NaN and Infinity, which JSON would print as null
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const at = (path: string, key: string | number) =>
  typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;

/** Field checks that fail with `<file>: <json path>: <what>` (one line). */
class Checker {
  constructor(readonly file: string) {}

  fail(path: string, message: string): never {
    throw new LibraryError(`${this.file}: ${path === "" ? "(top level)" : path}: ${message}`, this.file, path);
  }

  object(value: unknown, path: string): JsonObject {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
    }
    return value as JsonObject;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `expected an array, got ${describe(value)}`);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string" || value.length === 0) {
      this.fail(path, `expected a non-empty string, got ${describe(value)}`);
    }
    return value;
  }

  number(value: unknown, path: string): number {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.fail(path, `expected a finite number, got ${describe(value)}`);
    }
    return value;
  }

  nonNegative(value: unknown, path: string): number {
    const n = this.number(value, path);
    if (n < 0) this.fail(path, `expected a number >= 0, got ${n}`);
    return n;
  }

  count(value: unknown, path: string): number {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      this.fail(path, `expected a whole number >= 0, got ${describe(value)}`);
    }
    return value;
  }

  origin(value: unknown, path: string): FacesetOrigin {
    if (typeof value !== "string" || !FACESET_ORIGINS.includes(value as FacesetOrigin)) {
      this.fail(path, `expected one of ${FACESET_ORIGINS.join("|")}, got ${describe(value)}`);
    }
    return value as FacesetOrigin;
  }

  provenance(value: unknown, path: string): Provenance {
    if (typeof value === "string") return value;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as JsonObject;
    this.fail(path, `expected a string or an object, got ${describe(value)}`);
  }

  facesetName(value: unknown, path: string): string {
    const name = this.string(value, path);
    if (facesetNumber(name) === undefined) {
      this.fail(
        path,
        `expected a set folder name like "faceset_001" (3+ digits, no extra zeros), got ${describe(name)}`,
      );
    }
    return name;
  }

  point(value: unknown, path: string): [number, number] {
    const a = this.array(value, path);
    if (a.length !== 2) this.fail(path, `expected [x, y], got ${a.length} values`);
    return [this.number(a[0], at(path, 0)), this.number(a[1], at(path, 1))];
  }

  bbox(value: unknown, path: string): BBox {
    const a = this.array(value, path);
    if (a.length !== 4) this.fail(path, `expected [x1, y1, x2, y2], got ${a.length} values`);
    const box = a.map((v, i) => this.number(v, at(path, i))) as BBox;
    if (box[2] < box[0] || box[3] < box[1]) {
      this.fail(path, `expected x2 >= x1 and y2 >= y1, got ${JSON.stringify(box)}`);
    }
    return box;
  }

  kps(value: unknown, path: string): Landmarks5 {
    const a = this.array(value, path);
    if (a.length !== 5) this.fail(path, `expected 5 landmarks, got ${a.length}`);
    return a.map((p, i) => this.point(p, at(path, i))) as Landmarks5;
  }

  sha256(value: unknown, path: string): string {
    const s = this.string(value, path);
    if (!isSha256Hex(s)) this.fail(path, `expected 64 lowercase hex digits, got ${describe(s)}`);
    return s;
  }

  crop(value: unknown, path: string): string {
    const crop = this.string(value, path);
    const problem = checkCropPath(crop);
    if (problem) this.fail(path, `crop path ${describe(crop)} ${problem}`);
    return crop;
  }
}

/** The fields of `raw` whose keys are not in `known`, or undefined when there are none. */
function extraOf(raw: JsonObject, known: readonly string[]): ExtraFields | undefined {
  let extra: ExtraFields | undefined;
  for (const [key, value] of Object.entries(raw)) {
    if (!known.includes(key)) (extra ??= {})[key] = value;
  }
  return extra;
}

const ENTRY_KEYS = ["name", "count", "origin", "provenance"] as const;
const LIBRARY_KEYS = ["facesets", "thin_eras"] as const;
const FACE_KEYS = [
  "source",
  "bbox",
  "det_score",
  "face_short",
  "blur",
  "crop",
  "centroid_cos_dist",
  "face_id",
  "source_sha256",
  "kps",
] as const;
const FACESET_KEYS = ["name", "faces"] as const;

/** Validate a parsed `<library>/manifest.json`; `file` names it in errors. */
export function parseLibraryManifest(json: unknown, file: string): LibraryManifest {
  const c = new Checker(file);
  const raw = c.object(json, "");
  const facesets = c.array(raw.facesets, "facesets").map((value, i) => {
    const path = at("facesets", i);
    const e = c.object(value, path);
    const entry: FacesetEntry = {
      name: c.facesetName(e.name, at(path, "name")),
      count: c.count(e.count, at(path, "count")),
      origin: c.origin(e.origin, at(path, "origin")),
    };
    if (e.provenance !== undefined) entry.provenance = c.provenance(e.provenance, at(path, "provenance"));
    const extra = extraOf(e, ENTRY_KEYS);
    if (extra) entry.extra = extra;
    return entry;
  });
  const seen = new Map<string, number>();
  facesets.forEach((entry, i) => {
    const first = seen.get(entry.name);
    if (first !== undefined) {
      c.fail(at(at("facesets", i), "name"), `"${entry.name}" is already listed at facesets[${first}]`);
    }
    seen.set(entry.name, i);
  });

  // thin_eras is optional on read (a library that never had one) and always written.
  const thinRaw = raw.thin_eras === undefined ? [] : c.array(raw.thin_eras, "thin_eras");
  const thinEras = thinRaw.map((value, i): ThinEraEntry => {
    const path = at("thin_eras", i);
    if (typeof value === "string") return thinFolder(c, value, path);
    const e = c.object(value, path);
    const era: ThinEra = { name: thinFolder(c, e.name, at(path, "name")) };
    if (e.count !== undefined) era.count = c.count(e.count, at(path, "count"));
    if (e.origin !== undefined) era.origin = c.origin(e.origin, at(path, "origin"));
    if (e.provenance !== undefined) era.provenance = c.provenance(e.provenance, at(path, "provenance"));
    const extra = extraOf(e, ENTRY_KEYS);
    if (extra) era.extra = extra;
    return era;
  });

  const manifest: LibraryManifest = { facesets, thinEras };
  const extra = extraOf(raw, LIBRARY_KEYS);
  if (extra) manifest.extra = extra;
  return manifest;
}

/** A thin era's folder under `_thin/`: one plain folder name, nothing that walks elsewhere. */
function thinFolder(c: Checker, value: unknown, path: string): string {
  const name = c.string(value, path);
  if (name.includes("/") || checkCropPath(name) !== undefined || name.startsWith(".")) {
    c.fail(path, `expected a plain folder name under _thin/, got ${describe(name)}`);
  }
  return name;
}

/** Validate one face record; `path` is its JSON path (e.g. `faces[3]`). */
function parseFace(c: Checker, value: unknown, path: string): FacesetFace {
  const f = c.object(value, path);
  const face: FacesetFace = {
    source: c.string(f.source, at(path, "source")),
    bbox: c.bbox(f.bbox, at(path, "bbox")),
    detScore: c.number(f.det_score, at(path, "det_score")),
    faceShortPx: c.nonNegative(f.face_short, at(path, "face_short")),
    blur: c.nonNegative(f.blur, at(path, "blur")),
    crop: c.crop(f.crop, at(path, "crop")),
    centroidCosDist: c.number(f.centroid_cos_dist, at(path, "centroid_cos_dist")),
  };
  if (f.face_id !== undefined) face.faceId = c.string(f.face_id, at(path, "face_id"));
  if (f.source_sha256 !== undefined) face.sourceSha256 = c.sha256(f.source_sha256, at(path, "source_sha256"));
  if (f.kps !== undefined) face.kps = c.kps(f.kps, at(path, "kps"));
  const extra = extraOf(f, FACE_KEYS);
  if (extra) face.extra = extra;
  return face;
}

/** Validate a parsed `faceset_NNN/manifest.json`; `file` names it in errors. Crop files must be distinct. */
export function parseFacesetManifest(json: unknown, file: string): FacesetManifest {
  const c = new Checker(file);
  const raw = c.object(json, "");
  const faces = c.array(raw.faces, "faces").map((value, i) => parseFace(c, value, at("faces", i)));
  const crops = new Map<string, number>();
  faces.forEach((face, i) => {
    // Case-folded: two names that differ only in case are one file on macOS and Windows.
    const key = face.crop.toLowerCase();
    const first = crops.get(key);
    if (first !== undefined) c.fail(at(at("faces", i), "crop"), `"${face.crop}" is already used by faces[${first}]`);
    crops.set(key, i);
  });
  const manifest: FacesetManifest = { faces };
  if (raw.name !== undefined) manifest.name = c.string(raw.name, "name");
  const extra = extraOf(raw, FACESET_KEYS);
  if (extra) manifest.extra = extra;
  return manifest;
}

// ---------------------------------------------------------------------------------------------------------------
// Serialisation: known fields in a fixed order, then `extra` (whose keys never override a known field)

function withExtra(known: JsonObject, knownKeys: readonly string[], extra: ExtraFields | undefined): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(known)) if (value !== undefined) out[key] = value;
  if (extra) {
    for (const [key, value] of Object.entries(extra)) if (!knownKeys.includes(key)) out[key] = value;
  }
  return out;
}

function entryJson(e: FacesetEntry | ThinEra): JsonObject {
  return withExtra({ name: e.name, count: e.count, origin: e.origin, provenance: e.provenance }, ENTRY_KEYS, e.extra);
}

/** The JSON value of a library manifest (parseLibraryManifest's inverse). */
export function libraryManifestJson(m: LibraryManifest): JsonObject {
  return withExtra(
    {
      facesets: m.facesets.map(entryJson),
      thin_eras: m.thinEras.map((e) => (typeof e === "string" ? e : entryJson(e))),
    },
    LIBRARY_KEYS,
    m.extra,
  );
}

export function faceJson(f: FacesetFace): JsonObject {
  return withExtra(
    {
      source: f.source,
      bbox: f.bbox,
      det_score: f.detScore,
      face_short: f.faceShortPx,
      blur: f.blur,
      crop: f.crop,
      centroid_cos_dist: f.centroidCosDist,
      face_id: f.faceId,
      source_sha256: f.sourceSha256,
      kps: f.kps,
    },
    FACE_KEYS,
    f.extra,
  );
}

/** The JSON value of a set manifest (parseFacesetManifest's inverse). */
export function facesetManifestJson(m: FacesetManifest): JsonObject {
  return withExtra({ name: m.name, faces: m.faces.map(faceJson) }, FACESET_KEYS, m.extra);
}

/** The text written to disk: 2-space JSON with a final newline. */
export function formatManifest(json: unknown): string {
  return JSON.stringify(json, null, 2) + "\n";
}
