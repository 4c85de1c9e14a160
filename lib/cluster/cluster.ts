/**
 * `cluster()`: group unit face embeddings into identities by agglomerative linkage (average, single, complete) with
 * a cosine-distance threshold, or by DBSCAN, honouring cannot-link groups (two faces of one photo are two people).
 *
 * Two paths with one meaning:
 *  - exact (n <= exactMaxN): condensed float32 distance matrix + nearest-neighbour chain (agglomerative.ts),
 *    or DBSCAN over all pairs;
 *  - scalable (n > exactMaxN): a neighbour graph found in k-means partitions (knn.ts), then merges over that graph
 *    with linkage distances computed from the embeddings (sparse.ts). No n x n allocation.
 */
import { agglomerateCondensed, applyCannotLink, condensedCosineDistances, rootOf } from "./agglomerative";
import { dbscanGraph } from "./dbscan";
import { agglomerateComponents } from "./components";
import { exactNeighbourGraph, type GraphStats, partitionedNeighbourGraph, scalableSettings } from "./knn";
import {
  checkLinkage,
  type ClusterOptions,
  DEFAULT_EXACT_MAX_N,
  DEFAULT_MIN_SAMPLES,
  type ResolvedClusterOptions,
} from "./options";

export interface Clustering {
  /**
   * Cluster id per row, 0..k-1, numbered by first appearance: the cluster of row 0 is 0, the next cluster met in row
   * order is 1, and so on. Stable under reordering of the work, so runs compare.
   */
  labels: Int32Array;
  /** Rows of each cluster, ascending; `clusters[labels[i]]` contains i. */
  clusters: number[][];
  /** Which path ran. */
  path: "exact" | "scalable";
  /** The options after defaults, for reports. */
  options: ResolvedClusterOptions;
  /** Scalable path only: how the neighbour graph was found and merged. */
  stats?: ScalableStats;
}

export interface ScalableStats extends GraphStats {
  /** Connected components of the graph (agglomerative linkages only; 0 for DBSCAN). */
  components: number;
  largestComponent: number;
  /** Wall time of each stage, ms. */
  stageMs: { graph: number; merge: number };
}

/**
 * The exact path holds n (n - 1) / 2 float32 distances; past this many (2 GiB) it refuses rather than exhaust memory.
 */
const MAX_CONDENSED_ENTRIES = 2 ** 29;
/** Largest valid cosine distance between unit vectors (opposite directions). */
const MAX_COS_DIST = 2;

function resolveOptions(n: number, options: ClusterOptions): ResolvedClusterOptions {
  const linkage = checkLinkage(options.linkage);
  const { maxCosDist, cannotLink, minSamples = DEFAULT_MIN_SAMPLES, exactMaxN = DEFAULT_EXACT_MAX_N } = options;
  if (!(maxCosDist >= 0 && maxCosDist <= MAX_COS_DIST)) {
    throw new RangeError(`cluster: maxCosDist must be a cosine distance in [0, 2], got ${maxCosDist}`);
  }
  if (cannotLink !== undefined && cannotLink.length !== n) {
    throw new RangeError(
      `cluster: cannotLink has ${cannotLink.length} entries for ${n} rows; give one group id per row (-1 = none)`,
    );
  }
  if (!Number.isInteger(minSamples) || minSamples < 1) {
    throw new RangeError(`cluster: minSamples must be an integer >= 1, got ${minSamples}`);
  }
  if (!(exactMaxN >= 0)) throw new RangeError(`cluster: exactMaxN must be >= 0, got ${exactMaxN}`);
  return { linkage, maxCosDist, cannotLink, minSamples, exactMaxN };
}

/** Renumber raw cluster ids (any integers) by first appearance; build the member lists. */
export function relabel(raw: ArrayLike<number>): { labels: Int32Array; clusters: number[][] } {
  const labels = new Int32Array(raw.length);
  const ids = new Map<number, number>();
  const clusters: number[][] = [];
  for (let i = 0; i < raw.length; i++) {
    let id = ids.get(raw[i]!);
    if (id === undefined) {
      id = clusters.length;
      ids.set(raw[i]!, id);
      clusters.push([]);
    }
    labels[i] = id;
    clusters[id]!.push(i);
  }
  return { labels, clusters };
}

/**
 * Cluster n unit embeddings (`embeddings` is n x dim, row-major, rows L2-normalised: [Note: cosine] in types.ts).
 * Deterministic: the same input and options give the same labels.
 */
export function cluster(embeddings: Float32Array, dim: number, options: ClusterOptions): Clustering {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`cluster: dim must be a positive integer, got ${dim}`);
  if (embeddings.length % dim !== 0) {
    throw new RangeError(
      `cluster: embeddings has ${embeddings.length} values, not a multiple of dim ${dim}; pass n x dim row-major`,
    );
  }
  const n = embeddings.length / dim;
  const resolved = resolveOptions(n, options);
  const { linkage, maxCosDist, cannotLink, minSamples, exactMaxN } = resolved;
  const { onProgress } = options;

  if (n <= exactMaxN) {
    if (linkage === "dbscan") {
      const graph = exactNeighbourGraph(embeddings, n, dim, maxCosDist);
      return { ...relabel(dbscanGraph(graph, minSamples, cannotLink)), path: "exact", options: resolved };
    }
    if ((n * (n - 1)) / 2 > MAX_CONDENSED_ENTRIES) {
      throw new RangeError(
        `cluster: the exact path at n=${n} needs ${((2 * n * (n - 1)) / 2 ** 30).toFixed(1)} GiB of distances; ` +
          `lower exactMaxN (default ${DEFAULT_EXACT_MAX_N}) so the scalable path runs`,
      );
    }
    onProgress?.("distances", 0, 1);
    const D = condensedCosineDistances(embeddings, n, dim);
    if (cannotLink) applyCannotLink(D, n, cannotLink);
    onProgress?.("distances", 1, 1);
    const parent = agglomerateCondensed(D, n, linkage, maxCosDist);
    return { ...relabel(rootOf(parent)), path: "exact", options: resolved };
  }

  const settings = scalableSettings(n, options.scalable);
  const graphStart = performance.now();
  const { graph, stats } = partitionedNeighbourGraph(embeddings, n, dim, maxCosDist, settings, onProgress);
  const mergeStart = performance.now();
  let raw: Int32Array;
  let components = 0;
  let largestComponent = 0;
  if (linkage === "dbscan") {
    // The core test uses the rows counted within eps, which the per-row lists count past their cap.
    raw = dbscanGraph(graph, minSamples, cannotLink);
  } else {
    const merged = agglomerateComponents(
      embeddings,
      dim,
      graph,
      linkage,
      maxCosDist,
      settings.denseComponentMaxN,
      cannotLink,
      onProgress,
    );
    raw = rootOf(merged.parent);
    ({ components, largestComponent } = merged);
  }
  const end = performance.now();
  return {
    ...relabel(raw),
    path: "scalable",
    options: resolved,
    stats: {
      ...stats,
      components,
      largestComponent,
      stageMs: { graph: mergeStart - graphStart, merge: end - mergeStart },
    },
  };
}
