/**
 * The review page in headless Chromium (Debian's, through playwright-core, launched as the report figures do), for
 * the screenshot script, the bench and the tests. Every request that is not to the review server is recorded in
 * `outside`: the page must work with no network, so it must make none.
 */
import { stat } from "node:fs/promises";
import process from "node:process";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { CHROMIUM_FLAGS, DEFAULT_CHROMIUM } from "../report/render";

export class ReviewBrowserError extends Error {
  override name = "ReviewBrowserError";
}

export interface ReviewBrowser {
  browser: Browser;
  context: BrowserContext;
  /** URLs the page requested from anywhere but `origin`. */
  outside: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Launch Chromium ($FACESETS_CHROMIUM or /usr/bin/chromium) with a context that may only reach `origin`. */
export async function openReviewBrowser(origin: string, viewport = { width: 1280, height: 900 }): Promise<ReviewBrowser> {
  const executablePath = process.env.FACESETS_CHROMIUM ?? DEFAULT_CHROMIUM;
  if (!(await stat(executablePath).then((s) => s.isFile(), () => false))) {
    throw new ReviewBrowserError(`${executablePath}: no Chromium there; apt-get install -y --no-install-recommends chromium, or set FACESETS_CHROMIUM`);
  }
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_FLAGS] });
  const context = await browser.newContext({ viewport });
  const outside: string[] = [];
  // Listened to, not intercepted: interception would route every thumbnail through playwright and slow the page.
  context.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith("about:")) outside.push(url);
  });
  return {
    browser,
    context,
    outside,
    newPage: () => context.newPage(),
    close: () => browser.close(),
  };
}

/** Go to `url` and wait until the page has rendered its view (app.js marks the body) and its images settled. */
export async function loadReviewPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector("body[data-loaded]");
  await page.waitForLoadState("networkidle");
}
