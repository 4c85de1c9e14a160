/**
 * Every threshold the owner set, tried at exactly its value and one ulp either side (tests/support/edges.ts):
 * routing (discover and extend), cluster merging, the quality gates, the export gate, the outlier distance and
 * cluster size, the minimum number of photos, the same-photo distance and the era distance and year gap; and the
 * set centroid recomputed after outliers leave. Distances compared in float64 (routing, outliers, export) are
 * produced exactly with lib's own cosDist; those compared in float32 (clustering, same photo, eras: the stored
 * distance matrix) step by float32 ulps, read from lib's own condensedCosineDistances.
 */
import { describe, expect, test } from "vitest";
import {
  cluster,
  condensedCosineDistances,
  cosDist,
  DEFAULT_CONFIG,
  distinctPhotoCount,
  type ExtendIdentity,
  exportGateFailures,
  type FaceRow,
  type Identity,
  planDiscovery,
  planExtend,
  qualityGateFailures,
  resolveConfig,
  type RunConfig,
  splitEras,
  unitMean,
} from "../lib/mod";
import { attainable, embeddingAtCosDist, nextDown, nextDown32, nextUp, nextUp32, pairWithDot, referenceCentroid } from "./support/edges";
import { syntheticFaceRow, syntheticSpace } from "./support/synthetic_faces";

const DIM = 16;
const KPS: FaceRow["kps"] = [[60, 80], [140, 80], [100, 120], [70, 160], [130, 160]];
const withIdentity = (overrides: Partial<RunConfig["identity"]>) => resolveConfig({ identity: overrides });
const withExport = (overrides: Partial<RunConfig["export"]>) => resolveConfig({ export: overrides });

/** The distance of a float64-attained face just inside a threshold t (an attained value <= t), and just outside. */
function attainedAround(t: number): { inside: number; outside: number } {
  let inside = t;
  while (!attainable(inside)) inside = nextDown(inside);
  let outside = nextUp(t);
  while (!attainable(outside)) outside = nextUp(outside);
  return { inside, outside };
}

describe("routing at routeMaxCosDist (inclusive)", () => {
  const centroid = referenceCentroid(DIM);
  const identity: Identity = { number: 1, name: "faceset_001", origin: "hand-sorted", centroid, matched: [], unmatched: [] };
  const discoverFate = (d: number, config: RunConfig) => {
    const row = syntheticFaceRow(embeddingAtCosDist(d, DIM), `route-${d}`);
    return planDiscovery({ faces: [row], dim: DIM, identities: [identity], firstNumber: 2, config }).faces[0]!;
  };
  const extendIdentity: ExtendIdentity = { number: 1, name: "faceset_001", anchor: centroid, photos: new Set() };
  const extendFate = (d: number, config: RunConfig) => {
    const row = syntheticFaceRow(embeddingAtCosDist(d, DIM), `extend-${d}`, { kps: KPS });
    return planExtend({ faces: [row], identities: [extendIdentity], inLibrary: new Map(), config }).faces[0]!;
  };

  test("the owner's 0.45 is not itself attainable; its float64 neighbours are, and fall on either side", () => {
    const t = DEFAULT_CONFIG.identity.routeMaxCosDist;
    expect(t).toBe(0.45);
    expect(attainable(t)).toBe(false);
    const { inside, outside } = attainedAround(t);
    expect([inside, outside]).toEqual([nextDown(t), nextUp(t)]);
    expect(discoverFate(inside, DEFAULT_CONFIG)).toMatchObject({ fate: "routed", nearestCosDist: inside });
    expect(discoverFate(outside, DEFAULT_CONFIG).fate).not.toBe("routed");
    expect(extendFate(inside, DEFAULT_CONFIG).fate).toBe("added");
    expect(extendFate(outside, DEFAULT_CONFIG).fate).toBe("not-routed");
  });

  test("discover: a face at exactly the threshold is routed, one ulp above is not, one ulp below is", () => {
    const d = 0.375; // attained: 1 - 0.625
    expect(attainable(d)).toBe(true);
    expect(discoverFate(d, withIdentity({ routeMaxCosDist: d })).fate).toBe("routed");
    expect(discoverFate(d, withIdentity({ routeMaxCosDist: nextDown(d) })).fate).not.toBe("routed");
    expect(discoverFate(d, withIdentity({ routeMaxCosDist: nextUp(d) })).fate).toBe("routed");
  });

  test("extend: a face at exactly the threshold is added, one ulp above is not routed, one ulp below is added", () => {
    const d = 0.375;
    expect(extendFate(d, withIdentity({ routeMaxCosDist: d })).fate).toBe("added");
    expect(extendFate(d, withIdentity({ routeMaxCosDist: nextDown(d) })).fate).toBe("not-routed");
    expect(extendFate(d, withIdentity({ routeMaxCosDist: nextUp(d) })).fate).toBe("added");
  });
});

