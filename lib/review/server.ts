/**
 * The review server: node:http on 127.0.0.1, plain HTML/CSS/JS from ./assets, JSON views, images by id, and
 * decisions through the curation API. Every request passes safety.ts first. The library is read afresh for every
 * view, so hand edits and other commands' writes show on the next load; the store is opened read-only only while a
 * view is built (a scan or curate command in another terminal can take it between loads).
 *
 *   GET  /, /leftovers, /runs        the page (one HTML file; app.js renders the view named by the path)
 *   GET  /assets/app.js|app.css|icon.svg  the page's script, style and icon
 *   GET  /api/sets|leftovers|runs    view models (view.ts, leftovers.ts)
 *   GET  /img/<id>                   a thumbnail or source photo, by an id a view handed out
 *   POST /api/decide                 one decision (decisions.ts); the page reloads its view after it
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunConfig } from "../config";
import { readLibrary } from "../library/read";
import { sha256Bytes } from "../util/hash";
import { availableVerbs, type CurationApi, decide, DecisionRequestError, parseDecision } from "./decisions";
import { buildLeftoversView } from "./leftovers";
import { checkRequest, LOOPBACK_HOST, newToken, refusedPath, SECURITY_HEADERS, serverOrigin, TOKEN_PARAM } from "./safety";
import { ThumbnailCache } from "./thumbs";
import { buildRunsView, buildSetsView, readStoreSnapshot, type ServedFile, type SetStatus, type StoreSnapshot } from "./view";

export interface ReviewServerOptions {
  libraryDir: string;
  /** The face store (metrics, distances, leftovers); without it the page shows the library's own numbers. */
  storePath?: string;
  config: RunConfig;
  /** 0 (default): a free port. */
  port?: number;
  /** The curation functions decisions go through (lib/curation); verbs it lacks are refused with a reason. */
  curation?: Partial<CurationApi>;
  /** A fixed token (tests); default a fresh random one. */
  token?: string;
  /** One line per refused request or failed decision. */
  log?: (line: string) => void;
}

export interface ReviewServer {
  /** The page's address with the token, e.g. `http://127.0.0.1:8123/?t=...`. */
  url: string;
  port: number;
  token: string;
  thumbnails: ThumbnailCache;
  /** Stop listening; waits for a decision in progress. */
  close(): Promise<void>;
}

export class ReviewServerError extends Error {
  override name = "ReviewServerError";
}

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  "/assets/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/assets/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
  "/assets/icon.svg": { file: "icon.svg", type: "image/svg+xml" },
};
const PAGES = new Set(["/", "/leftovers", "/runs"]);
const IMAGE_TYPES: Readonly<Record<string, string>> = { ".webp": "image/webp", ".jpg": "image/jpeg" };
/** Largest decision body accepted (a selection of a few thousand face ids fits easily). */
const MAX_BODY_BYTES = 1 << 20;

// Not import.meta.dirname: Node 20 lacks it. lib/review is never imported by notebooks (tslab refuses import.meta).
const ASSET_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "assets");

