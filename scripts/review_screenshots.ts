/**
 * deno task review-screenshots — PNG screenshots of the review page's Sets, Leftovers and Runs pages for a library,
 * taken in headless Chromium (the README's pictures in docs/review/ are made with it; see --help for how).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DEFAULT_CONFIG } from "../lib/mod";
import {
  HELP_PRINTED,
  parseCommandArgs,
  requireExistingPath,
  requireFolder,
  requireOption,
  runMain,
} from "../lib/cli/mod";
import { curationApi, loadReviewPage, openReviewBrowser, startReviewServer } from "../lib/review/mod";

const USAGE = `usage: deno task review-screenshots --library DIR [--store PATH] [--out DIR] [--width PX] [--height PX]

Serve the library as deno task review does, open each page (Sets, Leftovers, Runs) in headless Chromium
(/usr/bin/chromium or $FACESETS_CHROMIUM) and write review-sets.png, review-leftovers.png and review-runs.png.
The pictures in docs/review/ come from a library made of ../shared photos:
  deno task scan --source PHOTOS/people --models ../shared/models   (and PHOTOS/bucket)
  deno task build-folders --folders PHOTOS/people --library LIB; deno task cluster-osrc --source PHOTOS/bucket --library LIB
  deno task curate name --library LIB --set 3 --person "Angelina Jolie"
  deno task review-screenshots --library LIB --store data/facesets.duckdb --out docs/review

  --library DIR   the face-set library
  --store PATH    the face store (measures, distances, leftovers)
  --out DIR       where the PNGs go (default: docs/review)
  --width PX      browser viewport width (default 1280)
  --height PX     browser viewport height (default 900)
  --help          show this help`;

const OPTIONS = {
  library: { type: "string" },
  store: { type: "string" },
  out: { type: "string", default: "docs/review" },
  width: { type: "string", default: "1280" },
  height: { type: "string", default: "900" },
} as const;

const PAGES = [["review-sets.png", "/"], ["review-leftovers.png", "/leftovers"], ["review-runs.png", "/runs"]] as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const libraryDir = requireFolder("--library", requireOption(values, "library", "DIR"));
  if (values.store !== undefined) requireExistingPath("--store", values.store);
  const viewport = { width: Number(values.width), height: Number(values.height) };
  mkdirSync(values.out, { recursive: true });

  const server = await startReviewServer({ libraryDir, storePath: values.store, config: DEFAULT_CONFIG, curation: curationApi });
  const browser = await openReviewBrowser(new URL(server.url).origin, viewport);
  try {
    const page = await browser.newPage();
    for (const [file, pathname] of PAGES) {
      const url = new URL(server.url);
      url.pathname = pathname;
      await loadReviewPage(page, url.href);
      const out = path.join(values.out, file);
      await page.screenshot({ path: out });
      console.log(`screenshot: ${out}`);
    }
    if (browser.outside.length > 0) throw new Error(`the page requested ${browser.outside[0]} from outside the machine`);
  } finally {
    await browser.close();
    await server.close();
  }
  return 0;
}

await runMain(main, USAGE);
