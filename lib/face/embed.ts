import * as ort from "onnxruntime-node";
import type { RgbImage } from "../types";
import { firstGraphNodes } from "./onnx_graph";
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

/** How many leading graph nodes arcface_onnx.py inspects to decide the input normalisation. */
const NORMALISATION_PROBE_NODES = 8;

/** Scale a vector to unit length in place (zero vectors stay zero). Returns it. */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return v;
}

/**
 * An ArcFace recogniser (w600k_r50, w600k_mbf, ...). Owns the ORT session. Contract checked at open:
 * input [B,3,S,S], output [B,D]; batched when both batch dims are free, batch 1 otherwise.
 */
export class ArcFaceEmbedder {
  readonly inputSizePx: number;
  readonly dim: number;
  /** Whether one run may carry several faces. */
  readonly batched: boolean;
  readonly inputMean: number;
  readonly inputStd: number;

  private constructor(readonly model: LoadedModel, private readonly inputName: string, sizePx: number, dim: number) {
    const inShape = inputsOf(model)[0]!.shape;
    const outShape = outputsOf(model)[0]!.shape;
    this.inputSizePx = sizePx;
    this.dim = dim;
    this.batched = fixedDim(inShape[0]) === undefined && fixedDim(outShape[0]) === undefined;
    // arcface_onnx.py: an MXNet export normalises inside the graph (nodes named Sub/_minus and Mul/_mul up front).
    const names = firstGraphNodes(model.bytes, NORMALISATION_PROBE_NODES).map((n) => n.name);
    const hasSub = names.some((n) => n.startsWith("Sub") || n.startsWith("_minus"));
    const hasMul = names.some((n) => n.startsWith("Mul") || n.startsWith("_mul"));
    [this.inputMean, this.inputStd] = hasSub && hasMul ? [0, 1] : [127.5, 127.5];
  }

  static async open(file: string, options: SessionOptions = {}): Promise<ArcFaceEmbedder> {
    const model = await loadModel(file, options);
    const inputs = inputsOf(model);
    const outputs = outputsOf(model);
    const input = inputs[0];
    const output = outputs[0];
    const size = fixedDim(input?.shape[2]);
    const dim = fixedDim(output?.shape[1]);
    if (
      inputs.length !== 1 || outputs.length !== 1 || !input || !output || input.shape.length !== 4 ||
      fixedDim(input.shape[1]) !== 3 || size === undefined || fixedDim(input.shape[3]) !== size ||
      output.shape.length !== 2 || dim === undefined
    ) {
      await model.session.release();
      throw new ModelContractError(
        file,
        `expected an ArcFace recogniser: one input [B,3,S,S] and one output [B,D]; got inputs ` +
          `${inputs.map((i) => describeShape(i.shape)).join(" ")}, outputs ${outputs.map((o) => describeShape(o.shape)).join(" ")}`,
      );
    }
    return new ArcFaceEmbedder(model, input.name, size, dim);
  }

  get sha256(): string {
    return this.model.sha256;
  }

  /** Unit-length embeddings of aligned crops (each inputSizePx square, RGB), in order. */
  async embed(crops: readonly RgbImage[]): Promise<Float32Array[]> {
    const result: Float32Array[] = [];
    const batch = this.batched ? Math.max(1, crops.length) : 1;
    for (let start = 0; start < crops.length; start += batch) {
      const chunk = crops.slice(start, start + batch);
      const raw = await this.run(chunk);
      for (let i = 0; i < chunk.length; i++) {
        result.push(normalizeInPlace(raw.slice(i * this.dim, (i + 1) * this.dim)));
      }
    }
    return result;
  }

  private async run(crops: readonly RgbImage[]): Promise<Float32Array> {
    const s = this.inputSizePx;
    const plane = s * s;
    const blob = new Float32Array(crops.length * 3 * plane);
    // cv2.dnn.blobFromImages subtracts the mean, then multiplies by a float32 1/std. With an int8 model the
    // input is quantised at exact half steps, so dividing instead would flip roundings and move embeddings.
    const mean = this.inputMean;
    const scale = Math.fround(1 / this.inputStd);
    crops.forEach((crop, n) => {
      if (crop.width !== s || crop.height !== s) {
        throw new RangeError(`${this.model.file}: crop must be ${s}x${s}, got ${crop.width}x${crop.height}`);
      }
      const base = n * 3 * plane;
      const d = crop.data;
      for (let i = 0; i < plane; i++) {
        blob[base + i] = (d[3 * i]! - mean) * scale;
        blob[base + plane + i] = (d[3 * i + 1]! - mean) * scale;
        blob[base + 2 * plane + i] = (d[3 * i + 2]! - mean) * scale;
      }
    });
    const tensor = new ort.Tensor("float32", blob, [crops.length, 3, s, s]);
    const out = await this.model.session.run({ [this.inputName]: tensor });
    return out[this.model.session.outputNames[0]!]!.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.model.session.release();
  }
}
