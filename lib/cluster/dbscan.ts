/**
 * DBSCAN over a neighbour graph whose edges are the pairs within eps (= maxCosDist, inclusive).
 *
 * As sklearn: a row is a core point when at least `minSamples` rows, itself included, lie within eps; clusters are
 * the core points connected through eps-neighbourhoods plus the border points they reach (a border point goes to the
 * first cluster that reaches it). Unlike sklearn, noise points are not labelled -1: each becomes its own
 * single-row cluster, so every row has a cluster (the `cluster()` contract).
 *
 * [Note: DBSCAN cannot-link] DBSCAN has no merge order to veto, so the constraint is applied greedily: clusters grow
 * from seeds in ascending row order by breadth-first expansion in ascending neighbour order, and a row whose group is
 * already in the growing cluster is not taken. It stays free for a later cluster (or its own). The result can
 * therefore depend on row order when constraints bite, never on anything else.
 */
import type { NeighbourGraph } from "./knn";

/** Cluster id per row (not yet in first-appearance order; `cluster()` renumbers), for graph edges within eps. */
export function dbscanGraph(graph: NeighbourGraph, minSamples: number, groups?: Int32Array): Int32Array {
  const { n, offsets, neighbours, withinCounts } = graph;
  const UNASSIGNED = -1;
  const label = new Int32Array(n).fill(UNASSIGNED);
  // withinCounts counts every row found within eps, also those beyond the per-row cap of a partitioned graph.
  const isCore = (i: number) => withinCounts[i]! + 1 >= minSamples;
  const queue = new Int32Array(n);
  let next = 0;
  for (let seed = 0; seed < n; seed++) {
    if (label[seed] !== UNASSIGNED || !isCore(seed)) continue;
    const id = next++;
    const taken = new Set<number>();
    const claim = (q: number): boolean => {
      const g = groups?.[q] ?? -1;
      if (g >= 0) {
        if (taken.has(g)) return false;
        taken.add(g);
      }
      label[q] = id;
      return true;
    };
    claim(seed);
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const p = queue[head++]!;
      if (!isCore(p)) continue; // border points belong but do not expand
      for (let e = offsets[p]!; e < offsets[p + 1]!; e++) {
        const q = neighbours[e]!;
        if (label[q] === UNASSIGNED && claim(q)) queue[tail++] = q;
      }
    }
  }
  // Noise (and rows every reaching cluster refused): one cluster each.
  for (let i = 0; i < n; i++) if (label[i] === UNASSIGNED) label[i] = next++;
  return label;
}
