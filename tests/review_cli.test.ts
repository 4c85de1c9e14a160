/**
 * `deno task review` as a person runs it: the first stdout line starting with http:// is the page with its token,
 * the page answers there (and refuses without the token), Ctrl-C stops it with exit 0; --help and bad arguments.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, test } from "vitest";

const DENO = path.resolve("node_modules/.bin/deno");
const ENV = { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
const root = mkdtempSync(path.join(tmpdir(), "facesets-review-cli-"));
const library = path.join(root, "library");
mkdirSync(library);
writeFileSync(path.join(library, "manifest.json"), JSON.stringify({ facesets: [] }));

const review = (args: string[]) => spawnSync(DENO, ["task", "-q", "review", ...args], { env: ENV, encoding: "utf8" });

describe("deno task review", () => {
  test("prints the page's address (the --port given) with its token first, serves it, refuses without the token, stops on Ctrl-C", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const ok = spawn(DENO, ["run", "-A", "scripts/review.ts", "--library", library, "--port", String(port), "--no-open"], { env: ENV });
    const lines = createInterface({ input: ok.stdout });
    const url = await new Promise<string>((resolve) => lines.on("line", (l) => l.startsWith("http://") && resolve(l)));
    const okExit = new Promise<number | null>((resolve) => ok.on("exit", (code) => resolve(code)));
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?t=[0-9a-f]{64}$`));
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>facesets review</title>");
    expect((await fetch(url.replace(/\?t=.*/, ""))).status).toBe(403);
    ok.kill("SIGINT");
    expect(await okExit).toBe(0);
  });

  test("a --port in use is a one-line error (exit 1)", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    const r = review(["--library", library, "--port", String(port), "--no-open"]);
    blocker.close();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`port ${port} is in use`);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  test.each([
    [["--help"], 0, /^usage: deno task review --library DIR \[--store PATH\] \[--port N\] \[--no-open\] \[--help\]/],
    [[], 2, /--library DIR is required/],
    [["--library", path.join(root, "nope")], 2, /is not a folder/],
    [["--library", library, "--store", path.join(root, "none.duckdb")], 2, /--store .*none\.duckdb does not exist/],
    [["--library", library, "--port", "http"], 2, /--port http is not a port number/],
    [["--library", library, "--port", "70000"], 2, /--port 70000 is not a port number/],
  ])("%j exits %i", (args, code, text) => {
    const r = review(args);
    expect(r.status).toBe(code);
    expect(code === 0 ? r.stdout : r.stderr).toMatch(text);
  });
});
