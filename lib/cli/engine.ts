import { FaceEngine } from "../face/engine";
import { ensureDefaultModels } from "../models/install";
import { findPackFiles, resolveModelsDir } from "../models/pack";
import { downloadProgress } from "./progress";

export interface OpenEngineOptions {
  /** ORT threads per operator (0: ORT decides). */
  intraOpThreads?: number;
  /** Fetch buffalo_l into models/buffalo_l when neither --models nor $FACESETS_MODELS is given and it is absent. */
  fetchDefault?: boolean;
}

/** Open the face engine from `--models DIR` / $FACESETS_MODELS / models/buffalo_l, with a one-line error if absent. */
export async function openEngineFromModelsDir(
  modelsDir?: string,
  { intraOpThreads = 0, fetchDefault = false }: OpenEngineOptions = {},
): Promise<FaceEngine> {
  let dir = resolveModelsDir(modelsDir);
  const usingDefault = !modelsDir && !process.env.FACESETS_MODELS;
  if (usingDefault && fetchDefault) {
    dir = await ensureDefaultModels(dir, (line) => process.stderr.write(`${line}\n`), { onProgress: downloadProgress() });
  }
  const files = findPackFiles(dir);
  return FaceEngine.open({ detectorFile: files.detector, recognizerFile: files.recognizer }, { intraOpThreads });
}
