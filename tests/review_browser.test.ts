/**
 * The review page in real Chromium (playwright-core + Debian's chromium) on a real library built from ../shared
 * photos (build-folders + cluster-osrc, tests/support/review_fixture.ts): every set and the leftovers are shown,
 * crops farthest from the centroid first with their measures, the source photo with the face's box, the runs; no
 * request leaves the machine; thumbnails are made once. Then decisions through the page, checked on disk.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { DEFAULT_CONFIG, type Library, readLibrary } from "../lib/mod";
import {
  curationApi,
  loadReviewPage,
  openReviewBrowser,
  REVIEW_FOLDER,
  type ReviewBrowser,
  type ReviewServer,
  startReviewServer,
} from "../lib/review/mod";
import { needsFullSet } from "./support/fixtures";
import type { LibraryFixture } from "./support/library_fixture";
import { makeReviewLibrary } from "./support/review_fixture";

let fx: LibraryFixture;
let server: ReviewServer;
let browser: ReviewBrowser;
let page: Page;
let before: Library;

const pageUrl = (p: string) => {
  const u = new URL(server.url);
  u.pathname = p;
  return u.href;
};

interface RunRecordLike {
  kind: string;
  runId: string;
  clusters: { index: number; faces: number; kept: boolean; uniqueSources: number; setName?: string }[];
  faces: { faceId: string; fate: string; cluster?: number }[];
}

function discoveryRecord(): RunRecordLike {
  const dir = path.join(fx.library, "_runs");
  const records = readdirSync(dir).sort().map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as RunRecordLike);
  return records.filter((r) => r.kind === "cluster-osrc").at(-1)!;
}

describe("the review page in Chromium", needsFullSet(), () => {
  beforeAll(async () => {
    fx = await makeReviewLibrary();
    before = await readLibrary(fx.library);
    server = await startReviewServer({
      libraryDir: fx.library,
      storePath: fx.store,
      config: DEFAULT_CONFIG,
      curation: curationApi,
    });
    browser = await openReviewBrowser(new URL(server.url).origin);
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test("the Sets page shows every set with its crops, farthest from the centroid first, measures on hover", async () => {
    await loadReviewPage(page, server.url);
    const shown = await page.$$eval("section.set", (els) => els.map((e) => (e as HTMLElement).dataset.set));
    expect(shown).toEqual([...before.sets.values()].sort((a, b) => a.number - b.number).map((s) => s.name));
    expect(shown.length).toBe(5);
    for (const set of before.sets.values()) {
      const tiles = page.locator(`section.set[data-set="${set.name}"] figure.tile`);
      expect(await tiles.count()).toBe(set.manifest.faces.length);
      const distances = (await tiles.locator("figcaption").allTextContents()).map((t) => Number(t.split(" ")[0]));
      expect(distances.every((d) => d > 0 && d < 1)).toBe(true);
      expect(distances).toEqual([...distances].sort((a, b) => b - a));
      const title = (await tiles.first().locator("img").getAttribute("title"))!;
      expect(title).toMatch(/face_short \d+ px · blur [\d.]+ · det_score 0\.\d{3} · distance 0\.\d{3}$/);
    }
    // Every thumbnail loaded (no broken image).
    const broken = await page.$$eval(
      "figure.tile img",
      (imgs) => imgs.filter((i) => !(i as HTMLImageElement).complete || (i as HTMLImageElement).naturalWidth === 0).length,
    );
    expect(broken).toBe(0);
  });

  test("a click on a crop shows its source photo with that face's box drawn in", async () => {
    await loadReviewPage(page, server.url);
    const first = [...before.sets.values()][0]!;
    const face = first.manifest.faces[0]!;
    await page.locator(`figure.tile[data-face="${face.faceId}"] img`).click();
    await page.waitForFunction(() => {
      const img = document.getElementById("photo-img") as HTMLImageElement;
      return (document.getElementById("photo") as HTMLDialogElement).open && img.complete && img.naturalWidth > 0;
    });
    const src = await page.locator("#photo-img").getAttribute("src");
    const bytes = Buffer.from(await (await page.request.get(new URL(src!, server.url).href)).body());
    const source = await sharp(face.source).rotate().metadata();
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    const scale = info.width / (source.autoOrient?.width ?? source.width!);
    // The left edge of the box, half way down: the drawn yellow line.
    const [x1, y1, , y2] = face.bbox.map((v) => Math.round(v * scale));
    const at = ((Math.round((y1! + y2!) / 2)) * info.width + x1!) * info.channels;
    const rgb = [data[at]!, data[at + 1]!, data[at + 2]!];
    const yellow = [255, 212, 0];
    expect(rgb.every((v, i) => Math.abs(v - yellow[i]!) < 40), `pixel ${rgb} at the box's left edge`).toBe(true);
    await page.locator("#photo-close").click();
  });

  test("the Leftovers page shows the clusters that missed, largest first with why, and the rest with their nearest set", async () => {
    await loadReviewPage(page, pageUrl("/leftovers"));
    const record = discoveryRecord();
    const missed = record.clusters.filter((c) => c.setName === undefined && c.faces >= 2);
    const sections = page.locator("section.cluster:not([data-cluster=rest])");
    expect(await sections.count()).toBe(missed.length);
    expect(missed.length).toBeGreaterThanOrEqual(3);
    const sizes = await sections.evaluateAll((els) => els.map((e) => e.querySelectorAll("figure.tile").length));
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    for (const c of missed) {
      const section = page.locator(`section.cluster[data-cluster="${record.runId}#${c.index}"]`);
      // The report's words (clusterMissReason): the count and the setting that decides it.
      expect(await section.locator(".why").textContent()).toContain(`${c.uniqueSources} distinct photos < identity.minUniqueSources 6`);
      expect(await section.locator(".near").textContent()).toMatch(/^nearest faceset_\d{3}( \(.+\))? at 0\.\d{3}$/);
    }
    // Every leftover face of the run is on the page once: in a missed cluster or in the rest.
    const leftover = record.faces.filter((f) => ["small-cluster", "gated", "outlier", "export-gated"].includes(f.fate)).map((f) =>
      f.faceId
    );
    const onPage = await page.$$eval("figure.tile", (els) => els.map((e) => (e as HTMLElement).dataset.face));
    expect(onPage.sort()).toEqual(leftover.sort());
    const restCaptions = await page.locator("section.cluster[data-cluster=rest] figcaption").allTextContents();
    expect(restCaptions.length).toBeGreaterThan(0);
    for (const c of restCaptions) expect(c).toMatch(/^#\d{3} 0\.\d\d /);
  });

  test("the Runs page lists the run records newest first with their counts", async () => {
    await loadReviewPage(page, pageUrl("/runs"));
    const ids = await page.$$eval("tbody tr", (rows) => rows.map((r) => (r as HTMLElement).dataset.run));
    const files = readdirSync(path.join(fx.library, "_runs")).map((f) => f.replace(/\.json$/, "")).sort().reverse();
    expect(ids).toEqual(files);
    expect(await page.locator("tbody tr").first().textContent()).toContain("newSets 3");
    // build-folders keeps its counts per person folder: the row counts its folders and their outcomes.
    expect(await page.locator("tbody tr").last().textContent()).toMatch(/people 2, people \w+ 2/);
  });

  test("the page fetches nothing from outside the machine", () => {
    expect(browser.outside).toEqual([]);
  });

  test("thumbnails are made once and cached under the library's _review folder", async () => {
    const made = server.thumbnails.stats.made;
    expect(made).toBeGreaterThan(0);
    await loadReviewPage(page, server.url);
    await loadReviewPage(page, pageUrl("/leftovers"));
    expect(server.thumbnails.stats.made).toBe(made);
    const cached = readdirSync(path.join(fx.library, REVIEW_FOLDER, "thumbs"));
    const faces = [...before.sets.values()].reduce((n, s) => n + s.manifest.faces.length, 0);
    expect(cached.length).toBeGreaterThanOrEqual(faces);
    // The cache folder is not a set: the library still reads the same.
    expect([...(await readLibrary(fx.library)).sets.keys()]).toEqual([...before.sets.keys()]);
    expect(existsSync(path.join(fx.library, REVIEW_FOLDER, "photos"))).toBe(true);
  });

  /* the decisions */

  /** The ledger on disk (lib/library/ledger.ts): committed decisions and the sets as the ledger knows them. */
  function ledgerOnDisk(): {
    decisions: { seq: number; verb: string; by: string; sets: string[]; faces: string[] }[];
    sets: {
      name: string;
      person: string | null;
      state: string;
      mergedInto: string | null;
      faces: string[];
      rejected: string[];
    }[];
  } {
    const dir = path.join(fx.library, "_ledger");
    const ledger = JSON.parse(readFileSync(path.join(dir, "sets.json"), "utf8"));
    const decisions = readFileSync(path.join(dir, "decisions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
      .filter((d: { seq: number }) => d.seq <= ledger.lastSeq);
    return { decisions, sets: ledger.sets };
  }

  /** Click `button` and wait until the page has reloaded its view after the decision; returns the status line. */
  async function decideOnPage(click: () => Promise<void>): Promise<string> {
    const loaded = await page.locator("body").getAttribute("data-loaded");
    await click();
    await page.waitForFunction(
      (old) => document.body.dataset.loaded !== old && !/…$/.test(document.getElementById("message")!.textContent!),
      loaded,
    );
    const message = (await page.locator("#message").textContent())!;
    expect(await page.locator("#message").getAttribute("class"), message).not.toBe("error");
    return message;
  }

  describe("decisions from the page, checked on disk", () => {
    test("name a set: the page, the ledger and curate status show the name", async () => {
      await loadReviewPage(page, server.url);
      const set = page.locator('section.set[data-set="faceset_003"]');
      await set.locator(".name-form input").fill("Angelina Jolie");
      const message = await decideOnPage(() => set.locator(".name-form button").click());
      expect(message).toContain("faceset_003");
      expect(await page.locator('section.set[data-set="faceset_003"] .person').textContent()).toBe("Angelina Jolie");
      const ledger = ledgerOnDisk();
      expect(ledger.sets.find((s) => s.name === "faceset_003")!.person).toBe("Angelina Jolie");
      expect(ledger.decisions.at(-1)).toMatchObject({ verb: "name", sets: ["faceset_003"] });
    });

    test(
      "merge two sets of one person: faces and crops move, the merged folder leaves the library",
      async () => {
        await loadReviewPage(page, server.url);
        const a = before.sets.get(1)!;
        const b = before.sets.get(2)!;
        await page.locator(`section.set[data-set="${a.name}"] .set-head input[type=checkbox]`).check();
        await page.locator(`section.set[data-set="${b.name}"] .set-head input[type=checkbox]`).check();
        await page.locator('select[aria-label="merge into"]').selectOption(a.name);
        await decideOnPage(() => page.locator("#merge").click());
        expect(await page.locator("section.set").count()).toBe(4);
        expect(await page.locator(`section.set[data-set="${a.name}"] figure.tile`).count()).toBe(
          a.manifest.faces.length + b.manifest.faces.length,
        );
        expect(await page.locator("section.inactive").textContent()).toContain(`${b.name}`);
        const after = await readLibrary(fx.library);
        expect(after.sets.has(b.number)).toBe(false);
        expect(existsSync(b.dir)).toBe(false);
        const merged = after.sets.get(a.number)!;
        expect(merged.manifest.faces.map((f) => f.faceId).sort()).toEqual(
          [...a.manifest.faces, ...b.manifest.faces].map((f) => f.faceId).sort(),
        );
        for (const f of merged.manifest.faces) expect(existsSync(path.join(merged.dir, f.crop)), f.crop).toBe(true);
        const ledger = ledgerOnDisk();
        expect(ledger.sets.find((s) => s.name === b.name)).toMatchObject({ state: "merged", mergedInto: a.name });
        expect(ledger.decisions.at(-1)).toMatchObject({ verb: "merge" });
      },
    );

    test(
      "reject the farthest face of a set: its crop leaves the set and the ledger remembers it",
      async () => {
        await loadReviewPage(page, server.url);
        const set = before.sets.get(4)!;
        const farthest = page.locator(`section.set[data-set="${set.name}"] figure.tile`).first();
        const faceId = (await farthest.getAttribute("data-face"))!;
        const face = set.manifest.faces.find((f) => f.faceId === faceId)!;
        await farthest.locator("input[type=checkbox]").check();
        await decideOnPage(() => page.locator("#reject").click());
        expect(await page.locator(`section.set[data-set="${set.name}"] figure.tile`).count()).toBe(set.manifest.faces.length - 1);
        expect(await page.locator(`figure.tile[data-face="${faceId}"]`).count()).toBe(0);
        const after = (await readLibrary(fx.library)).sets.get(4)!;
        expect(after.manifest.faces.map((f) => f.faceId)).not.toContain(faceId);
        expect(existsSync(path.join(set.dir, face.crop))).toBe(false);
        const ledger = ledgerOnDisk();
        expect(ledger.sets.find((s) => s.name === set.name)!.rejected).toContain(faceId);
        expect(ledger.decisions.at(-1)).toMatchObject({ verb: "reject", sets: [set.name], faces: [faceId] });
      },
    );

    test(
      "make a new set from a leftover cluster: numbered after the highest, crops from the store",
      async () => {
        await loadReviewPage(page, pageUrl("/leftovers"));
        const largest = page.locator("section.cluster:not([data-cluster=rest])").first();
        const key = (await largest.getAttribute("data-cluster"))!;
        const faceIds = await largest.locator("figure.tile").evaluateAll((els) =>
          els.map((e) => (e as HTMLElement).dataset.face!)
        );
        await largest.locator(".set-head input[type=checkbox]").check();
        expect(await page.locator("#actions .count").textContent()).toBe(`${faceIds.length} faces selected`);
        await decideOnPage(() => page.locator("#create").click());
        expect(await page.locator(`section.cluster[data-cluster="${key}"]`).count()).toBe(0);
        const after = await readLibrary(fx.library);
        const created = after.sets.get(6)!; // the library's highest number was 5
        expect(created.manifest.faces.map((f) => f.faceId).sort()).toEqual([...faceIds].sort());
        for (const f of created.manifest.faces) expect(existsSync(path.join(created.dir, f.crop)), f.crop).toBe(true);
        const ledger = ledgerOnDisk();
        expect(ledger.decisions.at(-1)).toMatchObject({ verb: "create", sets: [created.name] });
        await loadReviewPage(page, server.url);
        expect(await page.locator(`section.set[data-set="${created.name}"] figure.tile`).count()).toBe(faceIds.length);
      },
    );

    test("undo reverts the last decision (the new set goes again)", async () => {
      await loadReviewPage(page, server.url);
      const count = await page.locator("section.set").count();
      await decideOnPage(() => page.locator("#undo").click());
      expect(await page.locator("section.set").count()).toBe(count - 1);
      expect((await readLibrary(fx.library)).sets.has(6)).toBe(false);
      expect(ledgerOnDisk().decisions.at(-1)).toMatchObject({ verb: "undo" });
    });

    test("move a face to another set, then split two faces into a new set", async () => {
      await loadReviewPage(page, server.url);
      const from = (await readLibrary(fx.library)).sets.get(5)!;
      const tile = page.locator(`section.set[data-set="${from.name}"] figure.tile`).first();
      const moved = (await tile.getAttribute("data-face"))!;
      await tile.locator("input[type=checkbox]").check();
      await page.locator('select[aria-label="move to"]').selectOption("faceset_004");
      await decideOnPage(() => page.locator("#move").click());
      let library = await readLibrary(fx.library);
      expect(library.sets.get(4)!.manifest.faces.map((f) => f.faceId)).toContain(moved);
      expect(library.sets.get(5)!.manifest.faces.map((f) => f.faceId)).not.toContain(moved);
      expect(await page.locator(`section.set[data-set="faceset_004"] figure.tile[data-face="${moved}"]`).count()).toBe(1);

      const numbers = new Set(library.sets.keys());
      const tiles = page.locator(`section.set[data-set="faceset_003"] figure.tile`);
      const picked = [(await tiles.nth(0).getAttribute("data-face"))!, (await tiles.nth(1).getAttribute("data-face"))!];
      await tiles.nth(0).locator("input[type=checkbox]").check();
      await tiles.nth(1).locator("input[type=checkbox]").check();
      await decideOnPage(() => page.locator("#split").click());
      library = await readLibrary(fx.library);
      const created = [...library.sets.values()].filter((s) => !numbers.has(s.number));
      expect(created).toHaveLength(1);
      expect(created[0]!.number).toBeGreaterThan(6); // after the highest number ever given (6 was made, then undone)
      expect(created[0]!.manifest.faces.map((f) => f.faceId).sort()).toEqual([...picked].sort());
      expect(ledgerOnDisk().decisions.slice(-2).map((d) => d.verb)).toEqual(["move", "split"]);
    });

    test("dismiss a set, then restore it from the list of inactive sets", async () => {
      await loadReviewPage(page, server.url);
      const count = await page.locator("section.set").count();
      await decideOnPage(() => page.locator('section.set[data-set="faceset_005"] .set-head button', { hasText: "Dismiss" }).click());
      expect(await page.locator("section.set").count()).toBe(count - 1);
      expect((await readLibrary(fx.library)).sets.has(5)).toBe(false);
      expect(ledgerOnDisk().sets.find((s) => s.name === "faceset_005")!.state).toBe("dismissed");
      await decideOnPage(() => page.locator("section.inactive li", { hasText: "faceset_005" }).locator("button", { hasText: "Restore" }).click());
      expect(await page.locator("section.set").count()).toBe(count);
      expect((await readLibrary(fx.library)).sets.has(5)).toBe(true);
      expect(ledgerOnDisk().decisions.slice(-2).map((d) => d.verb)).toEqual(["dismiss", "restore"]);
    });

    test("the page fetched nothing from outside the machine during the decisions either", () => {
      expect(browser.outside).toEqual([]);
    });
  });
});