describe("cluster merging at clusterMaxCosDist (inclusive, float32)", () => {
  const clustersOf = (X: Float32Array, maxCosDist: number) =>
    cluster(X, DIM, { linkage: DEFAULT_CONFIG.identity.linkage, maxCosDist }).clusters.length;

  test("the owner's 0.55: two faces exactly fround(0.55) apart merge; one float32 ulp farther apart they do not", () => {
    const t = Math.fround(DEFAULT_CONFIG.identity.clusterMaxCosDist);
    const at = pairWithDot(1 - t, DIM);
    expect(condensedCosineDistances(at, 2, DIM)[0]).toBe(t);
    expect(clustersOf(at, DEFAULT_CONFIG.identity.clusterMaxCosDist)).toBe(1);
    const beyond = pairWithDot(1 - nextUp32(t), DIM);
    expect(condensedCosineDistances(beyond, 2, DIM)[0]).toBe(nextUp32(t));
    expect(clustersOf(beyond, DEFAULT_CONFIG.identity.clusterMaxCosDist)).toBe(2);
  });

  test.each(["average", "single", "complete"] as const)("%s: threshold at the distance merges, one float32 ulp below splits", (linkage) => {
    const X = pairWithDot(0.6, DIM);
    const d = condensedCosineDistances(X, 2, DIM)[0]!;
    const n = (maxCosDist: number) => cluster(X, DIM, { linkage, maxCosDist }).clusters.length;
    expect([n(d), n(nextDown32(d)), n(nextUp32(d))]).toEqual([1, 2, 1]);
    // The threshold is compared as float32: a float64 ulp below the distance still rounds to it.
    expect(n(nextDown(d))).toBe(1);
  });
});

describe("quality gates (inclusive) and the export gate", () => {
  const row = (overrides: Partial<FaceRow>) => syntheticFaceRow(referenceCentroid(DIM), "gate", overrides);
  const { minFaceShortPx, minBlur, minDetScore } = DEFAULT_CONFIG.identity;

  test.each([
    ["face_short", "faceShortPx", minFaceShortPx, 90],
    ["sharpness", "sharpness", minBlur, 40],
    ["blur", "blur", minBlur, 40], // faces stored without sharpness are gated on blur
    ["det_score", "detScore", minDetScore, 0.6],
  ] as const)("%s: passes at exactly the owner's value and one ulp above, fails one ulp below", (gate, field, value, owners) => {
    expect(value).toBe(owners);
    expect(qualityGateFailures(row({ [field]: value }), DEFAULT_CONFIG)).toEqual([]);
    expect(qualityGateFailures(row({ [field]: nextUp(value) }), DEFAULT_CONFIG)).toEqual([]);
    const failures = qualityGateFailures(row({ [field]: nextDown(value) }), DEFAULT_CONFIG);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(new RegExp(`^${gate} `));
  });

  test("export gate: face_short passes at exactly exportMinFaceShortPx, fails one ulp below", () => {
    const min = DEFAULT_CONFIG.export.exportMinFaceShortPx;
    expect(min).toBe(100);
    expect(exportGateFailures(row({ faceShortPx: min }), 0.1, DEFAULT_CONFIG)).toEqual([]);
    expect(exportGateFailures(row({ faceShortPx: nextUp(min) }), 0.1, DEFAULT_CONFIG)).toEqual([]);
    expect(exportGateFailures(row({ faceShortPx: nextDown(min) }), 0.1, DEFAULT_CONFIG)).toEqual([`face_short 100 < 100`]);
  });

  test("export gate: a distance of exactly exportMaxCosDist passes, one ulp above fails", () => {
    const max = DEFAULT_CONFIG.export.exportMaxCosDist;
    expect(max).toBe(0.45);
    const ok = row({ faceShortPx: 200 });
    expect(exportGateFailures(ok, max, DEFAULT_CONFIG)).toEqual([]);
    expect(exportGateFailures(ok, nextDown(max), DEFAULT_CONFIG)).toEqual([]);
    expect(exportGateFailures(ok, nextUp(max), DEFAULT_CONFIG)).toEqual([`centroid distance 0.450 > 0.45`]);
  });
});

