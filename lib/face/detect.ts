import * as ort from "onnxruntime-node";
import type { DetectionConfig } from "../config";
import { resizeBilinear } from "../image/resize";
import type { BBox, Detection, Landmarks5, RgbImage } from "../types";
import {
  describeShape,
  fixedDim,
  inputsOf,
  type LoadedModel,
  loadModel,
  ModelContractError,
  outputsOf,
  type SessionOptions,
} from "./session";

/** SCRFD's feature strides and anchors per location for the 5-landmark models (det_10g, det_2.5g, det_500m). */
const STRIDES = [8, 16, 32] as const;
const ANCHORS_PER_CELL = 2;
/** scrfd.py normalises with (v - 127.5) / 128, not / 127.5. */
const INPUT_MEAN = 127.5;
const INPUT_STD = 128;

/** The letterboxed detector input and how it maps back to the original image. */
export interface DetectorInput {
  /** NCHW float32, 1 x 3 x size x size. */
  blob: Float32Array;
  sizePx: number;
  /** Resized height / original height (scrfd.py det_scale). */
  scale: number;
}

/**
 * Fit the image into a size x size canvas keeping its aspect ratio, top-left aligned, zero padded,
 * exactly as scrfd.py does (int() truncation of the resized side, cv2 bilinear resize).
 */
export function letterbox(image: RgbImage, sizePx: number): DetectorInput {
  const aspect = image.height / image.width;
  let newWidth: number;
  let newHeight: number;
  if (aspect > 1) {
    newHeight = sizePx;
    newWidth = Math.trunc(newHeight / aspect);
  } else {
    newWidth = sizePx;
    newHeight = Math.trunc(newWidth * aspect);
  }
  newWidth = Math.max(1, newWidth);
  newHeight = Math.max(1, newHeight);
  const resized = resizeBilinear(image, newWidth, newHeight);
  const plane = sizePx * sizePx;
  const blob = new Float32Array(3 * plane).fill((0 - INPUT_MEAN) / INPUT_STD);
  const src = resized.data;
  for (let y = 0; y < newHeight; y++) {
    let s = y * newWidth * 3;
    const rowStart = y * sizePx;
    for (let x = 0; x < newWidth; x++, s += 3) {
      const o = rowStart + x;
      blob[o] = (src[s]! - INPUT_MEAN) / INPUT_STD;
      blob[plane + o] = (src[s + 1]! - INPUT_MEAN) / INPUT_STD;
      blob[2 * plane + o] = (src[s + 2]! - INPUT_MEAN) / INPUT_STD;
    }
  }
  return { blob, sizePx, scale: newHeight / image.height };
}

/** Per-stride raw SCRFD outputs, batch dimension removed. */
export interface ScrfdOutputs {
  scores: Float32Array[];
  boxes: Float32Array[];
  landmarks: Float32Array[];
}

interface Candidate {
  score: number;
  box: BBox;
  kps: number[];
}

/** Anchor decoding as scrfd.py: centres at (col, row) * stride without a half-pixel offset, 2 anchors each. */
export function decodeScrfd(out: ScrfdOutputs, input: DetectorInput, minScore: number): Candidate[] {
  const candidates: Candidate[] = [];
  STRIDES.forEach((stride, level) => {
    const scores = out.scores[level]!;
    const boxes = out.boxes[level]!;
    const kps = out.landmarks[level]!;
    const cols = Math.floor(input.sizePx / stride);
    for (let a = 0; a < scores.length; a++) {
      const score = scores[a]!;
      if (!(score >= minScore)) continue;
      const cell = Math.floor(a / ANCHORS_PER_CELL);
      const cx = (cell % cols) * stride;
      const cy = Math.floor(cell / cols) * stride;
      // Float32 rounding at each step mirrors numpy's float32 arrays in distance2bbox/distance2kps.
      const f = Math.fround;
      const box: BBox = [
        f(cx - f(boxes[4 * a]! * stride)),
        f(cy - f(boxes[4 * a + 1]! * stride)),
        f(cx + f(boxes[4 * a + 2]! * stride)),
        f(cy + f(boxes[4 * a + 3]! * stride)),
      ];
      const points: number[] = [];
      for (let k = 0; k < 5; k++) {
        points.push(f(cx + f(kps[10 * a + 2 * k]! * stride)), f(cy + f(kps[10 * a + 2 * k + 1]! * stride)));
      }
      candidates.push({ score, box, kps: points });
    }
  });
  return candidates;
}

