/**
 * The neighbour graph of the scalable path: for every row, its nearest rows within `maxCosDist`, found without
 * ever computing all n^2 dot products.
 *
 * Design. All-pairs at 100k x 512 is 2.6e12 multiply-adds, ~30 min of single-threaded JavaScript. But every merge
 * that `cluster()` makes at <= maxCosDist joins two clusters that have at least one pair of rows within
 * maxCosDist (single: by definition; average: the mean is >= the minimum; complete: every pair is). So the final
 * clusters only need the pairs within the threshold, and those are local. We find them in partitions:
 *
 *  1. Spherical k-means (unit centres, argmax dot) with `centres` centres, initialised on evenly spaced rows
 *     (deterministic, no randomness) and refined by Lloyd iterations on all rows.
 *  2. Each row joins the partition of its nearest centre, and up to `spill - 1` more partitions whose centre is
 *     within `spillMargin` cosine similarity of the nearest (rows near a boundary sit on both sides, so a pair
 *     split by the boundary still meets). Partitions over `maxPartition` rows are split again the same way.
 *  3. Inside each partition: all pairs by blocked dot products; a pair within maxCosDist is recorded once (in the
 *     first partition the two rows share) in both rows' bounded lists of nearest neighbours.
 *
 * The graph is the union of the per-row lists (symmetric). It is exact when one partition holds everything, and
 * approximate otherwise: a close pair whose rows never share a partition is missed. The merge step (sparse.ts)
 * computes linkage distances from the embeddings, so a missed pair costs nothing as long as its two clusters are
 * linked by some other found pair.
 */
import { type ClusterOptions, DEFAULT_DENSE_COMPONENT_MAX_N } from "./options";
import { dotsRowsByAll, forEachPairDot, gatherRows } from "./vectors";

/** Symmetric sparse graph of rows within a cosine distance, in CSR form. */
export interface NeighbourGraph {
  n: number;
  /** Neighbours of row i are `neighbours[offsets[i] .. offsets[i + 1])`, ascending, with their `distances`. */
  offsets: Int32Array;
  neighbours: Int32Array;
  /** Cosine distances (float32) of the listed pairs. */
  distances: Float32Array;
  /** Rows found within the radius per row, itself excluded, before the per-row cap (DBSCAN's density). */
  withinCounts: Int32Array;
}

export interface GraphStats {
  /** Leaf partitions whose pairs were computed. */
  partitions: number;
  largestPartition: number;
  /** Sum of partition sizes / n: how often an average row was duplicated by spilling. */
  spillFactor: number;
  /** Dot products computed inside partitions. */
  pairsComputed: number;
  /** Undirected edges of the final graph. */
  edges: number;
}

/** Resolved `ScalableOptions` (see options.ts for meanings and defaults). */
export interface ScalableSettings {
  centres: number;
  kmeansIterations: number;
  spill: number;
  spillMargin: number;
  maxPartition: number;
  maxNeighbours: number;
  denseComponentMaxN: number;
}

