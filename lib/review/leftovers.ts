/**
 * The Leftovers page: faces of the latest discovery runs (the newest cluster-osrc or refine record per source
 * folder) that are in no set now. Clusters that missed the minimum come first (largest first, with why), then the
 * rest (singletons, gated faces and outliers of kept clusters, export-gated faces), each with its nearest set now.
 *
 * TODO(review): computed here from the run records because no shared leftovers function was on main when this was
 * written (issue 15 item 3 builds one for the report); switch to it once it lands, so the page and the report agree.
 */
import { unitMean } from "../cluster/vectors";
import { type Identity, libraryFaceOwners, libraryIdentities, nearestIdentity } from "../identity/centroids";
import type { ClusterOutcome, FaceDecision, FaceFate } from "../identity/discover";
import type { Library } from "../library/read";
import { listRunRecords, readRunRecordJson } from "../library/runs";
import type { Register, StoreSnapshot } from "./view";

/** The fates of faces a discovery run left out of every set (routed and claimed faces belong to a set already). */
const LEFTOVER_FATES: ReadonlySet<FaceFate> = new Set<FaceFate>(["small-cluster", "gated", "outlier", "export-gated"]);
const DISCOVERY_KINDS: readonly string[] = ["cluster-osrc", "refine"];

export interface LeftoverFace {
  /** Store face id: what createSetFromFaces takes. */
  faceId: string;
  runId: string;
  /** Thumbnail and source-photo ids (register); undefined when the store no longer holds the face. */
  thumb?: string;
  photo?: string;
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

export interface LeftoverCluster {
  /** `<runId>#<cluster index>`. */
  key: string;
  runId: string;
  index: number;
  /** Largest first. */
  faces: LeftoverFace[];
  /** Distinct photos the run counted for the cluster (after gates and outliers). */
  photos: number;
  /** Why it missed: the run's drop reason, and how many faces the gates and the outlier rule took. */
  why: string;
  nearestSet: string | null;
  nearestCosDist: number | null;
}

export interface LeftoversView {
  runs: { runId: string; kind: string; source: string; finishedAt: string }[];
  clusters: LeftoverCluster[];
  rest: LeftoverFace[];
  notes: string[];
}

interface DiscoveryRecordLike {
  kind: string;
  runId: string;
  source: string;
  finishedAt?: string;
  dryRun?: boolean;
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
    if (typeof r.source !== "string" || !Array.isArray(r.faces) || !Array.isArray(r.clusters)) {
      notes.push(`${file}: a ${r.kind} record without source, faces or clusters; left out`);
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

function whyMissed(outcome: ClusterOutcome | undefined): string {
  if (!outcome) return "cluster not in the record";
  const parts = [outcome.dropReason ?? (outcome.kept ? "kept" : "not kept")];
  if (outcome.gated > 0) parts.push(`${outcome.gated} gated`);
  if (outcome.outliers > 0) parts.push(`${outcome.outliers} outlier${outcome.outliers === 1 ? "" : "s"}`);
  return parts.join("; ");
}

export async function buildLeftoversView(
  library: Library,
  snapshot: StoreSnapshot | undefined,
  register: Register,
): Promise<LeftoversView> {
  const notes: string[] = [];
  const records = await latestDiscoveryRecords(library.dir, notes);
  if (records.length === 0) notes.push("no cluster-osrc or refine run record in this library yet");
  if (!snapshot) notes.push("without the store, leftovers have no thumbnails and no current nearest set");

  // Faces held by a set now, by face id (manifests) and by the store match (sets without face ids).
  const inSet = new Set<string>();
  for (const set of library.sets.values()) for (const f of set.manifest.faces) if (f.faceId) inSet.add(f.faceId);
  const identities = snapshot ? libraryIdentities(library, snapshot.index, snapshot.dim) : [];
  if (snapshot) for (const id of libraryFaceOwners(library, snapshot.index).keys()) inSet.add(id);

  const seen = new Set<string>();
  const clusterFaces = new Map<string, LeftoverFace[]>();
  const rest: LeftoverFace[] = [];
  const outcomes = new Map<string, { runId: string; outcome: ClusterOutcome }>();
  // Newest run first, so a face seen by two runs (overlapping sources) is shown as the newest one decided it.
  for (const record of [...records].reverse()) {
    for (const o of record.clusters) outcomes.set(`${record.runId}#${o.index}`, { runId: record.runId, outcome: o });
    for (const d of record.faces) {
      if (!LEFTOVER_FATES.has(d.fate) || inSet.has(d.faceId) || seen.has(d.faceId)) continue;
      seen.add(d.faceId);
      const row = snapshot?.index.byId(d.faceId);
      const near = row ? nearest(row.embedding, identities) : { set: d.nearestIdentity, dist: d.nearestCosDist };
      const face: LeftoverFace = {
        faceId: d.faceId,
        runId: record.runId,
        thumb: row ? register({ kind: "store-face", row }) : undefined,
        photo: row ? register({ kind: "photo", source: row.path, bbox: row.bbox }) : undefined,
        source: row?.path ?? d.path,
        fate: d.fate,
        reasons: d.reasons ?? [],
        faceShortPx: d.faceShortPx,
        blur: d.blur,
        detScore: d.detScore,
        nearestSet: near.set,
        nearestCosDist: near.dist,
      };
      const key = `${record.runId}#${d.cluster}`;
      const outcome = d.cluster === undefined ? undefined : record.clusters.find((c) => c.index === d.cluster);
      if (outcome && !outcome.kept) {
        const list = clusterFaces.get(key);
        if (list) list.push(face);
        else clusterFaces.set(key, [face]);
      } else rest.push(face);
    }
  }

  const clusters: LeftoverCluster[] = [];
  for (const [key, faces] of clusterFaces) {
    if (faces.length < 2) {
      rest.push(...faces); // a cluster of one face is a singleton: summarised with the rest
      continue;
    }
    const { runId, outcome } = outcomes.get(key)!;
    const vectors = faces.flatMap((f) => {
      const row = snapshot?.index.byId(f.faceId);
      return row ? [row.embedding] : [];
    });
    const near = snapshot && vectors.length > 0 ? nearest(unitMean(vectors, snapshot.dim), identities) : { set: null, dist: null };
    clusters.push({
      key,
      runId,
      index: outcome.index,
      faces,
      photos: outcome.uniqueSources,
      why: whyMissed(outcome),
      nearestSet: near.set,
      nearestCosDist: near.dist,
    });
  }
  clusters.sort((a, b) => b.faces.length - a.faces.length || b.photos - a.photos || a.key.localeCompare(b.key));
  rest.sort((a, b) => (a.nearestCosDist ?? Infinity) - (b.nearestCosDist ?? Infinity) || a.faceId.localeCompare(b.faceId));
  return {
    runs: records.map((r) => ({ runId: r.runId, kind: r.kind, source: r.source, finishedAt: r.finishedAt ?? "" })),
    clusters,
    rest,
    notes,
  };
}
