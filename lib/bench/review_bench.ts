/**
 * [review] bench: how fast the review page's Sets page shows a library of 1,000 faces, in headless Chromium, with
 * the thumbnails not made yet (cold) and made (warm). The library is synthetic but real on disk: sets written by
 * addFacesets with 512 px PNG crops, and a temp store whose faces the sets name (so distances are recomputed from
 * embeddings, as on a real library). Not exported from lib/mod.ts: it loads lib/review (see lib/review/mod.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { mulberry32, syntheticIdentities } from "../cluster/synthetic";
import type { RunConfig } from "../config";
import { addFacesets, type NewFace, type NewFaceset } from "../library/write";
import { openReviewBrowser } from "../review/browser";
import { curationApi } from "../review/curation_api";
import { type ReviewServer, startReviewServer } from "../review/server";
import { faceId } from "../store/ids";
import type { FileOutcome } from "../store/records";
import { FaceStore } from "../store/store";
import type { BBox, Landmarks5 } from "../types";
import { sha256Bytes } from "../util/hash";

export interface ReviewBenchOptions {
  /** Faces in the library (default 1000), in sets of `perSet` (default 25). */
  faces?: number;
  perSet?: number;
  config: RunConfig;
  log?: (line: string) => void;
}

export interface ReviewBenchTimes {
  /** The server building the Sets view (library, store, distances) as JSON, asked directly. */
  viewMs: number;
  /** From navigation to the view rendered: the view JSON built and every set's tiles in the page. */
  shownMs: number;
  /** Until the thumbnails of the first screen are loaded. */
  firstScreenMs: number;
  /** Until every thumbnail of the page is loaded (lazy ones forced). */
  allThumbsMs: number;
  /** Thumbnails made during this load. */
  made: number;
}

export interface ReviewBenchResult {
  faces: number;
  sets: number;
  buildMs: number;
  cold: ReviewBenchTimes;
  warm: ReviewBenchTimes;
}

const DIM = 512;
const CROP_PX = 512;

/** A distinct 512 px crop-like PNG per face (a gradient and a disc, so the thumbnails are real work). */
async function cropPng(i: number): Promise<Uint8Array> {
  const hue = (i * 47) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${CROP_PX}" height="${CROP_PX}">` +
    `<defs><linearGradient id="g" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},45%,35%)"/><stop offset="1" stop-color="hsl(${(hue + 60) % 360},45%,75%)"/></linearGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#g)"/><circle cx="256" cy="240" r="${120 + (i % 40)}" fill="hsl(30,40%,${55 + (i % 20)}%)"/></svg>`;
  return new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer());
}

/** Write the synthetic library (faces in sets of perSet, 512 px crops) and its store under `root`. */
export async function buildReviewBenchLibrary(root: string, faces: number, perSet: number, config: RunConfig): Promise<{ libraryDir: string; storePath: string; sets: number }> {
  const sets = Math.ceil(faces / perSet);
  const synthetic = syntheticIdentities({ identities: sets, perIdentity: perSet, dim: DIM, seed: 12, shuffle: false });
  const random = mulberry32(7);
  const storePath = path.join(root, "store.duckdb");
  const libraryDir = path.join(root, "library");
  const outcomes: FileOutcome[] = [];
  const newSets: NewFaceset[] = [];
  for (let s = 0; s < sets; s++) {
    const setFaces: NewFace[] = [];
    for (let k = 0; k < perSet && s * perSet + k < faces; k++) {
      const i = s * perSet + k;
      const sha256 = sha256Bytes(new TextEncoder().encode(`review-bench-${i}`));
      const bbox: BBox = [100, 100, 100 + 150 + Math.round(random() * 100), 100 + 180 + Math.round(random() * 100)];
      const kps: Landmarks5 = [[160, 170], [220, 170], [190, 200], [165, 235], [215, 235]];
      const embedding = synthetic.embeddings.slice(i * DIM, (i + 1) * DIM);
      const face = { bbox, kps, detScore: 0.6 + random() * 0.4, faceShortPx: bbox[2] - bbox[0], blur: 40 + random() * 400, detSizePx: config.detection.detSizePx, embedding };
      const source = path.join(root, "photos", `p${String(i).padStart(4, "0")}.jpg`);
      outcomes.push({ path: source, sha256, size: 1000 + i, mtimeMs: 1_700_000_000_000, status: "ok", width: 1024, height: 768, faces: [face], recognizerSha256: "review-bench" });
      const id = faceId(sha256, 0);
      setFaces.push({ source, bbox, detScore: face.detScore, faceShortPx: face.faceShortPx, blur: face.blur, crop: `face_${id}.png`, centroidCosDist: 0, faceId: id, sourceSha256: sha256, kps, png: await cropPng(i) });
    }
    newSets.push({ origin: "discovered", faces: setFaces });
  }
  const store = await FaceStore.open(storePath);
  try {
    const runId = await store.beginRun({ command: "bench review", config, detectorSha256: null, recognizerSha256: "review-bench" });
    await store.commitBatch(runId, outcomes);
    await store.finishRun(runId, { files: outcomes.length });
  } finally {
    await store.close();
  }
  await addFacesets(libraryDir, newSets);
  return { libraryDir, storePath, sets };
}

