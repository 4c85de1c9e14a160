/**
 * The settings that made a file's records: the detection settings, the decode limit and the models' sha256s. The
 * store keeps them with each analysed file (`files.analysis`), so a scan with other settings knows which records
 * are not its own and analyses those files again instead of skipping them as known.
 */
import type { RunConfig } from "../config";

export interface AnalysisSettings {
  detectorSha256: string | null;
  recognizerSha256: string | null;
  detSizePx: number;
  detMinScore: number;
  nmsMaxIou: number;
  secondPass: boolean;
  secondPassSizePx: number;
  /** Only decides whether a file can be decoded at all: compared for error records only. */
  maxPixels: number;
}

/** The keys that change what is found in a decoded image, in the order messages list them. */
const DETECTION_KEYS = ["detectorSha256", "recognizerSha256", "detSizePx", "detMinScore", "nmsMaxIou", "secondPass", "secondPassSizePx"] as const;

/** Names of the keys as a person sets them (`--set detection.detSizePx=...`) or knows them (the models). */
const LABELS: Record<keyof AnalysisSettings, string> = {
  detectorSha256: "detector",
  recognizerSha256: "recognizer",
  detSizePx: "detection.detSizePx",
  detMinScore: "detection.detMinScore",
  nmsMaxIou: "detection.nmsMaxIou",
  secondPass: "detection.secondPass",
  secondPassSizePx: "detection.secondPassSizePx",
  maxPixels: "image.maxPixels",
};

/** The settings of a run with `config` and these models. */
export function analysisSettings(
  config: Pick<RunConfig, "detection" | "image">,
  models: { detectorSha256: string | null; recognizerSha256: string | null },
): AnalysisSettings {
  const d = config.detection;
  return {
    detectorSha256: models.detectorSha256,
    recognizerSha256: models.recognizerSha256,
    detSizePx: d.detSizePx,
    detMinScore: d.detMinScore,
    nmsMaxIou: d.nmsMaxIou,
    secondPass: d.secondPass,
    secondPassSizePx: d.secondPassSizePx,
    maxPixels: config.image.maxPixels,
  };
}

/**
 * The settings a stored run's config JSON and models describe (for records written before the store kept them);
 * null when the run recorded no usable config (imports, foreign stores).
 */
export function analysisSettingsOfRun(config: unknown, models: { detectorSha256: string | null; recognizerSha256: string | null }): AnalysisSettings | null {
  const c = config as { detection?: Record<string, unknown>; image?: Record<string, unknown> } | null;
  const d = c?.detection;
  if (!d || typeof d !== "object") return null;
  const num = (v: unknown) => (typeof v === "number" ? v : Number.NaN);
  const s: AnalysisSettings = {
    ...models,
    detSizePx: num(d.detSizePx),
    detMinScore: num(d.detMinScore),
    nmsMaxIou: num(d.nmsMaxIou),
    // Stores written before the second pass existed ran without it.
    secondPass: typeof d.secondPass === "boolean" ? d.secondPass : false,
    secondPassSizePx: typeof d.secondPassSizePx === "number" ? d.secondPassSizePx : 128,
    maxPixels: num(c?.image?.maxPixels),
  };
  return Number.isNaN(s.detSizePx) || Number.isNaN(s.detMinScore) || Number.isNaN(s.nmsMaxIou) ? null : s;
}

function show(key: keyof AnalysisSettings, v: unknown): string {
  if (key === "detectorSha256" || key === "recognizerSha256") return v === null ? "unknown" : `${String(v).slice(0, 8)}…`;
  return Number.isNaN(v) ? "unknown" : String(v);
}

/**
 * How `stored` differs from `current`, one "key old -> new" per difference; empty when a record made with `stored`
 * is one `current` would make. `errorRecord`: the record is an error, whose outcome also depends on maxPixels.
 * A stored model sha256 that is unknown (null) is not a difference: imported faces keep their records.
 */
export function analysisChanges(stored: AnalysisSettings, current: AnalysisSettings, { errorRecord = false } = {}): string[] {
  const keys: (keyof AnalysisSettings)[] = errorRecord ? [...DETECTION_KEYS, "maxPixels"] : [...DETECTION_KEYS];
  const out: string[] = [];
  for (const key of keys) {
    const a = stored[key];
    const b = current[key];
    if (a === b) continue;
    if ((key === "detectorSha256" || key === "recognizerSha256") && (a === null || b === null)) continue;
    // The second pass size matters only while the second pass runs.
    if (key === "secondPassSizePx" && !stored.secondPass && !current.secondPass) continue;
    out.push(`${LABELS[key]} ${show(key, a)} -> ${show(key, b)}`);
  }
  return out;
}
