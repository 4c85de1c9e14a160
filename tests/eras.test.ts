/**
 * splitEras() on synthetic faces: time splits at year gaps larger than eraMinYearGap (inclusive boundary), undated
 * faces form their own era, embedding clusters recover seeded identities, `both` orders and labels clusters by
 * median year, a set without capture times falls back to embedding and says so, thin eras are flagged, and the
 * recorded distances are the ones a caller would compute.
 */
import { describe, expect, test } from "vitest";
import { cosDist, DEFAULT_CONFIG, type EraFace, eraSplitWhy, splitEras, syntheticIdentities, unitMean } from "../lib/mod";

const DIM = 64;
const ERAS = DEFAULT_CONFIG.eras;

/** `n` faces of one synthetic identity per entry of `years`, row i dated in years[identity][i % len] (null: undated). */
function facesOf(years: readonly (readonly (number | null)[])[], perIdentity: number, seed = 7): EraFace[] {
  const s = syntheticIdentities({ identities: years.length, perIdentity, dim: DIM, spread: 0.5, seed, shuffle: false });
  return Array.from({ length: s.n }, (_, i) => {
    const id = s.labels[i]!;
    const list = years[id]!;
    const year = list[(i - id * perIdentity) % list.length]!;
    return {
      key: `face-${i}`,
      embedding: s.embeddings.subarray(i * DIM, (i + 1) * DIM),
      captureTime: year === null ? null : new Date(Date.UTC(year, i % 12, 1 + (i % 28))),
    };
  });
}

describe("splitEras by time", () => {
  test.each([
    { name: "a gap of exactly eraMinYearGap stays one era", gap: ERAS.eraMinYearGap, eras: 1 },
    { name: "a gap one year larger splits", gap: ERAS.eraMinYearGap + 1, eras: 2 },
  ])("$name", ({ gap, eras }) => {
    // One identity (embedding plays no part in time mode): 4 faces in 2000, 4 faces in 2000 + gap.
    const faces = facesOf([[2000, 2000, 2000, 2000, 2000 + gap, 2000 + gap, 2000 + gap, 2000 + gap]], 8);
    const split = splitEras(faces, DIM, ERAS, { mode: "time" });
    expect(split.mode).toBe("time");
    expect(split.eras.map((e) => e.members.length)).toEqual(eras === 1 ? [8] : [4, 4]);
    if (eras === 2) {
      expect(split.eras.map((e) => e.label)).toEqual(["2000", String(2000 + gap)]);
      expect(split.eras[1]!.from!.getUTCFullYear()).toBe(2000 + gap);
    }
  });

  test("undated faces form a trailing 'undated' era, and the note counts them", () => {
    const faces = facesOf([[1990, 1991, 1992, null]], 8);
    const split = splitEras(faces, DIM, ERAS, { mode: "time" });
    expect(split.eras.map((e) => [e.label, e.members.length, e.dated])).toEqual([["1990-1992", 6, 6], ["undated", 2, 0]]);
    expect(split.eras[1]!.from).toBeNull();
    expect(split.note).toMatch(/2 of 8 faces have no capture time/);
  });
});