/** The narrow view of the page's `document` the bench needs (types only: the closures below run in the browser). */
type PageImage = { loading: string; complete: boolean; getBoundingClientRect(): { top: number } };
type PageGlobal = { innerHeight: number; document: { querySelectorAll(selector: string): Iterable<PageImage> } };

/** Load the Sets page in a fresh Chromium and time it (see ReviewBenchTimes). */
async function loadSetsPage(server: ReviewServer): Promise<ReviewBenchTimes> {
  const browser = await openReviewBrowser(new URL(server.url).origin);
  try {
    const page = await browser.newPage();
    const viewStart = performance.now();
    const res = await fetch(new URL(`/api/sets?t=${server.token}`, server.url));
    if (!res.ok) throw new Error(`GET /api/sets: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    const viewMs = performance.now() - viewStart;
    const before = server.thumbnails.stats.made;
    const start = performance.now();
    await page.goto(server.url);
    await page.waitForSelector("body[data-loaded]");
    const shownMs = performance.now() - start;
    await page.waitForFunction(
      () => {
        const g = globalThis as unknown as PageGlobal;
        const inView = [...g.document.querySelectorAll("figure.tile img")].filter((img) => img.getBoundingClientRect().top < g.innerHeight);
        return inView.length > 0 && inView.every((img) => img.complete);
      },
      undefined,
      { timeout: 600_000, polling: 50 },
    );
    const firstScreenMs = performance.now() - start;
    // These run in the page; Deno type-checks lib/ without the DOM's types, hence the narrow view of `document`.
    await page.evaluate(() => {
      for (const img of (globalThis as unknown as PageGlobal).document.querySelectorAll("figure.tile img")) img.loading = "eager";
    });
    await page.waitForFunction(
      () => [...(globalThis as unknown as PageGlobal).document.querySelectorAll("figure.tile img")].every((img) => img.complete),
      undefined,
      { timeout: 600_000, polling: 200 },
    );
    const allThumbsMs = performance.now() - start;
    if (browser.outside.length > 0) throw new Error(`the page fetched from outside: ${browser.outside[0]}`);
    return { viewMs, shownMs, firstScreenMs, allThumbsMs, made: server.thumbnails.stats.made - before };
  } finally {
    await browser.close();
  }
}

/** Build the library, then load its Sets page cold and warm in Chromium. */
export async function benchReview({ faces = 1000, perSet = 25, config, log = () => {} }: ReviewBenchOptions): Promise<ReviewBenchResult> {
  const root = mkdtempSync(path.join(tmpdir(), "facesets-review-bench-"));
  try {
    const t0 = performance.now();
    log(`building a ${faces}-face library in ${root}`);
    const { libraryDir, storePath, sets } = await buildReviewBenchLibrary(root, faces, perSet, config);
    const buildMs = performance.now() - t0;
    // With the curation API, as `deno task review` runs: the Sets view then also reads the ledger's status.
    const server = await startReviewServer({ libraryDir, storePath, config, curation: curationApi });
    try {
      log("cold load (thumbnails made)");
      const cold = await loadSetsPage(server);
      // A fresh browser: the warm load measures the server's cache, not the browser's.
      log("warm load (thumbnails cached)");
      const warm = await loadSetsPage(server);
      return { faces, sets, buildMs, cold, warm };
    } finally {
      await server.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
