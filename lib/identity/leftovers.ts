/**
 * The leftovers of a discovery run: the clusters that made no set (largest first), why each missed, and the
 * nearest set of the library to each; the single faces summarised by their nearest set. Pure: the run's decisions,
 * the embeddings of its faces and the library's identities in, plain records out (report, notebook and review page
 * show them; see lib/report/leftovers.ts for the reading).
 */
import type { RunConfig } from "../config";
import { cosDist, unitMean } from "../cluster/vectors";
import { type Identity, nearestIdentity } from "./centroids";
import type { ClusterOutcome, FaceDecision, FaceFate } from "./discover";
import { clusterMissReason } from "./why";

export interface LeftoverFace {
  faceId: string;
  path: string;
  fate: FaceFate;
  /** Cosine distance to the leftover cluster's centroid (unit mean of all its faces). */
  centroidCosDist: number;
}

export interface LeftoverCluster {
  /** Index into the run record's clusters. */
  cluster: number;
  faces: number;
  /** Distinct files among the faces (the run's `photos` count, after gates, is in `uniqueSources`). */
  files: number;
  uniqueSources: number;
  /** Why it made no set, naming the setting (clusterMissReason). */
  why: string;
  /** The library's nearest set to the cluster's centroid, and the cosine distance between the centroids. */
  nearestSet: string | null;
  nearestCosDist: number | null;
  /** Its faces, nearest to the centroid first. */
  members: LeftoverFace[];
}

export interface SingletonsBySet {
  /** The nearest set; null for faces with no set to compare with. */
  set: string | null;
  faces: number;
  /** Cosine distances of these faces to that set's centroid. */
  minCosDist: number | null;
  medianCosDist: number | null;
}

export interface Leftovers {
  clusters: LeftoverCluster[];
  /** Clustered faces that stayed alone (no set made of them), summarised by nearest set (most faces first). */
  singletons: { faces: number; bySet: SingletonsBySet[] };
  /** Faces of the run the embeddings did not cover (re-scanned since): left out of both. */
  missingFaces: number;
}

export interface LeftoversInput {
  clusters: readonly ClusterOutcome[];
  faces: readonly FaceDecision[];
  config: RunConfig;
  /** Unit embedding of each face by id (the store's); faces without one are counted as missing. */
  embeddings: ReadonlyMap<string, Float32Array>;
  dim: number;
  /** The library's sets as identities (those without a centroid are skipped). */
  identities: readonly Identity[];
}

function nearestIdentityOf(v: Float32Array, identities: readonly Identity[]): { name: string | null; cosDist: number | null } {
  const nearest = nearestIdentity(v, identities, (i) => i.centroid);
  return { name: nearest?.identity.name ?? null, cosDist: nearest?.cosDist ?? null };
}

const median = (xs: readonly number[]) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

/** Leftovers of a run (see the module note): clusters of 2+ faces with no set, largest first; singletons by set. */
export function planLeftovers(input: LeftoversInput): Leftovers {
  const { clusters, faces, config, embeddings, dim, identities } = input;
  const byCluster = new Map<number, FaceDecision[]>();
  for (const d of faces) {
    if (d.cluster === undefined) continue;
    const list = byCluster.get(d.cluster);
    if (list) list.push(d);
    else byCluster.set(d.cluster, [d]);
  }
  let missingFaces = 0;
  const out: LeftoverCluster[] = [];
  const singles: { set: string | null; cosDist: number | null }[] = [];
  for (const k of clusters) {
    if (k.setName !== undefined) continue;
    const members = (byCluster.get(k.index) ?? []).filter((d) => {
      const has = embeddings.has(d.faceId);
      if (!has) missingFaces++;
      return has;
    });
    if (members.length === 0) continue;
    const vectors = members.map((d) => embeddings.get(d.faceId)!);
    const centroid = unitMean(vectors, dim);
    const nearest = nearestIdentityOf(centroid, identities);
    if (k.faces < 2) {
      singles.push({ set: nearest.name, cosDist: nearest.cosDist });
      continue;
    }
    out.push({
      cluster: k.index,
      faces: k.faces,
      files: new Set(members.map((d) => d.fileSha256)).size,
      uniqueSources: k.uniqueSources,
      why: clusterMissReason(k, members, config) ?? "",
      nearestSet: nearest.name,
      nearestCosDist: nearest.cosDist,
      members: members
        .map((d, i) => ({ faceId: d.faceId, path: d.path, fate: d.fate, centroidCosDist: cosDist(vectors[i]!, centroid) }))
        .sort((a, b) => a.centroidCosDist - b.centroidCosDist || (a.faceId < b.faceId ? -1 : 1)),
    });
  }
  out.sort((a, b) => b.faces - a.faces || b.uniqueSources - a.uniqueSources || a.cluster - b.cluster);
  const bySet = new Map<string | null, number[]>();
  const counts = new Map<string | null, number>();
  for (const s of singles) {
    counts.set(s.set, (counts.get(s.set) ?? 0) + 1);
    if (s.cosDist !== null) bySet.set(s.set, [...(bySet.get(s.set) ?? []), s.cosDist]);
  }
  const summary = [...counts].map(([set, n]): SingletonsBySet => {
    const ds = bySet.get(set) ?? [];
    return { set, faces: n, minCosDist: ds.length > 0 ? Math.min(...ds) : null, medianCosDist: median(ds) };
  }).sort((a, b) => b.faces - a.faces || (a.medianCosDist ?? Infinity) - (b.medianCosDist ?? Infinity) || String(a.set).localeCompare(String(b.set)));
  return { clusters: out, singletons: { faces: singles.length, bySet: summary }, missingFaces };
}
