/**
 * Agreement of a predicted clustering with the truth (or with a reference clustering).
 *
 * Pairwise: over all unordered pairs of items, "positive" = same predicted cluster, "relevant" = same true label.
 *   precision = TP / predicted pairs, recall = TP / true pairs, F = harmonic mean.
 * BCubed (Bagga & Baldwin 1998; Amigó et al. 2009): per item i with predicted cluster C(i) and true class L(i),
 *   precision_i = |C(i) ∩ L(i)| / |C(i)|, recall_i = |C(i) ∩ L(i)| / |L(i)| (the item itself counts), averaged over
 *   items; F = harmonic mean of the averages. Unlike pairwise scores, BCubed is not dominated by the largest clusters.
 *
 * Both come from the contingency table n_kl = #items in predicted cluster k with true label l:
 *   TP = Σ C(n_kl, 2); BCubed precision = (1/n) Σ n_kl^2 / |C_k|; BCubed recall = (1/n) Σ n_kl^2 / |L_l|.
 * Vacuous cases score 1: no predicted pairs (all singletons) gives pairwise precision 1, no true pairs gives
 * pairwise recall 1; an empty input scores 1 everywhere.
 */

export interface ClusterMetrics {
  items: number;
  /** Distinct predicted clusters. */
  clusters: number;
  /** Distinct true labels. */
  identities: number;
  /** clusters / identities: 1 is right, above 1 means split identities, below 1 merged ones. */
  clustersPerIdentity: number;
  /** Fraction of predicted clusters that hold a single item. */
  singletonRatio: number;
  pairwisePrecision: number;
  pairwiseRecall: number;
  pairwiseF: number;
  bcubedPrecision: number;
  bcubedRecall: number;
  bcubedF: number;
}

const pairs = (m: number) => (m * (m - 1)) / 2;
const harmonic = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/** Pairwise and BCubed scores of `predicted` cluster ids against `truth` labels (same length). */
export function clusterMetrics(predicted: ArrayLike<number>, truth: ArrayLike<number | string>): ClusterMetrics {
  const n = predicted.length;
  if (truth.length !== n) {
    throw new RangeError(`clusterMetrics: ${n} predicted labels but ${truth.length} true labels; pass one of each per item`);
  }
  const clusterSize = new Map<number, number>();
  const classSize = new Map<number | string, number>();
  // Contingency cells keyed by cluster, then by class.
  const cells = new Map<number, Map<number | string, number>>();
  for (let i = 0; i < n; i++) {
    const k = predicted[i]!;
    const l = truth[i]!;
    clusterSize.set(k, (clusterSize.get(k) ?? 0) + 1);
    classSize.set(l, (classSize.get(l) ?? 0) + 1);
    let row = cells.get(k);
    if (!row) cells.set(k, (row = new Map()));
    row.set(l, (row.get(l) ?? 0) + 1);
  }
  let tp = 0;
  let bPrecision = 0;
  let bRecall = 0;
  for (const [k, row] of cells) {
    for (const [l, count] of row) {
      tp += pairs(count);
      bPrecision += (count * count) / clusterSize.get(k)!;
      bRecall += (count * count) / classSize.get(l)!;
    }
  }
  let predictedPairs = 0;
  let singletons = 0;
  for (const size of clusterSize.values()) {
    predictedPairs += pairs(size);
    if (size === 1) singletons++;
  }
  let truePairs = 0;
  for (const size of classSize.values()) truePairs += pairs(size);

  const pairwisePrecision = predictedPairs > 0 ? tp / predictedPairs : 1;
  const pairwiseRecall = truePairs > 0 ? tp / truePairs : 1;
  const bcubedPrecision = n > 0 ? bPrecision / n : 1;
  const bcubedRecall = n > 0 ? bRecall / n : 1;
  return {
    items: n,
    clusters: clusterSize.size,
    identities: classSize.size,
    clustersPerIdentity: classSize.size > 0 ? clusterSize.size / classSize.size : 1,
    singletonRatio: clusterSize.size > 0 ? singletons / clusterSize.size : 0,
    pairwisePrecision,
    pairwiseRecall,
    pairwiseF: harmonic(pairwisePrecision, pairwiseRecall),
    bcubedPrecision,
    bcubedRecall,
    bcubedF: harmonic(bcubedPrecision, bcubedRecall),
  };
}
