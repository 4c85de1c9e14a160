import { describe, expect, test } from "vitest";
import { cluster } from "../lib/cluster/cluster";
import { syntheticIdentities } from "../lib/cluster/synthetic";
import { sweepThresholds, thresholdRange } from "../lib/cluster/sweep";

/** Unit vectors in 2-D at the given angles (degrees): cosine distance = 1 - cos(angle difference). */
function atAngles(degrees: number[]): Float32Array {
  return Float32Array.from(degrees.flatMap((d) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)]));
}

// Faces:       0    1    2    3    4    5
// angle (deg): 0   10   25   90  100  180
// truth:       a    a    a    b    b    c
// Distances: d(0,1) = 1-cos10 = 0.0152, d(1,2) = 1-cos15 = 0.0341, d(0,2) = 1-cos25 = 0.0937, d(3,4) = 0.0152.
// Average linkage:
//  0.01 -> nothing merges: 6 clusters
//  0.02 -> {0,1} {2} {3,4} {5}: 4 clusters
//  0.1  -> {0,1} + {2} at mean(0.0937, 0.0341) = 0.0639: {0,1,2} {3,4} {5}: 3 (the truth)
//  0.7  -> A-B mean over 6 pairs = 0.886, B-C mean = 0.913: still 3
//  1.5  -> A+B at 0.886; AB-C mean over 5 pairs = 1.543 > 1.5: 2 clusters
const X = atAngles([0, 10, 25, 90, 100, 180]);
const truth = ["a", "a", "a", "b", "b", "c"];
const thresholds = [0.01, 0.02, 0.1, 0.7, 1.5];

describe("sweepThresholds on a hand-made example", () => {
  test("cluster counts, kept clusters and scores per threshold", () => {
    // A's faces come from 3 photos, B's two faces from one photo (a burst), C from one.
    const sourceIds = ["p1", "p2", "p3", "p4", "p4", "p5"];
    const result = sweepThresholds(X, 2, { thresholdsCosDist: thresholds, linkage: "average", truth, sourceIds, minUniqueSources: 2 });
    expect(result.path).toBe("exact-shared");
    expect(result.rows.map((r) => r.thresholdCosDist)).toEqual(thresholds);
    expect(result.rows.map((r) => r.clusters)).toEqual([6, 4, 3, 3, 2]);
    // Kept = >= 2 distinct photos: {0,1} at 0.02; A at 0.1 and 0.7 (B is one photo); A+B at 1.5.
    expect(result.rows.map((r) => r.keptClusters)).toEqual([0, 1, 1, 1, 1]);
    expect(result.rows.map((r) => r.facesKept)).toEqual([0, 2, 3, 3, 5]);
    expect(result.rows.map((r) => r.largestCluster)).toEqual([1, 2, 3, 3, 5]);
    const at = (t: number) => result.rows.find((r) => r.thresholdCosDist === t)!.metrics!;
    // 0.02: TP = 1 + 1 of 4 true pairs; every predicted pair is right.
    expect(at(0.02).pairwisePrecision).toBe(1);
    expect(at(0.02).pairwiseRecall).toBeCloseTo(0.5, 12);
    expect(at(0.1).pairwiseF).toBe(1);
    expect(at(0.1).bcubedF).toBe(1);
    expect(at(0.1).clustersPerIdentity).toBe(1);
    // 1.5: predicted pairs C(5,2) = 10, of which 3 (in A) + 1 (in B) are right.
    expect(at(1.5).pairwisePrecision).toBeCloseTo(0.4, 12);
    expect(at(1.5).pairwiseRecall).toBe(1);
    expect(at(0.01).singletonRatio).toBe(1);
    expect(result.rows[2]!.labels).toEqual(Int32Array.from([0, 0, 0, 1, 1, 2]));
  });

  test("cannot-link keeps two faces of one photo apart", () => {
    // Faces 0 and 1 are in one photo: at 0.1, {1,2} merge (0.0341) and {0} stays out (its pair with 1 is infinite).
    const cannotLink = Int32Array.from([7, 7, -1, -1, -1, -1]);
    const result = sweepThresholds(X, 2, { thresholdsCosDist: [0.02, 0.1], linkage: "average", cannotLink });
    expect(result.rows.map((r) => r.clusters)).toEqual([5, 4]);
    expect(result.rows[1]!.labels).toEqual(Int32Array.from([0, 1, 1, 2, 2, 3]));
    expect(result.rows[0]!.metrics).toBeUndefined();
  });

  test("gated-out faces are not clustered, are labelled -1, and unknown truth is not scored", () => {
    const gate = [true, true, true, true, true, false];
    const result = sweepThresholds(X, 2, {
      thresholdsCosDist: [0.1],
      linkage: "average",
      gate,
      truth: ["a", "a", null, "b", "b", "c"],
      minClusterSize: 2,
    });
    const row = result.rows[0]!;
    expect(row.facesClustered).toBe(5);
    expect(row.clusters).toBe(2);
    expect(row.keptClusters).toBe(2);
    expect(row.facesKept).toBe(5);
    expect(row.labels[5]).toBe(-1);
    expect(row.metrics!.items).toBe(4); // faces 0, 1, 3, 4
    expect(row.metrics!.pairwiseF).toBe(1);
  });

  test("bad input is refused by name", () => {
    expect(() => sweepThresholds(X, 2, { thresholdsCosDist: [], linkage: "average" })).toThrow(/thresholdsCosDist is empty/);
    expect(() => sweepThresholds(X, 2, { thresholdsCosDist: [3], linkage: "average" })).toThrow(/threshold 3 is not a cosine distance/);
    expect(() => sweepThresholds(X, 2, { thresholdsCosDist: [0.5], linkage: "average", truth: ["a"] })).toThrow(/truth has 1 entries for 6 faces/);
    expect(() => sweepThresholds(X, 5, { thresholdsCosDist: [0.5], linkage: "average" })).toThrow(/not a multiple of dim 5/);
  });
});

describe("sweepThresholds agrees with cluster()", () => {
  const data = syntheticIdentities({ identities: 12, perIdentity: 15, dim: 32, seed: 3 });
  const cannotLink = Int32Array.from({ length: data.n }, (_, i) => (i % 9 === 0 ? i % 4 : -1));
  const ts = thresholdRange(0.2, 0.7, 0.05);

  test("thresholdRange is inclusive and round", () => {
    expect(ts).toEqual([0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]);
  });

  for (const linkage of ["average", "single", "complete", "dbscan"] as const) {
    test(`${linkage}: same labels as cluster() at every threshold`, () => {
      const result = sweepThresholds(data.embeddings, data.dim, { thresholdsCosDist: ts, linkage, cannotLink });
      expect(result.path).toBe(linkage === "dbscan" ? "per-threshold" : "exact-shared");
      for (const row of result.rows) {
        const direct = cluster(data.embeddings, data.dim, { linkage, maxCosDist: row.thresholdCosDist, cannotLink });
        expect(row.labels).toEqual(direct.labels);
        expect(row.clusters).toBe(direct.clusters.length);
      }
      // The sweep must actually sweep: more merging at larger thresholds.
      expect(result.rows[0]!.clusters).toBeGreaterThan(result.rows.at(-1)!.clusters);
    });
  }

  test("scalable path (exactMaxN 0) runs cluster() per threshold", () => {
    const result = sweepThresholds(data.embeddings, data.dim, { thresholdsCosDist: [0.45], linkage: "average", exactMaxN: 0, truth: Array.from(data.labels, String) });
    expect(result.path).toBe("per-threshold");
    expect(result.rows[0]!.metrics!.bcubedF).toBeGreaterThan(0.5);
  });
});
