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
   * are one photo (lib/identity/same_photo.ts). 0 counts files, as the owner's tool did. Measured on ../shared/faces
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

/** Numbers with a bounded range, inclusive, checked when overridden ("section.key"). */
const NUMBER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  "identity.samePhotoMaxCosDist": [0, 1],
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Defaults overlaid with overrides; unknown sections or keys and wrongly typed values are refused by name. */
export function resolveConfig(overrides: unknown = {}, source = "config"): RunConfig {
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
    throw new ConfigError(`${source}: expected a JSON object of sections (${Object.keys(DEFAULT_CONFIG).join(", ")})`);
  }
  const resolved = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(overrides as Record<string, unknown>)) {
    const target = resolved[section];
    if (!target) {
      throw new ConfigError(`${source}: unknown section "${section}" (known: ${Object.keys(resolved).join(", ")})`);
    }
    if (typeof values !== "object" || values === null) {
      throw new ConfigError(`${source}: section "${section}" must be an object`);
    }
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      if (!(key in target)) {
        throw new ConfigError(`${source}: unknown key "${section}.${key}" (known: ${Object.keys(target).join(", ")})`);
      }
      const expected = typeof target[key];
      if (typeof value !== expected || (expected === "number" && !Number.isFinite(value))) {
        throw new ConfigError(`${source}: "${section}.${key}" must be a ${expected}, got ${JSON.stringify(value)}`);
      }
      if (key === "linkage" && !LINKAGES.includes(value as Linkage)) {
        throw new ConfigError(`${source}: invalid linkage ${JSON.stringify(value)} (allowed: ${LINKAGES.join(", ")})`);
      }
      const range = NUMBER_RANGES[`${section}.${key}`];
      if (range && !((value as number) >= range[0] && (value as number) <= range[1])) {
        throw new ConfigError(`${source}: "${section}.${key}" must be in [${range[0]}, ${range[1]}], got ${value}`);
      }
      target[key] = value;
    }
  }
  return resolved as unknown as RunConfig;
}

/** The config for a run: defaults, overlaid with the JSON file at `path` when given. */
export async function readConfigFile(path?: string): Promise<RunConfig> {
  if (path === undefined) return resolveConfig();
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(`${path}: cannot read config (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return resolveConfig(json, path);
}
