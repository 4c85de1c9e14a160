import { describe, expect, test } from "vitest";
import { clusterMetrics } from "../lib/cluster/mod";

describe("clusterMetrics", () => {
  test("matches a hand-computed example", () => {
    // items:      0  1  2  3  4  5
    // predicted:  0  0  0  0  1  2      clusters C0 = {0,1,2,3} (4), C1 = {4} (1), C2 = {5} (1)
    // truth:      a  a  a  b  b  c      classes  a = {0,1,2} (3),   b = {3,4} (2), c = {5} (1)
    // contingency n_kl: (C0,a) = 3, (C0,b) = 1, (C1,b) = 1, (C2,c) = 1
    //
    // Pairwise: TP = C(3,2) + 0 + 0 + 0 = 3; predicted pairs = C(4,2) = 6; true pairs = C(3,2) + C(2,2) = 4
    //   precision = 3/6 = 0.5, recall = 3/4 = 0.75, F = 2 * 0.5 * 0.75 / 1.25 = 0.6
    // BCubed per item (precision |C∩L|/|C|, recall |C∩L|/|L|):
    //   items 0,1,2: 3/4, 3/3    item 3: 1/4, 1/2    item 4: 1/1, 1/2    item 5: 1/1, 1/1
    //   precision = (3 * 3/4 + 1/4 + 1 + 1) / 6 = 4.5 / 6 = 0.75
    //   recall    = (3 * 1 + 1/2 + 1/2 + 1) / 6 = 5 / 6
    //   F = 2 * (3/4)(5/6) / (3/4 + 5/6) = (5/4) / (19/12) = 15/19
    // clusters 3, identities 3 -> clustersPerIdentity 1; singleton clusters C1, C2 -> singletonRatio 2/3
    const m = clusterMetrics([0, 0, 0, 0, 1, 2], ["a", "a", "a", "b", "b", "c"]);
    expect(m.items).toBe(6);
    expect(m.clusters).toBe(3);
    expect(m.identities).toBe(3);
    expect(m.clustersPerIdentity).toBe(1);
    expect(m.singletonRatio).toBeCloseTo(2 / 3, 12);
    expect(m.pairwisePrecision).toBeCloseTo(0.5, 12);
    expect(m.pairwiseRecall).toBeCloseTo(0.75, 12);
    expect(m.pairwiseF).toBeCloseTo(0.6, 12);
    expect(m.bcubedPrecision).toBeCloseTo(0.75, 12);
    expect(m.bcubedRecall).toBeCloseTo(5 / 6, 12);
    expect(m.bcubedF).toBeCloseTo(15 / 19, 12);
  });

  test.each<[string, number[], (number | string)[], Partial<ReturnType<typeof clusterMetrics>>]>([
    [
      // No predicted pairs: pairwise precision is vacuously 1, recall 0/2. BCubed recall: every item sees 1 of its 2.
      "all singletons",
      [0, 1, 2, 3],
      ["a", "a", "b", "b"],
      {
        pairwisePrecision: 1,
        pairwiseRecall: 0,
        pairwiseF: 0,
        bcubedPrecision: 1,
        bcubedRecall: 0.5,
        bcubedF: 2 / 3,
        singletonRatio: 1,
        clustersPerIdentity: 2,
      },
    ],
    [
      // One cluster of 4: TP = 1 + 1 = 2 of C(4,2) = 6 predicted pairs; BCubed precision 2/4 per item.
      "one cluster",
      [7, 7, 7, 7],
      ["a", "a", "b", "b"],
      {
        pairwisePrecision: 1 / 3,
        pairwiseRecall: 1,
        pairwiseF: 0.5,
        bcubedPrecision: 0.5,
        bcubedRecall: 1,
        bcubedF: 2 / 3,
        singletonRatio: 0,
        clustersPerIdentity: 0.5,
      },
    ],
    [
      "the truth up to renaming",
      [5, 5, 9, 9, 1],
      [0, 0, 1, 1, 2],
      { pairwiseF: 1, bcubedF: 1, clustersPerIdentity: 1, singletonRatio: 1 / 3 },
    ],
    [
      "empty input",
      [],
      [],
      { items: 0, pairwiseF: 1, bcubedF: 1, clusters: 0, identities: 0 },
    ],
  ])("%s", (_name, predicted, truth, expected) => {
    const m = clusterMetrics(predicted, truth);
    for (const [key, value] of Object.entries(expected)) {
      expect(m[key as keyof typeof m], key).toBeCloseTo(value, 12);
    }
  });

  test("is symmetric in the roles of precision and recall", () => {
    const a = [0, 0, 1, 1, 1, 2];
    const b = [0, 1, 1, 2, 2, 2];
    const ab = clusterMetrics(a, b);
    const ba = clusterMetrics(b, a);
    expect(ab.bcubedPrecision).toBeCloseTo(ba.bcubedRecall, 12);
    expect(ab.pairwisePrecision).toBeCloseTo(ba.pairwiseRecall, 12);
  });

  test("refuses labels of different lengths", () => {
    expect(() => clusterMetrics([0, 1], [0])).toThrow(/2 predicted labels but 1 true labels/);
  });
});
