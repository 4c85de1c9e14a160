/**
 * Model packs: the typed `models/models.json` manifest, where the models live on disk, which files in a
 * models directory are the detector and the recognizer, and installing a pack's files from its zip.
 *
 * Directory rule (one place): an explicit directory (`--models DIR`), else `$FACESETS_MODELS`, else
 * `<project root>/models/buffalo_l`, where the project root is the working directory (`deno task` runs there).
 */

import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import process from "node:process";
import { readJsonFile } from "../util/json";
import { isSha256Hex, sha256File } from "../util/hash";
import { extractEntry, findEntryByBaseName, readZipEntries, ZipError } from "../util/zip";

export class ModelsError extends Error {
  override name = "ModelsError";
}

export type ModelRole = "detector" | "recognizer";
export const MODEL_ROLES: readonly ModelRole[] = ["detector", "recognizer"];

export interface PackFile {
  /** Base name of the file inside the zip (at its root or in a folder) and on disk. */
  name: string;
  role: ModelRole;
  /** Expected sha256 of the extracted file, lowercase hex. */
  sha256: string;
  /** Expected size in bytes, when known. */
  size?: number;
}

export interface ModelPack {
  name: string;
  url: string;
  licence: string;
  homepage?: string;
  /** sha256 of the zip itself, when known (each extracted file is verified regardless). */
  sha256?: string;
  /** Size of the zip in bytes, when known. */
  size?: number;
  files: PackFile[];
}

export interface ModelsManifest {
  packs: Record<string, ModelPack>;
}

export const DEFAULT_PACK = "buffalo_l";

/** The one-line advice appended to every "models not found" error. */
export const MODELS_HINT =
  `run: deno task models to fetch ${DEFAULT_PACK}, or pass --models DIR / FACESETS_MODELS`;


function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (key.startsWith("$")) continue; // "$comment" and similar annotations
    if (!allowed.includes(key)) throw new ModelsError(`${where}: unknown key "${key}" (allowed: ${allowed.join(", ")})`);
  }
}

function str(obj: Record<string, unknown>, key: string, where: string, optional = false): string | undefined {
  const v = obj[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== "string" || v.trim() === "") throw new ModelsError(`${where}: "${key}" must be a non-empty string`);
  return v;
}

function sha(obj: Record<string, unknown>, key: string, where: string, optional = false): string | undefined {
  const v = str(obj, key, where, optional);
  if (v === undefined) return undefined;
  const lower = v.toLowerCase();
  if (!isSha256Hex(lower)) throw new ModelsError(`${where}: "${key}" must be 64 hex digits, got ${JSON.stringify(v)}`);
  return lower;
}

