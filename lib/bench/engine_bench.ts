import type { DetectionConfig } from "../config";
import { normCrop } from "../face/align";
import { type DetectorInput, letterbox } from "../face/detect";
import type { FaceEngine } from "../face/engine";
import { loadImage } from "../image/load";
import type { LoadedImage } from "../types";
import { prefetched } from "../util/prefetch";
import { Stopwatch } from "../util/stopwatch";

export interface EngineBench {
  images: number;
  faces: number;
  /** Wall time of the whole pipeline (decode with prefetch, detect, align, embed, blur), ms. */
  pipelineMs: number;
  /** Wall time of the same model runs alone, on inputs prepared beforehand, ms. */
  modelOnlyMs: number;
  /** pipelineMs / modelOnlyMs: what the pipeline costs beyond inference (1.0 = nothing). */
  ratio: number;
  /** Per-stage totals inside the pipeline run, ms. */
  stagesMs: Record<string, number>;
}

/** The model runs of one image, prepared outside any timing. */
interface PreparedRuns {
  detectorInputs: DetectorInput[];
  crops: ReturnType<typeof normCrop>["crop"][];
}

/**
 * Measure the engine on `files`: the pipeline once (after a warm-up image), then exactly the same detector and
 * recogniser runs alone. `repeats` > 1 keeps the fastest of each, which damps a noisy machine.
 */
export async function benchEngine(
  engine: FaceEngine,
  files: readonly string[],
  config: DetectionConfig,
  { repeats = 1, prefetchDepth = 2 }: { repeats?: number; prefetchDepth?: number } = {},
): Promise<EngineBench> {
  if (files.length === 0) throw new RangeError("benchEngine needs at least one image");
  const warm = await loadImage(files[0]!);
  await engine.analyze(warm, config);

  let best: { pipelineMs: number; stages: Stopwatch; faces: number; images: number } | undefined;
  for (let r = 0; r < repeats; r++) {
    const watch = new Stopwatch();
    let faces = 0;
    let images = 0;
    const start = performance.now();
    const decodeStart = new Map<string, number>();
    const load = (file: string) => {
      decodeStart.set(file, performance.now());
      return loadImage(file).finally(() => watch.add("decode (overlapped)", performance.now() - decodeStart.get(file)!));
    };
    for await (const [, result] of prefetched(files, load, prefetchDepth)) {
      if (!result.ok) continue;
      images++;
      faces += (await engine.analyze(result.value, config, watch)).length;
    }
    const pipelineMs = performance.now() - start;
    if (!best || pipelineMs < best.pipelineMs) best = { pipelineMs, stages: watch, faces, images };
  }

  // Prepare the same model inputs the pipeline used, outside the timed region.
  const prepared: PreparedRuns[] = [];
  for (const file of files) {
    let image: LoadedImage;
    try {
      image = await loadImage(file);
    } catch {
      continue;
    }
    const detections = await engine.detect(image, config);
    const sizes = [config.detSizePx];
    if (detections.length === 0 ? config.secondPass : detections[0]!.detSizePx !== config.detSizePx) {
      sizes.push(config.secondPassSizePx);
    }
    prepared.push({
      detectorInputs: sizes.map((s) => letterbox(image, engine.detector.fixedSizePx ?? s)),
      crops: detections.map((d) => normCrop(image, d.kps, engine.embedder.inputSizePx).crop),
    });
  }
  let modelOnlyMs = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    for (const runs of prepared) {
      for (const input of runs.detectorInputs) await engine.detector.infer(input);
      if (runs.crops.length > 0) await engine.embedder.embed(runs.crops);
    }
    modelOnlyMs = Math.min(modelOnlyMs, performance.now() - start);
  }

  return {
    images: best!.images,
    faces: best!.faces,
    pipelineMs: best!.pipelineMs,
    modelOnlyMs,
    ratio: best!.pipelineMs / modelOnlyMs,
    stagesMs: Object.fromEntries(best!.stages.totalsMs),
  };
}