/** Defaults of `ScalableOptions` for n rows. */
export function scalableSettings(n: number, options: ClusterOptions["scalable"] = {}): ScalableSettings {
  const {
    centres = Math.max(1, Math.ceil(Math.sqrt(n))),
    kmeansIterations = 3,
    spill = 3,
    spillMargin = 0.1,
    maxNeighbours = 32,
    denseComponentMaxN = DEFAULT_DENSE_COMPONENT_MAX_N,
  } = options;
  const { maxPartition = Math.max(1024, Math.ceil((4 * n) / centres)) } = options;
  for (const [name, value, min] of [
    ["centres", centres, 1],
    ["kmeansIterations", kmeansIterations, 0],
    ["spill", spill, 1],
    ["maxPartition", maxPartition, 2],
    ["maxNeighbours", maxNeighbours, 1],
    ["denseComponentMaxN", denseComponentMaxN, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(`cluster: scalable.${name} must be an integer >= ${min}, got ${value}`);
    }
  }
  if (!(spillMargin >= 0)) throw new RangeError(`cluster: scalable.spillMargin must be >= 0, got ${spillMargin}`);
  return { centres, kmeansIterations, spill, spillMargin, maxPartition, maxNeighbours, denseComponentMaxN };
}

/** Partitions deeper than this are left as they are (a blob k-means cannot split). */
const MAX_PARTITION_DEPTH = 6;
/** Rows per block of the rows x centres products (bounds the scratch to ROW_BLOCK x centres doubles). */
const ROW_BLOCK = 256;
/** A split that leaves a child this large (fraction of its parent) made no progress. */
const NO_PROGRESS_FRACTION = 0.9;

/**
 * Bounded per-row lists of the nearest neighbours found so far: a max-heap on (distance, id) per row, so the
 * worst kept neighbour is at the top and ties resolve by id (deterministic).
 */
class NeighbourLists {
  readonly ids: number[][];
  readonly dists: number[][];
  readonly within: Int32Array;

  constructor(n: number, readonly capacity: number) {
    this.ids = Array.from({ length: n }, () => []);
    this.dists = Array.from({ length: n }, () => []);
    this.within = new Int32Array(n);
  }

  add(i: number, j: number, d: number): void {
    this.within[i]!++;
    const ids = this.ids[i]!;
    const dists = this.dists[i]!;
    if (ids.length < this.capacity) {
      ids.push(j);
      dists.push(d);
      if (Number.isFinite(this.capacity)) siftUp(ids, dists, ids.length - 1);
      return;
    }
    if (!worse(dists[0]!, ids[0]!, d, j)) return;
    ids[0] = j;
    dists[0] = d;
    siftDown(ids, dists, 0);
  }
}

/** (da, ia) ranks after (db, ib): farther, or as far with a higher id. */
function worse(da: number, ia: number, db: number, ib: number): boolean {
  return da > db || (da === db && ia > ib);
}

function siftUp(ids: number[], dists: number[], at: number): void {
  while (at > 0) {
    const up = (at - 1) >> 1;
    if (!worse(dists[at]!, ids[at]!, dists[up]!, ids[up]!)) return;
    swap(ids, dists, at, up);
    at = up;
  }
}

function siftDown(ids: number[], dists: number[], at: number): void {
  const len = ids.length;
  for (;;) {
    const l = 2 * at + 1;
    const r = l + 1;
    let top = at;
    if (l < len && worse(dists[l]!, ids[l]!, dists[top]!, ids[top]!)) top = l;
    if (r < len && worse(dists[r]!, ids[r]!, dists[top]!, ids[top]!)) top = r;
    if (top === at) return;
    swap(ids, dists, at, top);
    at = top;
  }
}

function swap(ids: number[], dists: number[], a: number, b: number): void {
  const t = ids[a]!;
  ids[a] = ids[b]!;
  ids[b] = t;
  const u = dists[a]!;
  dists[a] = dists[b]!;
  dists[b] = u;
}

/** Union of the per-row lists as a symmetric CSR graph. */
function toGraph(n: number, lists: NeighbourLists): NeighbourGraph {
  const degree = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const ids = lists.ids[i]!;
    degree[i] = degree[i]! + ids.length;
    for (const j of ids) degree[j]!++;
  }
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i]! + degree[i]!;
  const rawIds = new Int32Array(start[n]!);
  const rawDists = new Float32Array(start[n]!);
  const fill = start.slice(0, n);
  for (let i = 0; i < n; i++) {
    const ids = lists.ids[i]!;
    const dists = lists.dists[i]!;
    for (let e = 0; e < ids.length; e++) {
      const j = ids[e]!;
      const d = dists[e]!;
      rawIds[fill[i]!] = j;
      rawDists[fill[i]!++] = d;
      rawIds[fill[j]!] = i;
      rawDists[fill[j]!++] = d;
    }
  }
  // Sort each row by neighbour id and drop the duplicates (a pair kept by both of its rows). Rows are compacted
  // in place: a row's entries are copied out before anything is written over them.
  const offsets = new Int32Array(n + 1);
  const rowIds: number[] = [];
  const rowDists: number[] = [];
  const order: number[] = [];
  let out = 0;
  for (let i = 0; i < n; i++) {
    rowIds.length = 0;
    rowDists.length = 0;
    order.length = 0;
    for (let e = start[i]!; e < start[i + 1]!; e++) {
      order.push(rowIds.length);
      rowIds.push(rawIds[e]!);
      rowDists.push(rawDists[e]!);
    }
    order.sort((x, y) => rowIds[x]! - rowIds[y]!);
    offsets[i] = out;
    let last = -1;
    for (const e of order) {
      const j = rowIds[e]!;
      if (j === last) continue;
      last = j;
      rawIds[out] = j;
      rawDists[out++] = rowDists[e]!;
    }
  }
  offsets[n] = out;
  return {
    n,
    offsets,
    neighbours: rawIds.slice(0, out),
    distances: rawDists.slice(0, out),
    withinCounts: lists.within,
  };
}

