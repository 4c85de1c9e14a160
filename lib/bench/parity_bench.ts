/**
 * Parity figures: our engine against InsightFace 0.7.3's own records (a golden JSON as `../shared/golden` holds
 * them: per image the faces' bbox, kps, det_score, face_short, blur, embedding and, optionally, the 112 aligned
 * crop). One measurement serves `deno task parity` (the README's numbers) and the parity tests (their bounds).
 *
 * Faces are paired by nearest box, not by order: faces whose scores differ in the third decimal may swap places in a
 * score-sorted list without any record changing. Positions are judged against the tolerance of the first engine
 * issue, max(2 px, 1% of face_short), and reported as a share of it (1.0 = at the tolerance).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import type { DetectionConfig } from "../config";
import { normCrop } from "../face/align";
import type { FaceEngine } from "../face/engine";
import { loadImage } from "../image/load";
import type { FaceAnalysis } from "../types";

export interface GoldenFace {
  bbox: [number, number, number, number];
  det_score: number;
  kps: [number, number][];
  face_short: number;
  blur: number;
  align_matrix: [[number, number, number], [number, number, number]];
  embedding: number[];
  /** File name of the 112x112 aligned crop in the golden crops folder. */
  crop?: string;
}

export interface GoldenImage {
  /** Relative to the faces folder the records were made from. */
  file: string;
  sha256: string;
  width: number;
  height: number;
  faces: GoldenFace[];
}

export interface GoldenSet {
  det_model: { file: string; sha256: string };
  rec_model: { file: string; sha256: string; input_mean: number; input_std: number };
  det_size: number;
  det_thresh: number;
  nms_thresh: number;
  images: GoldenImage[];
}

