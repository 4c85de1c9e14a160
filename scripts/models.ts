/**
 * deno task models — download and install a face model pack (default: InsightFace buffalo_l).
 *
 * Downloads the pack's zip next to the target directory, extracts only the files models/models.json lists,
 * verifies each one's sha256 and moves it into place atomically. Files already present with the right hash
 * are left alone. Offline users can fetch the zip by hand and pass it with --zip.
 *
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */

import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import {
  DEFAULT_PACK,
  defaultManifestPath,
  ModelsError,
  readModelsManifest,
  resolveModelsDir,
} from "../lib/models/pack";
import { DownloadError, ensurePack, errorReason } from "../lib/models/install";
import { downloadProgress } from "../lib/cli/mod";

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

  try {
    await ensurePack({ pack, targetDir, zip: cli.zip, force: cli.force, log, onProgress: downloadProgress() });
    return 0;
  } catch (err) {
    if (err instanceof DownloadError) {
      log(err.message);
      return 1;
    }
    throw err;
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    const msg = err instanceof ModelsError ? err.message : errorReason(err);
    log(`models: ${msg.replace(/\s+/g, " ").trim()}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exit(await main(Deno.args));
}
