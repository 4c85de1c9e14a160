/**
 * Agglomerative clustering over a sparse neighbour graph (the scalable path's merge step). Memory is
 * O(edges + n * dim), never n^2.
 *
 * Candidate pairs of clusters are those joined by at least one graph edge: a merge at <= maxCosDist needs one
 * pair of rows within maxCosDist (see knn.ts). Their linkage distances come from the embeddings, not the graph:
 *  - average: mean pairwise cosine distance = 1 - dot(sumA, sumB) / (|A| |B|) for unit rows, exact from the
 *    clusters' sum vectors at O(dim) per pair, whatever edges were missed;
 *  - complete: max(d(A, K), d(B, K)) when both are known, otherwise the farthest pair is searched row by row,
 *    stopping at the first pair beyond the threshold; a pair beyond the threshold is dropped for good (complete
 *    distances only grow);
 *  - single: the closest known edge (an unlisted pair counts as beyond the threshold).
 * With the exact graph this gives the same clusters as the exact path (up to float rounding and ties); with the
 * partitioned graph only single and complete can differ, when an edge they needed was not found.
 *
 * Merges are taken globally closest first from a heap with lazy deletion, ties to the lower slot ids, which is the
 * same hierarchy the nearest-neighbour chain builds for these (reducible) linkages. Cannot-link as in
 * agglomerative.ts: clusters sharing a group are never merged.
 */
import type { NeighbourGraph } from "./knn";
import type { AgglomerativeLinkage, ClusterOptions } from "./options";
import { dotRows } from "./vectors";

/** Report progress once per this many merges. */
const PROGRESS_EVERY_MERGES = 1024;

/** Whether candidate (d1, a1, b1) is taken before (d2, a2, b2): closer, then lower slots. */
function precedes(d1: number, a1: number, b1: number, d2: number, a2: number, b2: number): boolean {
  if (d1 !== d2) return d1 < d2;
  if (a1 !== a2) return a1 < a2;
  return b1 < b2;
}

/** Binary min-heap of candidate merges keyed by (distance, a, b), with the slots' stamps at push time. */
class MergeHeap {
  private d = new Float64Array(1024);
  private a = new Int32Array(1024);
  private b = new Int32Array(1024);
  private sa = new Int32Array(1024);
  private sb = new Int32Array(1024);
  /** Entries in the heap. */
  size = 0;

  push(d: number, a: number, b: number, sa: number, sb: number): void {
    if (this.size === this.d.length) this.grow();
    let at = this.size++;
    // Sift the hole up, then write the entry once.
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (!precedes(d, a, b, this.d[up]!, this.a[up]!, this.b[up]!)) break;
      this.move(up, at);
      at = up;
    }
    this.write(at, d, a, b, sa, sb);
  }

  /** Remove the top; its fields are in `top` afterwards. */
  pop(top: { d: number; a: number; b: number; sa: number; sb: number }): void {
    top.d = this.d[0]!;
    top.a = this.a[0]!;
    top.b = this.b[0]!;
    top.sa = this.sa[0]!;
    top.sb = this.sb[0]!;
    const last = --this.size;
    if (last === 0) return;
    const d = this.d[last]!;
    const a = this.a[last]!;
    const b = this.b[last]!;
    const sa = this.sa[last]!;
    const sb = this.sb[last]!;
    let at = 0;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= last) break;
      const r = l + 1;
      const child = r < last && precedes(this.d[r]!, this.a[r]!, this.b[r]!, this.d[l]!, this.a[l]!, this.b[l]!)
        ? r
        : l;
      if (!precedes(this.d[child]!, this.a[child]!, this.b[child]!, d, a, b)) break;
      this.move(child, at);
      at = child;
    }
    this.write(at, d, a, b, sa, sb);
  }

  private move(from: number, to: number): void {
    this.d[to] = this.d[from]!;
    this.a[to] = this.a[from]!;
    this.b[to] = this.b[from]!;
    this.sa[to] = this.sa[from]!;
    this.sb[to] = this.sb[from]!;
  }

  private write(at: number, d: number, a: number, b: number, sa: number, sb: number): void {
    this.d[at] = d;
    this.a[at] = a;
    this.b[at] = b;
    this.sa[at] = sa;
    this.sb[at] = sb;
  }

  private grow(): void {
    const cap = this.d.length * 2;
    const grow = <T extends Float64Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const next = make(cap);
      next.set(old);
      return next;
    };
    this.d = grow(this.d, (c) => new Float64Array(c));
    this.a = grow(this.a, (c) => new Int32Array(c));
    this.b = grow(this.b, (c) => new Int32Array(c));
    this.sa = grow(this.sa, (c) => new Int32Array(c));
    this.sb = grow(this.sb, (c) => new Int32Array(c));
  }
}

/**
 * Merge over `graph` while linkage distance <= maxCosDist. Returns the union-find parent array (as
 * agglomerateCondensed does).
 */
