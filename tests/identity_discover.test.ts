/**
 * planDiscovery on synthetic embeddings: every step of the owner's pipeline is exercised with faces whose truth is
 * known by construction (identity centres + noise), and quality values chosen per face.
 */
import { describe, expect, test } from "vitest";
import {
  cosDist,
  type FaceRow,
  type Identity,
  planDiscovery,
  resolveConfig,
  unitMean,
} from "../lib/mod";
import { syntheticFaceRow, syntheticSpace } from "./support/synthetic_faces";

const DIM = 64;
const { unit, centre, near } = syntheticSpace(DIM, 7);
const face = syntheticFaceRow;

function identity(name: string, number: number, members: FaceRow[]): Identity {
  return {
    number,
    name,
    origin: "hand-sorted",
    centroid: unitMean(members.map((m) => m.embedding), DIM),
    matched: members,
    unmatched: [],
  };
}

const config = resolveConfig();

describe("planDiscovery", () => {
  const known = centre();
  const alice = centre();
  const bob = centre();
  const carol = centre();

  const knownSetFaces = Array.from({ length: 5 }, (_, i) => face(near(known), `k${i}`));
  const existing = [identity("faceset_004", 4, knownSetFaces)];

  const routedFaces = Array.from({ length: 4 }, (_, i) => face(near(known), `r${i}`));
  const aliceFaces = Array.from({ length: 8 }, (_, i) => face(near(alice), `a${i}`));
  // Bob: 5 photos, one short of minUniqueSources.
  const bobFaces = Array.from({ length: 5 }, (_, i) => face(near(bob), `b${i}`));
  // Carol: 8 photos, one blurry (fails a quality gate), one of 95 px (passes 90, fails the export gate at 100).
  const carolFaces = [
    ...Array.from({ length: 5 }, (_, i) => face(near(carol), `c${i}`)),
    face(near(carol), "c5", { blur: 12 }),
    face(near(carol), "c6", { faceShortPx: 95 }),
    face(near(carol), "c7"),
  ];
  const faces = [...knownSetFaces, ...routedFaces, ...aliceFaces, ...bobFaces, ...carolFaces];
  const plan = planDiscovery({ faces, dim: DIM, identities: existing, firstNumber: 7, config });
  const fate = (f: FaceRow) => plan.faces.find((d) => d.faceId === f.faceId)!;

  test("faces of existing sets are left alone; near faces are routed to their identity", () => {
    for (const f of knownSetFaces) expect(fate(f)).toMatchObject({ fate: "in-library", identity: "faceset_004" });
    for (const f of routedFaces) expect(fate(f)).toMatchObject({ fate: "routed", identity: "faceset_004" });
    expect(plan.routed).toEqual([{ identity: "faceset_004", faces: routedFaces.length }]);
    for (const f of aliceFaces) expect(fate(f).nearestCosDist!).toBeGreaterThan(config.identity.routeMaxCosDist);
  });

  test("two faces of one photo never share a cluster", () => {
    // A second face of Alice in her photo a0 (a mirror, a poster): same content hash as a0.
    const mirror = face(near(alice), "a0");
    const p = planDiscovery({ faces: [...aliceFaces, mirror], dim: DIM, identities: [], firstNumber: 1, config });
    const clusterOf = (f: FaceRow) => p.faces.find((d) => d.faceId === f.faceId)!.cluster;
    expect(clusterOf(mirror)).not.toBe(clusterOf(aliceFaces[0]!));
    // Without the constraint (different photos) they would have merged.
    const free = face(mirror.embedding, "a_elsewhere");
    const q = planDiscovery({ faces: [...aliceFaces, free], dim: DIM, identities: [], firstNumber: 1, config });
    expect(q.clusters).toHaveLength(1);
  });

  test("clusters with too few distinct photos are dropped, gates and export gates are applied", () => {
    for (const f of bobFaces) expect(fate(f).fate).toBe("small-cluster");
    expect(fate(carolFaces[5]!)).toMatchObject({ fate: "gated", reasons: ["blur 12.0 < 40 (no sharpness stored)"] });
    expect(fate(carolFaces[6]!)).toMatchObject({ fate: "export-gated", reasons: ["face_short 95 < 100"] });
  });

  test("kept clusters become sets numbered after the library, largest first, holding one identity each", () => {
    expect(plan.newSets.map((s) => s.name)).toEqual(["faceset_007", "faceset_008"]);
    const [first, second] = plan.newSets;
    expect(first!.faces.map((f) => f.row.faceId).sort()).toEqual(aliceFaces.map((f) => f.faceId).sort());
    const carolExported = [0, 1, 2, 3, 4, 7].map((i) => carolFaces[i]!.faceId).sort();
    expect(second!.faces.map((f) => f.row.faceId).sort()).toEqual(carolExported);
    // Claimed = every kept member, the export-gated one included, so a re-run cannot re-discover it.
    expect(second!.claimedFaceIds).toContain(carolFaces[6]!.faceId);
    for (const s of plan.newSets) {
      for (const f of s.faces) expect(f.centroidCosDist).toBeCloseTo(cosDist(f.row.embedding, s.centroid), 6);
    }
    expect(plan.counts).toMatchObject({ newSets: 2, exported: 8 + 6, routed: 4, inLibrary: 5 });
  });

  test("a re-run with the new sets in the library makes no new set", () => {
    const after = [
      ...existing,
      ...plan.newSets.map((s) => identity(s.name, s.number, s.faces.map((f) => f.row))),
    ];
    const claimed = new Set(plan.newSets.flatMap((s) => s.claimedFaceIds));
    const again = planDiscovery({ faces, dim: DIM, identities: after, claimedFaceIds: claimed, firstNumber: 9, config });
    expect(again.newSets).toEqual([]);
    expect(again.counts.exported).toBe(0);
  });

  test("an outlier far from its cluster's centroid is dropped", () => {
    const dave = centre();
    // Seven different photos of Dave (spread 0.4: ~0.14 apart; closer faces would be copies of one photo,
    // identity.samePhotoMaxCosDist, and make no set).
    const tight = Array.from({ length: 7 }, (_, i) => face(near(dave, 0.4), `d${i}`));
    // Mostly a stranger, partly Dave: joins by single linkage at 0.8, but sits far from Dave's centroid.
    const stranger = centre();
    const mid = unit(dave.map((x, d) => 0.25 * x + 0.968 * stranger[d]!));
    const odd = face(mid, "d_odd");
    const single = resolveConfig({ identity: { linkage: "single", clusterMaxCosDist: 0.8 } });
    const p = planDiscovery({ faces: [...tight, odd], dim: DIM, identities: [], firstNumber: 1, config: single });
    const d = p.faces.find((x) => x.faceId === odd.faceId)!;
    expect(d.cluster).toBe(p.faces[0]!.cluster);
    expect(d.fate).toBe("outlier");
    expect(d.clusterCosDist!).toBeGreaterThan(single.identity.outlierMaxCosDist);
    expect(p.newSets[0]!.faces).toHaveLength(7);
  });
});