/**
 * One person in `n` photos: faces near a centre (~0.09 from it, ~0.17 apart: farther than samePhotoMaxCosDist, so
 * every face is its own photo), the last one pushed farther out (`farSpread`), all passing the quality gates, all
 * within the clustering threshold of each other.
 */
function person(n: number, seed: number, farSpread = 0.8): FaceRow[] {
  const { centre, near } = syntheticSpace(DIM, seed);
  const c = centre();
  return Array.from({ length: n }, (_, i) => syntheticFaceRow(near(c, i === n - 1 ? farSpread : 0.45), `p${seed}-${i}`));
}

const plan = (faces: FaceRow[], config: RunConfig) => planDiscovery({ faces, dim: DIM, identities: [], firstNumber: 1, config });
const fates = (faces: FaceRow[], config: RunConfig) => plan(faces, config).faces.map((d) => d.fate);

describe("discovery in a cluster: outliers, distinct photos, export distance", () => {
  test("outlier distance: a face at exactly outlierMaxCosDist from the centroid stays, one ulp closer threshold drops it", () => {
    const faces = person(6, 11);
    const centroid = unitMean(faces.map((f) => f.embedding), DIM);
    const far = cosDist(faces[5]!.embedding, centroid);
    const others = faces.slice(0, 5).map((f) => cosDist(f.embedding, centroid));
    expect(Math.max(...others)).toBeLessThan(far); // only the last face is at the edge
    const loose = { minUniqueSources: 1 };
    expect(fates(faces, withIdentity({ ...loose, outlierMaxCosDist: far })).at(-1)).toBe("exported");
    expect(fates(faces, withIdentity({ ...loose, outlierMaxCosDist: nextUp(far) })).at(-1)).toBe("exported");
    const dropped = plan(faces, withIdentity({ ...loose, outlierMaxCosDist: nextDown(far) }));
    expect(dropped.faces.at(-1)).toMatchObject({ fate: "outlier", clusterCosDist: far });
    expect(dropped.counts.outliers).toBe(1);
  });

  test("outlier cluster size: outliers are dropped in clusters of exactly outlierMinClusterSize, not one face smaller", () => {
    const size = DEFAULT_CONFIG.identity.outlierMinClusterSize;
    expect(size).toBe(4);
    const faces = person(size, 12, 1.2);
    const centroid = unitMean(faces.map((f) => f.embedding), DIM);
    const far = cosDist(faces[size - 1]!.embedding, centroid);
    const config = (outlierMinClusterSize: number) =>
      withIdentity({ minUniqueSources: 1, outlierMaxCosDist: nextDown(far), outlierMinClusterSize });
    expect(plan(faces, config(size)).clusters).toHaveLength(1);
    expect(fates(faces, config(size)).at(-1)).toBe("outlier"); // size == threshold: applies
    expect(fates(faces, config(size - 1)).at(-1)).toBe("outlier");
    expect(fates(faces, config(size + 1)).at(-1)).not.toBe("outlier"); // cluster one face smaller than the threshold
    // And with the owner's size: the same 4 faces lose their far one, 3 faces keep theirs.
    const three = person(size - 1, 13, 1.2);
    const far3 = cosDist(three.at(-1)!.embedding, unitMean(three.map((f) => f.embedding), DIM));
    expect(fates(three, withIdentity({ minUniqueSources: 1, outlierMaxCosDist: nextDown(far3) })).at(-1)).not.toBe("outlier");
  });

  test("minimum photos: a cluster of exactly minUniqueSources distinct photos becomes a set, one photo fewer does not", () => {
    const min = DEFAULT_CONFIG.identity.minUniqueSources;
    expect(min).toBe(6);
    const exactly = person(min, 14, 0.45);
    expect(plan(exactly, DEFAULT_CONFIG).counts).toMatchObject({ newSets: 1, exported: min });
    const fewer = person(min - 1, 15, 0.45);
    const p = plan(fewer, DEFAULT_CONFIG);
    expect(p.counts.newSets).toBe(0);
    expect(p.clusters[0]!.dropReason).toBe(`${min - 1} distinct photos < ${min}`);
    expect(plan(exactly, withIdentity({ minUniqueSources: min + 1 })).counts.newSets).toBe(0);
  });

  test("export distance: measured to the kept centroid; exactly exportMaxCosDist exports, one ulp tighter gates", () => {
    const faces = person(6, 16);
    const centroid = unitMean(faces.map((f) => f.embedding), DIM);
    const far = cosDist(faces[5]!.embedding, centroid);
    const loose = { minUniqueSources: 1, outlierMaxCosDist: 1 };
    const run = (exportMaxCosDist: number) =>
      planDiscovery({ faces, dim: DIM, identities: [], firstNumber: 1, config: resolveConfig({ identity: loose, export: { exportMaxCosDist } }) });
    expect(run(far).faces.at(-1)).toMatchObject({ fate: "exported", clusterCosDist: far });
    expect(run(nextUp(far)).faces.at(-1)!.fate).toBe("exported");
    expect(run(nextDown(far)).faces.at(-1)).toMatchObject({ fate: "export-gated", clusterCosDist: far });
  });

  test("the set centroid is recomputed after outliers leave: the set's centroid and export distances are the inliers'", () => {
    const faces = person(6, 17, 1.5);
    const all = unitMean(faces.map((f) => f.embedding), DIM);
    const config = withIdentity({ minUniqueSources: 1, outlierMaxCosDist: nextDown(cosDist(faces[5]!.embedding, all)) });
    const p = plan(faces, config);
    expect(p.faces.map((d) => d.fate)).toEqual(["exported", "exported", "exported", "exported", "exported", "outlier"]);
    const inliers = unitMean(faces.slice(0, 5).map((f) => f.embedding), DIM);
    expect(Array.from(p.newSets[0]!.centroid)).toEqual(Array.from(inliers));
    expect(Array.from(inliers)).not.toEqual(Array.from(all));
    for (const { row, centroidCosDist } of p.newSets[0]!.faces) expect(centroidCosDist).toBe(cosDist(row.embedding, inliers));
    // The export gate sees the recomputed distance: a bar between the two centroids' distances tells them apart.
    const first = faces[0]!;
    const [dIn, dAll] = [cosDist(first.embedding, inliers), cosDist(first.embedding, all)];
    expect(dIn).not.toBe(dAll);
    const bar = Math.min(dIn, dAll);
    const gated = planDiscovery({ faces, dim: DIM, identities: [], firstNumber: 1, config: resolveConfig({ identity: { minUniqueSources: 1, outlierMaxCosDist: config.identity.outlierMaxCosDist }, export: { exportMaxCosDist: bar } }) });
    expect(gated.faces[0]!.fate).toBe(dIn <= bar ? "exported" : "export-gated");
    expect(gated.faces[0]!.clusterCosDist).toBe(dIn);
  });
});

