/**
 * Distinct photos (same_photo.ts): faces of one file, or of different files within samePhotoMaxCosDist, are one
 * photo. The pure counting on unit vectors at known distances, then its use in planDiscovery (minUniqueSources)
 * and in the threshold sweep's kept clusters.
 */
import { describe, expect, test } from "vitest";
import {
  cosDist,
  distinctPhotoCount,
  distinctPhotosPerCluster,
  type FaceRow,
  gaussian,
  mulberry32,
  planDiscovery,
  resolveConfig,
  samePhotoPairs,
  sweepThresholds,
} from "../lib/mod";
import { syntheticFaceRow, syntheticSpace } from "./support/synthetic_faces";

const DIM = 8;

/** The unit vector at angle `theta` from e0 towards e1 (cosine distance to e0 = 1 - cos theta). */
function atAngle(theta: number): Float32Array {
  const v = new Float32Array(DIM);
  v[0] = Math.cos(theta);
  v[1] = Math.sin(theta);
  return v;
}

/** The angle whose cosine distance is `d`. */
const angleOf = (d: number) => Math.acos(1 - d);

function matrix(rows: readonly Float32Array[], dim = DIM): Float32Array {
  const X = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => X.set(r, i * dim));
  return X;
}

const all = (n: number) => Array.from({ length: n }, (_, i) => i);
const MAX = 0.08;

describe("distinctPhotoCount", () => {
  test("exact copies in different files are one photo; 0 turns the rule off and counts files", () => {
    const X = matrix([atAngle(0), atAngle(0), atAngle(0)]);
    expect(distinctPhotoCount(all(3), X, DIM, ["a", "b", "c"], MAX)).toBe(1);
    expect(distinctPhotoCount(all(3), X, DIM, ["a", "b", "c"], 0)).toBe(3);
  });

  test("a pair just inside the threshold joins, a pair just above it does not", () => {
    const inside = matrix([atAngle(0), atAngle(angleOf(0.079))]);
    const above = matrix([atAngle(0), atAngle(angleOf(0.081))]);
    expect(cosDist(above.subarray(0, DIM), above.subarray(DIM))).toBeCloseTo(0.081, 5);
    expect(distinctPhotoCount(all(2), inside, DIM, ["a", "b"], MAX)).toBe(1);
    expect(distinctPhotoCount(all(2), above, DIM, ["a", "b"], MAX)).toBe(2);
  });

  test("joins are transitive through a chain, but only through the faces counted", () => {
    // a - b - c at 0.06 steps: a and c are 0.23 apart, one photo through b.
    const step = angleOf(0.06);
    const X = matrix([atAngle(0), atAngle(step), atAngle(2 * step)]);
    expect(cosDist(X.subarray(0, DIM), X.subarray(2 * DIM))).toBeGreaterThan(0.2);
    expect(distinctPhotoCount([0, 1, 2], X, DIM, ["a", "b", "c"], MAX)).toBe(1);
    expect(distinctPhotoCount([0, 2], X, DIM, ["a", "b", "c"], MAX)).toBe(2);
  });

  test("faces of one file are one photo whatever their distance; file ids are read at the face indices", () => {
    const X = matrix([atAngle(0), atAngle(Math.PI / 2), atAngle(Math.PI), atAngle(Math.PI / 4)]);
    const files = ["x", "same", "same", "y"];
    expect(distinctPhotoCount([1, 2], X, DIM, files, MAX)).toBe(1);
    expect(distinctPhotoCount([1, 2], X, DIM, files, 0)).toBe(1);
    expect(distinctPhotoCount([0, 1, 2, 3], X, DIM, files, MAX)).toBe(3);
    expect(distinctPhotoCount([], X, DIM, files, MAX)).toBe(0);
  });

  test("a threshold outside [0, 1] is refused", () => {
    expect(() => distinctPhotoCount([0], atAngle(0), DIM, ["a"], -0.1)).toThrow(/samePhotoMaxCosDist/);
    expect(() => distinctPhotoCount([0], atAngle(0), DIM, ["a"], 1.5)).toThrow(/samePhotoMaxCosDist/);
  });

  test("per cluster: pairs across clusters and unlabelled rows are ignored", () => {
    const X = matrix([atAngle(0), atAngle(0), atAngle(0), atAngle(1), atAngle(1)]);
    const pairs = samePhotoPairs(X, 5, DIM, MAX);
    // Rows 0-2 are copies, rows 3-4 are copies. Cluster 0 = {0, 3}: 2 photos; cluster 1 = {1, 2, 4}: 2 photos.
    expect([...distinctPhotosPerCluster([0, 1, 1, 0, 1], 2, ["a", "b", "c", "d", "e"], pairs)]).toEqual([2, 2]);
    expect([...distinctPhotosPerCluster([0, 0, -1, 0, 0], 1, ["a", "b", "c", "d", "e"], pairs)]).toEqual([2]);
  });

  test("the partitioned pair search above exactMaxN finds the same copies as all pairs", () => {
    const random = mulberry32(3);
    const normal = gaussian(random);
    const dim = 32;
    const unit = (v: Float32Array) => {
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const originals = Array.from({ length: 60 }, () => unit(Float32Array.from({ length: dim }, normal)));
    // Each original plus a copy at cosine distance ~0.005 (noise of norm 0.1).
    const rows = originals.flatMap((o) => [o, unit(o.map((x) => x + (0.1 * normal()) / Math.sqrt(dim)))]);
    const X = matrix(rows, dim);
    const files = rows.map((_, i) => `f${i}`);
    expect(distinctPhotoCount(all(rows.length), X, dim, files, MAX)).toBe(60);
    const partitioned = { exactMaxN: 10, scalable: { centres: 8, maxPartition: 32 } };
    expect(distinctPhotoCount(all(rows.length), X, dim, files, MAX, partitioned)).toBe(60);
  });
});

// planDiscovery, in tests/identity_discover.test.ts's style: identity centres + noise, one face per photo.
const PDIM = 64;
const { unit, centre, near } = syntheticSpace(PDIM, 11);
const face = syntheticFaceRow;

function pairDists(rows: readonly FaceRow[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) out.push(cosDist(rows[i]!.embedding, rows[j]!.embedding));
  }
  return out;
}