/**
 * The exact graph: every pair of the n rows within maxCosDist (all n^2 / 2 dot products), at most
 * `maxNeighbours` kept per row.
 */
export function exactNeighbourGraph(
  X: Float32Array,
  n: number,
  dim: number,
  maxCosDist: number,
  maxNeighbours = Infinity,
): NeighbourGraph {
  const limit = Math.fround(maxCosDist);
  const lists = new NeighbourLists(n, maxNeighbours);
  forEachPairDot(X, n, dim, (i, j, dot) => {
    const d = Math.fround(1 - dot);
    if (d <= limit) {
      lists.add(i, j, d);
      lists.add(j, i, d);
    }
  });
  return toGraph(n, lists);
}

/** Spherical k-means centres (unit rows, c x dim) of the `count` contiguous rows of `M`. */
function sphericalKMeans(M: Float32Array, count: number, dim: number, c: number, iterations: number): Float32Array {
  const centres = new Float32Array(c * dim);
  for (let k = 0; k < c; k++) {
    const row = Math.floor(((k + 0.5) * count) / c);
    centres.set(M.subarray(row * dim, row * dim + dim), k * dim);
  }
  const scratch = new Float64Array(ROW_BLOCK * c);
  const sums = new Float64Array(c * dim);
  const members = new Int32Array(c);
  for (let it = 0; it < iterations; it++) {
    sums.fill(0);
    members.fill(0);
    for (let r0 = 0; r0 < count; r0 += ROW_BLOCK) {
      const r1 = Math.min(count, r0 + ROW_BLOCK);
      dotsRowsByAll(M, r0, r1, centres, c, dim, scratch);
      for (let r = r0; r < r1; r++) {
        const o = (r - r0) * c;
        let best = 0;
        for (let k = 1; k < c; k++) if (scratch[o + k]! > scratch[o + best]!) best = k;
        members[best]!++;
        const src = r * dim;
        const dst = best * dim;
        for (let x = 0; x < dim; x++) sums[dst + x] = sums[dst + x]! + M[src + x]!;
      }
    }
    for (let k = 0; k < c; k++) {
      if (members[k] === 0) continue; // an empty centre keeps its place
      let norm = 0;
      for (let x = 0; x < dim; x++) norm += sums[k * dim + x]! ** 2;
      norm = Math.sqrt(norm);
      if (norm === 0) continue;
      for (let x = 0; x < dim; x++) centres[k * dim + x] = sums[k * dim + x]! / norm;
    }
  }
  return centres;
}

/**
 * Split `rows` (indices into X) into spilled partitions: each row goes to its nearest centre and to up to
 * spill - 1 more centres within spillMargin of the nearest. Returns the non-empty member lists.
 */
function splitOnce(X: Float32Array, dim: number, rows: Int32Array, c: number, s: ScalableSettings): Int32Array[] {
  const count = rows.length;
  // The top level covers all rows in order: use X itself rather than a copy.
  const isAll = count * dim === X.length && rows[0] === 0 && rows[count - 1] === count - 1;
  const M = isAll ? X : gatherRows(X, rows, dim);
  const centres = sphericalKMeans(M, count, dim, c, s.kmeansIterations);
  const scratch = new Float64Array(ROW_BLOCK * c);
  const members: number[][] = Array.from({ length: c }, () => []);
  const topK = new Int32Array(s.spill);
  const topSim = new Float64Array(s.spill);
  for (let r0 = 0; r0 < count; r0 += ROW_BLOCK) {
    const r1 = Math.min(count, r0 + ROW_BLOCK);
    dotsRowsByAll(M, r0, r1, centres, c, dim, scratch);
    for (let r = r0; r < r1; r++) {
      const o = (r - r0) * c;
      // The `spill` most similar centres, best first (ties to the lower centre index).
      let kept = 0;
      for (let k = 0; k < c; k++) {
        const sim = scratch[o + k]!;
        if (kept === s.spill && sim <= topSim[kept - 1]!) continue;
        let at = kept < s.spill ? kept++ : kept - 1;
        while (at > 0 && sim > topSim[at - 1]!) {
          topSim[at] = topSim[at - 1]!;
          topK[at] = topK[at - 1]!;
          at--;
        }
        topSim[at] = sim;
        topK[at] = k;
      }
      const row = rows[r]!;
      members[topK[0]!]!.push(row);
      for (let t = 1; t < kept; t++) {
        if (topSim[t]! >= topSim[0]! - s.spillMargin) members[topK[t]!]!.push(row);
      }
    }
  }
  return members.filter((m) => m.length > 0).map((m) => Int32Array.from(m));
}

