/**
 * The review server's refusals (issue 12 point 4): only loopback; no token, a foreign Host or a foreign Origin on a
 * POST is 403; a path that tries to leave the library is 403 and never reaches the file system; files only by id.
 * The rules as pure functions first (table), then over a real socket against a hand-made library.
 */
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { chromium } from "playwright-core";
import { CHROMIUM_FLAGS, DEFAULT_CHROMIUM, DEFAULT_CONFIG } from "../lib/mod";
import { checkRequest, curationApi, refusedPath, type ReviewServer, startReviewServer } from "../lib/review/mod";

const TOKEN = "a".repeat(64);
const PORT = 4567;
const HOST = `127.0.0.1:${PORT}`;

describe("checkRequest", () => {
  const ok = { method: "GET", url: `/api/sets?t=${TOKEN}`, headers: { host: HOST } };
  test.each([
    ["token in the query", ok, true],
    ["token in the header", { method: "GET", url: "/api/sets", headers: { host: HOST, "x-facesets-token": TOKEN } }, true],
    ["no token", { ...ok, url: "/api/sets" }, false],
    ["a token one character short", { ...ok, url: `/api/sets?t=${TOKEN.slice(1)}` }, false],
    ["a wrong token of the right length", { ...ok, url: `/api/sets?t=${"b".repeat(64)}` }, false],
    ["Host localhost (DNS rebinding names)", { ...ok, headers: { host: `localhost:${PORT}` } }, false],
    ["Host of another port", { ...ok, headers: { host: `127.0.0.1:${PORT + 1}` } }, false],
    ["a foreign Host", { ...ok, headers: { host: "evil.example:4567" } }, false],
    ["no Host", { ...ok, headers: {} }, false],
    ["POST from the page's origin", { ...ok, method: "POST", headers: { host: HOST, origin: `http://${HOST}` } }, true],
    ["POST without Origin (a client holding the token)", { ...ok, method: "POST" }, true],
    ["POST from a foreign Origin", { ...ok, method: "POST", headers: { host: HOST, origin: "http://evil.example" } }, false],
    ["POST from localhost as Origin", { ...ok, method: "POST", headers: { host: HOST, origin: `http://localhost:${PORT}` } }, false],
    ["GET with a foreign Origin (reads need the token anyway)", { ...ok, headers: { host: HOST, origin: "http://evil.example" } }, true],
    ["PUT", { ...ok, method: "PUT" }, false],
  ])("%s", (_name, facts, allowed) => {
    expect(checkRequest(facts, { token: TOKEN, port: PORT }).ok).toBe(allowed);
  });
});

describe("refusedPath", () => {
  test.each([
    ["/img/c0123456789abcdef01234567", false],
    ["/", false],
    ["/../etc/passwd", true],
    ["/img/../../secret.txt", true],
    ["/img/%2e%2e/secret.txt", true],
    ["/img/..%2fsecret.txt", true],
    ["/img/a\\b", true],
    ["/img/%00", true],
    ["/img/%zz", true],
  ])("%s refused: %s", (p, refused) => {
    expect(refusedPath(p) !== undefined).toBe(refused);
  });
});