describe("splitEras by embedding and both", () => {
  const faces = facesOf([[2011, 2012, 2013], [1985, 1986]], 8);

  test("embedding sub-clusters recover the seeded identities, largest first", () => {
    const split = splitEras(faces, DIM, ERAS, { mode: "embedding" });
    expect(split.eras).toHaveLength(2);
    expect(split.eras.map((e) => e.members)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]]);
    expect(split.eras.map((e) => e.label)).toEqual(["look 1", "look 2"]);
  });

  test("both (the default with dates) orders the clusters by year and labels them with their own year spans", () => {
    const split = splitEras(faces, DIM, ERAS);
    expect(split.requested).toBeUndefined();
    expect(split.mode).toBe("both");
    expect(split.eras.map((e) => e.label)).toEqual(["1985-1986", "2011-2013"]);
    expect(split.eras[0]!.members).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(split.eras.map((e) => [e.from!.getUTCFullYear(), e.to!.getUTCFullYear()])).toEqual([[1985, 1986], [2011, 2013]]);
  });

  test("both: looks whose year spans overlap are one era; spans that only touch the next year stay apart", () => {
    // Three looks: 1990-1994, 1995-1997 (starts the year after: apart), 1997-1999 (shares 1997 with the second: joined).
    const three = facesOf([[1990, 1994], [1995, 1997], [1997, 1999]], 8);
    const split = splitEras(three, DIM, ERAS, { mode: "both" });
    expect(split.eras.map((e) => e.label)).toEqual(["1990-1994", "1995-1999"]);
    expect(split.eras.map((e) => e.members.length)).toEqual([8, 16]);
    // Labels are the eras' own spans, so they never overlap.
    for (let k = 1; k < split.eras.length; k++) expect(split.eras[k]!.from!.getUTCFullYear()).toBeGreaterThan(split.eras[k - 1]!.to!.getUTCFullYear());
    // The same looks by embedding alone stay three.
    expect(splitEras(three, DIM, ERAS, { mode: "embedding" }).eras).toHaveLength(3);
  });

  test("both: two looks of the same years are one era, and the split says why it made no set", () => {
    const same = facesOf([[1994, 1996, 1999], [1996, 1997]], 8);
    const split = splitEras(same, DIM, ERAS, { mode: "both" });
    expect(split.eras.map((e) => e.label)).toEqual(["1994-1999"]);
    expect(eraSplitWhy(split, ERAS)).toBe(
      `all 16 faces are one era: the looks found at eras.eraMaxCosDist ${ERAS.eraMaxCosDist} share their capture years (1994-1999); ` +
        "nothing to split by both",
    );
  });

  test("distances: each member to its era centroid, and the era's mean distance to the parent centroid", () => {
    const split = splitEras(faces, DIM, ERAS);
    const parent = unitMean(faces.map((f) => f.embedding), DIM);
    for (const era of split.eras) {
      const centroid = unitMean(era.members.map((i) => faces[i]!.embedding), DIM);
      era.members.forEach((i, j) => expect(era.centroidCosDists[j]).toBeCloseTo(cosDist(faces[i]!.embedding, centroid), 6));
      const mean = era.members.reduce((s, i) => s + cosDist(faces[i]!.embedding, parent), 0) / era.members.length;
      expect(era.meanParentCosDist).toBeCloseTo(mean, 6);
    }
  });

  test("thin eras: fewer than minEraFaces members", () => {
    const small = facesOf([[2001], [1980]], ERAS.minEraFaces - 1);
    const big = facesOf([[2001], [1980]], ERAS.minEraFaces);
    expect(splitEras(small, DIM, ERAS).eras.map((e) => e.thin)).toEqual([true, true]);
    expect(splitEras(big, DIM, ERAS).eras.map((e) => e.thin)).toEqual([false, false]);
  });
});

describe("splitEras without capture times", () => {
  const faces = facesOf([[null], [null]], 8);

  test.each(["time", "both", undefined] as const)("asked for %s, it splits by embedding and says so", (mode) => {
    const split = splitEras(faces, DIM, ERAS, { mode });
    expect(split.mode).toBe("embedding");
    expect(split.note).toMatch(/no face has a capture time.*embedding only/);
    expect(split.eras).toHaveLength(2);
    expect(split.eras.every((e) => e.from === null && e.medianYear === null)).toBe(true);
  });

  test("everything within eraMaxCosDist is one era", () => {
    const split = splitEras(faces, DIM, { ...ERAS, eraMaxCosDist: 2 }, { mode: "embedding" });
    expect(split.eras).toHaveLength(1);
  });

  test("a bad mode is refused by name", () => {
    expect(() => splitEras(faces, DIM, ERAS, { mode: "decade" as never })).toThrow(/invalid split mode "decade"/);
  });
});
