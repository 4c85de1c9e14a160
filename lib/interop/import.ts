/**
 * Import an existing InsightFace embedding cache (.npz) into the face store (`deno task import-npz`).
 *
 * [Note: npz key mapping] One row per face; N rows.
 *   path                         [N] strings, required: the photo the face is in (as the store should record it)
 *   embedding | embeddings | feats  [N,D] float, required: re-normalised to unit length here
 *   bbox                         [N,4] float, required: x1, y1, x2, y2 in pixels
 *   sha256                       [N] strings, optional: the file's content hash; when absent (or "") it is
 *                                computed from the file, and a row whose file cannot be read is refused
 *   face_id                      [N] strings, optional: default faceId(sha256, det_index)
 *   det_index                    [N] int, optional: default the face's order among its file's rows
 *   kps                          [N,5,2] or [N,10] float, optional (NaN rows = unknown)
 *   det_score, blur, face_short  [N] float, optional (NaN = unknown; face_short defaults to the bbox's short side)
 *   sharpness                    [N] float, optional (our export; NaN = unknown: the gates then use blur)
 *   det_size                     [N] int, optional (<= 0 = unknown)
 *   recognizer_sha256            [] or [1] string, optional: used when --recognizer-sha256 is not given
 *   file_path + file_capture_time  [F] strings, optional (our export): a file's EXIF capture time,
 *                                "YYYY-MM-DDTHH:MM:SS" camera local time, "" for none
 * Other arrays (our export's other file_* arrays, retired, ...) are ignored. This is exactly what
 * `deno task export-store --format npz` writes, so an export imports back.
 *
 * Rules: a file present on disk must hash to the given sha256 (else its rows are refused: the cache is stale);
 * a file not on disk is recorded with status `missing` (its faces are kept but listed only with includeRetired);
 * rows of a path or content already in the store are refused (re-scan instead); when several paths share content,
 * the first is canonical and the others become aliases (their rows' faces are not imported twice).
 */
import { existsSync, statSync } from "node:fs";
import type { FaceInput, FileOutcome } from "../store/records";
import { StoreError } from "../store/errors";
import type { FaceStore } from "../store/store";
import type { Landmarks5, Point } from "../types";
import { isSha256Hex, sha256File } from "../util/hash";
import { npyElementCount, type NpyArray, NpyError, npyNumbers } from "./npy";
import { readNpz } from "./npz";
import { captureTimeText } from "./export";

export const EMBEDDING_KEYS = ["embedding", "embeddings", "feats"] as const;
/** |norm - 1| up to which an embedding counts as already unit length (a few float32 ulps over 512 terms). */
const UNIT_KEEP_TOLERANCE = 1e-6;

export interface ImportNpzOptions {
  /** sha256 of the recognizer ONNX that made the embeddings (default: the file's `recognizer_sha256`). */
  recognizerSha256?: string;
  /** Recorded with the run. */
  command?: string;
  /** Files per store transaction (default 256). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface RefusedRow {
  /** Row index in the npz. */
  row: number;
  path: string;
  reason: string;
}

export interface ImportSummary {
  runId: string;
  rows: number;
  /** Faces written. */
  faces: number;
  /** Files recorded as analysed (`ok`), aliases, and of those how many are not on disk (`missing`). */
  files: number;
  aliases: number;
  missing: number;
  refused: RefusedRow[];
  dim: number;
  recognizerSha256: string;
}

/** Import mistakes that concern the whole file (missing key, wrong shape, model mismatch). */
export class ImportNpzError extends Error {
  override name = "ImportNpzError";
}

function strings(arrays: Map<string, NpyArray>, key: string, n: number, file: string): string[] | undefined {
  const a = arrays.get(key);
  if (!a) return undefined;
  if (!Array.isArray(a.data)) throw new ImportNpzError(`${file}: '${key}' must be strings, got ${a.dtype}`);
  if (a.data.length !== n) throw new ImportNpzError(`${file}: '${key}' has ${a.data.length} entries, expected ${n} (one per face)`);
  return a.data;
}

