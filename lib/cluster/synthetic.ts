/**
 * Seeded synthetic face embeddings for tests and benchmarks: unit vectors scattered around random unit identity
 * centres, with ArcFace-like geometry (same identity ~0.3-0.5 cosine distance, different identities ~1.0).
 */

/** mulberry32: a small, fast, seedable PRNG returning uniform floats in [0, 1). Same seed, same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform PRNG (Box–Muller, both outputs used). */
export function gaussian(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = random();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * random();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

export interface SyntheticOptions {
  /** Number of distinct identities. */
  identities: number;
  /** Faces per identity. */
  perIdentity: number;
  /** Embedding size (ArcFace: 512). */
  dim: number;
  /**
   * Median noise-to-signal ratio of a face around its identity centre: face = unit(centre + s * g / sqrt(dim)) with
   * g standard normal, so dot(face, centre) ~ 1 / sqrt(1 + s^2) and two faces of one identity are ~1 - 1 / (1 + s^2)
   * apart. Default 0.8 (~0.39 cosine distance).
   */
  spread?: number;
  /** Per-face log-normal jitter of the spread (standard deviation of log s). Default 0.2 (pairs mostly ~0.25-0.5 apart). */
  spreadJitter?: number;
  /** Seed of the default PRNG (mulberry32). Default 1. */
  seed?: number;
  /** The PRNG itself, uniform in [0, 1); overrides `seed`. */
  random?: () => number;
  /** Shuffle the rows (default true), so identities are not contiguous blocks, as in a real photo library. */
  shuffle?: boolean;
}

export interface SyntheticIdentities {
  /** n x dim row-major unit rows, n = identities * perIdentity. */
  embeddings: Float32Array;
  /** True identity (0..identities-1) per row. */
  labels: Int32Array;
  /** identities x dim unit centres. */
  centres: Float32Array;
  n: number;
  dim: number;
}

const DEFAULT_SPREAD = 0.8;
const DEFAULT_SPREAD_JITTER = 0.2;

function normalizeRow(v: Float32Array, off: number, dim: number): void {
  let sum = 0;
  for (let k = 0; k < dim; k++) sum += v[off + k]! ** 2;
  const norm = Math.sqrt(sum);
  for (let k = 0; k < dim; k++) v[off + k] = v[off + k]! / norm;
}

/** Faces of `identities` people, `perIdentity` each (see SyntheticOptions for the geometry). */
export function syntheticIdentities({
  identities,
  perIdentity,
  dim,
  spread = DEFAULT_SPREAD,
  spreadJitter = DEFAULT_SPREAD_JITTER,
  seed = 1,
  random,
  shuffle = true,
}: SyntheticOptions): SyntheticIdentities {
  for (const [name, value] of [["identities", identities], ["perIdentity", perIdentity], ["dim", dim]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`syntheticIdentities: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (!(spread >= 0) || !(spreadJitter >= 0)) {
    throw new RangeError(`syntheticIdentities: spread and spreadJitter must be >= 0, got ${spread}, ${spreadJitter}`);
  }
  const uniform = random ?? mulberry32(seed);
  const normal = gaussian(uniform);
  const n = identities * perIdentity;
  const centres = new Float32Array(identities * dim);
  for (let c = 0; c < identities; c++) {
    for (let k = 0; k < dim; k++) centres[c * dim + k] = normal();
    normalizeRow(centres, c * dim, dim);
  }
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (shuffle) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
  }
  const embeddings = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  const noiseScale = 1 / Math.sqrt(dim);
  for (let f = 0; f < n; f++) {
    const identity = Math.floor(f / perIdentity);
    const row = order[f]!;
    labels[row] = identity;
    const s = spread * Math.exp(spreadJitter * normal()) * noiseScale;
    const off = row * dim;
    const c = identity * dim;
    for (let k = 0; k < dim; k++) embeddings[off + k] = centres[c + k]! + s * normal();
    normalizeRow(embeddings, off, dim);
  }
  return { embeddings, labels, centres, n, dim };
}
