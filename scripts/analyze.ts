/**
 * deno task analyze — detect, align and embed the faces of some images, as InsightFace 0.7.3 buffalo_l would.
 */
import { mkdirSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { analysisToJson, drawDetections, ImageLoadError, loadImage, readConfigFile, savePng, SUPPORTED_FORMATS } from "../lib/mod";
import {
  CONFIG_OPTION,
  HELP_PRINTED,
  JSON_OPTION,
  openEngineFromModelsDir,
  parseCommandArgs,
  runMain,
  UsageError,
} from "../lib/cli/mod";

const USAGE = `usage: deno task analyze [--models DIR] [--json] [--draw OUT_DIR] [--config FILE] [--set KEY=VALUE]... [--no-second-pass] IMAGE...

Detect faces (SCRFD), align them (5 points), embed them (ArcFace) and measure quality (face_short, det_score, blur).

  --models DIR      model folder (default: $FACESETS_MODELS, else models/buffalo_l; get it with: deno task models)
  --json            print one JSON array: per image {file, width, height, faces: [{bbox, kps, det_score,
                    face_short, blur, embedding}]} or {file, error}; embeddings are L2-normalised
  --draw OUT_DIR    also write each image with boxes and landmarks to OUT_DIR/<name>.faces.png
  --config FILE     JSON overrides of the run config (e.g. {"detection": {"detSizePx": 640}})
  --set KEY=VALUE   one config setting, e.g. --set identity.minUniqueSources=4
                    (repeatable, applied after --config, validated like it)
  --no-second-pass  strict InsightFace 0.7.3: no 128 px pass when the 640 pass finds nothing
  --help            show this help

Exit codes: 0 done (unreadable images are reported per image), 1 failure, 2 usage error.`;

const OPTIONS = {
  models: { type: "string" },
  ...JSON_OPTION,
  draw: { type: "string" },
  ...CONFIG_OPTION,
  "no-second-pass": { type: "boolean", default: false },
} as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE, { allowPositionals: true });
  if (parsed === HELP_PRINTED) return 0;
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new UsageError("no IMAGE given");
  const config = await readConfigFile(values.config, values.set);
  if (values["no-second-pass"]) config.detection.secondPass = false;
  if (values.draw) mkdirSync(values.draw, { recursive: true });

  const engine = await openEngineFromModelsDir(values.models);
  const results: unknown[] = [];
  try {
    for (const file of positionals) {
      try {
        const first = await loadImage(file, { maxPixels: config.image.maxPixels });
        // A multi-page TIFF: every page, each under its own name ("file [page 2]").
        for (const page of first.pages) {
          const image = page === first.page ? first : await loadImage(file, { maxPixels: config.image.maxPixels, page });
          const name = first.pages.length > 1 ? `${file} [page ${page}]` : file;
          const faces = await engine.analyze(image, config.detection);
          if (values.draw) {
            const suffix = first.pages.length > 1 ? `.page${page}` : "";
            await savePng(drawDetections(image, faces), join(values.draw, `${basename(file, extname(file))}${suffix}.faces.png`));
          }
          if (values.json) results.push({ ...analysisToJson(name, image, faces), ...(image.note ? { note: image.note } : {}) });
          else {
            printTable(name, image.width, image.height, faces);
            if (image.note) console.log(`   (${image.note})`);
          }
        }
      } catch (err) {
        if (!(err instanceof ImageLoadError)) throw err;
        if (values.json) results.push({ file, error: err.message });
        else console.log(`${file}: error: ${err.reason}: ${err.detail}`);
        if (!values.json && (err.reason === "not-an-image" || err.reason === "unsupported-format")) {
          console.log(`  facesets reads: ${SUPPORTED_FORMATS.map((f) => `${f.label} (${f.extensions.join(" ")})`).join(", ")}`);
        }
      }
    }
  } finally {
    await engine.close();
  }
  if (values.json) console.log(JSON.stringify(results));
  return 0;
}

function printTable(
  file: string,
  width: number,
  height: number,
  faces: { bbox: number[]; detScore: number; faceShortPx: number; blur: number; detSizePx: number }[],
): void {
  console.log(`${file}  ${width}x${height}  ${faces.length} face${faces.length === 1 ? "" : "s"}`);
  if (faces.length === 0) return;
  console.log("   #  bbox (x1,y1,x2,y2)            det_score  face_short   blur  pass");
  faces.forEach((f, i) => {
    const box = f.bbox.map((v) => v.toFixed(0)).join(",").padEnd(28);
    console.log(
      `  ${String(i).padStart(2)}  ${box}  ${f.detScore.toFixed(3).padStart(9)}  ${f.faceShortPx.toFixed(1).padStart(10)}  ` +
        `${f.blur.toFixed(1).padStart(5)}  ${f.detSizePx}`,
    );
  });
}

await runMain(main, USAGE);