function size(obj: Record<string, unknown>, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new ModelsError(`${where}: "${key}" must be a byte count (non-negative integer), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validate parsed models.json content; `source` names the file in errors. */
export function parseModelsManifest(json: unknown, source = "models.json"): ModelsManifest {
  if (!isObject(json)) throw new ModelsError(`${source}: expected a JSON object with "packs"`);
  checkKeys(json, ["packs"], source);
  const packsIn = json.packs;
  if (!isObject(packsIn) || Object.keys(packsIn).length === 0) {
    throw new ModelsError(`${source}: "packs" must be an object with at least one pack`);
  }
  const packs: Record<string, ModelPack> = {};
  for (const [name, raw] of Object.entries(packsIn)) {
    const where = `${source}: pack "${name}"`;
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new ModelsError(`${where}: pack names may use only letters, digits, . _ -`);
    if (!isObject(raw)) throw new ModelsError(`${where}: must be an object`);
    checkKeys(raw, ["url", "licence", "homepage", "sha256", "size", "files"], where);
    const url = str(raw, "url", where)!;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ModelsError(`${where}: "url" is not a valid URL: ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      throw new ModelsError(`${where}: "url" must be http(s), got ${JSON.stringify(url)}`);
    }
    const filesIn = raw.files;
    if (!Array.isArray(filesIn) || filesIn.length === 0) {
      throw new ModelsError(`${where}: "files" must be a non-empty array`);
    }
    const files: PackFile[] = [];
    filesIn.forEach((f, i) => {
      const fw = `${where} files[${i}]`;
      if (!isObject(f)) throw new ModelsError(`${fw}: must be an object`);
      checkKeys(f, ["name", "role", "sha256", "size"], fw);
      const fileName = str(f, "name", fw)!;
      if (fileName !== basename(fileName) || fileName.includes("\\") || fileName === "." || fileName === "..") {
        throw new ModelsError(`${fw}: "name" must be a plain file name, got ${JSON.stringify(fileName)}`);
      }
      const role = f.role;
      if (typeof role !== "string" || !MODEL_ROLES.includes(role as ModelRole)) {
        throw new ModelsError(`${fw}: "role" must be one of ${MODEL_ROLES.join(", ")}, got ${JSON.stringify(role)}`);
      }
      if (files.some((g) => g.name === fileName)) throw new ModelsError(`${fw}: duplicate file ${fileName}`);
      if (files.some((g) => g.role === role)) throw new ModelsError(`${fw}: a second file with role ${role}`);
      const file: PackFile = { name: fileName, role: role as ModelRole, sha256: sha(f, "sha256", fw)! };
      const s = size(f, "size", fw);
      if (s !== undefined) file.size = s;
      files.push(file);
    });
    const pack: ModelPack = { name, url, licence: str(raw, "licence", where)!, files };
    const homepage = str(raw, "homepage", where, true);
    if (homepage !== undefined) pack.homepage = homepage;
    const zipSha = sha(raw, "sha256", where, true);
    if (zipSha !== undefined) pack.sha256 = zipSha;
    const zipSize = size(raw, "size", where);
    if (zipSize !== undefined) pack.size = zipSize;
    packs[name] = pack;
  }
  return { packs };
}

/** `<project root>/models/models.json`. */
export function defaultManifestPath(projectRoot = process.cwd()): string {
  return join(projectRoot, "models", "models.json");
}

/** Read and validate a manifest file. */
export async function readModelsManifest(path = defaultManifestPath()): Promise<ModelsManifest> {
  const json = await readJsonFile(path, (message) => new ModelsError(message), { what: "model manifest" });
  return parseModelsManifest(json, path);
}

/** The named pack, or an error listing the known ones. */
export function getPack(manifest: ModelsManifest, name: string): ModelPack {
  const pack = manifest.packs[name];
  if (!pack) {
    throw new ModelsError(`unknown model pack "${name}" (known: ${Object.keys(manifest.packs).join(", ")})`);
  }
  return pack;
}

/** The models directory: `argDir`, else `env` ($FACESETS_MODELS), else `<cwd>/models/buffalo_l`; absolute. */
export function resolveModelsDir(argDir?: string, env = process.env.FACESETS_MODELS): string {
  if (argDir !== undefined && argDir.trim() !== "") return resolve(argDir);
  if (env !== undefined && env.trim() !== "") return resolve(env);
  return join(process.cwd(), "models", DEFAULT_PACK);
}

export interface PackFiles {
  detector: string;
  recognizer: string;
}

export interface PackFileOverrides {
  detector?: string;
  recognizer?: string;
}

/** Detector names in order of preference; then any single other det_*.onnx. */
const DETECTOR_PREFERENCE = ["det_10g.onnx", "det_2.5g.onnx", "det_500m.onnx"];

function isOnnx(name: string): boolean {
  return name.toLowerCase().endsWith(".onnx");
}

function isDetectorName(name: string): boolean {
  return isOnnx(name) && name.startsWith("det_");
}

