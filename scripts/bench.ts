/**
 * deno task bench — measured performance, reported as ratios within one run, and clustering accuracy on the
 * labelled photos (never asserted in tests).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_MIN_SAMPLES, IMAGE_EXTENSIONS, LINKAGES, readConfigFile, thresholdRange } from "../lib/mod";
import {
  CONFIG_OPTION,
  HELP_PRINTED,
  openEngineFromModelsDir,
  parseCommandArgs,
  runMain,
  textTable,
  UsageError,
} from "../lib/cli/mod";
import {
  benchClustering,
  benchEngine,
  benchLabelled,
  benchLarge,
  benchReview,
  benchScan,
  benchSharpness,
  makeLargePhotos,
} from "../lib/bench/mod";

const USAGE = `usage: deno task bench [--models DIR] [--images DIR] [--limit N] [--repeats N] [--config FILE] [--set KEY=VALUE]...
                        [--labels CSV]... [--large N] [--skip-scan] [--skip-large] [--skip-sharpness] [--skip-cluster]
                        [--skip-labelled] [--skip-review]

Measure performance as ratios within one run (targets are printed beside them), and clustering accuracy on
labelled photos; sections print in this order:
  [engine]   the face pipeline per stage, and pipeline time / model time alone (target <= 1.15);
  [scan]     a full scan of a temp copy of the images into a temp store: images/s, and its ratio to the
             model-only rate of the same images measured above (target >= 0.85);
  [large]    N camera-size photos (24 MP JPEGs, q90, made from --images photos by enlarging them with grain):
             one full decode, the pipeline and a scan, with the reference "model time + one full decode"
             beside "model time alone" (target: scan rate >= 0.85 of the reference rate);
  [sharpness] blur and sharpness of the same faces (>= 90 px) on the photos rescaled x0.25 to x4: median
             ratio to the original size and faces under minBlur per scale (docs/sharpness.md);
  [labelled] the single-person photos of the --labels files (largest face each; group photos skipped; no quality
             gates) clustered with each linkage (average, single, complete, dbscan) at cosine distance 0.35 to 0.70
             by 0.05: clusters / identities, pairwise and BCubed precision, recall and F, and the best BCubed F per
             linkage; --images and --limit do not apply to it, --config's detection settings do;
  [cluster]  clustering of 10k and 100k synthetic 512-d faces: wall time and peak RSS of the scalable path, the
             exact path at 10k, and the BCubed F agreement between them (~1 min);
  [review]   the review page's Sets page for a 1,000-face library (40 sets of 25, 512 px crops, a store with
             their embeddings) in headless Chromium: time until the page is shown, until the first screen's
             thumbnails are in, and until all are; cold (thumbnails made) and warm (cached), target < 2 s (~1 min).

  --models DIR     model folder (default: $FACESETS_MODELS, else models/buffalo_l)
  --images DIR     images to run on, recursively (default: ../shared/faces beside the repository, without bad/)
  --limit N        use at most N images (default: all)
  --repeats N      repeat each engine and scan measurement, keep the fastest (default: 2)
  --config FILE    JSON overrides of the run config
  --set KEY=VALUE  one config setting, e.g. --set identity.minUniqueSources=4
                   (repeatable, applied after --config, validated like it)
  --labels CSV     labels.csv (header file,identity,...) for [labelled]; repeat or comma-separate for several
                   (default: ../shared/faces/{deepface,face_recognition,faceapi}/labels.csv)
  --large N        camera-size photos for [large] (default 4)
  --skip-scan      leave out the [scan] lines
  --skip-large     leave out the [large] lines
  --skip-sharpness leave out the [sharpness] lines
  --skip-cluster   leave out the [cluster] lines
  --skip-labelled  leave out the [labelled] lines
  --skip-review    leave out the [review] lines
  --help           show this help`;

/** ../shared beside the repository (not the working directory): the test photos and their labels. */
const SHARED_FACES = join(fileURLToPath(new URL("..", import.meta.url)), "..", "shared", "faces");
const DEFAULT_LABELS = ["deepface", "face_recognition", "faceapi"].map((d) => join(SHARED_FACES, d, "labels.csv"));
const LABELLED_THRESHOLDS = thresholdRange(0.35, 0.7, 0.05);

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

