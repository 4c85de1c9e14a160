import { type Linkage, LINKAGES } from "../config";

/** The linkages that build a hierarchy (everything but DBSCAN). */
export type AgglomerativeLinkage = Exclude<Linkage, "dbscan">;

/** Stages reported through `ClusterOptions.onProgress`. */
export type ClusterStage = "distances" | "merge" | "partition" | "neighbours";

export interface ClusterOptions {
  /**
   * "average" (UPGMA: mean pairwise cosine distance), "single" (closest pair), "complete" (farthest pair), or
   * "dbscan" (density: eps = maxCosDist, see `minSamples`).
   */
  linkage: Linkage;
  /**
   * Cosine distance (1 - dot of unit rows). Agglomerative: merge while the linkage distance is <= this (inclusive,
   * compared in float32; see [Note: threshold semantics] in agglomerative.ts). DBSCAN: the eps radius, inclusive.
   */
  maxCosDist: number;
  /**
   * Group id per row (e.g. the source photo), -1 = none. Two rows of one group never share a cluster
   * ([Note: cannot-link] in agglomerative.ts; DBSCAN: see dbscan.ts). Default: no constraints.
   */
  cannotLink?: Int32Array;
  /** DBSCAN only: a row is a core point when at least this many rows (itself included) lie within eps. Default 2. */
  minSamples?: number;
  /**
   * Up to this many rows the exact O(n^2)-memory path runs; above it the scalable path (no n x n allocation).
   * Default 5000. `Infinity` forces exact (refused past ~32k rows), 0 forces scalable.
   */
  exactMaxN?: number;
  /** Tuning of the scalable path; every field has a default. */
  scalable?: ScalableOptions;
  /** Coarse progress (per stage, done of total), for scripts and notebooks. */
  onProgress?: (stage: ClusterStage, done: number, total: number) => void;
}

/** Tuning of the scalable path (see knn.ts for the design). */
export interface ScalableOptions {
  /** Partition centres of the top level. Default ceil(sqrt(n)). */
  centres?: number;
  /** Lloyd iterations of the spherical k-means partitioner. Default 3. */
  kmeansIterations?: number;
  /** A row joins at most this many partitions (its nearest centres). Default 3. */
  spill?: number;
  /** A row joins a further partition when that centre's cosine similarity is within this of the nearest's. Default 0.1. */
  spillMargin?: number;
  /** Partitions larger than this are split again (their pairs cost size^2 dot products). Default max(1024, 4 n / centres). */
  maxPartition?: number;
  /** Neighbours kept per row (the nearest within maxCosDist); the graph is the union of these lists. Default 32. */
  maxNeighbours?: number;
  /**
   * Graph components up to this many rows are clustered exactly from their own distance matrix; larger ones by the
   * sparse algorithm (components.ts). Default 1500 (4.5 MB of float32 distances).
   */
  denseComponentMaxN?: number;
}

/** `ClusterOptions` with defaults filled, as written into reports. */
export interface ResolvedClusterOptions {
  linkage: Linkage;
  maxCosDist: number;
  cannotLink: Int32Array | undefined;
  minSamples: number;
  exactMaxN: number;
}

export const DEFAULT_EXACT_MAX_N = 5000;
export const DEFAULT_MIN_SAMPLES = 2;
export const DEFAULT_DENSE_COMPONENT_MAX_N = 1500;

/** Validate a linkage name at the edge (style: closed choices, errors that name the value and the fix). */
export function checkLinkage(value: unknown, context = "cluster"): Linkage {
  if (typeof value !== "string" || !LINKAGES.includes(value as Linkage)) {
    throw new RangeError(`${context}: invalid linkage ${JSON.stringify(value)} (allowed: ${LINKAGES.join(", ")})`);
  }
  return value as Linkage;
}