function pickDetector(onnx: string[], dir: string): string {
  for (const preferred of DETECTOR_PREFERENCE) if (onnx.includes(preferred)) return preferred;
  const dets = onnx.filter(isDetectorName);
  if (dets.length === 1) return dets[0]!;
  if (dets.length === 0) throw new ModelsError(`no face detector (det_*.onnx) in ${dir}; ${MODELS_HINT}`);
  throw new ModelsError(`several face detectors in ${dir} (${dets.join(", ")}); pass an explicit detector path`);
}

function pickRecognizer(onnx: string[], dir: string): string {
  if (onnx.includes("w600k_r50.onnx")) return "w600k_r50.onnx";
  if (onnx.includes("w600k_mbf.onnx")) return "w600k_mbf.onnx";
  const mbf = onnx.filter((n) => n.startsWith("w600k_mbf"));
  if (mbf.length > 0) return mbf[0]!;
  const w600k = onnx.filter((n) => n.startsWith("w600k_"));
  if (w600k.length === 1) return w600k[0]!;
  if (w600k.length > 1) {
    throw new ModelsError(`several face recognizers in ${dir} (${w600k.join(", ")}); pass an explicit recognizer path`);
  }
  const others = onnx.filter((n) => !isDetectorName(n));
  if (others.length === 1) return others[0]!;
  if (others.length === 0) throw new ModelsError(`no face recognizer (w600k_*.onnx) in ${dir}; ${MODELS_HINT}`);
  throw new ModelsError(
    `no w600k_*.onnx recognizer in ${dir} and several other models (${others.join(", ")}); pass an explicit recognizer path`,
  );
}

function checkOverride(path: string, role: ModelRole): string {
  const abs = resolve(path);
  let ok = false;
  try {
    ok = statSync(abs).isFile();
  } catch {
    ok = false;
  }
  if (!ok) throw new ModelsError(`${role} model not found: ${abs}`);
  return abs;
}

/**
 * The detector and recognizer files in `dir` (absolute paths). Detector: det_10g > det_2.5g > det_500m > a
 * single other det_*.onnx. Recognizer: w600k_r50 > w600k_mbf > w600k_mbf* > a single other w600k_*.onnx > a
 * single other non-detector .onnx. `overrides` name files explicitly (then `dir` is only searched for the
 * other role). Errors are one line and say how to get models.
 */
export function findPackFiles(dir: string, overrides: PackFileOverrides = {}): PackFiles {
  const detOverride = overrides.detector ? checkOverride(overrides.detector, "detector") : undefined;
  const recOverride = overrides.recognizer ? checkOverride(overrides.recognizer, "recognizer") : undefined;
  if (detOverride && recOverride) return { detector: detOverride, recognizer: recOverride };

  const absDir = resolve(dir);
  if (!existsSync(absDir)) throw new ModelsError(`models directory not found: ${absDir}; ${MODELS_HINT}`);
  let names: string[];
  try {
    if (!statSync(absDir).isDirectory()) throw new ModelsError(`models path is not a directory: ${absDir}; ${MODELS_HINT}`);
    names = readdirSync(absDir);
  } catch (err) {
    if (err instanceof ModelsError) throw err;
    throw new ModelsError(`cannot read models directory ${absDir}: ${(err as Error).message}`);
  }
  const onnx = names
    .filter((n) => isOnnx(n) && !n.startsWith("."))
    .filter((n) => {
      try {
        return statSync(join(absDir, n)).isFile();
      } catch {
        return false;
      }
    })
    .sort();
  const detector = detOverride ?? join(absDir, pickDetector(onnx, absDir));
  const recognizer = recOverride ?? join(absDir, pickRecognizer(onnx, absDir));
  return { detector, recognizer };
}

// ---------------------------------------------------------------------------------------------------------
// Installing a pack from its zip

export interface FileCheck {
  file: PackFile;
  path: string;
  ok: boolean;
  /** Why the file is not OK ("missing", "size ...", "sha256 ..."). */
  reason?: string;
}