/** Capture times by file path from `file_path` + `file_capture_time` (both or neither), zone-less as stored. */
function fileCaptureTimes(arrays: Map<string, NpyArray>, file: string): Map<string, Date> {
  const times = new Map<string, Date>();
  const paths = arrays.get("file_path");
  if (!paths || !arrays.has("file_capture_time")) return times;
  if (!Array.isArray(paths.data)) throw new ImportNpzError(`${file}: 'file_path' must be strings, got ${paths.dtype}`);
  const texts = arrays.get("file_capture_time")!.data;
  if (!Array.isArray(texts) || texts.length !== paths.data.length) {
    throw new ImportNpzError(`${file}: 'file_capture_time' must be ${paths.data.length} strings, one per 'file_path'`);
  }
  texts.forEach((text, i) => {
    if (text === "") return;
    const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text);
    const date = match ? new Date(Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!)) : null;
    if (!date || captureTimeText(date) !== text) {
      throw new ImportNpzError(`${file}: file_capture_time[${i}] ${JSON.stringify(text)} is not a valid YYYY-MM-DDTHH:MM:SS time`);
    }
    times.set(paths.data[i] as string, date);
  });
  return times;
}

function numbers(arrays: Map<string, NpyArray>, key: string, n: number, width: number, file: string): Float64Array | undefined {
  const a = arrays.get(key);
  if (!a) return undefined;
  const shapeOk = npyElementCount(a.shape) === n * width && a.shape[0] === n;
  if (!shapeOk) throw new ImportNpzError(`${file}: '${key}' has shape (${a.shape.join(", ")}), expected (${n}${width > 1 ? `, ${width}` : ""})`);
  try {
    return npyNumbers(a, `'${key}'`);
  } catch (err) {
    throw new ImportNpzError(`${file}: ${(err as Error).message}`);
  }
}

