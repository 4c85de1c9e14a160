/**
 * 2-D UMAP of face embeddings for scatter plots. Seeded (mulberry32), so the same faces give the same picture in
 * every run and a figure in a write-up can be regenerated. Cosine distance, the metric identities are decided by.
 * Cost: ~10 s for 2,000 x 512 under Node on 2 cores (toolchain.md); it is for figures, not for decisions.
 */
import { UMAP } from "umap-js";
import { mulberry32 } from "../cluster/synthetic";

export interface UmapOptions {
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Neighbours per point (local vs global structure). Default 15, capped at n - 1. */
  nNeighbors?: number;
  /** How tightly points pack in the layout. Default 0.1. */
  minDist?: number;
  /** Optimisation epochs; default: umap-js's (500 for small inputs, 200 for large). */
  nEpochs?: number;
}

/** Cosine distance of two vectors (not assumed unit: UMAP hands over plain arrays). */
function cosineDistance(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < a.length; k++) {
    dot += a[k]! * b[k]!;
    na += a[k]! * a[k]!;
    nb += b[k]! * b[k]!;
  }
  return na > 0 && nb > 0 ? 1 - dot / Math.sqrt(na * nb) : 1;
}

/** Layout of n x dim row-major embeddings as n (x, y) points: `xy[2 i], xy[2 i + 1]`. */
export function umap2d(embeddings: Float32Array, dim: number, options: UmapOptions = {}): Float32Array {
  if (!Number.isInteger(dim) || dim < 1 || embeddings.length % dim !== 0) {
    throw new RangeError(`umap2d: embeddings of ${embeddings.length} values do not split into rows of dim ${dim}`);
  }
  const n = embeddings.length / dim;
  const xy = new Float32Array(2 * n);
  // UMAP needs neighbours; with fewer than 3 points there is no structure to lay out.
  if (n < 3) {
    for (let i = 0; i < n; i++) xy[2 * i] = i;
    return xy;
  }
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(embeddings.subarray(i * dim, (i + 1) * dim)));
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(options.nNeighbors ?? 15, n - 1),
    minDist: options.minDist ?? 0.1,
    ...(options.nEpochs !== undefined ? { nEpochs: options.nEpochs } : {}),
    random: mulberry32(options.seed ?? 1),
    distanceFn: cosineDistance,
  });
  const out = umap.fit(rows);
  out.forEach(([x, y], i) => {
    xy[2 * i] = x!;
    xy[2 * i + 1] = y!;
  });
  return xy;
}