describe("same photo at samePhotoMaxCosDist (inclusive, float32)", () => {
  test("two files exactly the threshold apart are one photo, one float32 ulp below they are two", () => {
    expect(DEFAULT_CONFIG.identity.samePhotoMaxCosDist).toBe(0.08);
    const X = pairWithDot(0.92, DIM);
    const d = condensedCosineDistances(X, 2, DIM)[0]!;
    const count = (t: number) => distinctPhotoCount([0, 1], X, DIM, ["a", "b"], t);
    expect([count(d), count(nextDown32(d)), count(nextUp32(d))]).toEqual([1, 2, 1]);
  });

  test("the owner's 0.08: a pair one float32 ulp inside is one photo, one ulp outside is two", () => {
    const t = Math.fround(DEFAULT_CONFIG.identity.samePhotoMaxCosDist);
    // Distances of e1 and (c, s) are fround(1 - c): search the float32 c whose distances straddle t.
    let c = Math.fround(1 - t);
    const dist = (cc: number) => condensedCosineDistances(pairWithDot(cc, DIM), 2, DIM)[0]!;
    while (dist(c) > t) c = nextUp32(c);
    while (dist(nextDown32(c)) <= t) c = nextDown32(c);
    const [inside, outside] = [dist(c), dist(nextDown32(c))];
    expect(inside).toBeLessThanOrEqual(t);
    expect(outside).toBeGreaterThan(t);
    const count = (cc: number) => distinctPhotoCount([0, 1], pairWithDot(cc, DIM), DIM, ["a", "b"], DEFAULT_CONFIG.identity.samePhotoMaxCosDist);
    expect([count(c), count(nextDown32(c))]).toEqual([1, 2]);
  });
});

