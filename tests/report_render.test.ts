import path from "node:path";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import sharp from "sharp";
import { chromium } from "playwright-core";
import { CHROMIUM_FLAGS, DEFAULT_CHROMIUM, FigureRenderer, figureHtml, PLOTLY_FILE, RenderError } from "../lib/report/render";
import { routingHistogram, sweepFigure } from "../lib/report/figures";

/** Standard deviation of the grey levels: ~0 for a blank (single-colour) image. */
async function greyStdev(file: string): Promise<number> {
  const stats = await sharp(file).greyscale().stats();
  return stats.channels[0]!.stdev;
}

const figure = routingHistogram({ distances: Array.from({ length: 200 }, (_, i) => (i % 40) / 50), routeMaxCosDist: 0.45 });

describe("FigureRenderer (real Chromium, real Plotly)", () => {
  let renderer: FigureRenderer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "render-"));
    renderer = await FigureRenderer.open();
  });
  afterAll(async () => {
    await renderer?.close();
  });

  test("PNG of the requested size, not blank; HTML beside it with plotly.min.js placed once", async () => {
    const out = await renderer.render(figure, path.join(dir, "routing"), { width: 600, height: 400, scale: 2 });
    expect(out.png).toBe(path.join(dir, "routing.png"));
    const meta = await sharp(out.png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", 1200, 800]);
    expect(await greyStdev(out.png)).toBeGreaterThan(10);
    const html = await readFile(out.html!, "utf8");
    expect(html).toContain(`<script src="${PLOTLY_FILE}"></script>`);
    expect(html).toContain("route threshold 0.45");
    expect((await stat(path.join(dir, PLOTLY_FILE))).size).toBeGreaterThan(1_000_000);
    // A second figure in the same folder reuses the page and the placed plotly.min.js.
    const second = await renderer.render(sweepFigure({ rows: [{ thresholdCosDist: 0.4, clusters: 9, keptClusters: 3 }, { thresholdCosDist: 0.5, clusters: 5, keptClusters: 4 }], currentCosDist: 0.45 }), path.join(dir, "sweep.png"), { width: 500, height: 300, scale: 1 });
    const m2 = await sharp(second.png).metadata();
    expect([m2.width, m2.height]).toEqual([500, 300]);
    expect(await greyStdev(second.png)).toBeGreaterThan(10);
  });

  test("a blank figure is blank: the variance check can fail", async () => {
    const out = await renderer.render(
      { data: [], layout: { xaxis: { visible: false }, yaxis: { visible: false } } },
      path.join(dir, "blank"),
      { width: 300, height: 200, scale: 1, pngOnly: true },
    );
    expect(out.html).toBeUndefined();
    expect(await greyStdev(out.png)).toBeLessThan(1);
  });

  test("the HTML works offline from file:// (sibling and inlined plotly)", async () => {
    await renderer.render(figure, path.join(dir, "inline"), { inlinePlotly: true });
    const browser = await chromium.launch({ executablePath: DEFAULT_CHROMIUM, args: [...CHROMIUM_FLAGS] });
    try {
      const page = await (await browser.newContext({ offline: true })).newPage();
      for (const name of ["routing.html", "inline.html"]) {
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        await page.goto(`file://${path.join(dir, name)}`);
        await page.waitForSelector("#figure .main-svg", { timeout: 20_000 });
        expect(await page.locator("#figure .annotation-text").allTextContents()).toContain("route threshold 0.45");
        expect(errors).toEqual([]);
      }
    } finally {
      await browser.close();
    }
  });

  test("a closed renderer and a missing Chromium are refused by name", async () => {
    const other = await FigureRenderer.open();
    await other.close();
    await other.close();
    await expect(other.render(figure, path.join(dir, "x"))).rejects.toThrow(/x: the renderer is closed/);
    await expect(FigureRenderer.open({ executablePath: "/nonexistent/chromium" })).rejects.toThrow(RenderError);
  });
});

describe("figureHtml", () => {
  test("labels cannot end the script; the title is plain text", () => {
    const html = figureHtml({ data: [{ type: "bar", x: ["</script><b>"], y: [1] }], layout: { title: { text: "A &amp; B<br><sup>sub</sup>" }, width: 10 } });
    expect(html).not.toContain("</script><b>");
    expect(html).toContain("<title>A &amp;amp; B</title>");
    expect(html).not.toContain('"width":10');
  });
});
