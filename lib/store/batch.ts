/**
 * Checking what a scan hands the store (commitBatch) before anything is written: every outcome and face of a batch
 * is validated, and faces become `faces` rows (FaceInsert); a bad batch is refused naming its first bad file.
 */
import { StoreError, StoreModelMismatchError } from "./errors";
import { faceId } from "./ids";
import { type FaceInput, type FileOutcome, OUTCOME_STATUSES } from "./records";
import { isSha256Hex } from "../util/hash";

/** How far an embedding's length may stray from 1 before it is refused as not normalised. */
const UNIT_NORM_TOLERANCE = 1e-3;
/** Hex chars of a sha256 shown in messages. */
const SHORT_SHA = 8;

export /** A face ready for the `faces` table. */
interface FaceInsert {
  faceId: string;
  fileSha256: string;
  detIndex: number;
  bbox: ArrayLike<number>;
  kps: ArrayLike<number> | null;
  detScore: number | null;
  faceShortPx: number;
  blur: number | null;
  sharpness: number | null;
  detSizePx: number | null;
  embedding: Float32Array;
  detectorSha256: string | null;
  analysedPath: string;
  /** The page of a multi-page file (0 otherwise). */
  page: number;
}

/** A sha256 shortened for messages. */
export function shortSha(sha: string): string {
  return sha.length > SHORT_SHA ? `${sha.slice(0, SHORT_SHA)}…` : sha;
}

/** Check a batch's outcomes (commitBatch) and build its face rows; throws naming the first bad file. */
export function validateBatch(storePath: string, batch: readonly FileOutcome[]): FaceInsert[] {
  const seen = new Set<string>();
  const faces: FaceInsert[] = [];
  for (const o of batch) {
    const where = `${storePath}: commitBatch: ${o.path}`;
    if (typeof o.path !== "string" || o.path.length === 0) throw new StoreError(`${storePath}: commitBatch: empty path`);
    if (seen.has(o.path)) throw new StoreError(`${where}: appears twice in one batch`);
    seen.add(o.path);
    if (!OUTCOME_STATUSES.includes(o.status)) {
      throw new StoreError(`${where}: invalid status ${JSON.stringify(o.status)} (allowed: ${OUTCOME_STATUSES.join(", ")})`);
    }
    if (o.status !== "error" && !isSha256Hex(o.sha256)) throw new StoreError(`${where}: sha256 must be 64 lowercase hex chars`);
    if (!Number.isFinite(o.size) || !Number.isFinite(o.mtimeMs)) throw new StoreError(`${where}: size and mtimeMs must be finite numbers`);
    if (o.status === "alias" && !o.aliasOf) throw new StoreError(`${where}: an alias needs aliasOf`);
    if (o.status === "alias" && o.aliasOf === o.path) throw new StoreError(`${where}: a file cannot be an alias of itself`);
    if (o.status === "error" && !o.reason) throw new StoreError(`${where}: an error needs a reason`);
    const n = o.faces?.length ?? 0;
    if (o.status === "ok" && n === 0) throw new StoreError(`${where}: status ok without faces (use noface)`);
    if (o.status !== "ok" && n > 0) throw new StoreError(`${where}: status ${o.status} cannot carry faces`);
    const indices = new Set<number>();
    o.faces?.forEach((face, position) => {
      const f = faceInsert(o, face, position, where);
      if (indices.has(f.detIndex)) throw new StoreError(`${where}: two faces with detIndex ${f.detIndex}`);
      indices.add(f.detIndex);
      faces.push(f);
    });
  }
  const ids = new Set<string>();
  for (const f of faces) {
    if (ids.has(f.faceId)) throw new StoreError(`${storePath}: commitBatch: ${f.analysedPath}: face id ${f.faceId} occurs twice in the batch`);
    ids.add(f.faceId);
  }
  return faces;
}

/**
 * The recognizer of a batch's faces: each outcome's own, or the store's (`known`); throws when they differ.
 */
export function batchRecognizer(storePath: string, batch: readonly FileOutcome[], known: string | undefined): string | undefined {
  let sha: string | undefined;
  for (const o of batch) {
    if (!o.faces || o.faces.length === 0) continue;
    const given = o.recognizerSha256 ?? known;
    if (given === undefined) continue;
    if (sha !== undefined && sha !== given) {
      throw new StoreModelMismatchError(
        `batch mixes recognizers ${shortSha(sha)} and ${shortSha(given)} (${o.path})`,
        storePath,
        sha,
        0,
        given,
        0,
      );
    }
    sha = given;
  }
  return sha ?? known;
}

function faceInsert(o: FileOutcome, face: FaceInput, position: number, where: string): FaceInsert {
  const detIndex = face.detIndex ?? position;
  const at = `${where}: face ${detIndex}`;
  if (!Number.isInteger(detIndex) || detIndex < 0) throw new StoreError(`${at}: detIndex must be an integer >= 0`);
  const bbox = face.bbox;
  if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(Number.isFinite)) throw new StoreError(`${at}: bbox must be 4 finite numbers`);
  const kps = face.kps === null ? null : face.kps.flat();
  if (kps !== null && (kps.length !== 10 || !kps.every(Number.isFinite))) throw new StoreError(`${at}: kps must be 5 finite points`);
  for (const [name, value] of [["detScore", face.detScore], ["blur", face.blur], ["sharpness", face.sharpness ?? null], ["detSizePx", face.detSizePx]] as const) {
    if (value !== null && !Number.isFinite(value)) throw new StoreError(`${at}: ${name} must be a finite number or null`);
  }
  if (!Number.isFinite(face.faceShortPx)) throw new StoreError(`${at}: faceShortPx must be a finite number`);
  const page = face.page ?? 0;
  if (!Number.isInteger(page) || page < 0) throw new StoreError(`${at}: page must be an integer >= 0`);
  const e = face.embedding;
  if (!(e instanceof Float32Array) || e.length === 0) throw new StoreError(`${at}: embedding must be a non-empty Float32Array`);
  let norm2 = 0;
  for (let i = 0; i < e.length; i++) norm2 += e[i]! * e[i]!;
  if (!Number.isFinite(norm2) || Math.abs(Math.sqrt(norm2) - 1) > UNIT_NORM_TOLERANCE) {
    throw new StoreError(`${at}: embedding is not unit length (norm ${Math.sqrt(norm2).toFixed(4)})`);
  }
  return {
    faceId: face.faceId ?? faceId(o.sha256, detIndex),
    fileSha256: o.sha256,
    detIndex,
    bbox,
    kps,
    detScore: face.detScore,
    faceShortPx: face.faceShortPx,
    blur: face.blur,
    sharpness: face.sharpness ?? null,
    detSizePx: face.detSizePx === null ? null : Math.round(face.detSizePx),
    embedding: e,
    detectorSha256: o.detectorSha256 ?? null,
    analysedPath: o.path,
    page,
  };
}
