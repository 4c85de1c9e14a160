import type { FaceAnalysis } from "../../lib/mod";
import type { GoldenFace } from "./fixtures";

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/**
 * Pair our faces with golden ones by nearest box. Order is not compared: faces whose scores differ in the
 * third decimal may swap places in a score-sorted list without any record changing.
 */
export function pairFaces(ours: FaceAnalysis[], golden: GoldenFace[]): [FaceAnalysis, GoldenFace][] {
  const used = new Set<number>();
  return ours.map((face) => {
    let best = -1;
    let bestDist = Infinity;
    golden.forEach((g, j) => {
      if (used.has(j)) return;
      const d = Math.hypot(...g.bbox.map((v, k) => v - face.bbox[k]!));
      if (d < bestDist) [best, bestDist] = [j, d];
    });
    used.add(best);
    return [face, golden[best]!];
  });
}

export interface ParityTolerance {
  /** Boxes and landmarks within max(minPx, fraction * face_short). */
  positionMinPx: number;
  positionFraction: number;
  detScoreAbs: number;
  blurRel: number;
  minCosine: number;
}

/** The tolerances. */
export const PARITY: ParityTolerance = {
  positionMinPx: 2,
  positionFraction: 0.01,
  detScoreAbs: 0.02,
  blurRel: 0.05,
  minCosine: 0.99,
};

/** Every way a face misses the tolerances, as readable strings (empty when it matches). */
export function faceViolations(label: string, ours: FaceAnalysis, golden: GoldenFace, tol = PARITY): string[] {
  const out: string[] = [];
  const posTol = Math.max(tol.positionMinPx, tol.positionFraction * golden.face_short);
  const boxErr = Math.max(...ours.bbox.map((v, k) => Math.abs(v - golden.bbox[k]!)));
  const kpsErr = Math.max(...ours.kps.flatMap((p, k) => [Math.abs(p[0] - golden.kps[k]![0]), Math.abs(p[1] - golden.kps[k]![1])]));
  if (boxErr > posTol) out.push(`${label}: bbox off by ${boxErr.toFixed(2)} px > ${posTol.toFixed(2)}`);
  if (kpsErr > posTol) out.push(`${label}: landmarks off by ${kpsErr.toFixed(2)} px > ${posTol.toFixed(2)}`);
  const scoreErr = Math.abs(ours.detScore - golden.det_score);
  if (scoreErr > tol.detScoreAbs) out.push(`${label}: det_score off by ${scoreErr.toFixed(4)}`);
  const blurErr = Math.abs(ours.blur - golden.blur) / Math.max(golden.blur, 1e-9);
  if (blurErr > tol.blurRel) out.push(`${label}: blur off by ${(100 * blurErr).toFixed(1)}%`);
  const faceShortErr = Math.abs(ours.faceShortPx - golden.face_short);
  if (faceShortErr > posTol) out.push(`${label}: face_short off by ${faceShortErr.toFixed(2)} px`);
  const cos = cosine(ours.embedding, golden.embedding);
  if (cos < tol.minCosine) out.push(`${label}: embedding cosine ${cos.toFixed(4)} < ${tol.minCosine}`);
  return out;
}