function partitionInto(
  X: Float32Array,
  dim: number,
  rows: Int32Array,
  s: ScalableSettings,
  depth: number,
  leaves: Int32Array[],
): void {
  if (rows.length <= s.maxPartition || depth >= MAX_PARTITION_DEPTH) {
    leaves.push(rows);
    return;
  }
  const c = depth === 0 ? Math.min(s.centres, rows.length) : Math.max(2, Math.ceil(Math.sqrt(rows.length)));
  const children = splitOnce(X, dim, rows, c, s);
  if (children.some((child) => child.length >= NO_PROGRESS_FRACTION * rows.length)) {
    // k-means found no structure to split on (near-duplicates): keep the partition whole, exact but costly.
    leaves.push(rows);
    return;
  }
  for (const child of children) partitionInto(X, dim, child, s, depth + 1, leaves);
}

/**
 * The approximate graph of the scalable path (see the design at the top of this file). Deterministic.
 */
export function partitionedNeighbourGraph(
  X: Float32Array,
  n: number,
  dim: number,
  maxCosDist: number,
  settings: ScalableSettings,
  onProgress?: ClusterOptions["onProgress"],
): { graph: NeighbourGraph; stats: GraphStats } {
  const limit = Math.fround(maxCosDist);
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  onProgress?.("partition", 0, 1);
  const leaves: Int32Array[] = [];
  // The top level always splits (n is above exactMaxN); deeper levels only when too large.
  if (n <= settings.maxPartition) leaves.push(all);
  else partitionInto(X, dim, all, settings, 0, leaves);
  onProgress?.("partition", 1, 1);

  // Leaf ids of every row, ascending (CSR), to record each pair only in the first leaf its rows share.
  const memberCount = new Int32Array(n + 1);
  for (const leaf of leaves) for (const r of leaf) memberCount[r + 1]!++;
  for (let i = 0; i < n; i++) memberCount[i + 1] = memberCount[i + 1]! + memberCount[i]!;
  const memberOf = new Int32Array(memberCount[n]!);
  const fill = memberCount.slice(0, n);
  leaves.forEach((leaf, id) => {
    for (const r of leaf) memberOf[fill[r]!++] = id;
  });
  const firstShared = (a: number, b: number): number => {
    let p = memberCount[a]!;
    let q = memberCount[b]!;
    const pe = memberCount[a + 1]!;
    const qe = memberCount[b + 1]!;
    while (p < pe && q < qe) {
      const x = memberOf[p]!;
      const y = memberOf[q]!;
      if (x === y) return x;
      if (x < y) p++;
      else q++;
    }
    return -1;
  };

  const lists = new NeighbourLists(n, settings.maxNeighbours);
  let scratch: Float32Array = new Float32Array(0);
  let pairsComputed = 0;
  let largest = 0;
  let spilled = 0;
  leaves.forEach((leaf, id) => {
    largest = Math.max(largest, leaf.length);
    spilled += leaf.length;
    pairsComputed += (leaf.length * (leaf.length - 1)) / 2;
    scratch = gatherRows(X, leaf, dim, scratch);
    forEachPairDot(scratch, leaf.length, dim, (a, b, dot) => {
      const d = Math.fround(1 - dot);
      if (!(d <= limit)) return;
      const i = leaf[a]!;
      const j = leaf[b]!;
      if (firstShared(i, j) !== id) return;
      lists.add(i, j, d);
      lists.add(j, i, d);
    });
    onProgress?.("neighbours", id + 1, leaves.length);
  });
  const graph = toGraph(n, lists);
  return {
    graph,
    stats: {
      partitions: leaves.length,
      largestPartition: largest,
      spillFactor: n > 0 ? spilled / n : 0,
      pairsComputed,
      edges: graph.neighbours.length / 2,
    },
  };
}
