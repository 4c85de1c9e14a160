import { describe, expect, test } from "vitest";
import { CATEGORY_COLOURS, eraScatter, routingHistogram, sweepFigure, umapScatter } from "../lib/report/figures";
import { umap2d } from "../lib/report/umap";
import { syntheticIdentities } from "../lib/cluster/synthetic";

type Obj = Record<string, any>;
const titleOf = (axis: unknown) => ((axis as Obj).title as Obj).text as string;

describe("figure specs", () => {
  test("routing histogram: split at the threshold, marked and labelled, bins edged at the threshold", () => {
    const fig = routingHistogram({ distances: [0.1, 0.2, 0.45, 0.46, 0.9, Number.NaN], routeMaxCosDist: 0.45, binCosDist: 0.1 });
    expect(fig.data.map((t) => (t.x as number[]).length)).toEqual([3, 2]);
    expect((fig.layout.shapes as Obj[])[0]).toMatchObject({ type: "line", x0: 0.45, x1: 0.45 });
    expect((fig.layout.annotations as Obj[])[0]!.text).toBe("route threshold 0.45");
    expect(titleOf(fig.layout.xaxis)).toMatch(/cosine distance/);
    expect(titleOf(fig.layout.yaxis)).toMatch(/faces/);
    const bins = fig.data[0]!.xbins as Obj;
    // 0.45 is start + k * size for an integer k.
    const k = (0.45 - bins.start) / bins.size;
    expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-9);
    expect((fig.layout.title as Obj).text).toContain("3 faces within the threshold");
  });

  test("sweep: counts always, F scores only with truth, current threshold marked", () => {
    const rows = [
      { thresholdCosDist: 0.4, clusters: 9, keptClusters: 2 },
      { thresholdCosDist: 0.5, clusters: 5, keptClusters: 3 },
    ];
    const plain = sweepFigure({ rows, currentCosDist: 0.45 });
    expect(plain.data.map((t) => t.name)).toEqual(["clusters (singletons too)", "kept clusters"]);
    expect(plain.layout.yaxis2).toBeUndefined();
    const metrics = { items: 4, clusters: 2, identities: 2, clustersPerIdentity: 1, singletonRatio: 0, pairwisePrecision: 1, pairwiseRecall: 1, pairwiseF: 1, bcubedPrecision: 1, bcubedRecall: 1, bcubedF: 0.9 };
    const scored = sweepFigure({ rows: rows.map((r) => ({ ...r, metrics })), currentCosDist: 0.45 });
    expect(scored.data.map((t) => t.name)).toEqual(["clusters (singletons too)", "kept clusters", "labelled identities (2)", "pairwise F", "BCubed F"]);
    expect(scored.data.at(-1)!.yaxis).toBe("y2");
    expect(scored.data.at(-1)!.y).toEqual([0.9, 0.9]);
    expect(titleOf(scored.layout.yaxis2)).toMatch(/F score/);
    expect((scored.layout.annotations as Obj[])[0]!.text).toBe("current 0.45");
  });

  test("UMAP scatter: one trace per category, fixed colours, counts in the legend", () => {
    const fig = umapScatter({ xy: [0, 0, 1, 1, 2, 2, 3, 3], categories: ["new set", "dropped", "existing identity", "new set"] });
    expect(fig.data.map((t) => t.name)).toEqual(["existing identity (1)", "new set (2)", "dropped (1)"]);
    expect((fig.data[1]!.marker as Obj).color).toBe(CATEGORY_COLOURS["new set"]);
    expect(fig.data[1]!.x).toEqual([0, 3]);
    expect(() => umapScatter({ xy: [0, 0], categories: ["a", "b"] })).toThrow(/2 per point/);
  });

  test("era scatter: faces without a year left out and counted; threshold as a labelled horizontal line", () => {
    const fig = eraScatter({ years: [2001, 2002, null, 2010], distances: [0.3, 0.4, 0.5, 0.2], eras: ["early", "early", "early", "late"], identity: "ann", thresholdCosDist: 0.55 });
    expect(fig.data.map((t) => t.name)).toEqual(["early (2)", "late (1)"]);
    for (const [x, year] of [[(fig.data[0]!.x as number[])[0]!, 2001], [(fig.data[1]!.x as number[])[0]!, 2010]] as const) {
      expect(Math.abs(x - year)).toBeLessThanOrEqual(0.3);
    }
    expect((fig.layout.title as Obj).text).toContain("1 without");
    expect((fig.layout.shapes as Obj[])[0]).toMatchObject({ y0: 0.55, y1: 0.55 });
    expect(titleOf(fig.layout.xaxis)).toBe("capture year");
    expect(() => eraScatter({ years: [2001], distances: [], eras: [], identity: "x" })).toThrow(/one of each per face/);
  });
});

describe("umap2d", () => {
  const d = syntheticIdentities({ identities: 3, perIdentity: 20, dim: 64, seed: 2, spread: 0.5 });
  test("seeded: same input and seed give the same layout; identities land apart", () => {
    const a = umap2d(d.embeddings, d.dim, { seed: 4, nEpochs: 100 });
    const b = umap2d(d.embeddings, d.dim, { seed: 4, nEpochs: 100 });
    expect(a).toEqual(b);
    expect(a.length).toBe(2 * d.n);
    // Mean distance to the own identity's centroid is well below the mean distance between identity centroids.
    const centre = (l: number) => {
      let x = 0, y = 0, c = 0;
      for (let i = 0; i < d.n; i++) if (d.labels[i] === l) (x += a[2 * i]!, y += a[2 * i + 1]!, c++);
      return [x / c, y / c] as const;
    };
    const centres = [0, 1, 2].map(centre);
    let within = 0;
    for (let i = 0; i < d.n; i++) {
      const [cx, cy] = centres[d.labels[i]!]!;
      within += Math.hypot(a[2 * i]! - cx, a[2 * i + 1]! - cy) / d.n;
    }
    const between = (Math.hypot(centres[0]![0] - centres[1]![0], centres[0]![1] - centres[1]![1]) +
      Math.hypot(centres[0]![0] - centres[2]![0], centres[0]![1] - centres[2]![1]) +
      Math.hypot(centres[1]![0] - centres[2]![0], centres[1]![1] - centres[2]![1])) / 3;
    expect(within * 3).toBeLessThan(between);
  });
  test("tiny inputs do not crash", () => {
    expect(umap2d(new Float32Array([1, 0, 0, 1]), 2)).toEqual(new Float32Array([0, 0, 1, 0]));
    expect(() => umap2d(new Float32Array(5), 2)).toThrow(/dim 2/);
  });
});
