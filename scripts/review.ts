/**
 * deno task review — the library in the browser: every set, the leftovers, the runs; decisions through lib/curation.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { DEFAULT_CONFIG } from "../lib/mod";
import {
  DEFAULT_STORE_PATH,
  HELP_PRINTED,
  parseCommandArgs,
  requireFolder,
  requireOption,
  runMain,
  UsageError,
} from "../lib/cli/mod";
import { startReviewServer } from "../lib/review/mod";
import { curationApi } from "../lib/review/curation_api";

const USAGE = `usage: deno task review --library DIR [--store PATH] [--port N] [--no-open] [--help]

Serve a review page for the library on 127.0.0.1 and open it in the default browser. Sets: every active set with
its crops, farthest from the centroid first (hover: face_short, blur, det_score, distance; click: the source photo
with the face's box). Leftovers: faces of the latest discovery runs that are in no set. Runs: the run records.
Name, merge, move, reject, split, dismiss, make a set from leftovers and undo go through the same functions as
deno task curate, so they are in the ledger. The first stdout line starting with http:// is the page's address
with its access token. Runs until Ctrl-C. Thumbnails are cached under <library>/_review/.

  --library DIR   the face-set library
  --store PATH    the face store, for measures, distances and leftovers (default: ${DEFAULT_STORE_PATH} when it exists)
  --port N        listen on this port (default: a free one)
  --no-open       do not open a browser
  --help          show this help`;

const OPTIONS = {
  library: { type: "string" },
  store: { type: "string" },
  port: { type: "string" },
  "no-open": { type: "boolean", default: false },
} as const;

/** Open `url` with the platform's opener; a failure is one line, the server keeps running. */
function openBrowser(url: string): void {
  const [cmd, args] = process.platform === "darwin"
    ? ["open", [url]]
    : process.platform === "win32"
    ? ["cmd", ["/c", "start", "", url]]
    : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args, { stdio: "ignore", detached: true });
    child.on("error", (err) => process.stderr.write(`could not open a browser (${cmd}: ${err.message}); open the address above\n`));
    child.unref();
  } catch (err) {
    process.stderr.write(`could not open a browser (${(err as Error).message}); open the address above\n`);
  }
}

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const libraryDir = requireFolder("--library", requireOption(values, "library", "DIR"));
  let storePath = values.store;
  if (storePath !== undefined && !existsSync(storePath)) throw new UsageError(`--store ${storePath} does not exist`);
  if (storePath === undefined && existsSync(DEFAULT_STORE_PATH)) storePath = DEFAULT_STORE_PATH;
  let port = 0;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) throw new UsageError(`--port ${values.port} is not a port number (1-65535)`);
  }

  const server = await startReviewServer({
    libraryDir,
    storePath,
    config: DEFAULT_CONFIG,
    port,
    curation: curationApi,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(server.url);
  console.log(`reviewing ${libraryDir}${storePath ? ` with the store ${storePath}` : " (no store: no distances or leftovers)"}; Ctrl-C to stop`);
  if (!values["no-open"]) openBrowser(server.url);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
  process.stderr.write("stopping (a decision in progress is finished first)\n");
  await server.close();
  return 0;
}

await runMain(main, USAGE);
