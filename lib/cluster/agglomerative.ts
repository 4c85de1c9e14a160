/**
 * Exact agglomerative clustering with a distance threshold over a condensed distance matrix
 * (nearest-neighbour chain, Lance–Williams updates). O(n^2) memory and time: the exact path of `cluster()`.
 *
 * [Note: threshold semantics] Clusters merge while their linkage distance is <= maxCosDist (inclusive), compared
 * in float32 (distances are stored as float32, the threshold is `Math.fround(maxCosDist)`). sklearn's
 * AgglomerativeClustering(distance_threshold=t) merges only below t (strict); ours is the "within t" reading of
 * `IdentityConfig.clusterMaxCosDist`.
 *
 * [Note: cannot-link] A pair of clusters containing two rows of one group (e.g. two faces of one photo) has
 * infinite distance. Any superset of a conflicting pair still conflicts, so the infinity is permanent and the
 * linkages stay reducible (d(A∪B, K) >= min(d(A, K), d(B, K))), which is what the chain algorithm and the
 * "stop at the threshold" shortcut below rely on.
 */
import type { AgglomerativeLinkage } from "./options";
import { forEachPairDot } from "./vectors";

/** Index of pair (i, j), i < j, in a condensed upper-triangle matrix of n rows (scipy's squareform order). */
export function condensedIndex(n: number, i: number, j: number): number {
  return i * n - (i * (i + 1)) / 2 + (j - i - 1);
}

/** Condensed float32 cosine distances (1 - dot) of the n unit rows of `X`. */
export function condensedCosineDistances(X: Float32Array, n: number, dim: number): Float32Array {
  const D = new Float32Array((n * (n - 1)) / 2);
  forEachPairDot(X, n, dim, (i, j, dot) => {
    D[condensedIndex(n, i, j)] = 1 - dot;
  });
  return D;
}

/** Set the distance of every pair of rows sharing a group (>= 0) to +Infinity. */
export function applyCannotLink(D: Float32Array, n: number, groups: ArrayLike<number>): void {
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups[i]!;
    if (g < 0) continue;
    const rows = byGroup.get(g);
    if (rows) rows.push(i);
    else byGroup.set(g, [i]);
  }
  for (const rows of byGroup.values()) {
    for (let a = 0; a < rows.length; a++) {
      for (let b = a + 1; b < rows.length; b++) D[condensedIndex(n, rows[a]!, rows[b]!)] = Infinity;
    }
  }
}

/**
 * Cluster n items from their condensed distance matrix `D` (overwritten: it holds the working linkage distances).
 * Returns the union-find parent array of the merges at <= maxCosDist; `rootOf` turns it into roots.
 *
 * Nearest-neighbour chain: grow a chain where each element is the nearest neighbour of the previous one; when the
 * last two are reciprocal nearest neighbours, merge them. Ties go to the previous chain element, then to the lower
 * index, so the output is deterministic. A chain tip whose nearest neighbour is farther than the threshold can never
 * merge (reducibility), so it is retired at once: the dendrogram above the threshold is never built.
 */
export function agglomerateCondensed(
  D: Float32Array,
  n: number,
  linkage: AgglomerativeLinkage,
  maxCosDist: number,
): Int32Array {
  const limit = Math.fround(maxCosDist);
  const parent = new Int32Array(n);
  const size = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    parent[i] = i;
    size[i] = 1;
  }
  // Active clusters as a doubly linked list in ascending slot order (the scan order that breaks ties).
  const HEAD = n;
  const next = new Int32Array(n + 1);
  const prev = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : HEAD;
    prev[i] = i > 0 ? i - 1 : HEAD;
  }
  next[HEAD] = n > 0 ? 0 : HEAD;
  prev[HEAD] = n > 0 ? n - 1 : HEAD;
  const remove = (i: number) => {
    next[prev[i]!] = next[i]!;
    prev[next[i]!] = prev[i]!;
  };
  const dist = (i: number, j: number) => (i < j ? D[condensedIndex(n, i, j)]! : D[condensedIndex(n, j, i)]!);

  const chain = new Int32Array(n);
  let len = 0;
  while (next[HEAD] !== HEAD) {
    if (len === 0) chain[len++] = next[HEAD]!;
    const a = chain[len - 1]!;
    const before = len >= 2 ? chain[len - 2]! : -1;
    let best = before;
    let bestD = before >= 0 ? dist(a, before) : Infinity;
    // Strict "<" in ascending order: a tie keeps the previous chain element, else the lowest slot.
    for (let k = next[HEAD]!; k !== HEAD; k = next[k]!) {
      if (k === a) continue;
      const d = k < a ? D[condensedIndex(n, k, a)]! : D[condensedIndex(n, a, k)]!;
      if (d < bestD) {
        best = k;
        bestD = d;
      }
    }
    if (best < 0 || !(bestD <= limit)) {
      // Nothing within the threshold now, hence never: retire a.
      remove(a);
      len--;
      continue;
    }
    if (best !== before) {
      chain[len++] = best;
      continue;
    }
    // a and before are reciprocal nearest neighbours: merge into the lower slot.
    len -= 2;
    const keep = a < before ? a : before;
    const gone = a < before ? before : a;
    const sk = size[keep]!;
    const sg = size[gone]!;
    remove(gone);
    for (let k = next[HEAD]!; k !== HEAD; k = next[k]!) {
      if (k === keep) continue;
      const ik = keep < k ? condensedIndex(n, keep, k) : condensedIndex(n, k, keep);
      const ig = gone < k ? condensedIndex(n, gone, k) : condensedIndex(n, k, gone);
      const dk = D[ik]!;
      const dg = D[ig]!;
      let d: number;
      if (dk === Infinity || dg === Infinity) d = Infinity;
      else if (linkage === "single") d = dk < dg ? dk : dg;
      else if (linkage === "complete") d = dk > dg ? dk : dg;
      else d = (sk * dk + sg * dg) / (sk + sg);
      D[ik] = d;
    }
    size[keep] = sk + sg;
    parent[gone] = keep;
  }
  return parent;
}

/** Root of every item of a union-find parent array (parents may form chains). */
export function rootOf(parent: Int32Array): Int32Array {
  const root = new Int32Array(parent.length);
  for (let i = 0; i < parent.length; i++) {
    let r = i;
    while (parent[r]! !== r) r = parent[r]!;
    root[i] = r;
  }
  return root;
}
