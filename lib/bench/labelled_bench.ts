/**
 * Labelled benchmark: how well the embedding + clustering recovers the known people of labelled photo folders
 * (labels.csv), per linkage and threshold. Quality gates are deliberately not applied: they decide which faces may
 * form sets, which is a separate question from whether the faces that are clustered land with the right people.
 */
import type { Linkage, RunConfig } from "../config";
import type { FaceEngine } from "../face/engine";
import { loadImage } from "../image/load";
import type { ClusterMetrics } from "../cluster/metrics";
import { sweepThresholds } from "../cluster/sweep";
import { readLabels } from "../labels/labels";

export interface LabelledBenchOptions {
  /** labels.csv files (header `file,identity,...`); their photos are pooled into one clustering. */
  labelsFiles: readonly string[];
  config: RunConfig;
  /** Cosine-distance thresholds, swept for every linkage. */
  thresholds: readonly number[];
  linkages: readonly Linkage[];
  /** One line per labels file read and per photo batch embedded, for a terminal. */
  onProgress?: (line: string) => void;
}

export interface LabelledThresholdRow {
  thresholdCosDist: number;
  metrics: ClusterMetrics;
}

export interface LabelledLinkageResult {
  linkage: Linkage;
  rows: LabelledThresholdRow[];
  /** The row with the highest BCubed F (the lowest such threshold on a tie). */
  best: LabelledThresholdRow;
  /** Wall time of the sweep, ms. */
  ms: number;
}

export interface LabelledBench {
  labelsFiles: string[];
  /** Rows across all labels files. */
  labelRows: number;
  /** Rows listing several identities (group photos): one face cannot be scored against several people. */
  skippedGroup: number;
  /** Rows with an empty identity. */
  skippedUnlabelled: number;
  /** Single-identity rows whose file does not exist. */
  skippedMissing: number;
  /** Single-identity rows naming a photo already taken from an earlier labels file. */
  skippedDuplicate: number;
  /** Photos that exist but failed to decode: path and reason. */
  unreadable: { path: string; reason: string }[];
  /** Single-identity photos analysed. */
  photos: number;
  /** Of those, photos where no face was detected (they drop out of the scoring). */
  noFace: number;
  /** Of those, photos with several detected faces, of which the largest (faceShortPx) was kept. */
  severalFaces: number;
  /** Faces clustered: one per photo with a detected face. */
  faces: number;
  identities: number;
  dim: number;
  /** Wall time of decoding, detecting and embedding the photos, ms. */
  embedMs: number;
  linkages: LabelledLinkageResult[];
}

/**
 * Embed the single-person photos of `labelsFiles` (largest face per photo) and sweep `thresholds` for each linkage,
 * scoring every clustering against the labels.
 */
export async function benchLabelled(engine: FaceEngine, options: LabelledBenchOptions): Promise<LabelledBench> {
  const { labelsFiles, config, thresholds, linkages, onProgress } = options;
  if (labelsFiles.length === 0) throw new RangeError("benchLabelled: no labels files given");
  if (linkages.length === 0) throw new RangeError("benchLabelled: no linkages given");

  let labelRows = 0;
  let skippedGroup = 0;
  let skippedUnlabelled = 0;
  let skippedMissing = 0;
  let skippedDuplicate = 0;
  const photos: { path: string; identity: string }[] = [];
  const seen = new Set<string>();
  for (const file of labelsFiles) {
    const labels = await readLabels(file);
    labelRows += labels.rows.length;
    let taken = 0;
    for (const row of labels.rows) {
      if (row.identities.length > 1) skippedGroup++;
      else if (row.identity === null) skippedUnlabelled++;
      else if (!row.exists) skippedMissing++;
      else if (seen.has(row.path)) skippedDuplicate++;
      else {
        seen.add(row.path);
        photos.push({ path: row.path, identity: row.identity });
        taken++;
      }
    }
    onProgress?.(`${file}: ${labels.rows.length} rows, ${taken} single-identity photos`);
  }
  if (photos.length === 0) {
    throw new RangeError(`benchLabelled: no single-identity photo that exists in ${labelsFiles.join(", ")}`);
  }

  const embeddings: Float32Array[] = [];
  const truth: string[] = [];
  const unreadable: { path: string; reason: string }[] = [];
  let noFace = 0;
  let severalFaces = 0;
  const embedStart = performance.now();
  for (const [k, photo] of photos.entries()) {
    let image;
    try {
      image = await loadImage(photo.path, { maxPixels: config.image.maxPixels });
    } catch (err) {
      unreadable.push({ path: photo.path, reason: (err as Error).message });
      continue;
    }
    const faces = await engine.analyze(image, config.detection);
    if (faces.length === 0) {
      noFace++;
      continue;
    }
    if (faces.length > 1) severalFaces++;
    // The labelled person is taken to be the most prominent face; bystanders are smaller.
    const largest = faces.reduce((a, b) => (b.faceShortPx > a.faceShortPx ? b : a));
    embeddings.push(largest.embedding);
    truth.push(photo.identity);
    if ((k + 1) % 50 === 0) onProgress?.(`embedded ${k + 1}/${photos.length} photos`);
  }
  const embedMs = performance.now() - embedStart;
  if (embeddings.length === 0) {
    throw new RangeError(`benchLabelled: no face detected in any of the ${photos.length} labelled photos of ${labelsFiles.join(", ")}`);
  }

  const dim = embeddings[0]!.length;
  const X = new Float32Array(embeddings.length * dim);
  embeddings.forEach((e, i) => X.set(e, i * dim));
  // One face per photo, so the constraint never binds; it is passed so the sweep matches what a scan would run.
  const cannotLink = Int32Array.from(embeddings, (_, i) => i);

  const results: LabelledLinkageResult[] = linkages.map((linkage) => {
    const sweep = sweepThresholds(X, dim, { thresholdsCosDist: thresholds, linkage, truth, cannotLink });
    const rows = sweep.rows.map((r) => ({ thresholdCosDist: r.thresholdCosDist, metrics: r.metrics! }));
    const best = rows.reduce((a, b) => (b.metrics.bcubedF > a.metrics.bcubedF ? b : a));
    return { linkage, rows, best, ms: sweep.totalMs };
  });

  return {
    labelsFiles: [...labelsFiles],
    labelRows,
    skippedGroup,
    skippedUnlabelled,
    skippedMissing,
    skippedDuplicate,
    unreadable,
    photos: photos.length,
    noFace,
    severalFaces,
    faces: embeddings.length,
    identities: new Set(truth).size,
    dim,
    embedMs,
    linkages: results,
  };
}
