/**
 * Threshold sweep: cluster the same faces at several cosine-distance thresholds and tabulate what each would give
 * (clusters, clusters big enough to become sets, faces kept, and agreement with the truth where it is known), so a
 * person can pick `clusterMaxCosDist` from a table or plot instead of from one run.
 *
 * Cost: for agglomerative linkages on the exact path the pairwise distances (the O(n^2 dim) part, ~1 s at 2,000 x 512)
 * are computed once and copied per threshold; only the chain merge (O(n^2), tens of ms) repeats. The result is the
 * same as calling `cluster()` per threshold, because it runs the same functions on the same numbers. DBSCAN and the
 * scalable path (n > exactMaxN) call `cluster()` per threshold. Kept clusters count distinct photos as discovery
 * does (same_photo.ts): the close pairs are found once (read from the shared matrix, or by one pass of their own),
 * so each threshold adds only a union-find over the faces.
 */
import { agglomerateCondensed, applyCannotLink, condensedCosineDistances, rootOf } from "./agglomerative";
import { cluster, relabel } from "./cluster";
import { type ClusterMetrics, clusterMetrics } from "./metrics";
import { type ClusterOptions, DEFAULT_EXACT_MAX_N } from "./options";
import { distinctPhotosPerCluster, samePhotoPairs, samePhotoPairsFromDistances, type SamePhotoPairs } from "./same_photo";
import type { Linkage } from "../config";

export interface SweepOptions {
  /** Thresholds to try (cosine distance, each in [0, 2]); rows come back in this order. */
  thresholdsCosDist: readonly number[];
  linkage: Linkage;
  /** Group id per face (e.g. the source photo), -1 = none: two faces of one group never share a cluster. */
  cannotLink?: Int32Array;
  /**
   * True identity per face, null where unknown (unlabelled or group photos). Scores are computed over the faces
   * that pass the gate and have a known identity; unknown faces are still clustered (they can bridge clusters).
   */
  truth?: readonly (string | null)[];
  /** Per face: does it pass the quality gates? Faces that fail are left out of clustering (label -1). Default: all pass. */
  gate?: ArrayLike<boolean | number>;
  /** Source (file) id per face; a cluster counts as kept with at least `minUniqueSources` distinct photos. */
  sourceIds?: ArrayLike<string | number>;
  /** With `sourceIds`: distinct photos a kept cluster needs (IdentityConfig.minUniqueSources). Default 1. */
  minUniqueSources?: number;
  /**
   * With `sourceIds`: faces of different sources within this cosine distance are one photo when counting
   * (IdentityConfig.samePhotoMaxCosDist, as discovery counts; see same_photo.ts). Default 0: count sources.
   */
  samePhotoMaxCosDist?: number;
  /** Faces a kept cluster needs (applies with or without `sourceIds`). Default 1. */
  minClusterSize?: number;
  /** Passed to `cluster()` (DBSCAN / scalable path). */
  minSamples?: number;
  exactMaxN?: number;
  scalable?: ClusterOptions["scalable"];
}

export interface SweepRow {
  thresholdCosDist: number;
  /** Clusters over the gated faces (singletons included). */
  clusters: number;
  /** Clusters meeting minUniqueSources (distinct photos) and minClusterSize: the would-be new sets. */
  keptClusters: number;
  /** Faces that passed the gate (were clustered). */
  facesClustered: number;
  /** Faces inside kept clusters. */
  facesKept: number;
  largestCluster: number;
  /** Scores against `truth` (pairwise and BCubed P/R/F, clusters per identity, singleton ratio); absent without truth. */
  metrics?: ClusterMetrics;
  /** Cluster id per input face (numbered by first appearance among gated faces), -1 for faces failing the gate. */
  labels: Int32Array;
  /** Wall time of this threshold's clustering and tabulation, ms. */
  ms: number;
}

export interface SweepResult {
  rows: SweepRow[];
  /** Input faces. */
  faces: number;
  /** "exact-shared" = distances computed once for all thresholds; "per-threshold" = `cluster()` per threshold. */
  path: "exact-shared" | "per-threshold";
  /** Time spent on the shared distance matrix (0 on the per-threshold path), ms. */
  distancesMs: number;
  totalMs: number;
}

function fail(message: string): never {
  throw new RangeError(`sweepThresholds: ${message}`);
}