/** A raw HTTP request (fetch cannot set Host), answering status and body. */
function raw(port: number, method: string, target: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path: target, headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the review server over a socket", () => {
  const root = mkdtempSync(path.join(tmpdir(), "facesets-review-safety-"));
  const library = path.join(root, "library");
  const SECRET = "the owner's private notes";
  let server: ReviewServer;
  let host: string;
  const get = (target: string, headers: Record<string, string> = {}) => raw(server.port, "GET", target, { host, ...headers });

  beforeAll(async () => {
    mkdirSync(path.join(library, "faceset_001"), { recursive: true });
    writeFileSync(path.join(root, "secret.txt"), SECRET);
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#808080" } }).png().toBuffer();
    writeFileSync(path.join(library, "faceset_001", "face_a.png"), png);
    const face = { source: path.join(root, "photo.jpg"), bbox: [0, 0, 10, 10], det_score: 0.9, face_short: 10, blur: 50, crop: "face_a.png", centroid_cos_dist: 0.1 };
    writeFileSync(path.join(library, "faceset_001", "manifest.json"), JSON.stringify({ name: "faceset_001", faces: [face] }));
    // A set whose crop is a symlink to a picture outside the library: listed, but never thumbnailed or served.
    mkdirSync(path.join(library, "faceset_002"));
    writeFileSync(path.join(root, "private.png"), png);
    symlinkSync(path.join(root, "private.png"), path.join(library, "faceset_002", "face_b.png"));
    writeFileSync(path.join(library, "faceset_002", "manifest.json"), JSON.stringify({ name: "faceset_002", faces: [{ ...face, crop: "face_b.png" }] }));
    writeFileSync(
      path.join(library, "manifest.json"),
      JSON.stringify({ facesets: [{ name: "faceset_001", count: 1, origin: "hand-sorted" }, { name: "faceset_002", count: 1, origin: "hand-sorted" }] }),
    );
    server = await startReviewServer({ libraryDir: library, config: DEFAULT_CONFIG, token: TOKEN });
    host = `127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  test("listens on the loopback address only, and prints its address with the token", () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?t=${TOKEN}`);
  });

  test("with the token and the loopback Host, the page, its views and a registered image are served", async () => {
    expect((await get(`/?t=${TOKEN}`)).status).toBe(200);
    const sets = await get(`/api/sets?t=${TOKEN}`);
    expect(sets.status).toBe(200);
    const view = JSON.parse(sets.body) as { sets: { tiles: { thumb: string }[] }[] };
    const thumb = view.sets[0]!.tiles[0]!.thumb;
    const image = await get(`/img/${thumb}?t=${TOKEN}`);
    expect(image.status).toBe(200);
    expect(server.thumbnails.stats.made).toBe(1);
  });

  test("no token: 403 for pages, views, images and assets", async () => {
    for (const target of ["/", "/api/sets", "/api/runs", "/assets/app.js", "/img/c0123456789abcdef012345678"]) {
      expect((await get(target)).status, target).toBe(403);
    }
  });

  test("a foreign Host (DNS rebinding) is refused even with the token", async () => {
    expect((await get(`/api/sets?t=${TOKEN}`, { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get(`/api/sets?t=${TOKEN}`, { host: `localhost:${server.port}` })).status).toBe(403);
  });

  test("a state-changing request from a foreign Origin is refused before it is read", async () => {
    const body = JSON.stringify({ verb: "name", set: "faceset_001", person: "Mallory" });
    const foreign = await raw(server.port, "POST", `/api/decide?t=${TOKEN}`, {
      host,
      origin: "http://evil.example",
      "content-type": "application/json",
    }, body);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain("Origin");
    // The same request from the page's own origin passes the checks (and is refused only because no curation is wired here).
    const own = await raw(server.port, "POST", `/api/decide?t=${TOKEN}`, {
      host,
      origin: `http://${host}`,
      "content-type": "application/json",
    }, body);
    expect(own.status).toBe(400);
    expect(own.body).toContain("not available");
  });

  test("paths that try to leave the library are refused and nothing outside it is served", async () => {
    for (const target of ["/img/../../secret.txt", "/../secret.txt", "/img/%2e%2e%2fsecret.txt", "/assets/..%2f..%2f..%2fsecret.txt"]) {
      const res = await get(`${target}?t=${TOKEN}`);
      expect(res.status, target).toBe(403);
      expect(res.body).not.toContain(SECRET);
    }
    // A crop that is a symlink out of its set folder: its id exists, but the file is refused when asked for.
    const view = JSON.parse((await get(`/api/sets?t=${TOKEN}`)).body) as { sets: { name: string; tiles: { thumb: string }[] }[] };
    const escaping = view.sets.find((s) => s.name === "faceset_002")!.tiles[0]!.thumb;
    const made = server.thumbnails.stats.made;
    expect((await get(`/img/${escaping}?t=${TOKEN}`)).status).toBe(404);
    expect(server.thumbnails.stats.made).toBe(made);
    // A well-formed id the server never handed out is simply unknown.
    const unknown = await get(`/img/c${"0".repeat(24)}?t=${TOKEN}`);
    expect(unknown.status).toBe(404);
    expect((await get(`/secret.txt?t=${TOKEN}`)).status).toBe(404);
  });

  test("a decision curation refuses (an unknown set) is answered 409 with curation's reason; a malformed one 400", async () => {
    const curating = await startReviewServer({ libraryDir: library, config: DEFAULT_CONFIG, token: TOKEN, curation: curationApi });
    try {
      const post = (body: unknown) =>
        raw(curating.port, "POST", `/api/decide?t=${TOKEN}`, { host: `127.0.0.1:${curating.port}`, "content-type": "application/json" }, JSON.stringify(body));
      const unknown = await post({ verb: "name", set: "faceset_099", person: "X" });
      expect(unknown.status).toBe(409);
      expect(JSON.parse(unknown.body).error).toContain("faceset_099");
      const malformed = await post({ verb: "merge", sets: "faceset_001" });
      expect(malformed.status).toBe(400);
      expect(JSON.parse(malformed.body).error).toContain('"sets"');
    } finally {
      await curating.close();
    }
  });

  test("answers carry a policy that forbids outside resources and framing", async () => {
    const res = await new Promise<string>((resolve, reject) => {
      request({ host: "127.0.0.1", port: server.port, path: `/?t=${TOKEN}` }, (r) => {
        r.resume();
        resolve(String(r.headers["content-security-policy"]));
      }).on("error", reject).end();
    });
    expect(res).toContain("default-src 'none'");
    expect(res).toContain("frame-ancestors 'none'");
  });
});