describe("eras", () => {
  const face = (key: string, embedding: Float32Array, year: number | null = null) => ({
    key,
    embedding,
    captureTime: year === null ? null : new Date(Date.UTC(year, 5, 1)),
  });

  test("eraMaxCosDist (inclusive, float32): two faces exactly the threshold apart are one era, one ulp below two", () => {
    const X = pairWithDot(0.62, DIM);
    const d = condensedCosineDistances(X, 2, DIM)[0]!;
    const faces = [face("a", X.slice(0, DIM)), face("b", X.slice(DIM))];
    const eras = (eraMaxCosDist: number) =>
      splitEras(faces, DIM, { ...DEFAULT_CONFIG.eras, eraMaxCosDist, minEraFaces: 1 }, { mode: "embedding" }).eras.length;
    expect([eras(d), eras(nextDown32(d)), eras(nextUp32(d))]).toEqual([1, 2, 1]);
  });

  test("eraMinYearGap: years exactly the gap apart stay one era, one year more splits", () => {
    const gap = DEFAULT_CONFIG.eras.eraMinYearGap;
    expect(gap).toBe(3);
    const e = referenceCentroid(DIM);
    const eras = (years: number[]) =>
      splitEras(years.map((y, i) => face(`f${i}`, e, y)), DIM, { ...DEFAULT_CONFIG.eras, minEraFaces: 1 }, { mode: "time" }).eras.length;
    expect(eras([2000, 2000 + gap])).toBe(1);
    expect(eras([2000, 2000 + gap + 1])).toBe(2);
  });

  test("minEraFaces: an era of exactly minEraFaces faces is substantive, one fewer is thin", () => {
    const min = DEFAULT_CONFIG.eras.minEraFaces;
    const e = referenceCentroid(DIM);
    const thin = (n: number) => splitEras(Array.from({ length: n }, (_, i) => face(`f${i}`, e, 2000)), DIM, DEFAULT_CONFIG.eras, { mode: "time" }).eras[0]!.thin;
    expect([thin(min), thin(min - 1)]).toEqual([false, true]);
  });
});
