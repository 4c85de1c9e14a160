/**
 * FigureRenderer: Plotly figure specs to PNG (for markdown reports) and standalone interactive HTML (for looking
 * closer), with real Plotly in Debian's headless Chromium via playwright-core.
 *
 * One browser, one page, Plotly loaded once: loading plotly.min.js (4.8 MB) into a page costs seconds, each figure
 * after that ~0.2 s. So the renderer has an explicit lifetime: `open()`, any number of `render()`, `close()`.
 *
 * HTML and plotly.min.js: by default the HTML references `plotly.min.js` placed once beside it (relative
 * `<script src>`, which browsers load from file:// without a server). A report folder of ten figures then costs
 * 4.8 MB once instead of 48 MB, and still works offline as long as the folder is kept together. `inlinePlotly: true`
 * inlines it instead, for a single file that is mailed or moved alone.
 *
 * The browser context is offline: a figure that would fetch anything (map tiles, fonts from a CDN) fails here
 * rather than in the reader's hands.
 */
import { readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import { type Browser, chromium, type Page } from "playwright-core";
import { writeFileAtomic } from "../util/atomic";
import type { PlotFigure } from "./figures";

export class RenderError extends Error {
  override name = "RenderError";
}

/** Debian's chromium package (apt-get install -y --no-install-recommends chromium). */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";
/** Flags for headless Chromium in containers and CI (no GPU, no sandbox privileges, no background traffic). */
export const CHROMIUM_FLAGS: readonly string[] = Object.freeze([
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
]);
export const PLOTLY_FILE = "plotly.min.js";

export interface RendererOptions {
  /** Chromium binary. Default $FACESETS_CHROMIUM, else /usr/bin/chromium. */
  executablePath?: string;
  /** plotly.min.js to load. Default: resolved from the plotly.js-dist-min package (looked up from the cwd). */
  plotlyPath?: string;
}

export interface RenderOptions {
  /** CSS pixels of the PNG before `scale`. Default 900 x 550. */
  width?: number;
  height?: number;
  /** Device pixel ratio of the PNG: 2 gives crisp text in documents. The PNG is width*scale x height*scale. Default 2. */
  scale?: number;
  /** Put plotly.min.js inside the HTML instead of beside it (see the header). Default false. */
  inlinePlotly?: boolean;
  /** Skip the HTML and write only the PNG. Default false. */
  pngOnly?: boolean;
}

export interface RenderedFigure {
  png: string;
  html?: string;
  /** Pixel size of the PNG. */
  width: number;
  height: number;
  ms: number;
}

/** Browser-side entry installed once into the page (plain JS: it runs in Chromium, not here). */
const PAGE_SCRIPT = `
window.__facesetsRender = async (fig, width, height, scale) => {
  const div = document.createElement("div");
  document.body.appendChild(div);
  try {
    await Plotly.newPlot(div, fig.data, Object.assign({}, fig.layout, { width, height }), { staticPlot: true });
    return await Plotly.toImage(div, { format: "png", width, height, scale });
  } finally {
    Plotly.purge(div);
    div.remove();
  }
};`;

type RenderFn = (fig: PlotFigure, width: number, height: number, scale: number) => Promise<string>;

function resolvePlotly(): string {
  try {
    // Not import.meta: notebooks load lib through tslab, which refuses it (toolchain.md). The cwd is the project or
    // below it (notebooks/), and Node's lookup walks up to node_modules.
    return createRequire(join(process.cwd(), "noop.js")).resolve(`plotly.js-dist-min/${PLOTLY_FILE}`);
  } catch {
    throw new RenderError(
      `cannot find plotly.js-dist-min from ${process.cwd()}; run npm ci in the project, or pass plotlyPath`,
    );
  }
}

/** Figure title as plain text (for the HTML <title>): the layout's title without its subtitle and tags. */
function plainTitle(fig: PlotFigure): string {
  const t = fig.layout.title as { text?: string } | string | undefined;
  const text = typeof t === "string" ? t : t?.text ?? "figure";
  return text.split("<br>")[0]!.replace(/<[^>]*>/g, "").trim() || "figure";
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
/** JSON safe inside <script>: "</script>" or "<!--" in a label must not end the script. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

/** Standalone HTML of one figure; `plotly` is the inline source, or undefined to reference ./plotly.min.js. */
export function figureHtml(fig: PlotFigure, plotly?: string): string {
  const { width: _w, height: _h, ...layout } = fig.layout;
  const script = plotly === undefined ? `<script src="${PLOTLY_FILE}"></script>` : `<script>${plotly}</script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(plainTitle(fig))}</title>
${script}
<style>html, body { margin: 0; height: 100%; } #figure { width: 100%; height: 100vh; }</style>
</head>
<body>
<div id="figure"></div>
<script>
const fig = ${scriptJson({ data: fig.data, layout: { ...layout, autosize: true } })};
Plotly.newPlot("figure", fig.data, fig.layout, { responsive: true, displaylogo: false });
</script>
</body>
</html>
`;
}

export class FigureRenderer {
  private constructor(
    private browser: Browser | undefined,
    private readonly page: Page,
    private readonly plotly: string,
    /** How long opening took (browser + Plotly load), ms: for benches and notebooks. */
    readonly openMs: number,
  ) {}

  /** Launch Chromium and load Plotly into one page. Close the renderer when done (finally). */
  static async open(options: RendererOptions = {}): Promise<FigureRenderer> {
    const start = performance.now();
    const executablePath = options.executablePath ?? process.env.FACESETS_CHROMIUM ?? DEFAULT_CHROMIUM;
    const plotlyPath = options.plotlyPath ?? resolvePlotly();
    let plotly: string;
    try {
      plotly = await readFile(plotlyPath, "utf8");
    } catch (err) {
      throw new RenderError(`${plotlyPath}: cannot read Plotly (${(err as { code?: string }).code ?? String(err)})`);
    }
    const exists = await stat(executablePath).then((s) => s.isFile(), () => false);
    if (!exists) {
      throw new RenderError(
        `${executablePath}: no Chromium there; apt-get install -y --no-install-recommends chromium, or set FACESETS_CHROMIUM`,
      );
    }
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath, args: [...CHROMIUM_FLAGS] });
      const context = await browser.newContext({ offline: true });
      const page = await context.newPage();
      await page.setContent("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>");
      await page.addScriptTag({ content: plotly });
      await page.addScriptTag({ content: PAGE_SCRIPT });
      return new FigureRenderer(browser, page, plotly, performance.now() - start);
    } catch (err) {
      await browser?.close().catch(() => {});
      throw new RenderError(`cannot start Chromium ${executablePath} with Plotly: ${(err as Error).message ?? err}`);
    }
  }

  /**
   * Render `fig` to `<outBase>.png` and `<outBase>.html` (plus `plotly.min.js` in the same folder unless inlined).
   * Files are written atomically; the folder must exist.
   */
  async render(fig: PlotFigure, outBase: string, options: RenderOptions = {}): Promise<RenderedFigure> {
    if (!this.browser) throw new RenderError(`render ${outBase}: the renderer is closed`);
    const start = performance.now();
    const width = options.width ?? 900;
    const height = options.height ?? 550;
    const scale = options.scale ?? 2;
    const base = resolve(outBase.replace(/\.(png|html)$/i, ""));
    const png = `${base}.png`;
    let dataUrl: string;
    try {
      dataUrl = await this.page.evaluate(
        ([f, w, h, s]) => (globalThis as unknown as { __facesetsRender: RenderFn }).__facesetsRender(f, w, h, s),
        [fig, width, height, scale] as const,
      );
    } catch (err) {
      throw new RenderError(`${png}: Plotly could not render the figure: ${(err as Error).message ?? err}`);
    }
    const prefix = "data:image/png;base64,";
    if (!dataUrl.startsWith(prefix)) throw new RenderError(`${png}: Plotly returned no PNG (${dataUrl.slice(0, 40)}...)`);
    await writeFileAtomic(png, Buffer.from(dataUrl.slice(prefix.length), "base64"));
    let html: string | undefined;
    if (!options.pngOnly) {
      html = `${base}.html`;
      if (options.inlinePlotly) {
        await writeFileAtomic(html, figureHtml(fig, this.plotly));
      } else {
        await this.placePlotly(dirname(html));
        await writeFileAtomic(html, figureHtml(fig));
      }
    }
    return { png, ...(html ? { html } : {}), width: Math.round(width * scale), height: Math.round(height * scale), ms: performance.now() - start };
  }

  /** Write plotly.min.js into `dir` unless the same file (by size) is there already. */
  private async placePlotly(dir: string): Promise<void> {
    const target = join(dir, PLOTLY_FILE);
    const size = await stat(target).then((s) => s.size, () => -1);
    if (size !== Buffer.byteLength(this.plotly)) await writeFileAtomic(target, this.plotly);
  }

  /** Close the browser. Safe to call twice. */
  async close(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    await browser?.close();
  }
}

/** Render several figures with one renderer: `{name: figure}` to `<dir>/<name>.png|.html`. */
export async function renderFigures(
  figures: Record<string, PlotFigure>,
  dir: string,
  options: RenderOptions & RendererOptions = {},
): Promise<RenderedFigure[]> {
  const renderer = await FigureRenderer.open(options);
  try {
    const out: RenderedFigure[] = [];
    for (const [name, fig] of Object.entries(figures)) {
      if (basename(name) !== name) throw new RenderError(`renderFigures: figure name ${JSON.stringify(name)} must be a plain file name`);
      out.push(await renderer.render(fig, join(dir, name), options));
    }
    return out;
  } finally {
    await renderer.close();
  }
}
