/**
 * Synthetic, seeded face records for the store tests (the engine that makes real ones is tested elsewhere).
 * Loaded by vitest (Node) and by the Deno writer process of the crash test, so: extensionless imports only.
 */
import { mulberry32 } from "../../lib/cluster/synthetic";
import type { FileOutcome } from "../../lib/store/records";
import type { FaceAnalysis, Landmarks5 } from "../../lib/types";
import { sha256Bytes } from "../../lib/util/hash";

export const DIM = 512;
export const RECOGNIZER = sha256Bytes(new TextEncoder().encode("test recognizer w600k"));
export const OTHER_RECOGNIZER = sha256Bytes(new TextEncoder().encode("another recognizer"));
export const DETECTOR = sha256Bytes(new TextEncoder().encode("test detector scrfd"));

/** A seeded unit vector (Gaussian-ish components, normalised in float64, stored as float32). */
export function unitVector(seed: number, dim = DIM): Float32Array {
  const rand = mulberry32(seed);
  const v = new Float64Array(dim);
  let n = 0;
  for (let i = 0; i < dim; i++) {
    const x = rand() + rand() + rand() - 1.5;
    v[i] = x;
    n += x * x;
  }
  n = Math.sqrt(n);
  return Float32Array.from(v, (x) => x / n);
}

/** A face with seeded geometry, quality and embedding. */
export function syntheticFace(seed: number, dim = DIM): FaceAnalysis {
  const rand = mulberry32(seed ^ 0x5bd1e995);
  const x1 = 10 + rand() * 500;
  const y1 = 10 + rand() * 500;
  const w = 40 + rand() * 200;
  const h = w * (1.1 + rand() * 0.3);
  const kps = Array.from({ length: 5 }, (_, i) => [x1 + w * (0.3 + 0.1 * i), y1 + h * (0.4 + 0.08 * i)]) as Landmarks5;
  return {
    bbox: [x1, y1, x1 + w, y1 + h],
    kps,
    detScore: 0.5 + rand() * 0.5,
    detSizePx: rand() < 0.8 ? 640 : 128,
    faceShortPx: Math.min(w, h),
    blur: rand() * 900,
    sharpness: rand() * 900,
    embedding: unitVector(seed, dim),
  };
}

/** sha256 of a made-up file's "bytes". */
export function contentSha(label: string): string {
  return sha256Bytes(new TextEncoder().encode(label));
}

/** How many faces synthetic file i has (0 for every fourth file, so `noface` occurs). */
export function facesOfFile(i: number): number {
  return i % 4 === 3 ? 0 : (i % 3) + 1;
}

/** The outcome of analysing synthetic file i (content `file-${i}`) under `root`. */
export function fileOutcome(i: number, { root = "/photos", dim = DIM, content = `file-${i}` } = {}): FileOutcome {
  const sha256 = contentSha(content);
  const n = facesOfFile(i);
  const faces = Array.from({ length: n }, (_, k) => syntheticFace(hashSeed(`${content}:${k}`), dim));
  return {
    path: `${root}/d${i % 5}/img_${String(i).padStart(5, "0")}.jpg`,
    sha256,
    size: 1000 + i,
    mtimeMs: 1_700_000_000_000 + i * 1000,
    status: n > 0 ? "ok" : "noface",
    width: 1024,
    height: 768,
    faces,
    detectorSha256: DETECTOR,
    recognizerSha256: RECOGNIZER,
  };
}

/** A 32-bit seed from a string (FNV-1a). */
export function hashSeed(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
