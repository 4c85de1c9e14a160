/**
 * The scalable path's merge step: agglomerative clustering run separately on each connected component of the
 * neighbour graph.
 *
 * Two rows in different components have no found pair within maxCosDist between them, so (as knn.ts explains) no
 * merge at <= maxCosDist can join them: clustering each component alone gives the same result as clustering all
 * rows over the graph. Components are mostly identity-sized, so each one runs the exact algorithm
 * (agglomerative.ts) on its own small distance matrix, which also uses the pairs the graph did not list. A component
 * larger than `denseMaxN` (chaining through outliers can make one) runs the sparse algorithm (sparse.ts) instead,
 * which never holds its m x m distances.
 */
import { agglomerateCondensed, applyCannotLink, condensedCosineDistances } from "./agglomerative";
import type { NeighbourGraph } from "./knn";
import type { AgglomerativeLinkage, ClusterOptions } from "./options";
import { agglomerateGraph } from "./sparse";
import { gatherRows } from "./vectors";

/** Connected components of the graph: each a list of rows, ascending; components ordered by their first row. */
export function connectedComponents(graph: NeighbourGraph): Int32Array[] {
  const { n, offsets, neighbours } = graph;
  const component = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  const stack: number[] = [];
  for (let seed = 0; seed < n; seed++) {
    if (component[seed] !== -1) continue;
    const id = sizes.length;
    let size = 0;
    component[seed] = id;
    stack.push(seed);
    while (stack.length > 0) {
      const p = stack.pop()!;
      size++;
      for (let e = offsets[p]!; e < offsets[p + 1]!; e++) {
        const q = neighbours[e]!;
        if (component[q] === -1) {
          component[q] = id;
          stack.push(q);
        }
      }
    }
    sizes.push(size);
  }
  const lists = sizes.map((s) => new Int32Array(s));
  const fill = new Int32Array(sizes.length);
  for (let i = 0; i < n; i++) {
    const c = component[i]!;
    lists[c]![fill[c]!++] = i;
  }
  return lists;
}

/** The graph restricted to `rows` (ascending), renumbered 0..rows.length-1. */
function subgraph(graph: NeighbourGraph, rows: Int32Array): NeighbourGraph {
  const local = new Map<number, number>();
  rows.forEach((r, i) => local.set(r, i));
  const m = rows.length;
  const offsets = new Int32Array(m + 1);
  for (let i = 0; i < m; i++) {
    const r = rows[i]!;
    offsets[i + 1] = offsets[i]! + graph.offsets[r + 1]! - graph.offsets[r]!;
  }
  const neighbours = new Int32Array(offsets[m]!);
  const distances = new Float32Array(offsets[m]!);
  const withinCounts = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const r = rows[i]!;
    let out = offsets[i]!;
    for (let e = graph.offsets[r]!; e < graph.offsets[r + 1]!; e++) {
      // Every neighbour is in the same component, hence in `local`; ascending order is kept.
      neighbours[out] = local.get(graph.neighbours[e]!)!;
      distances[out++] = graph.distances[e]!;
    }
    withinCounts[i] = graph.withinCounts[r]!;
  }
  return { n: m, offsets, neighbours, distances, withinCounts };
}

/**
 * Merge each component of `graph` while linkage distance <= maxCosDist. Returns one union-find parent array over
 * all rows (as agglomerateCondensed does).
 */
export function agglomerateComponents(
  X: Float32Array,
  dim: number,
  graph: NeighbourGraph,
  linkage: AgglomerativeLinkage,
  maxCosDist: number,
  denseMaxN: number,
  groups?: Int32Array,
  onProgress?: ClusterOptions["onProgress"],
): { parent: Int32Array; components: number; largestComponent: number } {
  const parent = new Int32Array(graph.n);
  for (let i = 0; i < graph.n; i++) parent[i] = i;
  const components = connectedComponents(graph);
  let scratch: Float32Array = new Float32Array(0);
  let largest = 0;
  let done = 0;
  for (const rows of components) {
    const m = rows.length;
    largest = Math.max(largest, m);
    done += m;
    if (m === 1) continue;
    scratch = gatherRows(X, rows, dim, scratch);
    let local: Int32Array;
    const localGroups = groups ? Int32Array.from(rows, (r) => groups[r]!) : undefined;
    if (m <= denseMaxN) {
      const D = condensedCosineDistances(scratch, m, dim);
      if (localGroups) applyCannotLink(D, m, localGroups);
      local = agglomerateCondensed(D, m, linkage, maxCosDist);
    } else {
      local = agglomerateGraph(scratch.slice(0, m * dim), dim, subgraph(graph, rows), linkage, maxCosDist, localGroups);
    }
    for (let i = 0; i < m; i++) parent[rows[i]!] = rows[local[i]!]!;
    onProgress?.("merge", done, graph.n);
  }
  onProgress?.("merge", graph.n, graph.n);
  return { parent, components: components.length, largestComponent: largest };
}
