/**
 * The era view (lib/report/era_view.ts) on the stamped eras fixture (tests/support/eras_fixture.ts): a dated set
 * of three people stamped decades apart, and an undated set. Every face must get its stamped year, its distance to
 * the set's centroid and the era split-eras would give it; an undated set says so; the set to view is chosen by
 * name or number, else the largest dated set.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  cosDist,
  DEFAULT_CONFIG,
  type EraSetSummary,
  eraSetSummaries,
  eraTable,
  eraView,
  eraViewFigure,
  type FaceRow,
  FaceStore,
  pickEraSet,
  resolveConfig,
  type RunConfig,
  splitErasWorkflow,
  unitMean,
} from "../lib/mod";
import { buildErasFixture, ERAS_LAYOUT, type ErasFixture } from "./support/eras_fixture";
import { needsFullSet } from "./support/fixtures";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-era-view-"));
/** As tests/eras_split.test.ts: the small test recogniser needs the identity threshold to keep a person one era. */
const CONFIG: RunConfig = resolveConfig({ eras: { eraMaxCosDist: DEFAULT_CONFIG.identity.clusterMaxCosDist } });

let fx: ErasFixture;
let store: FaceStore;
let rows: FaceRow[];
let identityOf: Map<string, string>;
let stampOf: Map<string, Date | null>;

type Obj = Record<string, any>;

/** `YYYY-MM-DD` of the earliest and latest stamp of an identity's dated photos (from the layout). */
function stampedRange(identity: string): [string, string] {
  const days = fx.photos
    .filter((p) => p.time !== null && p.identity === identity)
    .map((p) => p.time!.toISOString().slice(0, 10))
    .sort();
  return [days[0]!, days.at(-1)!];
}

/** The subject (largest) store face of a source file. */
const subjectOf = (source: string) =>
  rows.filter((r) => r.path === source).sort((a, b) => b.faceShortPx - a.faceShortPx)[0]!;

