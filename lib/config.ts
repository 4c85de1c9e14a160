/**
 * The one typed configuration of facesets, with the owner's defaults. Units are in the names
 * (`Px` pixels, `CosDist` cosine distance = 1 - cosine similarity of unit embeddings).
 * Scripts and notebooks override fields through `resolveConfig`, never by copying numbers.
 */

export type Linkage = "average" | "single" | "complete" | "dbscan";
export const LINKAGES: readonly Linkage[] = ["average", "single", "complete", "dbscan"];

export interface DetectionConfig {
  /** Square detector input of the main pass (InsightFace 0.7.3: 640). */
  detSizePx: number;
  /** Minimum SCRFD score for a detection to exist at all (InsightFace det_thresh 0.5). */
  detMinScore: number;
  /** NMS IoU above which the lower-scored box is suppressed (InsightFace nms_thresh 0.4). */
  nmsMaxIou: number;
  /** Run a second, small pass when the main pass finds nothing (tight face crops); false = strict 0.7.3 parity. */
  secondPass: boolean;
  /** Square detector input of the second pass (InsightFace 1.0 uses 128). */
  secondPassSizePx: number;
}

export interface ImageConfig {
  /** Refuse images with more pixels than this, from the header, before decoding. */
  maxPixels: number;
}

export interface IdentityConfig {
  /** Route a face to an existing identity when its cosine distance to the centroid is at most this. */
  routeMaxCosDist: number;
  /** Merge clusters while their linkage distance is at most this. */
  clusterMaxCosDist: number;
  linkage: Linkage;
  /** Quality gates applied to every face before it may join a new set. */
  minFaceShortPx: number;
  minBlur: number;
  minDetScore: number;
  /** In clusters of at least `outlierMinClusterSize` faces, drop faces farther than this from the centroid. */
  outlierMaxCosDist: number;
  outlierMinClusterSize: number;
  /** Keep a cluster only with at least this many distinct photos (see `samePhotoMaxCosDist`). */
  minUniqueSources: number;
  /**
   * Counting distinct photos for `minUniqueSources`: faces of different files at or below this cosine distance
   * are one photo (lib/cluster/same_photo.ts). 0 counts files, as the owner's tool did. Measured on ../shared/faces
   * with det_2.5g + w600k_mbf_int8: re-encoded, resized, EXIF-rotated or rotated copies of one shot <= 0.072, crops
   * of one shot 0.10-0.12 (counted as different photos), different photos of one person >= 0.157.
   */
  samePhotoMaxCosDist: number;
}

export interface ExportConfig {
  /** Side of the exported aligned crop (the ArcFace template is scaled to it as estimate_norm does). */
  cropSizePx: number;
  /** Second gate at export time. */
  exportMinFaceShortPx: number;
  exportMaxCosDist: number;
}

export interface EraConfig {
  /** Sub-cluster one identity's faces into eras at this cosine distance (tighter than clusterMaxCosDist). */
  eraMaxCosDist: number;
  /** Split by time where consecutive capture years are more than this many years apart. */
  eraMinYearGap: number;
  /** An era with at least this many faces becomes a face set; smaller eras go to `_thin/`. */
  minEraFaces: number;
}

export interface RunConfig {
  detection: DetectionConfig;
  image: ImageConfig;
  identity: IdentityConfig;
  export: ExportConfig;
  eras: EraConfig;
}

export const DEFAULT_CONFIG: RunConfig = Object.freeze({
  detection: Object.freeze({
    detSizePx: 640,
    detMinScore: 0.5,
    nmsMaxIou: 0.4,
    secondPass: true,
    secondPassSizePx: 128,
  }),
  image: Object.freeze({ maxPixels: 100_000_000 }),
  identity: Object.freeze({
    routeMaxCosDist: 0.45,
    clusterMaxCosDist: 0.55,
    linkage: "average" as Linkage,
    minFaceShortPx: 90,
    minBlur: 40,
    minDetScore: 0.6,
    outlierMaxCosDist: 0.55,
    outlierMinClusterSize: 4,
    minUniqueSources: 6,
    samePhotoMaxCosDist: 0.08,
  }),
  export: Object.freeze({ cropSizePx: 512, exportMinFaceShortPx: 100, exportMaxCosDist: 0.45 }),
  eras: Object.freeze({ eraMaxCosDist: 0.4, eraMinYearGap: 3, minEraFaces: 6 }),
}) as RunConfig;

export type ConfigOverrides = { [K in keyof RunConfig]?: Partial<RunConfig[K]> };

/**
 * The allowed range of every number in the config ("section.key"), checked whenever a value is set (config file or
 * `--set`). A value outside used to be taken silently: routeMaxCosDist -0.1 turned routing off, minUniqueSources 0
 * made single photos into sets, cropSizePx 51200 ran to 3.3 GB, maxPixels -5 stored every photo as an error.
 */