export function agglomerateGraph(
  X: Float32Array,
  dim: number,
  graph: NeighbourGraph,
  linkage: AgglomerativeLinkage,
  maxCosDist: number,
  groups?: Int32Array,
  onProgress?: ClusterOptions["onProgress"],
): Int32Array {
  const n = graph.n;
  const limit = Math.fround(maxCosDist);
  const parent = new Int32Array(n);
  const size = new Int32Array(n);
  const stamp = new Int32Array(n);
  const links: (Map<number, number> | undefined)[] = new Array(n);
  const sums: (Float64Array | undefined)[] = new Array(n);
  const members: (number[] | undefined)[] = linkage === "complete" ? new Array(n) : [];
  const groupSets: (Set<number> | undefined)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    parent[i] = i;
    size[i] = 1;
    links[i] = new Map();
    if (linkage === "complete") members[i] = [i];
    const g = groups?.[i] ?? -1;
    if (g >= 0) groupSets[i] = new Set([g]);
  }

  const conflict = (p: number, q: number): boolean => {
    const gp = groupSets[p];
    const gq = groupSets[q];
    if (!gp || !gq) return false;
    const [small, large] = gp.size <= gq.size ? [gp, gq] : [gq, gp];
    for (const g of small) if (large.has(g)) return true;
    return false;
  };

  /** dot(sum of cluster p, sum of cluster q): a row's own values stand in for a singleton's sum. */
  const sumDot = (p: number, q: number): number => {
    const sp = sums[p];
    const sq = sums[q];
    if (!sp && !sq) return dotRows(X, p, X, q, dim);
    let acc = 0;
    if (sp && sq) {
      for (let k = 0; k < dim; k++) acc += sp[k]! * sq[k]!;
    } else {
      const s = (sp ?? sq)!;
      const off = (sp ? q : p) * dim;
      for (let k = 0; k < dim; k++) acc += s[k]! * X[off + k]!;
    }
    return acc;
  };

  /** Farthest pair between clusters p and q, or Infinity as soon as one pair is beyond the threshold. */
  const farthestWithin = (p: number, q: number): number => {
    let worst = -Infinity;
    for (const i of members[p]!) {
      for (const j of members[q]!) {
        const d = Math.fround(1 - dotRows(X, i, X, j, dim));
        if (!(d <= limit)) return Infinity;
        if (d > worst) worst = d;
      }
    }
    return worst;
  };

  const heap = new MergeHeap();
  const offer = (p: number, q: number, d: number) => {
    if (!(d <= limit) || conflict(p, q)) return;
    const [a, b] = p < q ? [p, q] : [q, p];
    heap.push(d, a, b, stamp[a]!, stamp[b]!);
  };

  for (let i = 0; i < n; i++) {
    for (let e = graph.offsets[i]!; e < graph.offsets[i + 1]!; e++) {
      const j = graph.neighbours[e]!;
      const d = graph.distances[e]!;
      links[i]!.set(j, d);
      if (i < j) offer(i, j, d);
    }
  }

  const top = { d: 0, a: 0, b: 0, sa: 0, sb: 0 };
  let merges = 0;
  while (heap.size > 0) {
    heap.pop(top);
    if (top.d > limit) break;
    const { a: keep, b: gone } = top;
    if (stamp[keep] !== top.sa || stamp[gone] !== top.sb) continue; // stale: one side changed since
    const linksK = links[keep]!;
    const linksG = links[gone]!;
    const sk = size[keep]!;
    const sg = size[gone]!;

    // Properties of the union, kept in the lower slot.
    parent[gone] = keep;
    size[keep] = sk + sg;
    stamp[keep]!++;
    stamp[gone]!++;
    if (linkage === "average") {
      const sum = sums[keep] ?? Float64Array.from(X.subarray(keep * dim, keep * dim + dim));
      const other = sums[gone];
      const off = gone * dim;
      for (let k = 0; k < dim; k++) sum[k] = sum[k]! + (other ? other[k]! : X[off + k]!);
      sums[keep] = sum;
      sums[gone] = undefined;
    }
    if (linkage === "complete") {
      const [big, small] = members[keep]!.length >= members[gone]!.length
        ? [members[keep]!, members[gone]!]
        : [members[gone]!, members[keep]!];
      for (const r of small) big.push(r);
      members[keep] = big;
      members[gone] = undefined;
    }
    const gk = groupSets[keep];
    const gg = groupSets[gone];
    if (gg) {
      if (!gk) groupSets[keep] = gg;
      else if (gk.size >= gg.size) for (const g of gg) gk.add(g);
      else {
        for (const g of gk) gg.add(g);
        groupSets[keep] = gg;
      }
      groupSets[gone] = undefined;
    }

    // New distances from the union to every cluster linked to either side.
    const merged = new Map<number, number>();
    const neighbours = new Set<number>();
    for (const k of linksK.keys()) if (k !== gone) neighbours.add(k);
    for (const k of linksG.keys()) if (k !== keep) neighbours.add(k);
    for (const k of neighbours) {
      const lk = links[k]!;
      lk.delete(keep);
      lk.delete(gone);
      if (conflict(keep, k)) continue; // permanent: drop the link
      const dk = linksK.get(k);
      const dg = linksG.get(k);
      let d: number;
      if (linkage === "average") {
        d = Math.fround(1 - sumDot(keep, k) / (size[keep]! * size[k]!));
      } else if (linkage === "single") {
        d = Math.min(dk ?? Infinity, dg ?? Infinity);
      } else {
        // A side never measured (no edge found) is searched row by row; the union's rows are already merged.
        d = dk !== undefined && dg !== undefined ? Math.max(dk, dg) : farthestWithin(keep, k);
        if (!(d <= limit)) continue; // complete distances only grow: never mergeable again
      }
      merged.set(k, d);
      lk.set(keep, d);
      offer(keep, k, d);
    }
    links[keep] = merged;
    links[gone] = undefined;
    merges++;
    if (onProgress && merges % PROGRESS_EVERY_MERGES === 0) onProgress("merge", merges, n);
  }
  onProgress?.("merge", merges, merges);
  return parent;
}
