import type { DetectionConfig } from "../config";
import type { Detection, FaceAnalysis, RgbImage } from "../types";
import type { Stopwatch } from "../util/stopwatch";
import { normCrop } from "./align";
import { letterbox, postprocess, ScrfdDetector } from "./detect";
import { ArcFaceEmbedder } from "./embed";
import { faceQuality, faceShortPx } from "./quality";
import type { SessionOptions } from "./session";

export interface EngineModels {
  /** SCRFD detector ONNX (det_10g.onnx in buffalo_l). */
  detectorFile: string;
  /** ArcFace recogniser ONNX (w600k_r50.onnx in buffalo_l). */
  recognizerFile: string;
}

/** Stage names reported to a Stopwatch. */
export const ENGINE_STAGES = [
  "detect-preprocess",
  "detect-model",
  "detect-postprocess",
  "align",
  "embed-model",
  "blur",
] as const;

/**
 * The face engine: SCRFD detection (+ an optional small second pass), 5-point alignment, ArcFace embedding
 * and quality metrics, matching InsightFace 0.7.3 FaceAnalysis. Owns two ORT sessions; close() releases them.
 */
export class FaceEngine {
  private constructor(readonly detector: ScrfdDetector, readonly embedder: ArcFaceEmbedder) {}

  static async open(models: EngineModels, options: SessionOptions = {}): Promise<FaceEngine> {
    const detector = await ScrfdDetector.open(models.detectorFile, options);
    try {
      return new FaceEngine(detector, await ArcFaceEmbedder.open(models.recognizerFile, options));
    } catch (err) {
      await detector.close();
      throw err;
    }
  }

  get detectorSha256(): string {
    return this.detector.sha256;
  }

  get recognizerSha256(): string {
    return this.embedder.sha256;
  }

  /** One detection pass with its stages timed. */
  private async detectPass(image: RgbImage, sizePx: number, config: DetectionConfig, watch?: Stopwatch) {
    const size = this.detector.fixedSizePx ?? sizePx;
    const t0 = performance.now();
    const input = letterbox(image, size);
    const t1 = performance.now();
    const outputs = await this.detector.infer(input);
    const t2 = performance.now();
    const detections = postprocess(outputs, input, config);
    const t3 = performance.now();
    watch?.add("detect-preprocess", t1 - t0);
    watch?.add("detect-model", t2 - t1);
    watch?.add("detect-postprocess", t3 - t2);
    return detections;
  }

  /**
   * Detections of one image: the main pass, and only when it finds nothing (tight face crops, where SCRFD at 640
   * sees a face too large for its anchors) a second pass at the small size, as InsightFace 1.0 does.
   */
  async detect(image: RgbImage, config: DetectionConfig, watch?: Stopwatch): Promise<Detection[]> {
    const main = await this.detectPass(image, config.detSizePx, config, watch);
    if (main.length > 0 || !config.secondPass || this.detector.fixedSizePx !== undefined) return main;
    return this.detectPass(image, config.secondPassSizePx, config, watch);
  }

  /** Embed and measure given detections. */
  async describe(image: RgbImage, detections: Detection[], watch?: Stopwatch): Promise<FaceAnalysis[]> {
    if (detections.length === 0) return [];
    let t = performance.now();
    const crops = detections.map((d) => normCrop(image, d.kps, this.embedder.inputSizePx).crop);
    watch?.add("align", performance.now() - t);
    t = performance.now();
    const embeddings = await this.embedder.embed(crops);
    watch?.add("embed-model", performance.now() - t);
    t = performance.now();
    const faces = detections.map((d, i) => ({
      ...d,
      faceShortPx: faceShortPx(d.bbox),
      ...faceQuality(image, d.bbox),
      embedding: embeddings[i]!,
    }));
    watch?.add("blur", performance.now() - t);
    return faces;
  }

  async analyze(image: RgbImage, config: DetectionConfig, watch?: Stopwatch): Promise<FaceAnalysis[]> {
    return this.describe(image, await this.detect(image, config, watch), watch);
  }

  async close(): Promise<void> {
    await Promise.all([this.detector.close(), this.embedder.close()]);
  }
}