export async function readGoldenSet(file: string): Promise<GoldenSet> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new Error(`${file}: cannot read golden records (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const set = JSON.parse(text) as GoldenSet;
  if (!Array.isArray(set.images)) throw new Error(`${file}: not a golden record set (no images[])`);
  return set;
}

/** Cosine similarity (not assuming unit length: the golden embeddings are float32-rounded). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/** Pair our faces with golden ones by nearest box (each golden face used once). */
export function pairFaces<F extends { bbox: ArrayLike<number> }>(ours: readonly F[], golden: readonly GoldenFace[]): [F, GoldenFace][] {
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

/** The position tolerance of the first engine issue: max(2 px, 1% of the golden face_short). */
export const POSITION_TOLERANCE = { minPx: 2, fractionOfFaceShort: 0.01 } as const;

export function positionTolerancePx(golden: GoldenFace): number {
  return Math.max(POSITION_TOLERANCE.minPx, POSITION_TOLERANCE.fractionOfFaceShort * golden.face_short);
}

/** How far one face of ours is from its golden face. */
export interface FaceDifference {
  label: string;
  /** Largest bbox coordinate error / position tolerance. */
  boxShare: number;
  /** Largest landmark coordinate error / position tolerance. */
  kpsShare: number;
  faceShortShare: number;
  detScoreAbs: number;
  /** |ours - golden| / golden blur. */
  blurRel: number;
  cosine: number;
}

export function faceDifference(label: string, ours: FaceAnalysis, golden: GoldenFace): FaceDifference {
  const tol = positionTolerancePx(golden);
  const boxErr = Math.max(...ours.bbox.map((v, k) => Math.abs(v - golden.bbox[k]!)));
  const kpsErr = Math.max(...ours.kps.flatMap((p, k) => [Math.abs(p[0] - golden.kps[k]![0]), Math.abs(p[1] - golden.kps[k]![1])]));
  return {
    label,
    boxShare: boxErr / tol,
    kpsShare: kpsErr / tol,
    faceShortShare: Math.abs(ours.faceShortPx - golden.face_short) / tol,
    detScoreAbs: Math.abs(ours.detScore - golden.det_score),
    blurRel: Math.abs(ours.blur - golden.blur) / Math.max(golden.blur, 1e-9),
    cosine: cosineSimilarity(ours.embedding, golden.embedding),
  };
}

/** Bounds for `parityViolations`; the parity tests state theirs beside the measured figures. */
export interface ParityBounds {
  /** Positions (box, landmarks, face_short) within this share of the position tolerance. */
  maxPositionShare: number;
  maxDetScoreAbs: number;
  maxBlurRel: number;
  minCosine: number;
}

/** Every way a face misses `bounds`, as readable strings (empty when it is within them). */
export function parityViolations(d: FaceDifference, bounds: ParityBounds): string[] {
  const out: string[] = [];
  const share = (what: string, v: number) => {
    if (!(v <= bounds.maxPositionShare)) out.push(`${d.label}: ${what} off by ${v.toFixed(3)} of the tolerance > ${bounds.maxPositionShare}`);
  };
  share("bbox", d.boxShare);
  share("landmarks", d.kpsShare);
  share("face_short", d.faceShortShare);
  if (!(d.detScoreAbs <= bounds.maxDetScoreAbs)) out.push(`${d.label}: det_score off by ${d.detScoreAbs.toExponential(2)} > ${bounds.maxDetScoreAbs}`);
  if (!(d.blurRel <= bounds.maxBlurRel)) out.push(`${d.label}: blur off by ${(100 * d.blurRel).toFixed(4)}% > ${100 * bounds.maxBlurRel}%`);
  if (!(d.cosine >= bounds.minCosine)) out.push(`${d.label}: embedding cosine ${d.cosine.toFixed(4)} < ${bounds.minCosine}`);
  return out;
}

export interface ParityFigures {
  images: number;
  goldenFaces: number;
  /** Images where we find another number of faces than InsightFace, e.g. "a.jpg: 2 faces, golden 3". */
  countMismatches: string[];
  /** Images whose decoded size or sha256 differ from the record. */
  imageMismatches: string[];
  faces: FaceDifference[];
  /** Faces found by a pass other than `expectDetSizePx` (when given). */
  passMismatches: string[];
  max: { boxShare: number; kpsShare: number; faceShortShare: number; detScoreAbs: number; blurRel: number };
  cosine: { min: number; mean: number };
  /** Mean absolute difference (grey levels, over all pixels and channels) of our 112 crops vs the golden ones. */
  crop?: { faces: number; mean: number; max: number };
}

export interface ParityOptions {
  /** Where the golden set's `file` paths are relative to. */
  facesDir: string;
  /** The folder of the golden 112 crops; crops are compared only when given. */
  cropsDir?: string;
  config: DetectionConfig;
  /** Every face must come from this detection pass (e.g. 128 for the second-pass records). */
  expectDetSizePx?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Run the engine on every golden image and measure how far its records are from InsightFace's. */
export async function measureParity(engine: FaceEngine, golden: GoldenSet, options: ParityOptions): Promise<ParityFigures> {
  const { facesDir, cropsDir, config, expectDetSizePx, onProgress } = options;
  const figures: ParityFigures = {
    images: golden.images.length,
    goldenFaces: golden.images.reduce((n, i) => n + i.faces.length, 0),
    countMismatches: [],
    imageMismatches: [],
    faces: [],
    passMismatches: [],
    max: { boxShare: 0, kpsShare: 0, faceShortShare: 0, detScoreAbs: 0, blurRel: 0 },
    cosine: { min: Infinity, mean: NaN },
  };
  const cropDiffs: number[] = [];
  for (const [n, image] of golden.images.entries()) {
    const loaded = await loadImage(path.join(facesDir, image.file));
    if (loaded.width !== image.width || loaded.height !== image.height || loaded.sha256 !== image.sha256) {
      figures.imageMismatches.push(`${image.file}: ${loaded.width}x${loaded.height} ${loaded.sha256.slice(0, 8)}, golden ${image.width}x${image.height} ${image.sha256.slice(0, 8)}`);
    }
    const faces = await engine.analyze(loaded, config);
    if (faces.length !== image.faces.length) {
      figures.countMismatches.push(`${image.file}: ${faces.length} faces, golden ${image.faces.length}`);
    } else {
      for (const [i, [ours, gold]] of pairFaces(faces, image.faces).entries()) {
        const label = `${image.file}#${i}`;
        figures.faces.push(faceDifference(label, ours, gold));
        if (expectDetSizePx !== undefined && ours.detSizePx !== expectDetSizePx) {
          figures.passMismatches.push(`${label}: found by the ${ours.detSizePx} pass, expected ${expectDetSizePx}`);
        }
        if (cropsDir !== undefined && gold.crop !== undefined) {
          const crop = normCrop(loaded, ours.kps, 112).crop;
          const ref = await sharp(path.join(cropsDir, gold.crop)).removeAlpha().raw().toBuffer();
          let sum = 0;
          for (let k = 0; k < ref.length; k++) sum += Math.abs(ref[k]! - crop.data[k]!);
          cropDiffs.push(sum / ref.length);
        }
      }
    }
    onProgress?.(n + 1, golden.images.length);
  }
  for (const f of figures.faces) {
    for (const key of ["boxShare", "kpsShare", "faceShortShare", "detScoreAbs", "blurRel"] as const) {
      figures.max[key] = Math.max(figures.max[key], f[key]);
    }
    figures.cosine.min = Math.min(figures.cosine.min, f.cosine);
  }
  if (figures.faces.length > 0) figures.cosine.mean = figures.faces.reduce((s, f) => s + f.cosine, 0) / figures.faces.length;
  if (cropDiffs.length > 0) {
    figures.crop = { faces: cropDiffs.length, mean: cropDiffs.reduce((a, b) => a + b, 0) / cropDiffs.length, max: Math.max(...cropDiffs) };
  }
  return figures;
}