describe("the refusals as a browser meets them (real Chromium)", () => {
  const root = mkdtempSync(path.join(tmpdir(), "facesets-review-browser-safety-"));
  const library = path.join(root, "library");

  test("a foreign page cannot decide even with the token, a rebinding host name and a missing token get 403, nothing changes", async () => {
    mkdirSync(path.join(library, "faceset_001"), { recursive: true });
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#808080" } }).png().toBuffer();
    writeFileSync(path.join(library, "faceset_001", "face_a.png"), png);
    const face = { source: path.join(root, "photo.jpg"), bbox: [0, 0, 10, 10], det_score: 0.9, face_short: 10, blur: 50, crop: "face_a.png", centroid_cos_dist: 0.1 };
    writeFileSync(path.join(library, "faceset_001", "manifest.json"), JSON.stringify({ name: "faceset_001", faces: [face] }));
    writeFileSync(path.join(library, "manifest.json"), JSON.stringify({ facesets: [{ name: "faceset_001", count: 1, origin: "hand-sorted" }] }));
    const refused: string[] = [];
    const server = await startReviewServer({ libraryDir: library, config: DEFAULT_CONFIG, curation: curationApi, log: (l) => refused.push(l) });
    // A page on another origin of this machine that knows the token and tries a "simple" cross-site POST (no preflight).
    const decide = `fetch(${JSON.stringify(`http://127.0.0.1:${server.port}/api/decide?t=${server.token}`)}, {
      method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" },
      body: JSON.stringify({ verb: "name", set: "faceset_001", person: "Mallory" }),
    }).then(() => { document.title = "sent"; }, () => { document.title = "failed"; });`;
    const foreign = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><title>evil</title><script>${decide}</script>`);
    });
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", () => resolve()));
    const foreignPort = (foreign.address() as { port: number }).port;
    const browser = await chromium.launch({
      executablePath: process.env.FACESETS_CHROMIUM ?? DEFAULT_CHROMIUM,
      // evil.test resolves to this machine, as a DNS-rebinding attacker's name would.
      args: [...CHROMIUM_FLAGS, "--host-resolver-rules=MAP evil.test 127.0.0.1"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${foreignPort}/`);
      await page.waitForFunction(() => document.title !== "evil");
      expect(refused.some((l) => /^refused POST \/api\/decide: Origin "http:\/\/127\.0\.0\.1:\d+" is not this page's$/.test(l)), refused.join("\n")).toBe(true);

      const rebound = await page.goto(`http://evil.test:${server.port}/?t=${server.token}`);
      expect(rebound!.status()).toBe(403);
      const noToken = await page.goto(`http://127.0.0.1:${server.port}/`);
      expect(noToken!.status()).toBe(403);
      const leaving = await page.goto(`http://127.0.0.1:${server.port}/img/..%2f..%2fsecret.txt?t=${server.token}`);
      expect(leaving!.status()).toBe(403);
      const own = await page.goto(server.url);
      expect(own!.status()).toBe(200);
    } finally {
      await browser.close();
      await server.close();
      await new Promise((resolve) => foreign.close(resolve));
    }
    // Nothing was decided: no ledger was started, the set is as it was.
    expect(existsSync(path.join(library, "_ledger"))).toBe(false);
  });
});