export interface NumberRange {
  min: number;
  max: number;
  /** The minimum itself is not allowed (pixel sizes: > 0). */
  minExclusive?: boolean;
  integer?: boolean;
  /** The value must be a multiple of this (detector inputs: the SCRFD stride 32). */
  multipleOf?: number;
}

/** Cosine distances between unit vectors lie in [0, 2]. */
const COS_DIST: NumberRange = { min: 0, max: 2 };
const COUNT: NumberRange = { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true };
const SCORE: NumberRange = { min: 0, max: 1 };
/** A face's short side in pixels: > 0, and no photo facesets reads (maxPixels) holds a face larger than this. */
const FACE_PX: NumberRange = { min: 0, max: 20_000, minExclusive: true };
const DETECTOR_PX: NumberRange = { min: 128, max: 1280, integer: true, multipleOf: 32 };

export const CONFIG_RANGES: Readonly<Record<string, NumberRange>> = Object.freeze({
  "detection.detSizePx": DETECTOR_PX,
  "detection.detMinScore": SCORE,
  "detection.nmsMaxIou": SCORE,
  "detection.secondPassSizePx": DETECTOR_PX,
  // 1e9 pixels is 3 GB of RGB: beyond that a decode is a denial of service, not a photo.
  "image.maxPixels": { min: 1, max: 1_000_000_000, integer: true },
  "identity.routeMaxCosDist": COS_DIST,
  "identity.clusterMaxCosDist": COS_DIST,
  "identity.minFaceShortPx": FACE_PX,
  // Laplacian variance of 8-bit grey is at most (4 * 255 * 2)^2 / 4 ~ 1e6; 0 turns the gate off.
  "identity.minBlur": { min: 0, max: 1_100_000 },
  "identity.minDetScore": SCORE,
  "identity.outlierMaxCosDist": COS_DIST,
  "identity.outlierMinClusterSize": COUNT,
  "identity.minUniqueSources": COUNT,
  // Two photos more than 1 apart (orthogonal embeddings) are never copies of one shot.
  "identity.samePhotoMaxCosDist": { min: 0, max: 1 },
  "export.cropSizePx": { min: 112, max: 2048, integer: true },
  "export.exportMinFaceShortPx": FACE_PX,
  "export.exportMaxCosDist": COS_DIST,
  "eras.eraMaxCosDist": COS_DIST,
  // Years between consecutive capture years; 0 splits at every change of year.
  "eras.eraMinYearGap": { min: 0, max: 200 },
  "eras.minEraFaces": COUNT,
});

/** The allowed values of the config's string settings. */
const CONFIG_CHOICES: Readonly<Record<string, readonly string[]>> = { "identity.linkage": LINKAGES };

/** A value the config refuses, or a config file that cannot be read: a bad argument (exit 2 in the commands). */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Every setting of the config as "section.key", in the config's order. */
export function configKeys(): string[] {
  return Object.entries(DEFAULT_CONFIG).flatMap(([section, values]) => Object.keys(values).map((k) => `${section}.${k}`));
}

/** What `key`'s range allows, in words: "in [0, 2]", "an integer at least 1", "a multiple of 32 in [128, 1280]". */
export function describeRange(key: string): string {
  const r = CONFIG_RANGES[key];
  if (!r) throw new Error(`config: no range for "${key}"`); // a new number setting must be given one
  if (r.multipleOf !== undefined) return `a multiple of ${r.multipleOf} in [${r.min}, ${r.max}]`;
  const kind = r.integer ? "an integer " : "";
  if (r.max === Number.MAX_SAFE_INTEGER) return `${kind}at least ${r.min}`;
  if (r.minExclusive) return `${kind}greater than ${r.min} and at most ${r.max}`;
  return `${kind}in [${r.min}, ${r.max}]`;
}

/** Whether `value` lies in the range of the number setting `key`. */
function inRange(key: string, value: number): boolean {
  const r = CONFIG_RANGES[key]!;
  if (r.minExclusive ? !(value > r.min) : !(value >= r.min)) return false;
  if (!(value <= r.max)) return false;
  if (r.integer && !Number.isInteger(value)) return false;
  return r.multipleOf === undefined || value % r.multipleOf === 0;
}