function printLabelled(b: Awaited<ReturnType<typeof benchLabelled>>): void {
  console.log(`\n[labelled] ${b.labelsFiles.join(", ")}`);
  console.log(
    `  ${b.labelRows} label rows: ${b.photos} single-identity photos used; skipped ${b.skippedGroup} group photos ` +
      `(several identities), ${b.skippedUnlabelled} unlabelled, ${b.skippedMissing} missing files` +
      (b.skippedDuplicate ? `, ${b.skippedDuplicate} listed twice` : ""),
  );
  for (const u of b.unreadable) console.log(`  unreadable: ${u.path}: ${u.reason}`);
  console.log(
    `  ${b.faces} faces of ${b.identities} identities (${b.dim}-d), embedded in ${(b.embedMs / 1000).toFixed(1)} s; ` +
      `${b.noFace} photos with no face detected, ${b.severalFaces} with several faces (largest kept); no quality gates`,
  );
  const header = ["threshold", "clusters", "identities", "clusters/id", "pair P", "pair R", "pair F", "BCubed P", "BCubed R", "BCubed F"];
  for (const l of b.linkages) {
    console.log(`\n  linkage ${l.linkage}${l.linkage === "dbscan" ? ` (eps = threshold, minSamples ${DEFAULT_MIN_SAMPLES})` : ""}`);
    const rows = l.rows.map(({ thresholdCosDist: t, metrics: m }) => [
      t.toFixed(2),
      m.clusters,
      m.identities,
      m.clustersPerIdentity,
      m.pairwisePrecision,
      m.pairwiseRecall,
      m.pairwiseF,
      m.bcubedPrecision,
      m.bcubedRecall,
      m.bcubedF,
    ]);
    console.log(textTable(header, rows).replace(/^/gm, "  "));
  }
  console.log("");
  for (const l of b.linkages) {
    const m = l.best.metrics;
    // A plateau of equal scores says more about how forgiving the threshold is than its first point alone.
    const tied = l.rows.filter((r) => r.metrics.bcubedF === m.bcubedF).map((r) => r.thresholdCosDist.toFixed(2));
    console.log(
      `  best BCubed F, ${l.linkage.padEnd(8)}: ${m.bcubedF.toFixed(4)} at ${l.best.thresholdCosDist.toFixed(2)} ` +
        `(${m.clusters} clusters / ${m.identities} identities, pairwise F ${m.pairwiseF.toFixed(4)})` +
        (tied.length > 1 ? `; equal at ${tied.join(", ")}` : ""),
    );
  }
}

