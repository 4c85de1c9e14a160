import * as ort from "onnxruntime-node";
import { readFile } from "node:fs/promises";
import { sha256Bytes } from "../util/hash";

/** A model file that does not fit the contract its stage needs. */
export class ModelContractError extends Error {
  override name = "ModelContractError";
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
  }
}

export interface SessionOptions {
  /** Threads ORT may use inside one operator; 0 lets ORT pick (all cores). */
  intraOpThreads?: number;
}

/** A loaded ONNX model: the ORT session plus the file's identity. */
export interface LoadedModel {
  file: string;
  sha256: string;
  bytes: Uint8Array;
  session: ort.InferenceSession;
}

export type Dim = number | string;

export async function loadModel(file: string, { intraOpThreads = 0 }: SessionOptions = {}): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new ModelContractError(file, `cannot read model file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
    });
  } catch (err) {
    throw new ModelContractError(file, `not a loadable ONNX model (${String(err).split("\n")[0]})`);
  }
  return { file, sha256: sha256Bytes(bytes), bytes, session };
}

export interface TensorInfo {
  name: string;
  shape: Dim[];
}

function tensorInfo(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return meta.map((m) => ({ name: m.name, shape: m.isTensor ? [...m.shape] : [] }));
}

export function inputsOf(model: LoadedModel): TensorInfo[] {
  return tensorInfo(model.session.inputMetadata);
}

export function outputsOf(model: LoadedModel): TensorInfo[] {
  return tensorInfo(model.session.outputMetadata);
}

/** A fixed dimension as a number, a symbolic or unknown one as undefined. */
export function fixedDim(dim: Dim | undefined): number | undefined {
  return typeof dim === "number" && dim > 0 ? dim : undefined;
}

export function describeShape(shape: Dim[]): string {
  return `[${shape.map((d) => (typeof d === "number" && d > 0 ? String(d) : "?")).join(",")}]`;
}
