import { describe, expect, test } from "vitest";
import { type Linkage, LINKAGES } from "../lib/config";
import { cluster, type ClusterOptions, clusterMetrics, syntheticIdentities } from "../lib/cluster/mod";

/** Unit vectors on a circle at the given angles (degrees), as an n x 2 matrix. */
function onCircle(degrees: number[]): Float32Array {
  const out = new Float32Array(degrees.length * 2);
  degrees.forEach((deg, i) => {
    out[2 * i] = Math.cos((deg * Math.PI) / 180);
    out[2 * i + 1] = Math.sin((deg * Math.PI) / 180);
  });
  return out;
}

/** The three implementations behind `cluster()`, forced on small inputs. */
const PATHS: [string, Partial<ClusterOptions>][] = [
  ["exact", {}],
  ["scalable (dense per component)", { exactMaxN: 0 }],
  ["scalable (sparse merge)", { exactMaxN: 0, scalable: { denseComponentMaxN: 0 } }],
];

describe("cluster() linkages on a hand-made chain", () => {
  // Four faces at 0°, 35°, 75°, 140° on a circle; cosine distance = 1 - cos(angle between):
  //   d01 = 1 - cos35 = 0.181   d12 = 1 - cos40 = 0.234   d23 = 1 - cos65 = 0.577
  //   d02 = 1 - cos75 = 0.741   d13 = 1 - cos105 = 1.259  d03 = 1 - cos140 = 1.766
  // At maxCosDist 0.6:
  //  single: 0.181, 0.234, 0.577 all link: one chain, although faces 0 and 3 are nearly opposite.
  //  average: {0,1} (0.181); {0,1}-2 = (0.741 + 0.234) / 2 = 0.488 beats 2-3 = 0.577; {0,1,2}-3 = 1.200: stop.
  //  complete: {0,1} (0.181); {0,1}-2 = max = 0.741 is too far, 2-3 = 0.577 merges; {0,1}-{2,3} = 1.766: stop.
  //  dbscan (eps 0.6, minSamples 2): every face has a neighbour within eps, so all are core: one cluster.
  const chain = onCircle([0, 35, 75, 140]);
  const expected: Record<Linkage, number[][]> = {
    single: [[0, 1, 2, 3]],
    average: [[0, 1, 2], [3]],
    complete: [[0, 1], [2, 3]],
    dbscan: [[0, 1, 2, 3]],
  };
  for (const [path, extra] of PATHS) {
    test.each(LINKAGES)(`${path}: %s`, (linkage) => {
      const result = cluster(chain, 2, { linkage, maxCosDist: 0.6, ...extra });
      expect(result.clusters).toEqual(expected[linkage]);
      expect(result.path).toBe(extra.exactMaxN === 0 ? "scalable" : "exact");
    });
  }
});

describe("cluster() threshold", () => {
  // (1, 0) and (0.5, 0.866): dot is exactly 0.5, so the cosine distance is exactly 0.5 in float32.
  const pair = onCircle([0, 60]);
  const cases: [number, number][] = [
    [0.5, 1], // inclusive: a linkage distance equal to maxCosDist merges
    [0.4999, 2],
  ];
  for (const [path, extra] of PATHS) {
    for (const linkage of LINKAGES) {
      test.each(cases)(`${path} ${linkage}: maxCosDist %s gives %i cluster(s)`, (maxCosDist, count) => {
        expect(cluster(pair, 2, { linkage, maxCosDist, ...extra }).clusters).toHaveLength(count);
      });
    }
  }
});

describe("cluster() cannot-link", () => {
  // Faces a (0°) and b (10°) come from photo 1, c (4°) from photo 2: d(a,c) 0.0024 < d(c,b) 0.0055 < d(a,b) 0.0152.
  // Unconstrained, all three are one person. With the photos as groups, a-c merges first and b, being in a's
  // photo, must stay out.
  const faces = onCircle([0, 10, 4]);
  const photos = Int32Array.from([1, 1, 2]);
  for (const [path, extra] of PATHS) {
    test.each(LINKAGES)(`${path} %s: keeps two faces of one photo apart`, (linkage) => {
      expect(cluster(faces, 2, { linkage, maxCosDist: 0.5, ...extra }).clusters).toEqual([[0, 1, 2]]);
      const constrained = cluster(faces, 2, { linkage, maxCosDist: 0.5, cannotLink: photos, ...extra });
      expect(constrained.clusters).toEqual([[0, 2], [1]]);
    });
  }

  test.each(LINKAGES)("no cluster holds two rows of one group (%s, exact and scalable)", (linkage) => {
    const { embeddings, n, dim } = syntheticIdentities({ identities: 30, perIdentity: 12, dim: 64, seed: 3 });
    // Groups of 3 consecutive rows ("photos"); rows are shuffled, so a photo often holds one identity twice.
    const groups = Int32Array.from({ length: n }, (_, i) => (i % 5 === 4 ? -1 : Math.floor(i / 3)));
    for (const exactMaxN of [Infinity, 0]) {
      const { clusters } = cluster(embeddings, dim, { linkage, maxCosDist: 0.55, cannotLink: groups, exactMaxN });
      for (const rows of clusters) {
        const seen = rows.map((r) => groups[r]!).filter((g) => g >= 0);
        expect(new Set(seen).size).toBe(seen.length);
      }
    }
  });
});

