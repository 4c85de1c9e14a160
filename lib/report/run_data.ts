/**
 * A run record joined back to the store: what the report and the notebooks plot. Reading only; the record says
 * which store and library it came from.
 */
import type { FaceDecision } from "../identity/discover";
import { latestRunRecord, readRunRecordJson, RunRecordError } from "../library/runs";
import type { FaceRow } from "../store/records";
import type { FaceStore } from "../store/store";
import type { DiscoveryRunRecord } from "../workflows/cluster_osrc";

/** Read and minimally validate a cluster-osrc run record (`<library>/_runs/<runId>.json`). */
export async function readRunRecord(file: string): Promise<DiscoveryRunRecord> {
  const r = (await readRunRecordJson(file)) as Partial<DiscoveryRunRecord>;
  if (!DISCOVERY_RECORD_KINDS.includes(r.kind as string)) {
    throw new RunRecordError(`${file}: not a cluster-osrc or refine run record (kind ${JSON.stringify(r.kind)})`);
  }
  for (const key of ["runId", "source", "store", "config", "counts", "clusters", "faces", "coverage"] as const) {
    if (r[key] === undefined) throw new RunRecordError(`${file}: run record lacks "${key}"`);
  }
  return r as DiscoveryRunRecord;
}

/** The run records a discovery report explains: cluster-osrc's, and refine's (the same shape, without routing). */
const DISCOVERY_RECORD_KINDS: readonly string[] = ["cluster-osrc", "refine"];

/**
 * The newest discovery run record of a library (extend, build-folders and split-eras write records of other kinds
 * into the same folder), or undefined when it has none.
 */
export async function latestDiscoveryRecord(libraryDir: string): Promise<string | undefined> {
  return await latestRunRecord(libraryDir, DISCOVERY_RECORD_KINDS);
}

/** How a face ended, for colouring plots: an existing identity, a new set, or dropped. */
export type FaceGroup = "existing identity" | "new set" | "dropped";

export function faceGroup(d: FaceDecision): FaceGroup {
  if (d.fate === "in-library" || d.fate === "routed") return "existing identity";
  if (d.fate === "exported") return "new set";
  return "dropped";
}

/** Cosine distances of the run's faces (those not already in a set) to their nearest existing centroid. */
export function nearestDistances(record: DiscoveryRunRecord): number[] {
  return record.faces.flatMap((d) => (d.fate !== "in-library" && d.nearestCosDist !== null ? [d.nearestCosDist] : []));
}

/**
 * The store rows of the record's faces, in record order, and their embeddings as one matrix. Faces the store no
 * longer holds (re-scanned since) are listed in `missing`.
 */
export async function runFaces(
  store: FaceStore,
  record: DiscoveryRunRecord,
  which: (d: FaceDecision) => boolean = () => true,
): Promise<{ decisions: FaceDecision[]; rows: FaceRow[]; embeddings: Float32Array; dim: number; missing: string[] }> {
  const byId = new Map((await store.selectFaces({ under: record.source, includeRetired: true })).map((r) => [r.faceId, r]));
  const decisions: FaceDecision[] = [];
  const rows: FaceRow[] = [];
  const missing: string[] = [];
  for (const d of record.faces) {
    if (!which(d)) continue;
    const row = byId.get(d.faceId);
    if (!row) {
      missing.push(d.faceId);
      continue;
    }
    decisions.push(d);
    rows.push(row);
  }
  const { dim, data } = store.embeddingMatrix(rows);
  return { decisions, rows, embeddings: data, dim, missing };
}
