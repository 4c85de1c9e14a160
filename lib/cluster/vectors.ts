/**
 * Dot-product kernels over row-major Float32Array matrices of unit embeddings.
 * [Note: cosine] in ../types.ts: for unit rows, cosine distance = 1 - dot(a, b).
 *
 * JavaScript has no SIMD here, so the kernels block 2 rows x 4 rows: each loaded value feeds several
 * multiply-adds, which measured ~1.4-1.8 G multiply-adds/s on this project's 2-core machine versus ~0.6 for the
 * plain loop. Sums are accumulated in float64 (JS numbers).
 */

/** Rows handled together on the left and on the right of one kernel call. */
export const BLOCK_LEFT = 2;
export const BLOCK_RIGHT = 4;

/**
 * Dots of rows a0, a1 of `A` with rows b0..b0+3 of `B` (offsets are row indices), written to `out[0..7]` as
 * out[l * 4 + r] = dot(A[a_l], B[b0 + r]).
 */
export function dot2x4(
  A: Float32Array,
  a0: number,
  a1: number,
  B: Float32Array,
  b0: number,
  dim: number,
  out: Float64Array,
): void {
  const p0 = a0 * dim;
  const p1 = a1 * dim;
  const q0 = b0 * dim;
  const q1 = q0 + dim;
  const q2 = q1 + dim;
  const q3 = q2 + dim;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  for (let k = 0; k < dim; k++) {
    const x0 = A[p0 + k]!;
    const x1 = A[p1 + k]!;
    const y0 = B[q0 + k]!;
    const y1 = B[q1 + k]!;
    const y2 = B[q2 + k]!;
    const y3 = B[q3 + k]!;
    s00 += x0 * y0;
    s01 += x0 * y1;
    s02 += x0 * y2;
    s03 += x0 * y3;
    s10 += x1 * y0;
    s11 += x1 * y1;
    s12 += x1 * y2;
    s13 += x1 * y3;
  }
  out[0] = s00;
  out[1] = s01;
  out[2] = s02;
  out[3] = s03;
  out[4] = s10;
  out[5] = s11;
  out[6] = s12;
  out[7] = s13;
}

/** dot(A[a], B[b]) for row indices a, b. */
export function dotRows(A: Float32Array, a: number, B: Float32Array, b: number, dim: number): number {
  const p = a * dim;
  const q = b * dim;
  let s0 = 0, s1 = 0;
  let k = 0;
  for (; k + 1 < dim; k += 2) {
    s0 += A[p + k]! * B[q + k]!;
    s1 += A[p + k + 1]! * B[q + k + 1]!;
  }
  if (k < dim) s0 += A[p + k]! * B[q + k]!;
  return s0 + s1;
}

/**
 * Visit every pair i < j of the `count` rows of `X` with its dot product. `visit` is called for all pairs, in an
 * order fixed by the blocking (deterministic, not lexicographic). Callers that keep few pairs should filter inside.
 */
export function forEachPairDot(
  X: Float32Array,
  count: number,
  dim: number,
  visit: (i: number, j: number, dot: number) => void,
): void {
  const out = new Float64Array(BLOCK_LEFT * BLOCK_RIGHT);
  for (let i = 0; i + 1 < count; i += BLOCK_LEFT) {
    const i1 = i + 1;
    visit(i, i1, dotRows(X, i, X, i1, dim));
    let j = i + BLOCK_LEFT;
    for (; j + BLOCK_RIGHT <= count; j += BLOCK_RIGHT) {
      dot2x4(X, i, i1, X, j, dim, out);
      for (let r = 0; r < BLOCK_RIGHT; r++) {
        visit(i, j + r, out[r]!);
        visit(i1, j + r, out[BLOCK_RIGHT + r]!);
      }
    }
    for (; j < count; j++) {
      visit(i, j, dotRows(X, i, X, j, dim));
      visit(i1, j, dotRows(X, i1, X, j, dim));
    }
  }
  // An odd last row has no partner after it: all its pairs were visited as `j`.
}

/**
 * Dots of rows [r0, r1) of `X` with all `m` rows of `Y`, written row by row to `out` ((r1 - r0) x m).
 * Used for rows x centres in the partitioner.
 */
export function dotsRowsByAll(
  X: Float32Array,
  r0: number,
  r1: number,
  Y: Float32Array,
  m: number,
  dim: number,
  out: Float64Array,
): void {
  const block = new Float64Array(BLOCK_LEFT * BLOCK_RIGHT);
  let i = r0;
  for (; i + 1 < r1; i += BLOCK_LEFT) {
    const o0 = (i - r0) * m;
    const o1 = o0 + m;
    let j = 0;
    for (; j + BLOCK_RIGHT <= m; j += BLOCK_RIGHT) {
      dot2x4(X, i, i + 1, Y, j, dim, block);
      for (let r = 0; r < BLOCK_RIGHT; r++) {
        out[o0 + j + r] = block[r]!;
        out[o1 + j + r] = block[BLOCK_RIGHT + r]!;
      }
    }
    for (; j < m; j++) {
      out[o0 + j] = dotRows(X, i, Y, j, dim);
      out[o1 + j] = dotRows(X, i + 1, Y, j, dim);
    }
  }
  if (i < r1) {
    const o = (i - r0) * m;
    for (let j = 0; j < m; j++) out[o + j] = dotRows(X, i, Y, j, dim);
  }
}

/** Copy rows `rows` of `X` into a contiguous (rows.length x dim) matrix (`into` when large enough). */
export function gatherRows(X: Float32Array, rows: ArrayLike<number>, dim: number, into?: Float32Array): Float32Array {
  const need = rows.length * dim;
  const out = into && into.length >= need ? into : new Float32Array(need);
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r]! * dim;
    out.set(X.subarray(src, src + dim), r * dim);
  }
  return out;
}

/** Mean of unit vectors, renormalised to unit length (zero vector stays zero). */
export function unitMean(vectors: readonly Float32Array[], dim: number): Float32Array {
  const sum = new Float64Array(dim);
  for (const v of vectors) for (let d = 0; d < dim; d++) sum[d]! += v[d]!;
  let norm = 0;
  for (let d = 0; d < dim; d++) norm += sum[d]! * sum[d]!;
  norm = Math.sqrt(norm);
  const out = new Float32Array(dim);
  if (norm > 0) for (let d = 0; d < dim; d++) out[d] = sum[d]! / norm;
  return out;
}

/** Cosine distance of two unit vectors. */
export function cosDist(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let d = 0; d < a.length; d++) dot += a[d]! * b[d]!;
  return 1 - dot;
}