/** Bring the faces of an embedding cache into the store; see [Note: npz key mapping]. */
export async function importNpz(store: FaceStore, npzPath: string, options: ImportNpzOptions = {}): Promise<ImportSummary> {
  const { batchSize = 256 } = options;
  let arrays: Map<string, NpyArray>;
  try {
    arrays = await readNpz(npzPath);
  } catch (err) {
    if (err instanceof NpyError) throw new ImportNpzError(err.message);
    throw err;
  }
  const embKey = EMBEDDING_KEYS.find((k) => arrays.has(k));
  if (!embKey) throw new ImportNpzError(`${npzPath}: no embeddings (expected one of ${EMBEDDING_KEYS.join(", ")}; found ${[...arrays.keys()].join(", ") || "nothing"})`);
  const emb = arrays.get(embKey)!;
  if (emb.shape.length !== 2) throw new ImportNpzError(`${npzPath}: '${embKey}' must be [N, D], got shape (${emb.shape.join(", ")})`);
  const [n, dim] = emb.shape as [number, number];
  const paths = strings(arrays, "path", n, npzPath);
  if (!paths) throw new ImportNpzError(`${npzPath}: no 'path' array (one path per face is required)`);
  const bbox = numbers(arrays, "bbox", n, 4, npzPath);
  if (!bbox) throw new ImportNpzError(`${npzPath}: no 'bbox' array ([N, 4] is required)`);
  const embedding = numbers(arrays, embKey, n, dim, npzPath)!;
  const shas = strings(arrays, "sha256", n, npzPath);
  const ids = strings(arrays, "face_id", n, npzPath);
  const detIndex = numbers(arrays, "det_index", n, 1, npzPath);
  const kps = numbers(arrays, "kps", n, 10, npzPath);
  const detScore = numbers(arrays, "det_score", n, 1, npzPath);
  const blur = numbers(arrays, "blur", n, 1, npzPath);
  const sharpness = numbers(arrays, "sharpness", n, 1, npzPath);
  const faceShort = numbers(arrays, "face_short", n, 1, npzPath);
  const detSize = numbers(arrays, "det_size", n, 1, npzPath);
  const captureTimes = fileCaptureTimes(arrays, npzPath);

  const fileRecognizer = arrays.get("recognizer_sha256");
  const recognizerSha256 =
    options.recognizerSha256 ??
    (fileRecognizer && Array.isArray(fileRecognizer.data) && fileRecognizer.data.length === 1 && fileRecognizer.data[0] ? fileRecognizer.data[0] : undefined);
  if (!recognizerSha256) {
    throw new ImportNpzError(`${npzPath}: which recognizer made these embeddings? give --recognizer-sha256 (sha256 of its .onnx file)`);
  }
  if (!isSha256Hex(recognizerSha256)) throw new ImportNpzError(`recognizer sha256 must be 64 lowercase hex chars, got ${JSON.stringify(recognizerSha256)}`);
  await store.assertRecognizer(recognizerSha256, dim); // StoreModelMismatchError names both models

  const refused: RefusedRow[] = [];
  const refuse = (row: number, reason: string) => refused.push({ row, path: paths[row]!, reason });
  const known = await store.knownFiles();
  const knownContent = await store.knownContent();

  // Content of each path: given, else hashed from the file; a file on disk must match what the cache says.
  const contentOf = new Map<string, { sha256: string | undefined; onDisk: boolean; size: number; mtimeMs: number; problem?: string }>();
  for (let i = 0; i < n; i++) {
    const p = paths[i]!;
    if (contentOf.has(p)) continue;
    const given = shas?.[i] || undefined;
    const onDisk = existsSync(p);
    const st = onDisk ? statSync(p) : undefined;
    const entry = { sha256: given, onDisk, size: st?.size ?? 0, mtimeMs: st?.mtimeMs ?? 0, problem: undefined as string | undefined };
    if (onDisk) {
      const actual = await sha256File(p).catch((err: NodeJS.ErrnoException) => {
        entry.problem = `cannot read the file (${err.code ?? err.message})`;
        return undefined;
      });
      if (actual && given && actual !== given.toLowerCase()) entry.problem = `the file's sha256 is ${actual.slice(0, 8)}…, the cache says ${given.slice(0, 8)}… (stale cache)`;
      entry.sha256 = actual;
    } else if (!given) {
      entry.problem = "no sha256 given and the file is not on disk to hash";
    }
    if (entry.sha256) entry.sha256 = entry.sha256.toLowerCase();
    contentOf.set(p, entry);
  }

  // Group faces by content; the first path of each content is canonical.
  interface Content { sha256: string; canonical: string; faces: FaceInput[]; aliases: Set<string>; rows: number[] }
  const contents = new Map<string, Content>();
  const seenIds = new Set<string>();
  const nextIndex = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const p = paths[i]!;
    const c = contentOf.get(p)!;
    if (c.problem) {
      refuse(i, c.problem);
      continue;
    }
    const sha = c.sha256!;
    if (!isSha256Hex(sha)) {
      refuse(i, `sha256 ${JSON.stringify(sha)} is not 64 hex chars`);
      continue;
    }
    const stored = known.get(p);
    if (stored && stored.status !== "missing") {
      refuse(i, `already in the store (${stored.status})`);
      continue;
    }
    if (knownContent.has(sha)) {
      refuse(i, `same bytes as ${knownContent.get(sha)}, already in the store`);
      continue;
    }
    let content = contents.get(sha);
    if (!content) {
      content = { sha256: sha, canonical: p, faces: [], aliases: new Set(), rows: [] };
      contents.set(sha, content);
    }
    if (p !== content.canonical) {
      content.aliases.add(p);
      refuse(i, `same bytes as ${content.canonical}: recorded as an alias, faces taken from there`);
      continue;
    }
    const vec = new Float32Array(dim);
    let norm2 = 0;
    for (let k = 0; k < dim; k++) norm2 += embedding[i * dim + k]! ** 2;
    const norm = Math.sqrt(norm2);
    if (!Number.isFinite(norm) || norm === 0) {
      refuse(i, "embedding is zero or not finite");
      continue;
    }
    // Unit vectors within float32 rounding are kept bit-exact, so an export imports back unchanged.
    const scale = Math.abs(norm - 1) <= UNIT_KEEP_TOLERANCE ? 1 : 1 / norm;
    for (let k = 0; k < dim; k++) vec[k] = embedding[i * dim + k]! * scale;
    const box = [bbox[i * 4]!, bbox[i * 4 + 1]!, bbox[i * 4 + 2]!, bbox[i * 4 + 3]!] as [number, number, number, number];
    if (!box.every(Number.isFinite)) {
      refuse(i, "bbox is not finite");
      continue;
    }
    const index = detIndex ? detIndex[i]! : (nextIndex.get(sha) ?? 0);
    if (!Number.isInteger(index) || index < 0) {
      refuse(i, `det_index ${index} is not an integer >= 0`);
      continue;
    }
    nextIndex.set(sha, Math.max(nextIndex.get(sha) ?? 0, index + 1));
    if (content.faces.some((f) => f.detIndex === index)) {
      refuse(i, `a second face with det_index ${index} in the same file`);
      continue;
    }
    const id = ids?.[i] || undefined;
    if (id !== undefined && seenIds.has(id)) {
      refuse(i, `face_id ${id} occurs twice`);
      continue;
    }
    if (id !== undefined) seenIds.add(id);
    const opt = (a: Float64Array | undefined) => {
      const v = a?.[i];
      return v === undefined || !Number.isFinite(v) ? null : v;
    };
    let landmarks: Landmarks5 | null = null;
    if (kps) {
      const k = Array.from(kps.subarray(i * 10, i * 10 + 10));
      if (k.every(Number.isFinite)) landmarks = [0, 1, 2, 3, 4].map((j) => [k[2 * j]!, k[2 * j + 1]!] as Point) as Landmarks5;
    }
    const size = opt(detSize);
    content.faces.push({
      bbox: box,
      kps: landmarks,
      detScore: opt(detScore),
      faceShortPx: opt(faceShort) ?? Math.min(box[2] - box[0], box[3] - box[1]),
      blur: opt(blur),
      sharpness: opt(sharpness),
      detSizePx: size !== null && size > 0 ? size : null,
      embedding: vec,
      detIndex: index,
      ...(id !== undefined ? { faceId: id } : {}),
    });
    content.rows.push(i);
  }

  const outcomes: FileOutcome[] = [];
  const missing: string[] = [];
  let aliases = 0;
  for (const c of contents.values()) {
    const info = contentOf.get(c.canonical)!;
    if (c.faces.length === 0) continue; // every row of it was refused
    outcomes.push({
      path: c.canonical,
      sha256: c.sha256,
      size: info.size,
      mtimeMs: info.mtimeMs,
      status: "ok",
      faces: c.faces,
      recognizerSha256,
      captureTime: captureTimes.get(c.canonical) ?? null,
    });
    if (!info.onDisk) missing.push(c.canonical);
    for (const a of c.aliases) {
      const ai = contentOf.get(a)!;
      outcomes.push({
        path: a,
        sha256: c.sha256,
        size: ai.size,
        mtimeMs: ai.mtimeMs,
        status: "alias",
        aliasOf: c.canonical,
        captureTime: captureTimes.get(a) ?? null,
      });
      if (!ai.onDisk) missing.push(a);
      aliases++;
    }
  }

  const runId = await store.beginRun({
    command: options.command ?? `import-npz ${npzPath}`,
    config: { import: { file: npzPath, embeddingKey: embKey, rows: n } },
    detectorSha256: null,
    recognizerSha256,
  });
  let faces = 0;
  try {
    // An alias must land in the same batch as (or after) its canonical: outcomes are in that order already.
    for (let start = 0; start < outcomes.length; start += batchSize) {
      const batch = outcomes.slice(start, start + batchSize);
      await store.commitBatch(runId, batch);
      faces += batch.reduce((s, o) => s + (o.faces?.length ?? 0), 0);
      options.onProgress?.(Math.min(outcomes.length, start + batchSize), outcomes.length);
    }
    if (missing.length > 0) await store.markMissing(runId, missing);
  } catch (err) {
    await store.finishRun(runId, { faces }, "interrupted").catch(() => {});
    throw err instanceof StoreError ? err : new ImportNpzError(`${npzPath}: ${(err as Error).message}`);
  }
  const summary: ImportSummary = {
    runId,
    rows: n,
    faces,
    files: outcomes.length - aliases,
    aliases,
    missing: missing.length,
    refused,
    dim,
    recognizerSha256,
  };
  await store.finishRun(runId, { rows: n, faces, files: summary.files, aliases, missing: missing.length, refused: refused.length });
  return summary;
}