describe("planDiscovery counts distinct photos, not files", () => {
  const config = resolveConfig();
  const plan = (faces: FaceRow[], c = config) => planDiscovery({ faces, dim: PDIM, identities: [], firstNumber: 1, config: c });

  // One shot in 6 files (re-encoded copies): 6 faces within ~0.001 of each other.
  const shot = centre();
  const copies = Array.from({ length: 6 }, (_, i) => face(near(shot, 0.02), `copy${i}`));
  // 6 genuinely different photos of one person.
  const person = centre();
  const photos = Array.from({ length: 6 }, (_, i) => face(near(person, 0.5), `photo${i}`));

  test("6 copies of one photo make no set; with samePhotoMaxCosDist 0 (files) they did", () => {
    expect(Math.max(...pairDists(copies))).toBeLessThan(MAX);
    const p = plan(copies);
    expect(p.clusters).toHaveLength(1);
    expect(p.clusters[0]).toMatchObject({ faces: 6, uniqueSources: 1, kept: false, dropReason: "1 distinct photos < 6" });
    expect(p.newSets).toEqual([]);
    expect(p.faces.map((d) => d.fate)).toEqual(Array(6).fill("small-cluster"));

    const byFile = plan(copies, resolveConfig({ identity: { samePhotoMaxCosDist: 0 } }));
    expect(byFile.clusters[0]).toMatchObject({ uniqueSources: 6, kept: true });
    expect(byFile.newSets).toHaveLength(1);
  });

  test("6 genuinely different photos make a set", () => {
    expect(Math.min(...pairDists(photos))).toBeGreaterThan(MAX);
    const p = plan(photos);
    expect(p.clusters).toHaveLength(1);
    expect(p.clusters[0]).toMatchObject({ faces: 6, uniqueSources: 6, kept: true });
    expect(p.newSets).toHaveLength(1);
  });

  test("copies count once among different photos: 5 photos + 3 copies of one of them is 5 photos", () => {
    const five = photos.slice(0, 5);
    const extra = [1, 2, 3].map((k) => face(near(five[0]!.embedding, 0.02), `photo0-copy${k}`));
    const p = plan([...five, ...extra]);
    expect(p.clusters).toHaveLength(1);
    expect(p.clusters[0]).toMatchObject({ faces: 8, uniqueSources: 5, kept: false, dropReason: "5 distinct photos < 6" });
  });
});

describe("sweepThresholds counts distinct photos like planDiscovery", () => {
  test("a cluster of copies is not kept at any threshold unless the rule is off", () => {
    const shot = centre();
    const person = centre();
    const faces = [
      ...Array.from({ length: 6 }, () => near(shot, 0.02)),
      ...Array.from({ length: 6 }, () => near(person, 0.5)),
    ];
    const X = matrix(faces, PDIM);
    const sourceIds = faces.map((_, i) => `file${i}`);
    for (const linkage of ["average", "dbscan"] as const) {
      for (const exactMaxN of [undefined, 0]) {
        const base = { thresholdsCosDist: [0.5, 0.6], linkage, sourceIds, minUniqueSources: 6, exactMaxN };
        const rows = sweepThresholds(X, PDIM, { ...base, samePhotoMaxCosDist: MAX }).rows;
        expect(rows.map((r) => r.keptClusters), `${linkage} ${exactMaxN}`).toEqual([1, 1]);
        expect(rows.map((r) => r.facesKept)).toEqual([6, 6]);
        const byFile = sweepThresholds(X, PDIM, base).rows; // default 0: count sources
        expect(byFile.map((r) => r.keptClusters), `${linkage} ${exactMaxN}`).toEqual([2, 2]);
      }
    }
  });
});
