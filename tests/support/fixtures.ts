import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** ../shared beside the project: test fixtures only, the product never reads it. */
export const SHARED = path.resolve(process.cwd(), "../shared");
export const FACES = path.join(SHARED, "faces");
export const MODELS = path.join(SHARED, "models");
export const GOLDEN = path.join(SHARED, "golden");

export const TEST_DETECTOR = path.join(MODELS, "det_2.5g.onnx");
export const TEST_DETECTOR_500M = path.join(MODELS, "det_500m.onnx");
export const TEST_RECOGNIZER = path.join(MODELS, "w600k_mbf_int8.onnx");

export interface GoldenFace {
  bbox: [number, number, number, number];
  det_score: number;
  kps: [number, number][];
  face_short: number;
  blur: number;
  align_matrix: [[number, number, number], [number, number, number]];
  embedding: number[];
  crop?: string;
}

export interface GoldenImage {
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

export function readGolden(name: string): GoldenSet {
  return JSON.parse(readFileSync(path.join(GOLDEN, name), "utf8")) as GoldenSet;
}

export function sharedAvailable(): boolean {
  return existsSync(FACES) && existsSync(TEST_DETECTOR);
}
