import type { FaceAnalysis } from "../types";

/** A face as InsightFace-style JSON (snake_case, plain arrays): the analyze command's and fixtures' format. */
export interface FaceJson {
  bbox: number[];
  kps: number[][];
  det_score: number;
  face_short: number;
  blur: number;
  /** Not in InsightFace: facesets' size-independent sharpness (what minBlur gates on). */
  sharpness: number;
  det_size: number;
  embedding: number[];
}

export function faceToJson(face: FaceAnalysis): FaceJson {
  return {
    bbox: [...face.bbox],
    kps: face.kps.map((p) => [...p]),
    det_score: face.detScore,
    face_short: face.faceShortPx,
    blur: face.blur,
    sharpness: face.sharpness,
    det_size: face.detSizePx,
    embedding: Array.from(face.embedding),
  };
}

export function analysisToJson(
  file: string,
  image: { width: number; height: number },
  faces: readonly FaceAnalysis[],
): { file: string; width: number; height: number; faces: FaceJson[] } {
  return { file, width: image.width, height: image.height, faces: faces.map(faceToJson) };
}
