/**
 * deno task models — download and install a face model pack (default: InsightFace buffalo_l).
 *
 * Downloads the pack's zip next to the target directory, extracts only the files models/models.json lists,
 * verifies each one's sha256 and moves it into place atomically. Files already present with the right hash
 * are left alone. Offline users can fetch the zip by hand and pass it with --zip.
 *
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */

import { createHash } from "node:crypto";
import { existsSync, rmSync, statSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import {
  checkInstalledPack,
  DEFAULT_PACK,
  defaultManifestPath,
  installPackFromZip,
  type ModelPack,
  ModelsError,
  readModelsManifest,
  resolveModelsDir,
} from "../lib/models/pack";
import { BYTES, Progress } from "../lib/cli/progress";

const USAGE = `usage: deno task models [--pack NAME] [--dir DIR] [--zip FILE] [--force] [--help]

Download a face model pack, verify every file's sha256 and install it.

  --pack NAME      pack from models/models.json (default: ${DEFAULT_PACK})
  --dir DIR        install into DIR (default for ${DEFAULT_PACK}: $FACESETS_MODELS if set, else
                   models/${DEFAULT_PACK}; for other packs: models/NAME)
  --zip FILE       install from an already-downloaded zip instead of downloading (offline install)
  --force          re-install even when the files are already present and verified
  --manifest FILE  read packs from FILE instead of models/models.json (for testing and other packs)
  --help           show this help

The zip is downloaded to a temporary file in DIR's parent and removed afterwards.
InsightFace models are for non-commercial research use only.
Exit codes: 0 ok, 1 failure, 2 usage error.`;

class UsageError extends Error {}

/** A network-side failure: reported as one "are you offline?" line. */
class DownloadError extends Error {}

interface Cli {
  pack: string;
  dir?: string;
  zip?: string;
  manifest?: string;
  force: boolean;
  help: boolean;
}

function parseCli(argv: string[]): Cli {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        pack: { type: "string" },
        dir: { type: "string" },
        zip: { type: "string" },
        manifest: { type: "string" },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  for (const key of ["pack", "dir", "zip", "manifest"] as const) {
    if (v[key] !== undefined && v[key]!.trim() === "") throw new UsageError(`--${key} needs a value`);
  }
  return {
    pack: v.pack ?? DEFAULT_PACK,
    dir: v.dir,
    zip: v.zip,
    manifest: v.manifest,
    force: v.force ?? false,
    help: v.help ?? false,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Download

const CONNECT_TIMEOUT_MS = 60_000;
const IDLE_TIMEOUT_MS = 60_000;

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

function errorReason(err: unknown): string {
  if (!(err instanceof Error)) return oneLine(String(err));
  let reason = err.message;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && !reason.includes(cause.message)) reason += ` (${cause.message})`;
  else if (cause && typeof cause === "object" && "code" in cause) reason += ` (${String((cause as { code: unknown }).code)})`;
  return oneLine(reason);
}

/** Stream `pack.url` into `dest`; returns the zip's sha256. Network-side failures throw DownloadError. */
async function downloadZip(pack: ModelPack, dest: string): Promise<string> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(new Error("no response for 60 s")), CONNECT_TIMEOUT_MS);
  const armIdle = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error("no data received for 60 s")), IDLE_TIMEOUT_MS);
  };
  let response: Response;
  try {
    response = await fetch(pack.url, { redirect: "follow", signal: controller.signal });
  } catch (err) {
    clearTimeout(timer);
    const reason = controller.signal.aborted ? errorReason(controller.signal.reason) : errorReason(err);
    throw new DownloadError(reason.replaceAll(` for url (${pack.url})`, ""));
  }
  if (!response.ok || !response.body) {
    clearTimeout(timer);
    await response.body?.cancel().catch(() => {});
    throw new DownloadError(`HTTP ${response.status} ${response.statusText}`.trim());
  }
  const header = Number(response.headers.get("content-length"));
  const total = Number.isSafeInteger(header) && header > 0 ? header : pack.size;
  log(`downloading ${pack.url}${total ? ` (${BYTES.amount(total)})` : ""}`);
  const progress = new Progress({ label: `${pack.name}.zip`, total, unit: BYTES });
  const hash = createHash("sha256");
  let received = 0;
  const fh = await open(dest, "w");
  try {
    const reader = response.body.getReader();
    armIdle();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw new DownloadError(
          `connection lost after ${BYTES.amount(received)}: ${
            controller.signal.aborted ? errorReason(controller.signal.reason) : errorReason(err)
          }`,
        );
      }
      if (chunk.done) break;
      armIdle();
      const bytes = chunk.value;
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      hash.update(bytes);
      received += bytes.length;
      progress.update(received);
    }
  } finally {
    clearTimeout(timer);
    progress.finish();
    await fh.close();
  }
  if (Number.isSafeInteger(header) && header > 0 && received !== header) {
    throw new DownloadError(`connection closed after ${received} of ${header} bytes`);
  }
  return hash.digest("hex");
}

