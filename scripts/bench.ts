/**
 * deno task bench — measured performance, reported as ratios within one run (never asserted in tests).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { benchEngine, IMAGE_EXTENSIONS, openEngineFromModelsDir, readConfigFile, runMain, UsageError } from "../lib/mod";

const USAGE = `usage: deno task bench [--models DIR] [--images DIR] [--limit N] [--repeats N] [--config FILE]

Time the face pipeline per stage and report pipeline time / model time alone, measured in the same run.

  --models DIR   model folder (default: $FACESETS_MODELS, else models/buffalo_l)
  --images DIR   images to run on, recursively (default: ../shared/faces, without bad/)
  --limit N      use at most N images (default: all)
  --repeats N    repeat each measurement, keep the fastest (default: 2)
  --config FILE  JSON overrides of the run config
  --help         show this help`;

function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        if (name !== "bad") walk(p);
      } else if (IMAGE_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e))) out.push(p);
    }
  };
  walk(dir);
  return out;
}

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: Deno.args,
      options: {
        models: { type: "string" },
        images: { type: "string", default: "../shared/faces" },
        limit: { type: "string" },
        repeats: { type: "string", default: "2" },
        config: { type: "string" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const repeats = Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) throw new UsageError(`--repeats must be a positive integer, got ${values.repeats}`);
  const config = await readConfigFile(values.config);
  let files = listImages(values.images);
  if (values.limit) files = files.slice(0, Number(values.limit));
  if (files.length === 0) throw new UsageError(`no images under ${values.images}`);

  const engine = await openEngineFromModelsDir(values.models);
  try {
    console.log(`facesets bench: ${files.length} images from ${values.images}, ${navigator.hardwareConcurrency} cores`);
    console.log(`models: detector ${engine.detector.model.file}, recogniser ${engine.embedder.model.file}`);
    const r = await benchEngine(engine, files, config.detection, { repeats });
    console.log(`\n[engine] ${r.images} images, ${r.faces} faces`);
    for (const [stage, ms] of Object.entries(r.stagesMs)) {
      console.log(`  ${stage.padEnd(22)} ${ms.toFixed(0).padStart(7)} ms  ${(ms / r.images).toFixed(1).padStart(6)} ms/image`);
    }
    console.log(`  pipeline (wall)        ${r.pipelineMs.toFixed(0).padStart(7)} ms  ${(r.images / r.pipelineMs * 1000).toFixed(2)} images/s`);
    console.log(`  models alone (wall)    ${r.modelOnlyMs.toFixed(0).padStart(7)} ms`);
    console.log(`  ratio pipeline / model time alone: ${r.ratio.toFixed(3)} (target <= 1.15)`);
  } finally {
    await engine.close();
  }
  return 0;
}

await runMain(main, USAGE);
