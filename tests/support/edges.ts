/**
 * Helpers for threshold edge tests: the neighbouring float64 and float32 values of a number, and embeddings whose
 * cosine distance to a reference centroid, as lib/'s own `cosDist` computes it, is an exact chosen float64.
 *
 * [Note: attainable distances] `cosDist` returns `1 - dot` in float64. For a distance t < 0.5 the dot lies in
 * [0.5, 1), where float64 steps are 2^-53, so only multiples of 2^-53 are attainable: 0.45 itself is not (its last
 * bit is 2^-54), while its two float64 neighbours are. Tests at an owner's value therefore use the neighbours, and
 * tests of the comparison itself (<= vs <) set the threshold to an attained distance.
 */
import { cosDist } from "../../lib/mod";

const f64 = new DataView(new ArrayBuffer(8));
const f32 = new DataView(new ArrayBuffer(4));

/** The next float64 above x (Math.nextUp). */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  f64.setFloat64(0, x);
  const bits = f64.getBigUint64(0);
  f64.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return f64.getFloat64(0);
}

/** The next float64 below x (Math.nextDown). */
export function nextDown(x: number): number {
  return -nextUp(-x);
}

/** The next float32 above x (x must be a float32 value). */
export function nextUp32(x: number): number {
  if (Math.fround(x) !== x) throw new RangeError(`nextUp32: ${x} is not a float32 value`);
  if (x === 0) return 2 ** -149;
  f32.setFloat32(0, x);
  const bits = f32.getUint32(0);
  f32.setUint32(0, x > 0 ? bits + 1 : bits - 1);
  return f32.getFloat32(0);
}

export function nextDown32(x: number): number {
  return -nextUp32(-x);
}

/** The reference centroid the embeddings below are measured against: e1 plus two tiny components (not quite unit). */
export function referenceCentroid(dim: number): Float32Array {
  const c = new Float32Array(dim);
  c[0] = 1;
  c[1] = 2 ** -24;
  c[2] = 2 ** -48;
  return c;
}

/**
 * An embedding whose `cosDist` to `referenceCentroid(dim)` is exactly `target` (checked with lib's own cosDist);
 * throws when `target` is not attainable (see the note above). The dot is split over three float32 components so
 * that any float64 dot is reachable; the rest of the unit norm sits where the centroid is zero.
 */
export function embeddingAtCosDist(target: number, dim: number): Float32Array {
  const dot = [1 - target, nextUp(1 - target), nextDown(1 - target)].find((d) => 1 - d === target);
  if (dot === undefined) throw new RangeError(`cosine distance ${target} is not attainable as 1 - dot in float64`);
  const c1 = Math.fround(dot);
  const c2 = Math.fround((dot - c1) * 2 ** 24);
  const c3 = Math.fround((dot - (c1 + c2 * 2 ** -24)) * 2 ** 48);
  const e = new Float32Array(dim);
  e[0] = c1;
  e[1] = c2;
  e[2] = c3;
  e[3] = Math.sqrt(Math.max(0, 1 - c1 * c1));
  const got = cosDist(e, referenceCentroid(dim));
  if (got !== target) throw new Error(`embeddingAtCosDist(${target}): cosDist gives ${got}`);
  return e;
}

/** Whether `target` is an attainable cosDist value (see the note above). */
export function attainable(target: number): boolean {
  return [1 - target, nextUp(1 - target), nextDown(1 - target)].some((d) => 1 - d === target);
}

/** Two unit-ish float32 rows (e1 and (c, s)) whose float32 distance `fround(1 - dot)` is `fround(1 - c)`. */
export function pairWithDot(c: number, dim: number): Float32Array {
  const X = new Float32Array(2 * dim);
  X[0] = 1;
  X[dim] = Math.fround(c);
  X[dim + 1] = Math.sqrt(1 - Math.fround(c) ** 2);
  return X;
}
