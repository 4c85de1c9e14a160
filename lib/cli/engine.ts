import { FaceEngine } from "../face/engine";
import { findPackFiles, resolveModelsDir } from "../models/pack";

/** Open the face engine from `--models DIR` / $FACESETS_MODELS / models/buffalo_l, with a one-line error if absent. */
export async function openEngineFromModelsDir(modelsDir?: string, intraOpThreads = 0): Promise<FaceEngine> {
  const files = findPackFiles(resolveModelsDir(modelsDir));
  return FaceEngine.open({ detectorFile: files.detector, recognizerFile: files.recognizer }, { intraOpThreads });
}