/** Cluster `embeddings` (n x dim unit rows) at each threshold and tabulate the outcome (see SweepRow). */
export function sweepThresholds(embeddings: Float32Array, dim: number, options: SweepOptions): SweepResult {
  const start = performance.now();
  if (!Number.isInteger(dim) || dim < 1) fail(`dim must be a positive integer, got ${dim}`);
  if (embeddings.length % dim !== 0) fail(`embeddings has ${embeddings.length} values, not a multiple of dim ${dim}`);
  const n = embeddings.length / dim;
  const { thresholdsCosDist, linkage, cannotLink, truth, gate, sourceIds } = options;
  const minUniqueSources = options.minUniqueSources ?? 1;
  const minClusterSize = options.minClusterSize ?? 1;
  const samePhotoMaxCosDist = options.samePhotoMaxCosDist ?? 0;
  if (thresholdsCosDist.length === 0) fail("thresholdsCosDist is empty; give at least one threshold");
  for (const t of thresholdsCosDist) if (!(t >= 0 && t <= 2)) fail(`threshold ${t} is not a cosine distance in [0, 2]`);
  for (const [name, arr] of [["cannotLink", cannotLink], ["truth", truth], ["gate", gate], ["sourceIds", sourceIds]] as const) {
    if (arr !== undefined && arr.length !== n) fail(`${name} has ${arr.length} entries for ${n} faces; give one per face`);
  }
  if (!(Number.isInteger(minUniqueSources) && minUniqueSources >= 1)) fail(`minUniqueSources must be an integer >= 1, got ${minUniqueSources}`);
  if (!(Number.isInteger(minClusterSize) && minClusterSize >= 1)) fail(`minClusterSize must be an integer >= 1, got ${minClusterSize}`);
  if (!(samePhotoMaxCosDist >= 0 && samePhotoMaxCosDist <= 1)) fail(`samePhotoMaxCosDist must be in [0, 1], got ${samePhotoMaxCosDist}`);

  // The gated subset: rows of the input that take part, packed so the clustering sees a dense matrix.
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (!gate || gate[i]) rows.push(i);
  const m = rows.length;
  let X = embeddings;
  let groups = cannotLink;
  if (m < n) {
    X = new Float32Array(m * dim);
    rows.forEach((i, r) => X.set(embeddings.subarray(i * dim, (i + 1) * dim), r * dim));
    if (cannotLink) groups = Int32Array.from(rows, (i) => cannotLink[i]!);
  }
  // Scored faces: gated and labelled.
  const scored: number[] = [];
  const scoredTruth: string[] = [];
  if (truth) {
    rows.forEach((i, r) => {
      const t = truth[i];
      if (t !== null && t !== undefined) {
        scored.push(r);
        scoredTruth.push(t);
      }
    });
  }

  const exactMaxN = options.exactMaxN ?? DEFAULT_EXACT_MAX_N;
  const shared = linkage !== "dbscan" && m <= exactMaxN;
  let D: Float32Array | undefined;
  let distancesMs = 0;
  // Counting photos: the source of each gated face, and once for all thresholds the pairs of faces close enough to
  // be one photo (from the shared matrix when there is one); per threshold only the union-find repeats (O(m + pairs)).
  const photoFiles = sourceIds ? rows.map((i) => sourceIds[i]!) : undefined;
  let photoPairs: SamePhotoPairs | undefined;
  if (shared) {
    const t0 = performance.now();
    D = condensedCosineDistances(X, m, dim);
    if (photoFiles) photoPairs = samePhotoPairsFromDistances(D, m, samePhotoMaxCosDist);
    if (groups) applyCannotLink(D, m, groups);
    distancesMs = performance.now() - t0;
  } else if (photoFiles) {
    photoPairs = samePhotoPairs(X, m, dim, samePhotoMaxCosDist, { exactMaxN, scalable: options.scalable });
  }

  const out: SweepRow[] = thresholdsCosDist.map((threshold) => {
    const t0 = performance.now();
    let packed: Int32Array;
    let clusters: number[][];
    if (shared) {
      ({ labels: packed, clusters } = relabel(rootOf(agglomerateCondensed(D!.slice(), m, linkage as Exclude<Linkage, "dbscan">, threshold))));
    } else {
      ({ labels: packed, clusters } = cluster(X, dim, {
        linkage,
        maxCosDist: threshold,
        cannotLink: groups,
        minSamples: options.minSamples,
        exactMaxN,
        scalable: options.scalable,
      }));
    }
    let keptClusters = 0;
    let facesKept = 0;
    let largestCluster = 0;
    const photos = photoFiles ? distinctPhotosPerCluster(packed, clusters.length, photoFiles, photoPairs) : undefined;
    clusters.forEach((members, c) => {
      largestCluster = Math.max(largestCluster, members.length);
      if (members.length < minClusterSize) return;
      if (photos && photos[c]! < minUniqueSources) return;
      keptClusters++;
      facesKept += members.length;
    });
    const labels = new Int32Array(n).fill(-1);
    rows.forEach((i, r) => (labels[i] = packed[r]!));
    const metrics = truth ? clusterMetrics(scored.map((r) => packed[r]!), scoredTruth) : undefined;
    return {
      thresholdCosDist: threshold,
      clusters: clusters.length,
      keptClusters,
      facesClustered: m,
      facesKept,
      largestCluster,
      ...(metrics ? { metrics } : {}),
      labels,
      ms: performance.now() - t0,
    };
  });
  return {
    rows: out,
    faces: n,
    path: shared ? "exact-shared" : "per-threshold",
    distancesMs,
    totalMs: performance.now() - start,
  };
}

/** Thresholds from `from` to `to` inclusive in `step`s, rounded to avoid 0.30000000000000004 in tables. */
export function thresholdRange(from: number, to: number, step: number): number[] {
  if (!(step > 0) || !(to >= from)) fail(`thresholdRange needs step > 0 and to >= from, got ${from}..${to} by ${step}`);
  const out: number[] = [];
  const count = Math.round((to - from) / step);
  for (let k = 0; k <= count; k++) out.push(Math.round((from + k * step) * 1e6) / 1e6);
  return out;
}