/** Whether `path` holds `file` exactly (size first, as a cheap check, then sha256). */
export async function checkPackFile(file: PackFile, path: string): Promise<FileCheck> {
  let st;
  try {
    st = await stat(path);
  } catch {
    return { file, path, ok: false, reason: "missing" };
  }
  if (!st.isFile()) return { file, path, ok: false, reason: "not a regular file" };
  if (file.size !== undefined && st.size !== file.size) {
    return { file, path, ok: false, reason: `size ${st.size} bytes, expected ${file.size}` };
  }
  const actual = await sha256File(path);
  if (actual !== file.sha256) return { file, path, ok: false, reason: `sha256 ${actual}, expected ${file.sha256}` };
  return { file, path, ok: true };
}

/** Check every file of `pack` in `dir`. */
export async function checkInstalledPack(pack: ModelPack, dir: string): Promise<FileCheck[]> {
  const out: FileCheck[] = [];
  for (const file of pack.files) out.push(await checkPackFile(file, join(dir, file.name)));
  return out;
}

export interface InstallFromZipOptions {
  /** Install only these files of the pack (default: all). */
  files?: readonly PackFile[];
  /** Progress lines ("extracting ..."). */
  log?: (line: string) => void;
  /** Per-file extraction progress. */
  onProgress?: (file: PackFile, bytesWritten: number, totalBytes: number) => void;
}

export interface InstalledFile {
  file: PackFile;
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Extract the pack's files (matched by base name, at the zip root or in a folder) into `dir`, verify each
 * one's size and sha256 against the manifest, and only then move them into place (temp file + rename, so a
 * failure never leaves a half-written or unverified model under its real name).
 */
export async function installPackFromZip(
  pack: ModelPack,
  zipPath: string,
  dir: string,
  options: InstallFromZipOptions = {},
): Promise<InstalledFile[]> {
  const wanted = options.files ?? pack.files;
  let entries;
  try {
    entries = await readZipEntries(zipPath);
  } catch (err) {
    throw new ModelsError(err instanceof ZipError ? err.message : `${zipPath}: ${(err as Error).message}`);
  }
  const plan = wanted.map((file) => {
    let entry;
    try {
      entry = findEntryByBaseName(entries, file.name);
    } catch (err) {
      throw new ModelsError(`${zipPath}: ${(err as Error).message}`);
    }
    if (!entry) {
      throw new ModelsError(`${zipPath} has no ${file.name} (is it the ${pack.name} zip from ${pack.url}?)`);
    }
    if (file.size !== undefined && entry.size !== file.size) {
      throw new ModelsError(
        `size mismatch for ${file.name} in ${zipPath}: expected ${file.size} bytes, the zip holds ${entry.size} (wrong or corrupt zip)`,
      );
    }
    return { file, entry };
  });

  await mkdir(dir, { recursive: true });
  const temps: string[] = [];
  const done: InstalledFile[] = [];
  try {
    for (const { file, entry } of plan) {
      const tmp = join(dir, `${file.name}.${process.pid}.tmp`);
      temps.push(tmp);
      options.log?.(`extracting ${file.name} (${(entry.size / 1e6).toFixed(1)} MB)`);
      let result;
      try {
        result = await extractEntry(zipPath, entry, tmp, {
          onProgress: options.onProgress ? (n, total) => options.onProgress!(file, n, total) : undefined,
        });
      } catch (err) {
        throw new ModelsError((err as Error).message);
      }
      if (result.sha256 !== file.sha256) {
        throw new ModelsError(
          `sha256 mismatch for ${file.name} from ${zipPath}: expected ${file.sha256}, got ${result.sha256} (wrong or corrupt zip)`,
        );
      }
      done.push({ file, path: join(dir, file.name), bytes: result.bytes, sha256: result.sha256 });
    }
    for (let i = 0; i < done.length; i++) await rename(temps[i]!, done[i]!.path);
    return done;
  } finally {
    for (const tmp of temps) await rm(tmp, { force: true }).catch(() => {});
  }
}
