/**
 * Distinct photos among a cluster's faces, for `minUniqueSources`. Re-encoded copies of one shot (EXIF-rotated
 * copies, a PSD and its JPEG export, resized or rotated versions) are different files, so counting files lets one
 * photo seen six times become a face set. Here faces are joined (union-find) when they come from the same file, or
 * from different files at cosine distance <= `samePhotoMaxCosDist` (IdentityConfig); the count is the number of
 * groups. The join is transitive inside the counted faces only: a chain through faces outside them does not count.
 * `samePhotoMaxCosDist` 0 joins by file only (the owner's original count of files).
 *
 * Distances are float32 `1 - dot`, compared as the clustering compares its threshold. Pairs are found by all-pairs
 * dot products up to `exactMaxN` faces; above it by the scalable path's partitioned neighbour graph (knn.ts), which
 * may miss a close pair whose faces never share a partition (rare at distances this small).
 */
import { partitionedNeighbourGraph, scalableSettings } from "./knn";
import { type ClusterOptions, DEFAULT_EXACT_MAX_N } from "./options";
import { forEachPairDot, gatherRows } from "./vectors";

/**
 * Cannot-link groups for clustering: one group per photo (file content hash), numbered in order of first
 * appearance, so two faces of one photo never share a cluster.
 */
export function photoGroups(faces: readonly { fileSha256: string }[]): Int32Array {
  const groups = new Map<string, number>();
  return Int32Array.from(faces, ({ fileSha256 }) => {
    let group = groups.get(fileSha256);
    if (group === undefined) groups.set(fileSha256, (group = groups.size));
    return group;
  });
}

/** Pairs of rows (a[k] < b[k]) within the same-photo distance. */
export interface SamePhotoPairs {
  a: Int32Array;
  b: Int32Array;
}

export interface SamePhotoOptions {
  /** Up to this many rows every pair is computed; above it the partitioned graph is used. Default 5000. */
  exactMaxN?: number;
  /** Tuning of the partitioned graph above exactMaxN. */
  scalable?: ClusterOptions["scalable"];
}

const NO_PAIRS: SamePhotoPairs = Object.freeze({ a: new Int32Array(0), b: new Int32Array(0) });

function checkMax(maxCosDist: number): void {
  if (!(maxCosDist >= 0 && maxCosDist <= 1)) {
    throw new RangeError(`samePhotoMaxCosDist must be a cosine distance in [0, 1], got ${maxCosDist}`);
  }
}

/** The pairs of the `count` unit rows of `X` (row-major, `dim` wide) within `maxCosDist`; none when it is 0. */
export function samePhotoPairs(
  X: Float32Array,
  count: number,
  dim: number,
  maxCosDist: number,
  options: SamePhotoOptions = {},
): SamePhotoPairs {
  checkMax(maxCosDist);
  if (maxCosDist === 0 || count < 2) return NO_PAIRS;
  const a: number[] = [];
  const b: number[] = [];
  if (count <= (options.exactMaxN ?? DEFAULT_EXACT_MAX_N)) {
    const limit = Math.fround(maxCosDist);
    forEachPairDot(X, count, dim, (i, j, dot) => {
      if (Math.fround(1 - dot) <= limit) {
        a.push(i);
        b.push(j);
      }
    });
  } else {
    const { graph } = partitionedNeighbourGraph(X, count, dim, maxCosDist, scalableSettings(count, options.scalable));
    for (let i = 0; i < count; i++) {
      for (let e = graph.offsets[i]!; e < graph.offsets[i + 1]!; e++) {
        const j = graph.neighbours[e]!;
        if (i < j) {
          a.push(i);
          b.push(j);
        }
      }
    }
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b) };
}

/**
 * The pairs within `maxCosDist` read from a condensed distance matrix of n rows (agglomerative.ts layout, before
 * cannot-link constraints are applied to it), for callers that already hold one.
 */
export function samePhotoPairsFromDistances(D: Float32Array, n: number, maxCosDist: number): SamePhotoPairs {
  checkMax(maxCosDist);
  if (maxCosDist === 0) return NO_PAIRS;
  const limit = Math.fround(maxCosDist);
  const a: number[] = [];
  const b: number[] = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, k++) {
      if (D[k]! <= limit) {
        a.push(i);
        b.push(j);
      }
    }
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b) };
}

/**
 * Distinct photos per cluster: `labels[i]` is row i's cluster (0..clusters-1, -1 = not counted), `fileIds[i]` its
 * file. Rows of one cluster are joined when they share a file or form one of `pairs`; pairs across clusters are
 * ignored. O(rows + pairs).
 */
export function distinctPhotosPerCluster(
  labels: ArrayLike<number>,
  clusters: number,
  fileIds: ArrayLike<string | number>,
  pairs: SamePhotoPairs = NO_PAIRS,
): Int32Array {
  const n = labels.length;
  if (fileIds.length !== n) throw new RangeError(`distinctPhotosPerCluster: ${fileIds.length} file ids for ${n} rows`);
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const union = (i: number, j: number): void => {
    const ri = find(i);
    const rj = find(j);
    if (ri < rj) parent[rj] = ri;
    else if (rj < ri) parent[ri] = rj;
  };
  const firstOfFile = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (label < 0) continue;
    const key = `${label}\u0000${fileIds[i]!}`;
    const first = firstOfFile.get(key);
    if (first === undefined) firstOfFile.set(key, i);
    else union(first, i);
  }
  for (let k = 0; k < pairs.a.length; k++) {
    const i = pairs.a[k]!;
    const j = pairs.b[k]!;
    if (labels[i]! >= 0 && labels[i] === labels[j]) union(i, j);
  }
  const counts = new Int32Array(clusters);
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (label >= 0 && find(i) === i) counts[label]!++;
  }
  return counts;
}

/**
 * Distinct photos among `faces` (row indices into `embeddings`, n x dim unit rows, and into `fileIds`): faces of
 * one file, or of different files within `samePhotoMaxCosDist`, are one photo (transitively). O(k^2 dim) for k faces.
 */
export function distinctPhotoCount(
  faces: readonly number[],
  embeddings: Float32Array,
  dim: number,
  fileIds: ArrayLike<string | number>,
  samePhotoMaxCosDist: number,
  options: SamePhotoOptions = {},
): number {
  checkMax(samePhotoMaxCosDist);
  if (faces.length === 0) return 0;
  const X = samePhotoMaxCosDist > 0 ? gatherRows(embeddings, faces, dim) : new Float32Array(0);
  const pairs = samePhotoPairs(X, faces.length, dim, samePhotoMaxCosDist, options);
  return distinctPhotosPerCluster(new Int32Array(faces.length), 1, faces.map((i) => fileIds[i]!), pairs)[0]!;
}