/** Serialises decisions, and view builds behind them, so a view never reads a half-made decision. */
class Queue {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn, fn);
    this.#tail = next.catch(() => {});
    return next;
  }
  idle(): Promise<unknown> {
    return this.#tail;
  }
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Start serving `libraryDir`. Resolves once listening; rejects with ReviewServerError when the port is taken. */
export async function startReviewServer(options: ReviewServerOptions): Promise<ReviewServer> {
  const libraryDir = path.resolve(options.libraryDir);
  const storePath = options.storePath === undefined ? undefined : path.resolve(options.storePath);
  const { config, curation = {} } = options;
  const log = options.log ?? (() => {});
  const token = options.token ?? newToken();
  const thumbnails = new ThumbnailCache(libraryDir, config);
  const files = new Map<string, ServedFile>();
  const queue = new Queue();
  let port = 0;

  const register = (file: ServedFile): string => {
    const identity = file.kind === "crop"
      ? `c\0${file.file}`
      : file.kind === "store-face"
      ? `f\0${file.row.faceId}`
      : `p\0${file.source}\0${file.bbox.join(",")}`;
    const id = file.kind[0] + sha256Bytes(new TextEncoder().encode(identity)).slice(0, 24);
    files.set(id, file);
    return id;
  };

  let cached: { signature: string; snapshot?: StoreSnapshot; note?: string } | undefined;
  /**
   * The store's faces, re-read only when the store file changed since the last view. When it cannot be read now
   * (a scan in another terminal holds it), the last faces read are shown, with a note, and the next view tries again.
   */
  const snapshot = async (): Promise<{ snapshot?: StoreSnapshot; note?: string }> => {
    if (storePath === undefined) return await readStoreSnapshot(undefined);
    const signature = (await Promise.all([storePath, `${storePath}.wal`].map((f) => stat(f).then((s) => `${s.size}:${s.mtimeMs}`, () => "-")))).join("|");
    if (cached?.signature === signature && cached.snapshot) return cached;
    const fresh = await readStoreSnapshot(storePath);
    if (fresh.snapshot || !cached?.snapshot) cached = { signature, ...fresh };
    else return { snapshot: cached.snapshot, note: `${fresh.note}; showing the store as last read` };
    return cached;
  };

  const statuses = async (): Promise<SetStatus[] | undefined> =>
    curation.libraryStatus ? (await curation.libraryStatus(libraryDir)).sets : undefined;

  const views: Record<string, () => Promise<unknown>> = {
    "/api/sets": async () => {
      // Crops are checked when served (ThumbnailCache.cropThumb), not all at every view: 1,000 realpaths cost ~0.3 s.
      const library = await readLibrary(libraryDir, { checkCrops: false });
      const store = await snapshot();
      const view = buildSetsView(library, store.snapshot, await statuses(), register);
      if (store.note) view.notes.push(store.note);
      if (!curation.libraryStatus) view.notes.push("person names need lib/curation's libraryStatus, which is not available");
      return { ...view, verbs: availableVerbs(curation) };
    },
    "/api/leftovers": async () => {
      const library = await readLibrary(libraryDir, { checkCrops: false });
      const store = await snapshot();
      const view = await buildLeftoversView(library, store.snapshot, register);
      if (store.note) view.notes.push(store.note);
      const sets = [...library.sets.values()].sort((a, b) => a.number - b.number).map((s) => s.name);
      const people = Object.fromEntries(((await statuses()) ?? []).flatMap((s) => (s.person ? [[s.set, s.person]] : [])));
      return { ...view, sets, people, verbs: availableVerbs(curation) };
    },
    "/api/runs": async () => ({ ...(await buildRunsView(libraryDir)), verbs: availableVerbs(curation) }),
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body));
  };
  const sendText = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" });
    res.end(`${text}\n`);
  };

  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    const type = String(req.headers["content-type"] ?? "");
    if (!type.startsWith("application/json")) throw new HttpError(415, "decisions are sent as application/json");
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new HttpError(413, "request body too large");
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      throw new HttpError(400, "the body is not valid JSON");
    }
  };

  const serveImage = async (res: ServerResponse, id: string) => {
    const file = files.get(id);
    if (!file) throw new HttpError(404, "no such image id");
    let made: string;
    try {
      made = file.kind === "crop"
        ? await thumbnails.cropThumb(file.file, file.setDir)
        : file.kind === "store-face"
        ? await thumbnails.storeFaceThumb(file.row)
        : await thumbnails.photoWithBox(file.source, file.bbox);
    } catch (err) {
      throw new HttpError(404, `image not available: ${(err as Error).message.split("\n")[0]}`);
    }
    const bytes = await readFile(made);
    // Made files never change under their key: the browser may keep them for the session.
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": IMAGE_TYPES[path.extname(made)] ?? "application/octet-stream",
      "cache-control": "private, max-age=3600",
    });
    res.end(bytes);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawUrl = req.url ?? "/";
    const verdict = checkRequest({ method: req.method ?? "", url: rawUrl, headers: req.headers }, { token, port });
    if (!verdict.ok) {
      log(`refused ${req.method} ${rawUrl.split("?")[0]}: ${verdict.reason}`);
      return sendText(res, verdict.status, `refused: ${verdict.reason}`);
    }
    const pathname = rawUrl.split("?")[0]!;
    const refused = refusedPath(pathname);
    if (refused) {
      log(`refused ${req.method} ${pathname}: ${refused}`);
      return sendText(res, 403, `refused: ${refused}`);
    }
    if (req.method === "POST") {
      if (pathname !== "/api/decide") throw new HttpError(404, "not found");
      const decision = parseDecision(await readBody(req));
      const outcome = await queue.run(() => decide(curation, { libraryDir, storePath }, decision));
      return sendJson(res, 200, outcome);
    }
    if (PAGES.has(pathname)) {
      const html = (await readFile(path.join(ASSET_DIR, "index.html"), "utf8")).replaceAll("__TOKEN__", encodeURIComponent(token));
      res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8" });
      return res.end(html);
    }
    const asset = ASSETS[pathname];
    if (asset) {
      res.writeHead(200, { ...SECURITY_HEADERS, "content-type": asset.type });
      return res.end(await readFile(path.join(ASSET_DIR, asset.file)));
    }
    const view = views[pathname];
    if (view) return sendJson(res, 200, await queue.run(view));
    const image = /^\/img\/([a-z][0-9a-f]{24})$/.exec(pathname);
    if (image) return await serveImage(res, image[1]!);
    throw new HttpError(404, "not found");
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      const status = err instanceof HttpError ? err.status : err instanceof DecisionRequestError ? 400 : 500;
      const message = (err as Error).message.split("\n")[0]!;
      if (status >= 500 || req.method === "POST") log(`${req.method} ${(req.url ?? "").split("?")[0]}: ${message}`);
      if (res.headersSent) return res.end();
      // Curation's refusals (unknown set, not-same...) are the person's mistakes, not the server's: 409 with the reason.
      const refusal = status === 500 && (err as Error).name === "CurateError";
      if (req.url?.startsWith("/api/")) sendJson(res, refusal ? 409 : status, { error: message });
      else sendText(res, refusal ? 409 : status, message);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new ReviewServerError(
          err.code === "EADDRINUSE" ? `port ${options.port} is in use; pass another --port or none for a free one` : `cannot listen: ${err.message}`,
        ),
      ));
    server.listen(options.port ?? 0, LOOPBACK_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `${serverOrigin(port)}/?${TOKEN_PARAM}=${encodeURIComponent(token)}`,
    port,
    token,
    thumbnails,
    async close() {
      await queue.idle();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // the browser's keep-alive connections would hold close() open
      await closed;
    },
  };
}