/** Greedy NMS with InsightFace's +1 pixel area convention; keeps a box whose IoU with every kept box is <= maxIou. */
export function nms(candidates: Candidate[], maxIou: number): Candidate[] {
  const order = [...candidates].sort((a, b) => b.score - a.score);
  const kept: Candidate[] = [];
  const area = (b: BBox) => (b[2] - b[0] + 1) * (b[3] - b[1] + 1);
  const suppressed = new Uint8Array(order.length);
  for (let i = 0; i < order.length; i++) {
    if (suppressed[i]) continue;
    const a = order[i]!;
    kept.push(a);
    const areaA = area(a.box);
    for (let j = i + 1; j < order.length; j++) {
      if (suppressed[j]) continue;
      const b = order[j]!.box;
      const w = Math.max(0, Math.min(a.box[2], b[2]) - Math.max(a.box[0], b[0]) + 1);
      const h = Math.max(0, Math.min(a.box[3], b[3]) - Math.max(a.box[1], b[1]) + 1);
      const inter = w * h;
      if (inter / (areaA + area(b) - inter) > maxIou) suppressed[j] = 1;
    }
  }
  return kept;
}

function toDetection(c: Candidate, scale: number, sizePx: number): Detection {
  const f = Math.fround;
  const kps = [0, 1, 2, 3, 4].map((k) => [f(c.kps[2 * k]! / scale), f(c.kps[2 * k + 1]! / scale)]) as Landmarks5;
  return {
    bbox: c.box.map((v) => f(v / scale)) as BBox,
    kps,
    detScore: c.score,
    detSizePx: sizePx,
  };
}

/**
 * An SCRFD detector with 5 landmarks (InsightFace det_10g, det_2.5g, det_500m). Owns the ORT session.
 * Contract checked at open: one NCHW float input with 3 channels, 9 outputs (scores, boxes, landmarks per stride).
 */
export class ScrfdDetector {
  /** Fixed input side when the model has one; undefined when any size works. */
  readonly fixedSizePx: number | undefined;

  private constructor(readonly model: LoadedModel, private readonly inputName: string) {
    const shape = inputsOf(model)[0]!.shape;
    this.fixedSizePx = fixedDim(shape[2]);
  }

  static async open(file: string, options: SessionOptions = {}): Promise<ScrfdDetector> {
    const model = await loadModel(file, options);
    const expected = "an SCRFD detector with landmarks: input [1,3,H,W], 9 outputs (scores [N,1], boxes [N,4], " +
      "landmarks [N,10] for strides 8,16,32)";
    const inputs = inputsOf(model);
    const outputs = outputsOf(model);
    const input = inputs[0];
    if (inputs.length !== 1 || !input || input.shape.length !== 4 || fixedDim(input.shape[1]) !== 3) {
      await model.session.release();
      throw new ModelContractError(file, `expected ${expected}; got inputs ${inputs.map((i) => describeShape(i.shape))}`);
    }
    const lastDims = outputs.map((o) => fixedDim(o.shape[o.shape.length - 1]));
    const wanted = [1, 1, 1, 4, 4, 4, 10, 10, 10];
    if (outputs.length !== 9 || wanted.some((d, i) => lastDims[i] !== d)) {
      await model.session.release();
      const why = outputs.length === 6 ? " (this detector has no landmark outputs, alignment needs them)" : "";
      throw new ModelContractError(
        file,
        `expected ${expected}; got ${outputs.length} outputs ${outputs.map((o) => describeShape(o.shape)).join(" ")}${why}`,
      );
    }
    return new ScrfdDetector(model, input.name);
  }

  get sha256(): string {
    return this.model.sha256;
  }

  /** Run the model on a prepared input; outputs split per stride. */
  async infer(input: DetectorInput): Promise<ScrfdOutputs> {
    const tensor = new ort.Tensor("float32", input.blob, [1, 3, input.sizePx, input.sizePx]);
    const result = await this.model.session.run({ [this.inputName]: tensor });
    const names = this.model.session.outputNames;
    const at = (i: number) => result[names[i]!]!.data as Float32Array;
    return {
      scores: [at(0), at(1), at(2)],
      boxes: [at(3), at(4), at(5)],
      landmarks: [at(6), at(7), at(8)],
    };
  }

  /** One detection pass at `sizePx` (the model's own size when it is fixed). Faces sorted by score, descending. */
  async detect(image: RgbImage, sizePx: number, config: Pick<DetectionConfig, "detMinScore" | "nmsMaxIou">) {
    const size = this.fixedSizePx ?? sizePx;
    const input = letterbox(image, size);
    const outputs = await this.infer(input);
    return postprocess(outputs, input, config);
  }

  async close(): Promise<void> {
    await this.model.session.release();
  }
}

/** Decode, NMS and map back to original pixels. */
export function postprocess(
  outputs: ScrfdOutputs,
  input: DetectorInput,
  config: Pick<DetectionConfig, "detMinScore" | "nmsMaxIou">,
): Detection[] {
  const candidates = decodeScrfd(outputs, input, config.detMinScore);
  return nms(candidates, config.nmsMaxIou).map((c) => toDetection(c, input.scale, input.sizePx));
}