// ---------------------------------------------------------------------------------------------------------

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function run(argv: string[]): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      log(`models: ${err.message}\n(see deno task models --help)`);
      return 2;
    }
    throw err;
  }
  if (cli.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const manifestPath = cli.manifest ? resolve(cli.manifest) : defaultManifestPath();
  const manifest = await readModelsManifest(manifestPath);
  const pack = manifest.packs[cli.pack];
  if (!pack) {
    log(`models: unknown pack "${cli.pack}" (known: ${Object.keys(manifest.packs).join(", ")})`);
    return 2;
  }
  const targetDir = cli.dir
    ? resolve(cli.dir)
    : pack.name === DEFAULT_PACK
    ? resolveModelsDir()
    : join(process.cwd(), "models", pack.name);
  if (existsSync(targetDir) && !statSync(targetDir).isDirectory()) {
    log(`models: ${targetDir} exists and is not a directory`);
    return 1;
  }

  const checks = await checkInstalledPack(pack, targetDir);
  const needed = cli.force ? checks : checks.filter((c) => !c.ok);
  if (needed.length === 0) {
    log(`${pack.name}: already installed in ${targetDir} (${checks.map((c) => c.file.name).join(", ")} verified)`);
    return 0;
  }
  for (const c of needed) {
    if (!c.ok && c.reason !== "missing") log(`${c.file.name}: ${c.reason}; will replace it`);
  }

  let zipPath: string;
  let tempZip: string | undefined;
  const cleanup = () => {
    if (tempZip) rmSync(tempZip, { force: true });
  };
  const onSigint = () => {
    cleanup();
    process.stderr.write("\ninterrupted\n");
    process.exit(130);
  };
  process.on("SIGINT", onSigint);
  try {
    if (cli.zip) {
      zipPath = resolve(cli.zip);
      if (!existsSync(zipPath) || !statSync(zipPath).isFile()) {
        log(`models: zip not found: ${zipPath}`);
        return 1;
      }
    } else {
      const parent = dirname(targetDir);
      await mkdir(parent, { recursive: true });
      tempZip = join(parent, `.${pack.name}.zip.${process.pid}.tmp`);
      zipPath = tempZip;
      try {
        const zipSha = await downloadZip(pack, tempZip);
        if (pack.sha256 && zipSha !== pack.sha256) {
          log(`note: ${pack.name}.zip sha256 is ${zipSha}, not the recorded ${pack.sha256}; checking each file instead`);
        }
      } catch (err) {
        if (err instanceof DownloadError) {
          log(
            `cannot download ${pack.name} from ${pack.url}: ${err.message}. Are you offline? ` +
              `Download the zip by hand and run deno task models --zip FILE`,
          );
          return 1;
        }
        throw err;
      }
    }

    const installed = await installPackFromZip(pack, zipPath, targetDir, {
      files: needed.map((c) => c.file),
      log,
    });
    const kept = checks.filter((c) => c.ok && !needed.includes(c)).map((c) => `${c.file.name} (kept)`);
    const done = installed.map((f) => `${f.file.name} (${BYTES.amount(f.bytes)}, sha256 ok)`);
    log(`${pack.name}: installed in ${targetDir}: ${[...done, ...kept].join(", ")}`);
    log(`licence: ${pack.licence}`);
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    if (tempZip) await rm(tempZip, { force: true }).catch(() => {});
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    const msg = err instanceof ModelsError ? err.message : errorReason(err);
    log(`models: ${oneLine(msg)}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exit(await main(Deno.args));
}
