/**
 * The Leftovers page: faces of the latest discovery runs (the newest cluster-osrc or refine record per source
 * folder) that are in no set now. The clusters that made no set come from planLeftovers (lib/identity/leftovers.ts,
 * the report's and the notebook's Leftovers), so the page says the same why and nearest set as the report; then the
 * rest (singletons, gated faces, outliers and export-gated faces of clusters that made a set), each with its own
 * nearest set. Faces a set holds now (put there by extend, a merge, a set made from leftovers...) are left out.
 */
import { type Identity, libraryFaceOwners, libraryIdentities, nearestIdentity } from "../identity/centroids";
import type { ClusterOutcome, FaceDecision, FaceFate } from "../identity/discover";
import { planLeftovers } from "../identity/leftovers";
import type { RunConfig } from "../config";
import type { Library } from "../library/read";
import { listRunRecords, readRunRecordJson } from "../library/runs";
import type { Register, StoreSnapshot } from "./view";

/** The fates of faces a discovery run left out of every set (routed and claimed faces belong to a set already). */
const LEFTOVER_FATES: ReadonlySet<FaceFate> = new Set<FaceFate>(["small-cluster", "gated", "outlier", "export-gated"]);
const DISCOVERY_KINDS: readonly string[] = ["cluster-osrc", "refine"];

export interface LeftoverFaceView {
  /** Store face id: what createSetFromFaces takes. */
  faceId: string;
  runId: string;
  /** Thumbnail and source-photo ids (register). */
  thumb: string;
  photo: string;
  source: string;
  fate: FaceFate;
  /** Failed gates, for gated and export-gated faces. */
  reasons: string[];
  faceShortPx: number;
  blur: number | null;
  detScore: number | null;
  /** The nearest active set now and the cosine distance to its centroid (null: no set has a centroid). */
  nearestSet: string | null;
  nearestCosDist: number | null;
}

export interface LeftoverClusterView {
  /** `<runId>#<cluster index>`. */
  key: string;
  runId: string;
  index: number;
  /** Its faces still in no set, nearest to the cluster's centroid first. */
  faces: LeftoverFaceView[];
  /** Distinct photos the run counted for the cluster (after gates and outliers). */
  photos: number;
  /** Why it made no set, naming the setting (clusterMissReason, as in the report). */
  why: string;
  nearestSet: string | null;
  nearestCosDist: number | null;
}

export interface LeftoversView {
  runs: { runId: string; kind: string; source: string; finishedAt: string }[];
  /** Largest first. */
  clusters: LeftoverClusterView[];
  /** Nearest set first. */
  rest: LeftoverFaceView[];
  notes: string[];
}

interface DiscoveryRecordLike {
  kind: string;
  runId: string;
  source: string;
  finishedAt?: string;
  dryRun?: boolean;
  config: RunConfig;
  clusters: ClusterOutcome[];
  faces: FaceDecision[];
}

/** The newest discovery record per source folder (oldest first), skipping unreadable ones (named in `notes`). */
async function latestDiscoveryRecords(libraryDir: string, notes: string[]): Promise<DiscoveryRecordLike[]> {
  const bySource = new Map<string, DiscoveryRecordLike>();
  for (const file of await listRunRecords(libraryDir)) {
    let r: Partial<DiscoveryRecordLike>;
    try {
      r = (await readRunRecordJson(file)) as Partial<DiscoveryRecordLike>;
    } catch (err) {
      notes.push((err as Error).message.split("\n")[0]!);
      continue;
    }
    if (!DISCOVERY_KINDS.includes(r.kind ?? "") || r.dryRun) continue;
    if (typeof r.source !== "string" || !Array.isArray(r.faces) || !Array.isArray(r.clusters) || typeof r.config !== "object") {
      notes.push(`${file}: a ${r.kind} record without source, config, faces or clusters; left out`);
      continue;
    }
    bySource.set(r.source, r as DiscoveryRecordLike); // files sort by run id, which sorts by time: the last wins
  }
  return [...bySource.values()];
}

