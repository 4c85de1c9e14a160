/**
 * Synthetic face records for the pure identity tests: seeded identity centres, faces near them, and FaceRows with
 * plausible quality values (override per face). Deterministic for a given seed and call order.
 */
import { type FaceRow, gaussian, mulberry32 } from "../../lib/mod";

export interface SyntheticSpace {
  unit(v: Float32Array): Float32Array;
  /** A random identity centre (unit vector). */
  centre(): Float32Array;
  /** A face near `c`: noise of norm ~`spread`, so cosine distance ~ 1 - 1/sqrt(1 + spread^2) (0.5: ~0.11; 0.02: copies). */
  near(c: Float32Array, spread?: number): Float32Array;
}

export function syntheticSpace(dim: number, seed: number): SyntheticSpace {
  const normal = gaussian(mulberry32(seed));
  const unit = (v: Float32Array) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  return {
    unit,
    centre: () => unit(Float32Array.from({ length: dim }, normal)),
    near: (c, spread = 0.5) => unit(c.map((x) => x + (spread * normal()) / Math.sqrt(dim))),
  };
}

let serial = 0;

/** A face of photo `photo` (its file hash and path derive from it) with `embedding`; ids are unique per test file. */
export function syntheticFaceRow(embedding: Float32Array, photo: string, overrides: Partial<FaceRow> = {}): FaceRow {
  const n = serial++;
  return {
    faceId: `f${String(n).padStart(4, "0")}`,
    fileSha256: photo,
    path: `/bucket/${photo}.jpg`,
    paths: [`/bucket/${photo}.jpg`],
    detIndex: 0,
    bbox: [0, 0, 200, 200],
    kps: null,
    detScore: 0.9,
    faceShortPx: 200,
    blur: 100,
    detSizePx: 640,
    page: 0,
    embedding,
    retired: false,
    captureTime: null,
    ...overrides,
  };
}