/** Check one value for "section.key" (its type, range or choices); throws a ConfigError naming `source` and the key. */
function checkValue(key: string, expected: string, value: unknown, source: string): void {
  if (typeof value !== expected || (expected === "number" && !Number.isFinite(value))) {
    throw new ConfigError(`${source}: "${key}" must be a ${expected}, got ${JSON.stringify(value)}`);
  }
  const choices = CONFIG_CHOICES[key];
  if (choices && !choices.includes(value as string)) {
    throw new ConfigError(`${source}: "${key}" must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
  }
  if (expected === "number") {
    const allowed = describeRange(key);
    if (!inRange(key, value as number)) throw new ConfigError(`${source}: "${key}" must be ${allowed}, got ${value}`);
  }
}

/** Levenshtein distance, for "did you mean" lists of keys. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The config keys near an unknown `key` ("section.key" or a bare key): those within a few edits of it, of its last
 * part, or sharing its section; all keys when nothing is near.
 */
export function nearConfigKeys(key: string): string[] {
  const all = configKeys();
  const lower = key.toLowerCase();
  const leaf = lower.split(".").at(-1)!;
  const scored = all.map((k) => {
    const kl = k.toLowerCase();
    const kLeaf = kl.split(".").at(-1)!;
    return { k, d: Math.min(editDistance(lower, kl), editDistance(leaf, kLeaf)), limit: Math.max(2, Math.floor(kLeaf.length / 3)) };
  });
  const near = scored.filter((s) => s.d <= s.limit).sort((a, b) => a.d - b.d).map((s) => s.k);
  if (near.length > 0) return near.slice(0, 5);
  const section = lower.includes(".") ? lower.split(".")[0] : undefined;
  const sameSection = all.filter((k) => k.toLowerCase().split(".")[0] === section);
  return sameSection.length > 0 ? sameSection : all;
}

/** `base` overlaid with `overrides`; every value checked. `source` names where the overrides come from. */
function applyOverrides(base: RunConfig, overrides: unknown, source: string): RunConfig {
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
    throw new ConfigError(`${source}: expected a JSON object of sections (${Object.keys(DEFAULT_CONFIG).join(", ")})`);
  }
  const resolved = structuredClone(base) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(overrides as Record<string, unknown>)) {
    const target = resolved[section];
    if (!target) {
      throw new ConfigError(`${source}: unknown section "${section}" (known: ${Object.keys(resolved).join(", ")})`);
    }
    if (typeof values !== "object" || values === null || Array.isArray(values)) {
      throw new ConfigError(`${source}: section "${section}" must be an object`);
    }
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      if (!(key in target)) {
        throw new ConfigError(`${source}: unknown key "${section}.${key}" (near: ${nearConfigKeys(`${section}.${key}`).join(", ")})`);
      }
      checkValue(`${section}.${key}`, typeof target[key], value, source);
      target[key] = value;
    }
  }
  return resolved as unknown as RunConfig;
}

/** Defaults overlaid with overrides; unknown sections or keys, wrongly typed and out-of-range values are refused by name. */
export function resolveConfig(overrides: unknown = {}, source = "config"): RunConfig {
  return applyOverrides(DEFAULT_CONFIG, overrides, source);
}

/**
 * One `--set KEY=VALUE` as overrides: KEY is "section.key" of any setting, VALUE is parsed by the setting's type
 * (numbers as JSON numbers, booleans as true/false, strings as given). Unknown keys are refused with the near ones.
 */
export function parseConfigSetting(setting: string): ConfigOverrides {
  const source = `--set ${setting}`;
  const eq = setting.indexOf("=");
  if (eq <= 0) throw new ConfigError(`${source}: expected KEY=VALUE, e.g. identity.minUniqueSources=4`);
  const key = setting.slice(0, eq).trim();
  const text = setting.slice(eq + 1).trim();
  const [section, name, ...rest] = key.split(".");
  const defaults = (DEFAULT_CONFIG as unknown as Record<string, Record<string, unknown>>)[section!];
  if (rest.length > 0 || name === undefined || !defaults || !(name in defaults)) {
    throw new ConfigError(`${source}: unknown key "${key}" (near: ${nearConfigKeys(key).join(", ")})`);
  }
  const expected = typeof defaults[name];
  let value: unknown = text;
  if (expected === "number") {
    // Number("") is 0 and Number("0x10") is 16: only plain decimal numbers count.
    value = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : text;
  } else if (expected === "boolean") {
    value = text === "true" ? true : text === "false" ? false : text;
  }
  checkValue(key, expected, value, source);
  return { [section!]: { [name]: value } } as ConfigOverrides;
}

/** `config` with each `--set KEY=VALUE` applied in order (a later one wins), validated like the config file. */
export function applyConfigSettings(config: RunConfig, settings: readonly string[]): RunConfig {
  let out = config;
  for (const s of settings) out = applyOverrides(out, parseConfigSetting(s), `--set ${s}`);
  return out;
}

/**
 * The config for a run: defaults, overlaid with the JSON file at `path` when given, then with each `--set
 * KEY=VALUE` of `settings`. Every error is a ConfigError naming the file (or the --set) and the key.
 */
export async function readConfigFile(path?: string, settings: readonly string[] = []): Promise<RunConfig> {
  if (path === undefined) return applyConfigSettings(resolveConfig(), settings);
  const { readJsonFile } = await import("./util/json");
  const json = await readJsonFile(path, (message) => new ConfigError(message), { what: "config" });
  return applyConfigSettings(resolveConfig(json, path), settings);
}
