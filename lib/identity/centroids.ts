/**
 * Existing identities as centroids. A face set's manifest lists faces by source path and box; the store holds the
 * embeddings. A set face is matched to the store face of the same source (its path, or any byte-identical alias of
 * it, or its recorded sha256) whose box overlaps it with IoU >= `minIou`; the identity's centroid is the mean of
 * the matched unit embeddings, renormalised. Faces that match nothing are kept aside and reported, never guessed.
 */
import path from "node:path";
import type { FacesetFace, FacesetOrigin } from "../library/manifest";
import type { Library, LoadedFaceset } from "../library/read";
import type { FaceRow } from "../store/records";
import type { BBox } from "../types";
import { cosDist, unitMean } from "../cluster/vectors";

/** The owner's rule: a set face and a store face are the same detection when their boxes overlap this much. */
export const DEFAULT_MATCH_MIN_IOU = 0.9;

export function bboxIou(a: BBox, b: BBox): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Store faces looked up by any of their live paths and by content hash. */
export class FaceIndex {
  readonly #byPath = new Map<string, FaceRow[]>();
  readonly #bySha = new Map<string, FaceRow[]>();
  readonly #byId = new Map<string, FaceRow>();

  constructor(readonly rows: readonly FaceRow[]) {
    const add = (map: Map<string, FaceRow[]>, key: string, row: FaceRow) => {
      const list = map.get(key);
      if (list) list.push(row);
      else map.set(key, [row]);
    };
    for (const row of rows) {
      this.#byId.set(row.faceId, row);
      add(this.#bySha, row.fileSha256, row);
      for (const p of new Set([row.path, ...row.paths])) add(this.#byPath, p, row);
    }
  }

  byId(faceId: string): FaceRow | undefined {
    return this.#byId.get(faceId);
  }

  /** Faces of the file at `file` (any path that holds its bytes). */
  facesOfPath(file: string): FaceRow[] {
    return this.#byPath.get(file) ?? [];
  }

  /**
   * The store face a set face records: by face id when it has one, else among the faces of its source (path
   * as written, or resolved against `baseDir` when relative; or its recorded sha256) the best box overlap >= minIou.
   */
  match(face: FacesetFace, baseDir: string, minIou = DEFAULT_MATCH_MIN_IOU): { row: FaceRow; iou: number } | undefined {
    if (face.faceId !== undefined) {
      const row = this.#byId.get(face.faceId);
      if (row) return { row, iou: bboxIou(face.bbox, row.bbox) };
    }
    const candidates = new Set<FaceRow>([
      ...(this.#byPath.get(face.source) ?? []),
      ...(path.isAbsolute(face.source) ? [] : this.#byPath.get(path.resolve(baseDir, face.source)) ?? []),
      ...(face.sourceSha256 ? this.#bySha.get(face.sourceSha256) ?? [] : []),
    ]);
    let best: { row: FaceRow; iou: number } | undefined;
    for (const row of candidates) {
      const iou = bboxIou(face.bbox, row.bbox);
      if (iou >= minIou && (!best || iou > best.iou)) best = { row, iou };
    }
    return best;
  }
}

/** An existing face set as an identity in embedding space. */
export interface Identity {
  number: number;
  name: string;
  origin: FacesetOrigin | undefined;
  /** Unit-length mean of the matched faces' embeddings; undefined when no face matched. */
  centroid: Float32Array | undefined;
  /** The store faces the set's faces matched, in manifest order. */
  matched: FaceRow[];
  /** Set faces with no store face (source not scanned, or boxes that do not overlap enough). */
  unmatched: FacesetFace[];
}

/**
 * The candidate whose centroid (`centroidOf`; candidates without one are passed over) is nearest to `embedding`,
 * and the cosine distance to it; undefined when no candidate has a centroid. Ties go to the earlier candidate.
 */
export function nearestIdentity<T>(
  embedding: Float32Array,
  candidates: readonly T[],
  centroidOf: (candidate: T) => Float32Array | undefined,
): { identity: T; cosDist: number } | undefined {
  let nearest: { identity: T; cosDist: number } | undefined;
  for (const identity of candidates) {
    const centroid = centroidOf(identity);
    if (centroid === undefined) continue;
    const d = cosDist(embedding, centroid);
    if (nearest === undefined || d < nearest.cosDist) nearest = { identity, cosDist: d };
  }
  return nearest;
}

export function facesetIdentity(set: LoadedFaceset, index: FaceIndex, libraryDir: string, dim: number): Identity {
  const matched: FaceRow[] = [];
  const unmatched: FacesetFace[] = [];
  for (const face of set.manifest.faces) {
    const hit = index.match(face, libraryDir);
    if (hit) matched.push(hit.row);
    else unmatched.push(face);
  }
  return {
    number: set.number,
    name: set.name,
    origin: undefined,
    centroid: matched.length > 0 ? unitMean(matched.map((r) => r.embedding), dim) : undefined,
    matched,
    unmatched,
  };
}

/**
 * Which set (or `_thin/` era) already holds each store face: face id -> set name, matched by FaceIndex rules, so
 * sets made by other tools (no face ids) are recognised by source and box. The first set listing a face wins.
 */
export function libraryFaceOwners(library: Library, index: FaceIndex): Map<string, string> {
  const owners = new Map<string, string>();
  for (const [sets, prefix] of [[library.sets, ""], [library.thin, "_thin/"]] as const) {
    for (const set of sets.values()) {
      for (const face of set.manifest.faces) {
        const hit = index.match(face, library.dir);
        if (hit && !owners.has(hit.row.faceId)) owners.set(hit.row.faceId, prefix + set.name);
      }
    }
  }
  return owners;
}

/** Every face set of the library (not `_thin/`) as an identity, in set-number order. */
export function libraryIdentities(library: Library, index: FaceIndex, dim: number): Identity[] {
  const origins = new Map(library.manifest.facesets.map((e) => [e.name, e.origin]));
  return [...library.sets.values()]
    .sort((a, b) => a.number - b.number)
    .map((set) => ({ ...facesetIdentity(set, index, library.dir, dim), origin: origins.get(set.name) }));
}