const OPTIONS = {
  models: { type: "string" },
  images: { type: "string", default: SHARED_FACES },
  limit: { type: "string" },
  repeats: { type: "string", default: "2" },
  ...CONFIG_OPTION,
  "skip-scan": { type: "boolean", default: false },
  large: { type: "string", default: "4" },
  "skip-large": { type: "boolean", default: false },
  "skip-sharpness": { type: "boolean", default: false },
  "skip-cluster": { type: "boolean", default: false },
  labels: { type: "string", multiple: true },
  "skip-labelled": { type: "boolean", default: false },
  "skip-review": { type: "boolean", default: false },
} as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const repeats = Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) throw new UsageError(`--repeats must be a positive integer, got ${values.repeats}`);
  const config = await readConfigFile(values.config, values.set);
  const largeCount = Number(values.large);
  if (!Number.isInteger(largeCount) || largeCount < 1) throw new UsageError(`--large must be a positive integer, got ${values.large}`);
  let files = listImages(values.images);
  if (values.limit) {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got ${values.limit}`);
    files = files.slice(0, limit);
  }
  if (files.length === 0) throw new UsageError(`no images under ${values.images}`);
  const labelsFiles = (values.labels ?? DEFAULT_LABELS).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
  if (labelsFiles.length === 0) throw new UsageError("--labels is empty; give at least one labels.csv");
  // Checked up front: [labelled] runs after minutes of [engine] and [scan], too late to learn of a typo.
  if (!values["skip-labelled"]) {
    for (const f of labelsFiles) if (!existsSync(f)) throw new UsageError(`--labels ${f}: no such file (or pass --skip-labelled)`);
  }

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

    if (!values["skip-scan"]) {
      const s = await benchScan(engine, files, {
        root: values.images,
        config,
        repeats,
        modelOnly: { images: r.images, ms: r.modelOnlyMs },
      });
      console.log(`\n[scan] ${s.files} files copied to a temp folder, scanned into a temp store: ${s.analysed} analysed, ${s.faces} faces`);
      for (const [stage, ms] of Object.entries(s.stagesMs)) {
        console.log(`  ${stage.padEnd(22)} ${ms.toFixed(0).padStart(7)} ms  ${(ms / s.analysed).toFixed(1).padStart(6)} ms/image`);
      }
      console.log(`  scan (wall)            ${s.scanMs.toFixed(0).padStart(7)} ms  ${s.scanImagesPerSecond.toFixed(2)} images/s`);
      console.log(`  models alone           ${r.modelOnlyMs.toFixed(0).padStart(7)} ms  ${s.modelImagesPerSecond.toFixed(2)} images/s`);
      console.log(`  ratio scan rate / model-only rate: ${s.ratio.toFixed(3)} (target >= 0.85)`);
    }

    if (!values["skip-large"]) await printLarge(engine, files, largeCount, config, repeats);

    if (!values["skip-sharpness"]) {
      const sh = await benchSharpness(engine, files, config.detection, { gate: config.identity.minBlur, minFaceShortPx: config.identity.minFaceShortPx });
      console.log(`\n[sharpness] ${sh.faces} faces >= ${config.identity.minFaceShortPx} px in ${sh.photos} photos, rescaled (lanczos3); ratio = median of measure / measure at x1`);
      console.log(`  at x1: median blur ${sh.blurMedian.toFixed(0)}, median sharpness ${sh.sharpnessMedian.toFixed(0)}`);
      console.log(textTable(
        ["scale", "blur ratio", "|log2|", `blur < ${sh.gate}`, "sharpness ratio", "|log2|", `sharpness < ${sh.gate}`],
        sh.rows.map((r) => [
          `x${r.scale}`, r.blurMedianRatio.toFixed(3), r.blurMedianAbsLog2.toFixed(2), String(r.blurBelowGate),
          r.sharpnessMedianRatio.toFixed(3), r.sharpnessMedianAbsLog2.toFixed(2), String(r.sharpnessBelowGate),
        ]),
      ).split("\n").map((l) => `  ${l}`).join("\n"));
    }

    if (!values["skip-labelled"]) {
      const labelled = await benchLabelled(engine, {
        labelsFiles,
        config,
        thresholds: LABELLED_THRESHOLDS,
        linkages: LINKAGES,
        onProgress: (line) => console.error(`  ${line}`),
      });
      printLabelled(labelled);
    }
  } finally {
    await engine.close();
  }

  if (!values["skip-cluster"]) {
    console.log(`\n[cluster] synthetic ArcFace-like faces (50 per identity, 512-d), average linkage at 0.55`);
    const c = benchClustering({ onProgress: (line) => console.error(`  ${line}`) });
    for (const row of c.rows) {
      const sc = row.scalable;
      console.log(
        `  n=${row.n} (${row.identities} identities): scalable ${(sc.ms / 1000).toFixed(1)} s, peak RSS ${sc.peakRssMb.toFixed(0)} MB, ` +
          `${sc.clusters} clusters, BCubed F vs truth ${sc.bcubedF.toFixed(4)}`,
      );
      if (row.exact) {
        console.log(
          `  n=${row.n}: exact ${(row.exact.ms / 1000).toFixed(1)} s, peak RSS ${row.exact.peakRssMb.toFixed(0)} MB, ` +
            `BCubed F vs truth ${row.exact.bcubedF.toFixed(4)}; scalable vs exact BCubed F ${row.bcubedFScalableVsExact!.toFixed(4)}`,
        );
      }
    }
    console.log(`  peak RSS source: ${c.rssSource === "VmHWM" ? "VmHWM, reset before each run" : "process maximum (upper bound)"}`);
  }

  if (!values["skip-review"]) {
    const rv = await benchReview({ config, log: (line) => console.error(`  ${line}`) });
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(`\n[review] Sets page of a ${rv.faces}-face library (${rv.sets} sets, store with embeddings), headless Chromium`);
    console.log(`  library built in ${s(rv.buildMs)} (not part of the page)`);
    for (const [name, t] of [["cold", rv.cold], ["warm", rv.warm]] as const) {
      console.log(
        `  ${name}: view built ${s(t.viewMs)}; page shown ${s(t.shownMs)}, first screen of thumbnails ${s(t.firstScreenMs)}, ` +
          `all ${rv.faces} thumbnails ${s(t.allThumbsMs)} (${t.made} made)`,
      );
    }
    console.log(`  Sets page shown with its first screen of thumbnails, warm: ${s(rv.warm.firstScreenMs)} (target < 2 s)`);
  }
  return 0;
}

/** [large]: make `count` 24 MP photos from JPEGs spread over `files`, measure them, remove them. */
async function printLarge(engine: Awaited<ReturnType<typeof openEngineFromModelsDir>>, files: string[], count: number, config: Awaited<ReturnType<typeof readConfigFile>>, repeats: number) {
  const jpegs = files.filter((f) => /\.jpe?g$/i.test(f));
  const sources = Array.from({ length: Math.min(count, jpegs.length) }, (_, i) => jpegs[Math.floor((i * jpegs.length) / Math.min(count, jpegs.length))]!);
  const dir = await Deno.makeTempDir({ prefix: "facesets-large-bench-" });
  try {
    console.error(`  making ${sources.length} 24 MP photos in ${dir}`);
    const large = await makeLargePhotos(sources, dir);
    const l = await benchLarge(engine, large, { root: dir, config, repeats });
    console.log(`\n[large] ${l.images} photos of 24 MP (JPEG q90, mean ${l.meanFileMb.toFixed(1)} MB), ${l.faces} faces`);
    for (const [stage, ms] of Object.entries(l.scan.stagesMs)) {
      console.log(`  ${stage.padEnd(22)} ${ms.toFixed(0).padStart(7)} ms  ${(ms / l.scan.analysed).toFixed(1).padStart(6)} ms/image (scan)`);
    }
    console.log(`  one full decode        ${l.decodeMs.toFixed(0).padStart(7)} ms  ${(l.decodeMs / l.images).toFixed(1).padStart(6)} ms/image`);
    console.log(`  models alone           ${l.engine.modelOnlyMs.toFixed(0).padStart(7)} ms  ${(l.engine.modelOnlyMs / l.images).toFixed(1).padStart(6)} ms/image`);
    console.log(`  models + one decode    ${l.referenceMs.toFixed(0).padStart(7)} ms  (the reference)`);
    console.log(`  pipeline (wall)        ${l.engine.pipelineMs.toFixed(0).padStart(7)} ms  ratio to models alone ${l.engine.ratio.toFixed(3)}, to models + decode ${(l.engine.pipelineMs / l.referenceMs).toFixed(3)}`);
    console.log(`  scan (wall)            ${l.scan.scanMs.toFixed(0).padStart(7)} ms  ${l.scan.scanImagesPerSecond.toFixed(2)} images/s`);
    console.log(`  ratio scan rate / (models + decode) rate: ${l.scanVsReference.toFixed(3)} (target >= 0.85); scan rate / model-only rate: ${l.scanVsModelOnly.toFixed(3)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

await runMain(main, USAGE);
