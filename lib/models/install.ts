/**
 * Fetching and installing a model pack: download its zip (or take one the user fetched by hand), extract only
 * the files models/models.json lists, verify each one's sha256 and move it into place atomically. Files
 * already present with the right hash are left alone.
 *
 * Used by `deno task models` and, for the default pack on first use, by commands that need the models
 * (`ensureDefaultModels`). Errors are one line: DownloadError for network-side failures (with the "are you
 * offline?" advice), ModelsError for everything else.
 */

import { createHash } from "node:crypto";
import { existsSync, rmSync, statSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import process from "node:process";
import { megabytes } from "../util/text";
import {
  checkInstalledPack,
  DEFAULT_PACK,
  defaultManifestPath,
  getPack,
  type InstalledFile,
  installPackFromZip,
  type ModelPack,
  ModelsError,
  readModelsManifest,
} from "./pack";

/** A network-side failure, reported as one "are you offline?" line. */
export class DownloadError extends Error {
  override name = "DownloadError";
  /** The bare cause ("HTTP 404 Not Found", "connection lost after ..."), without the advice around it. */
  readonly reason: string;

  constructor(message: string, reason = message) {
    super(message);
    this.reason = reason;
  }
}

const CONNECT_TIMEOUT_MS = 60_000;
const IDLE_TIMEOUT_MS = 60_000;

function squash(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** An error's message plus its cause's message (or code), on one line. */
export function errorReason(err: unknown): string {
  if (!(err instanceof Error)) return squash(String(err));
  let reason = err.message;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && !reason.includes(cause.message)) reason += ` (${cause.message})`;
  else if (cause && typeof cause === "object" && "code" in cause) reason += ` (${String((cause as { code: unknown }).code)})`;
  return squash(reason);
}

/**
 * Where a download reports its bytes (the command line draws them: lib/cli/progress.ts downloadProgress): once
 * when the data starts (`received` 0), after every chunk, and once at the end (`done`, also when it fails).
 */
export type DownloadProgress = (event: { label: string; received: number; total: number | undefined; done: boolean }) => void;

export interface DownloadOptions {
  /** Status lines ("downloading URL (N MB)"). Default: none. */
  log?: (line: string) => void;
  /** Download progress. Default: none. */
  onProgress?: DownloadProgress;
}

/** Stream `pack.url` into `dest`; returns the zip's sha256. Network-side failures throw DownloadError. */
export async function downloadZip(pack: ModelPack, dest: string, options: DownloadOptions = {}): Promise<string> {
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
  options.log?.(`downloading ${pack.url}${total ? ` (${megabytes(total)})` : ""}`);
  const label = `${pack.name}.zip`;
  const progress = (received: number, done = false) => options.onProgress?.({ label, received, total: total || undefined, done });
  progress(0);
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
          `connection lost after ${megabytes(received)}: ${
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
      progress(received);
    }
  } finally {
    clearTimeout(timer);
    progress(received, true);
    await fh.close();
  }
  if (Number.isSafeInteger(header) && header > 0 && received !== header) {
    throw new DownloadError(`connection closed after ${received} of ${header} bytes`);
  }
  return hash.digest("hex");
}

export interface EnsurePackOptions {
  pack: ModelPack;
  /** Install into this directory (created when absent). */
  targetDir: string;
  /** Install from this already-downloaded zip instead of downloading `pack.url`. */
  zip?: string;
  /** Re-install even the files that are present and verified. */
  force?: boolean;
  /** Status lines: what is replaced, downloaded, extracted, and the final summary with the licence. */
  log: (line: string) => void;
  /** Download progress (see DownloadOptions.onProgress). Default: none. */
  onProgress?: DownloadProgress;
}

export interface EnsurePackResult {
  /** Files extracted and verified by this call. */
  installed: InstalledFile[];
  /** Names of files that were already present and verified, and left alone. */
  kept: string[];
  /** Every file was present and verified; nothing was done. */
  alreadyInstalled: boolean;
}

/**
 * Make sure every file of `pack` is in `targetDir` with the right sha256: check what is there, download the zip
 * (to `.<pack>.zip.<pid>.tmp` in the target's parent, removed afterwards, also on Ctrl-C) or use `zip`, and
 * install the missing or damaged files. Throws DownloadError (one "are you offline?" line) or ModelsError.
 */
export async function ensurePack(
  { pack, targetDir: dirIn, zip, force = false, log, onProgress }: EnsurePackOptions,
): Promise<EnsurePackResult> {
  const targetDir = resolve(dirIn);
  if (existsSync(targetDir) && !statSync(targetDir).isDirectory()) {
    throw new ModelsError(`${targetDir} exists and is not a directory`);
  }

  const checks = await checkInstalledPack(pack, targetDir);
  const needed = force ? checks : checks.filter((c) => !c.ok);
  if (needed.length === 0) {
    log(`${pack.name}: already installed in ${targetDir} (${checks.map((c) => c.file.name).join(", ")} verified)`);
    return { installed: [], kept: checks.map((c) => c.file.name), alreadyInstalled: true };
  }
  for (const c of needed) {
    if (!c.ok && c.reason !== "missing") log(`${c.file.name}: ${c.reason}; will replace it`);
  }

  let zipPath: string;
  let tempZip: string | undefined;
  const onSigint = () => {
    if (tempZip) rmSync(tempZip, { force: true });
    process.stderr.write("\ninterrupted\n");
    process.exit(130);
  };
  try {
    if (zip !== undefined) {
      zipPath = resolve(zip);
      if (!existsSync(zipPath) || !statSync(zipPath).isFile()) throw new ModelsError(`zip not found: ${zipPath}`);
    } else {
      const parent = dirname(targetDir);
      await mkdir(parent, { recursive: true });
      tempZip = join(parent, `.${pack.name}.zip.${process.pid}.tmp`);
      zipPath = tempZip;
      process.on("SIGINT", onSigint);
      let zipSha: string;
      try {
        zipSha = await downloadZip(pack, tempZip, { log, onProgress });
      } catch (err) {
        if (err instanceof DownloadError) {
          throw new DownloadError(
            `cannot download ${pack.name} from ${pack.url}: ${err.reason}. Are you offline? ` +
              `Download the zip by hand and run deno task models --zip FILE`,
            err.reason,
          );
        }
        throw err;
      }
      if (pack.sha256 && zipSha !== pack.sha256) {
        log(`note: ${pack.name}.zip sha256 is ${zipSha}, not the recorded ${pack.sha256}; checking each file instead`);
      }
    }

    const installed = await installPackFromZip(pack, zipPath, targetDir, { files: needed.map((c) => c.file), log });
    const kept = checks.filter((c) => c.ok && !needed.includes(c)).map((c) => c.file.name);
    const done = installed.map((f) => `${f.file.name} (${megabytes(f.bytes)}, sha256 ok)`);
    log(`${pack.name}: installed in ${targetDir}: ${[...done, ...kept.map((k) => `${k} (kept)`)].join(", ")}`);
    log(`licence: ${pack.licence}`);
    return { installed, kept, alreadyInstalled: false };
  } finally {
    process.off("SIGINT", onSigint);
    if (tempZip) await rm(tempZip, { force: true }).catch(() => {});
  }
}

export interface EnsureDefaultModelsOptions {
  /** Read the pack from this manifest instead of `<cwd>/models/models.json` (for tests). */
  manifestPath?: string;
  /** Download progress. Default: none. */
  onProgress?: DownloadProgress;
}

/** `dir` relative to the working directory when it is inside it ("models/buffalo_l"), else as given. */
function shown(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : dir;
}

/**
 * First-use fetch of the default models. `dir` is the resolved default models directory (the caller only calls
 * this when neither --models nor $FACESETS_MODELS was given). When it lacks any verified buffalo_l file, says
 * so in one line and installs buffalo_l from models/models.json into it. Returns `dir`. Throws DownloadError
 * or ModelsError as `ensurePack` does.
 */
export async function ensureDefaultModels(
  dir: string,
  log: (line: string) => void,
  options: EnsureDefaultModelsOptions = {},
): Promise<string> {
  const manifest = await readModelsManifest(options.manifestPath ?? defaultManifestPath());
  const pack = getPack(manifest, DEFAULT_PACK);
  const checks = await checkInstalledPack(pack, dir);
  if (checks.every((c) => c.ok)) return dir;
  const state = checks.every((c) => c.reason === "missing") ? "missing" : "incomplete";
  log(`${shown(dir)} is ${state}: fetching ${pack.name} (non-commercial research licence) ...`);
  await ensurePack({ pack, targetDir: dir, log, onProgress: options.onProgress });
  return dir;
}