describe("era view on a stamped fixture", needsFullSet(), () => {
  beforeAll(async () => {
    fx = await buildErasFixture(TMP);
    identityOf = new Map(fx.photos.map((p) => [p.file, p.identity]));
    stampOf = new Map(fx.photos.map((p) => [p.file, p.time]));
    store = await FaceStore.open(fx.store, { readOnly: true });
    rows = await store.selectFaces();
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    rmSync(TMP, { recursive: true, force: true });
  });

  test("dated set: every face gets its stamped year and its distance to the set's centroid", async () => {
    const view = await eraView(store, fx.library, fx.dated, CONFIG);
    const total = ERAS_LAYOUT.reduce((n, l) => n + l.take, 0);
    expect(view.set).toBe("faceset_001");
    expect(view.label).toBe("faceset_001"); // the fixture's sets have no person
    expect(view.faces).toHaveLength(total);
    expect(view.unmatched).toEqual([]);
    expect(view.dated).toBe(total);
    expect(view.note).toBeUndefined();
    for (const face of view.faces) {
      const stamp = stampOf.get(face.source);
      expect(stamp, face.source).toBeInstanceOf(Date);
      expect(face.captureTime?.getTime()).toBe(stamp!.getTime());
      expect(face.year).toBe(stamp!.getUTCFullYear());
    }
    // The parent centroid computed independently from the store's subject faces of the set's sources.
    const embeddings = view.faces.map((f) => subjectOf(f.source).embedding);
    const centroid = unitMean(embeddings, embeddings[0]!.length);
    view.faces.forEach((f, i) => expect(f.parentCosDist).toBeCloseTo(cosDist(embeddings[i]!, centroid), 5));
  });

  test("dated set: one era per person, in year order, the same eras as split-eras", async () => {
    const view = await eraView(store, fx.library, fx.dated, CONFIG);
    const order = ["deepface_p03", "deepface_p01", "deepface_p10"];
    const people = view.split.eras.map((era) => [
      ...new Set(view.faces.filter((f) => f.eraIndex === era.index).map((f) => identityOf.get(f.source))),
    ]);
    expect(people).toEqual(order.map((id) => [id]));
    for (const f of view.faces) expect(f.era).toBe(view.split.eras[f.eraIndex]!.label);

    const table = eraTable(view);
    expect(table.map((r) => r.era)).toEqual(view.split.eras.map((e) => e.label));
    expect(table.map((r) => r.faces)).toEqual(order.map((id) => ERAS_LAYOUT.find((l) => l.identity === id)!.take));
    expect(table.map((r) => [r.from, r.to])).toEqual(order.map(stampedRange));
    expect(table.map((r) => r.thin)).toEqual([true, false, false]);
    table.forEach((r, k) => {
      const mine = view.faces.filter((f) => f.eraIndex === k).map((f) => f.parentCosDist);
      expect(r.mean_parent_dist).toBeCloseTo(mine.reduce((s, d) => s + d, 0) / mine.length, 6);
      expect(r.median_year).toBe(view.split.eras[k]!.medianYear);
    });

    // The view and split-eras (dry run) split the set the same way.
    const dry = await splitErasWorkflow({
      libraryDir: fx.library, faceset: fx.dated, store, storePath: fx.store, config: CONFIG, dryRun: true,
    });
    expect(view.split.eras.map((e) => [...e.keys].sort())).toEqual(dry.record.eras.map((e) => [...e.faceKeys].sort()));
    expect(view.split.mode).toBe(dry.record.mode);
  });

  test("figure: one trace per era, every dated face a point, threshold drawn, axes titled", async () => {
    const view = await eraView(store, fx.library, fx.dated, CONFIG);
    const fig = eraViewFigure(view, { thresholdCosDist: CONFIG.identity.outlierMaxCosDist, thresholdLabel: "outlier threshold" });
    expect(fig.data).toHaveLength(view.split.eras.length);
    expect(fig.data.reduce((n, t) => n + (t.x as number[]).length, 0)).toBe(view.dated);
    const ys = fig.data.flatMap((t) => t.y as number[]).sort();
    expect(ys).toEqual(view.faces.map((f) => f.parentCosDist).sort());
    expect(((fig.layout.title as Obj).text as string)).toContain("faceset_001");
    expect(((fig.layout.xaxis as Obj).title as Obj).text).toMatch(/year/);
    expect(((fig.layout.yaxis as Obj).title as Obj).text).toMatch(/cosine distance/);
    expect((fig.layout.annotations as Obj[])[0]!.text).toContain("outlier threshold");
    // The subtitle says what the era names are; the legend is titled.
    expect(((fig.layout.title as Obj).text as string)).toMatch(/19 faces with a capture year; eras: sub-clusters .* <= 0\.55, named by median capture year/);
    expect(((fig.layout.legend as Obj).title as Obj).text).toBe("era (faces)");
  });

  test("undated set: split by embedding only, said in the note, nothing to plot", async () => {
    const view = await eraView(store, fx.library, fx.undated, CONFIG);
    expect(view.faces.length).toBeGreaterThan(0);
    expect(view.dated).toBe(0);
    expect(view.faces.every((f) => f.year === null && f.captureTime === null)).toBe(true);
    expect(view.split.mode).toBe("embedding");
    expect(view.note).toMatch(/no face has a capture time/);
    expect(eraTable(view).every((r) => r.from === "" && r.to === "" && r.median_year === null)).toBe(true);
    expect(eraViewFigure(view).data.reduce((n, t) => n + (t.x as number[]).length, 0)).toBe(0);
  });

  test("choosing the set: by name or number, else the largest dated set", async () => {
    const sets = await eraSetSummaries(store, fx.library);
    expect(sets.map((s) => [s.set, s.matched === s.faces, s.dated > 0])).toEqual([
      ["faceset_001", true, true],
      ["faceset_002", true, false],
    ]);
    expect(pickEraSet(sets)).toBe(fx.dated);
    expect(pickEraSet(sets, "faceset_002")).toBe(2);
    expect(pickEraSet(sets, " 2 ")).toBe(2);
    expect(() => pickEraSet(sets, "faceset_009")).toThrow(/not a set of the library \(sets: faceset_001, faceset_002\)/);
    // A larger undated set does not win over a dated one; with no dated set, the largest is taken.
    const bigUndated: EraSetSummary = { ...sets[1]!, number: 3, set: "faceset_003", faces: 99, matched: 99 };
    expect(pickEraSet([...sets, bigUndated])).toBe(fx.dated);
    expect(pickEraSet([sets[1]!, bigUndated])).toBe(3);
    expect(pickEraSet([])).toBeUndefined();
    await expect(eraView(store, fx.library, 9, CONFIG)).rejects.toThrow(/faceset_009: no such set/);
  });
});