describe("cluster() output", () => {
  const data = syntheticIdentities({ identities: 40, perIdentity: 10, dim: 64, seed: 11 });

  test.each(LINKAGES)("%s is deterministic and numbered by first appearance", (linkage) => {
    for (const exactMaxN of [Infinity, 0]) {
      const a = cluster(data.embeddings, data.dim, { linkage, maxCosDist: 0.55, exactMaxN });
      const b = cluster(data.embeddings, data.dim, { linkage, maxCosDist: 0.55, exactMaxN });
      expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
      let next = 0;
      for (const label of a.labels) {
        expect(label).toBeLessThanOrEqual(next);
        if (label === next) next++;
      }
      a.clusters.forEach((rows, id) => {
        for (const r of rows) expect(a.labels[r]).toBe(id);
      });
    }
  });

  test.each<[string, Float32Array, number[][]]>([
    ["no rows", new Float32Array(0), []],
    ["one row", onCircle([0]), [[0]]],
  ])("%s", (_name, embeddings, clusters) => {
    for (const linkage of LINKAGES) {
      for (const exactMaxN of [Infinity, 0]) {
        expect(cluster(embeddings, 2, { linkage, maxCosDist: 0.5, exactMaxN }).clusters).toEqual(clusters);
      }
    }
  });

  test.each<[string, () => unknown, RegExp]>([
    ["an unknown linkage", () => cluster(onCircle([0]), 2, { linkage: "avg" as Linkage, maxCosDist: 0.5 }), /invalid linkage "avg"/],
    ["a ragged matrix", () => cluster(new Float32Array(5), 2, { linkage: "average", maxCosDist: 0.5 }), /not a multiple of dim 2/],
    [
      "cannotLink of the wrong length",
      () => cluster(onCircle([0, 1]), 2, { linkage: "average", maxCosDist: 0.5, cannotLink: new Int32Array(3) }),
      /cannotLink has 3 entries for 2 rows/,
    ],
    ["a negative threshold", () => cluster(onCircle([0]), 2, { linkage: "single", maxCosDist: -0.1 }), /maxCosDist must be/],
  ])("refuses %s", (_name, call, message) => {
    expect(call).toThrow(RangeError);
    expect(call).toThrow(message);
  });
});

describe("cluster() scalable path", () => {
  // 3000 faces of 300 people: the exact path (condensed matrix) against the scalable one forced by exactMaxN 500
  // (55 k-means partitions, graph components, per-component merges).
  const data = syntheticIdentities({ identities: 300, perIdentity: 10, dim: 128, seed: 5 });

  // Agreement with the exact path, and a floor for the exact path against the truth (complete linkage caps a
  // cluster's diameter at maxCosDist, so it splits the widest identities).
  test.each<[Linkage, number]>([
    ["average", 0.95],
    ["complete", 0.85],
    ["single", 0.95],
    ["dbscan", 0.95],
  ])("agrees with the exact path (%s)", (linkage, truthFloor) => {
    const options = { linkage, maxCosDist: 0.55 };
    const exact = cluster(data.embeddings, data.dim, { ...options, exactMaxN: Infinity });
    const scalable = cluster(data.embeddings, data.dim, { ...options, exactMaxN: 500 });
    expect(exact.path).toBe("exact");
    expect(scalable.path).toBe("scalable");
    expect(scalable.stats!.partitions).toBeGreaterThan(10);
    const agreement = clusterMetrics(scalable.labels, exact.labels);
    expect(agreement.bcubedF).toBeGreaterThanOrEqual(0.98);
    expect(clusterMetrics(exact.labels, data.labels).bcubedF).toBeGreaterThanOrEqual(truthFloor);
  });
});

describe("syntheticIdentities", () => {
  test("has ArcFace-like geometry and is seeded", () => {
    const { embeddings, labels, n, dim } = syntheticIdentities({ identities: 20, perIdentity: 10, dim: 512, seed: 9 });
    const same: number[] = [];
    const different: number[] = [];
    for (let i = 0; i < n; i++) {
      let norm = 0;
      for (let k = 0; k < dim; k++) norm += embeddings[i * dim + k]! ** 2;
      expect(Math.sqrt(norm)).toBeCloseTo(1, 5);
      for (let j = i + 1; j < n; j++) {
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += embeddings[i * dim + k]! * embeddings[j * dim + k]!;
        (labels[i] === labels[j] ? same : different).push(1 - dot);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(same)).toBeGreaterThan(0.3);
    expect(mean(same)).toBeLessThan(0.5);
    expect(mean(different)).toBeGreaterThan(0.9);
    expect(mean(different)).toBeLessThan(1.1);
    const again = syntheticIdentities({ identities: 20, perIdentity: 10, dim: 512, seed: 9 });
    expect(again.embeddings).toEqual(embeddings);
  });
});