function nearest(vector: Float32Array, identities: readonly Identity[]): { set: string | null; dist: number | null } {
  const hit = nearestIdentity(vector, identities, (i) => i.centroid);
  return hit ? { set: hit.identity.name, dist: hit.cosDist } : { set: null, dist: null };
}

export async function buildLeftoversView(
  library: Library,
  snapshot: StoreSnapshot | undefined,
  register: Register,
): Promise<LeftoversView> {
  const notes: string[] = [];
  const records = await latestDiscoveryRecords(library.dir, notes);
  const runs = records.map((r) => ({ runId: r.runId, kind: r.kind, source: r.source, finishedAt: r.finishedAt ?? "" }));
  if (records.length === 0) notes.push("no cluster-osrc or refine run record in this library yet");
  if (!snapshot) {
    notes.push("leftovers need the face store (--store): their embeddings give the nearest set, their photos the thumbnails");
    return { runs, clusters: [], rest: [], notes };
  }

  // Faces held by a set now, by face id (manifests) and by the store match (sets without face ids).
  const inSet = new Set<string>();
  for (const set of library.sets.values()) for (const f of set.manifest.faces) if (f.faceId) inSet.add(f.faceId);
  for (const id of libraryFaceOwners(library, snapshot.index).keys()) inSet.add(id);
  const identities = libraryIdentities(library, snapshot.index, snapshot.dim);

  const seen = new Set<string>();
  const clusters: LeftoverClusterView[] = [];
  const rest: LeftoverFaceView[] = [];
  let missing = 0;
  // Newest run first, so a face two runs saw (overlapping sources) is shown as the newest one decided it.
  for (const record of [...records].reverse()) {
    const view = (d: FaceDecision, near: { set: string | null; dist: number | null }): LeftoverFaceView => {
      const row = snapshot.index.byId(d.faceId)!;
      return {
        faceId: d.faceId,
        runId: record.runId,
        thumb: register({ kind: "store-face", row }),
        photo: register({ kind: "photo", source: row.path, bbox: row.bbox }),
        source: row.path,
        fate: d.fate,
        reasons: d.reasons ?? [],
        faceShortPx: d.faceShortPx,
        blur: d.blur,
        detScore: d.detScore,
        nearestSet: near.set,
        nearestCosDist: near.dist,
      };
    };
    const leftover = record.faces.filter((d) => LEFTOVER_FATES.has(d.fate) && !inSet.has(d.faceId) && !seen.has(d.faceId));
    const embeddings = new Map<string, Float32Array>();
    for (const d of leftover) {
      const row = snapshot.index.byId(d.faceId);
      if (row) embeddings.set(d.faceId, row.embedding);
      else missing++;
    }
    const decisions = new Map(leftover.map((d) => [d.faceId, d]));
    const shown = new Set<string>();
    const plan = planLeftovers({ clusters: record.clusters, faces: leftover, config: record.config, embeddings, dim: snapshot.dim, identities });
    for (const c of plan.clusters) {
      if (c.members.length < 2) continue; // one face left of it (the others are in sets now): a singleton, in the rest
      const faces = c.members.map((m) => view(decisions.get(m.faceId)!, nearest(embeddings.get(m.faceId)!, identities)));
      for (const f of faces) shown.add(f.faceId);
      clusters.push({
        key: `${record.runId}#${c.cluster}`,
        runId: record.runId,
        index: c.cluster,
        faces,
        photos: c.uniqueSources,
        why: c.why,
        nearestSet: c.nearestSet,
        nearestCosDist: c.nearestCosDist,
      });
    }
    for (const d of leftover) {
      seen.add(d.faceId);
      if (shown.has(d.faceId) || !embeddings.has(d.faceId)) continue;
      rest.push(view(d, nearest(embeddings.get(d.faceId)!, identities)));
    }
  }
  if (missing > 0) notes.push(`${missing} leftover face(s) are no longer in the store (re-scanned since the run); not shown`);
  clusters.sort((a, b) => b.faces.length - a.faces.length || b.photos - a.photos || a.key.localeCompare(b.key));
  rest.sort((a, b) => (a.nearestCosDist ?? Infinity) - (b.nearestCosDist ?? Infinity) || a.faceId.localeCompare(b.faceId));
  return { runs, clusters, rest, notes };
}
