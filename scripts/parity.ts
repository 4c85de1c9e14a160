/**
 * deno task parity — the engine's parity figures against InsightFace 0.7.3's own records (../shared/golden): the
 * numbers the README quotes. Measurement only; the parity tests assert bounds on the same figures.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_CONFIG, FaceEngine } from "../lib/mod";
import { FILES, HELP_PRINTED, parseCommandArgs, Progress, runMain, textTable, UsageError } from "../lib/cli/mod";
import { measureParity, type ParityFigures, readGoldenSet } from "../lib/bench/mod";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

const USAGE = `usage: deno task parity [--shared DIR] [--json]

Run the engine on every image of InsightFace's golden records and print how far our records are from theirs:
face counts, box and landmark error as a share of the tolerance max(2 px, 1% of face_short), det_score and blur
differences, embedding cosine (min and mean) and the aligned 112 crops' mean absolute difference. Three sets, each
left out with a note when its files are missing:
  det_2.5g    golden/det_2.5g+w600k_mbf_int8.json, one 640 pass (InsightFace 0.7.3), crops compared
  size128     golden/det_2.5g+w600k_mbf_int8.size128.json: tight crops found by the second, 128 pass
  det_500m    golden/det_500m+w600k_mbf_int8.json, the smaller detector
Takes a few minutes on 2 cores (about 220 images).

  --shared DIR   the fixture folder with faces/, models/, golden/ (default: ../shared beside the repository)
  --json         print the figures as one JSON object on the last line
  --help         show this help`;

const OPTIONS = {
  shared: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

interface SetSpec {
  name: string;
  detector: string;
  golden: string;
  secondPass: boolean;
  expectDetSizePx?: number;
  crops?: string;
}

const SETS: SetSpec[] = [
  { name: "det_2.5g", detector: "det_2.5g.onnx", golden: "det_2.5g+w600k_mbf_int8.json", secondPass: false, crops: "crops_det2.5g_mbf" },
  { name: "size128", detector: "det_2.5g.onnx", golden: "det_2.5g+w600k_mbf_int8.size128.json", secondPass: true, expectDetSizePx: 128 },
  { name: "det_500m", detector: "det_500m.onnx", golden: "det_500m+w600k_mbf_int8.json", secondPass: false },
];
const RECOGNIZER = "w600k_mbf_int8.onnx";

function row(name: string, f: ParityFigures): (string | number)[] {
  return [
    name,
    f.images,
    `${f.faces.length}/${f.goldenFaces}`,
    f.countMismatches.length + f.imageMismatches.length + f.passMismatches.length,
    f.max.boxShare.toFixed(3),
    f.max.kpsShare.toFixed(3),
    f.max.detScoreAbs.toExponential(1),
    `${(100 * f.max.blurRel).toFixed(4)}%`,
    f.cosine.min.toFixed(4),
    f.cosine.mean.toFixed(4),
    f.crop ? `${f.crop.mean.toFixed(3)} (max ${f.crop.max.toFixed(2)})` : "-",
  ];
}

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const shared = resolve(values.shared ?? join(ROOT, "..", "shared"));
  if (!existsSync(join(shared, "golden"))) {
    throw new UsageError(`${shared}: no golden/ folder (InsightFace's records); pass --shared DIR`);
  }
  const out: Record<string, ParityFigures> = {};
  const rows: (string | number)[][] = [];
  for (const spec of SETS) {
    const files = [join(shared, "models", spec.detector), join(shared, "models", RECOGNIZER), join(shared, "golden", spec.golden)];
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length > 0) {
      console.log(`[parity] ${spec.name}: left out, missing ${missing.join(", ")}`);
      continue;
    }
    const golden = await readGoldenSet(files[2]!);
    const engine = await FaceEngine.open({ detectorFile: files[0]!, recognizerFile: files[1]! });
    const progress = new Progress({ label: `parity ${spec.name}`, total: golden.images.length, unit: FILES });
    try {
      out[spec.name] = await measureParity(engine, golden, {
        facesDir: join(shared, "faces"),
        cropsDir: spec.crops ? join(shared, "golden", spec.crops) : undefined,
        config: { ...DEFAULT_CONFIG.detection, secondPass: spec.secondPass },
        expectDetSizePx: spec.expectDetSizePx,
        onProgress: (done) => progress.update(done),
      });
    } finally {
      progress.finish();
      await engine.close();
    }
    rows.push(row(spec.name, out[spec.name]!));
  }

  console.log(`[parity] against ${join(shared, "golden")} (InsightFace 0.7.3), recogniser ${RECOGNIZER}`);
  console.log(
    textTable(
      ["set", "images", "faces", "mismatches", "box/tol", "kps/tol", "det_score", "blur", "cos min", "cos mean", "crop |diff|"],
      rows,
    ),
  );
  console.log("  box/tol, kps/tol: largest error as a share of max(2 px, 1% of face_short); det_score: largest absolute");
  console.log("  difference; blur: largest relative difference; crop |diff|: mean absolute difference in grey levels");
  for (const [name, f] of Object.entries(out)) {
    for (const m of [...f.countMismatches, ...f.imageMismatches, ...f.passMismatches]) console.log(`  ${name}: ${m}`);
  }
  if (values.json) {
    const summary = Object.fromEntries(Object.entries(out).map(([name, f]) => [name, { ...f, faces: f.faces.length }]));
    console.log(JSON.stringify(summary));
  }
  return 0;
}

await runMain(main, USAGE);
