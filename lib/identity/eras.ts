/**
 * Eras: one identity's faces split into periods of life, by capture time, by appearance, or both. Pure: faces in
 * (unit embedding, capture time or null, a key), eras out (members, label, date range, distances); no IO.
 *
 *  - `time`: dated faces sorted by capture year; a new era starts where consecutive years differ by more than
 *    `eraMinYearGap`. Undated faces cannot be placed in time and form one "undated" era of their own.
 *  - `embedding`: average-linkage sub-clusters at `eraMaxCosDist` (tighter than identity clustering, so one person
 *    splits into looks), largest first.
 *  - `both` (the default when any face has a capture time): the embedding clusters, with clusters whose capture-year
 *    spans overlap joined into one era; eras ordered and labelled by their own year spans ("1994-1998"), which never
 *    overlap (clusters without a dated face come last, labelled "undated").
 *
 * A set whose faces have no capture time at all splits by embedding whatever was asked, and says so in `note`.
 */
import type { EraConfig } from "../config";
import { cosDist, unitMean } from "../cluster/vectors";
import { cluster } from "../cluster/cluster";
import type { AgglomerativeLinkage } from "../cluster/options";

export type EraSplitMode = "time" | "embedding" | "both";
export const ERA_SPLIT_MODES: readonly EraSplitMode[] = ["time", "embedding", "both"];

/** Eras sub-cluster with average linkage (mean pairwise distance): robust to one odd photo joining two looks. */
export const ERA_LINKAGE: AgglomerativeLinkage = "average";

/** The label of faces (or an era) without a capture time. */
export const UNDATED_LABEL = "undated";

export interface EraFace {
  /** Identifies the face to the caller (e.g. a faceKey); carried through unchanged. */
  key: string;
  /** Unit length ([Note: cosine] in types.ts). */
  embedding: Float32Array;
  /** EXIF DateTimeOriginal as a UTC-naive Date (camera wall clock); null when unknown. */
  captureTime: Date | null;
}

export interface EraSplitOptions {
  /** How to split; default `both` when any face has a capture time, else `embedding`. */
  mode?: EraSplitMode;
}

export interface Era {
  /** 0-based position in the split's order. */
  index: number;
  /** "1994-1998" or "1996" (time and both: the era's own year span), "look 1" (embedding), "undated". */
  label: string;
  /** Indices into the input faces, ascending. */
  members: number[];
  keys: string[];
  /** Earliest and latest capture time of the dated members; null when none is dated. */
  from: Date | null;
  to: Date | null;
  /** Median capture year of the dated members (the lower middle one for an even count); null when none. */
  medianYear: number | null;
  /** Members with a capture time. */
  dated: number;
  /** Fewer than `minEraFaces` members: goes to `_thin/`. */
  thin: boolean;
  /** Unit mean of the members' embeddings. */
  centroid: Float32Array;
  /** Each member's cosine distance to `centroid`, in `members` order. */
  centroidCosDists: number[];
  /** Mean cosine distance of the members to the parent set's centroid (all input faces). */
  meanParentCosDist: number;
}

export interface EraSplit {
  /** What was asked (undefined: the default). */
  requested: EraSplitMode | undefined;
  /** What ran. */
  mode: EraSplitMode;
  /** Why `mode` differs from what was asked, or other facts worth printing (no capture times...). */
  note: string | undefined;
  /** Faces with a capture time. */
  dated: number;
  eras: Era[];
  /** Unit mean of every input face: the parent identity's centroid. */
  parentCentroid: Float32Array;
  /** Embedding clusters found (embedding and both; in both, looks of overlapping years then join); null for time. */
  looks: number | null;
  /** The resolved settings, for records. */
  settings: EraConfig & { linkage: AgglomerativeLinkage };
}

/** Validate a mode name at the edge (style: closed choices name the bad value and the allowed ones). */
export function checkEraSplitMode(value: unknown, context = "eras"): EraSplitMode {
  if (typeof value !== "string" || !ERA_SPLIT_MODES.includes(value as EraSplitMode)) {
    throw new RangeError(`${context}: invalid split mode ${JSON.stringify(value)} (allowed: ${ERA_SPLIT_MODES.join(", ")})`);
  }
  return value as EraSplitMode;
}

const yearOf = (d: Date) => d.getUTCFullYear(); // UTC-naive dates: the UTC fields are the camera's wall clock

/** `YYYY-MM-DD` of a UTC-naive Date. */
export function eraDate(d: Date | null): string | null {
  return d === null ? null : d.toISOString().slice(0, 10);
}

/** Split one identity's faces into eras (see the module note). Deterministic for the same input. */
export function splitEras(
  faces: readonly EraFace[],
  dim: number,
  config: EraConfig,
  options: EraSplitOptions = {},
): EraSplit {
  const { eraMaxCosDist, eraMinYearGap, minEraFaces } = config;
  if (!(eraMinYearGap >= 0)) throw new RangeError(`eras: eraMinYearGap must be >= 0 years, got ${eraMinYearGap}`);
  if (!(minEraFaces >= 1)) throw new RangeError(`eras: minEraFaces must be >= 1, got ${minEraFaces}`);
  const requested = options.mode === undefined ? undefined : checkEraSplitMode(options.mode);
  const dated = faces.filter((f) => f.captureTime !== null).length;
  let mode: EraSplitMode = requested ?? (dated > 0 ? "both" : "embedding");
  let note: string | undefined;
  if (faces.length > 0 && dated === 0 && mode !== "embedding") {
    note = `no face has a capture time (EXIF DateTimeOriginal): split by embedding only, not by ${mode}`;
    mode = "embedding";
  } else if (dated === 0 && faces.length > 0) {
    note = "no face has a capture time (EXIF DateTimeOriginal): split by embedding only; eras carry no dates";
  } else if (dated < faces.length && mode !== "embedding") {
    note = `${faces.length - dated} of ${faces.length} faces have no capture time` +
      (mode === "time" ? `; they form the "${UNDATED_LABEL}" era` : "; they are placed by embedding only");
  }

  const parentCentroid = unitMean(faces.map((f) => f.embedding), dim);
  const { groups, looks } = mode === "time"
    ? { groups: timeGroups(faces, eraMinYearGap), looks: null }
    : embeddingGroups(faces, dim, eraMaxCosDist, mode === "both");

  const eras = groups.map((g, index): Era => {
    const members = [...g.members].sort((a, b) => a - b);
    const times = members.flatMap((i) => (faces[i]!.captureTime ? [faces[i]!.captureTime!] : []));
    times.sort((a, b) => a.getTime() - b.getTime());
    const years = times.map(yearOf);
    const centroid = unitMean(members.map((i) => faces[i]!.embedding), dim);
    const parentDists = members.map((i) => cosDist(faces[i]!.embedding, parentCentroid));
    return {
      index,
      label: g.label,
      members,
      keys: members.map((i) => faces[i]!.key),
      from: times[0] ?? null,
      to: times.at(-1) ?? null,
      medianYear: years.length > 0 ? years[Math.floor((years.length - 1) / 2)]! : null,
      dated: times.length,
      thin: members.length < minEraFaces,
      centroid,
      centroidCosDists: members.map((i) => cosDist(faces[i]!.embedding, centroid)),
      meanParentCosDist: parentDists.reduce((s, d) => s + d, 0) / Math.max(1, parentDists.length),
    };
  });
  return { requested, mode, note, dated, eras, parentCentroid, looks, settings: { ...config, linkage: ERA_LINKAGE } };
}

interface Group {
  members: number[];
  label: string;
}

/** "1994" or "1994-1998". */
const yearRange = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);

/** Dated faces by year gaps (ties broken by time, then input order); undated faces as one trailing group. */
function timeGroups(faces: readonly EraFace[], eraMinYearGap: number): Group[] {
  const datedIdx = faces.flatMap((f, i) => (f.captureTime ? [i] : []));
  datedIdx.sort((a, b) => faces[a]!.captureTime!.getTime() - faces[b]!.captureTime!.getTime() || a - b);
  const groups: Group[] = [];
  let current: number[] = [];
  const close = () => {
    if (current.length === 0) return;
    const first = yearOf(faces[current[0]!]!.captureTime!);
    const last = yearOf(faces[current.at(-1)!]!.captureTime!);
    groups.push({ members: current, label: yearRange(first, last) });
    current = [];
  };
  for (const i of datedIdx) {
    const prev = current.at(-1);
    if (prev !== undefined && yearOf(faces[i]!.captureTime!) - yearOf(faces[prev]!.captureTime!) > eraMinYearGap) close();
    current.push(i);
  }
  close();
  const undated = faces.flatMap((f, i) => (f.captureTime ? [] : [i]));
  if (undated.length > 0) groups.push({ members: undated, label: UNDATED_LABEL });
  return groups;
}

/**
 * Average-linkage clusters at eraMaxCosDist. Without dates: largest first (then first member), labelled "look N".
 * With dates (`both`): clusters whose capture-year spans overlap are one era (two looks of the same years are not
 * two periods of a life), so eras are labelled by their own spans ("1994-1998"), which never overlap, in time
 * order; clusters without a dated face come last, "undated" (" #2", " #3" when there are several).
 */
function embeddingGroups(faces: readonly EraFace[], dim: number, eraMaxCosDist: number, byYear: boolean): { groups: Group[]; looks: number } {
  if (faces.length === 0) return { groups: [], looks: 0 };
  const matrix = new Float32Array(faces.length * dim);
  faces.forEach((f, i) => matrix.set(f.embedding, i * dim));
  const { clusters } = cluster(matrix, dim, { linkage: ERA_LINKAGE, maxCosDist: eraMaxCosDist });
  const looks = clusters.length;
  if (!byYear) {
    const groups = [...clusters]
      .sort((a, b) => b.length - a.length || a[0]! - b[0]!)
      .map((members, k) => ({ members, label: `look ${k + 1}` }));
    return { groups, looks };
  }
  const spans: { members: number[]; from: number; to: number }[] = [];
  const undated: number[][] = [];
  for (const members of clusters) {
    const years = members.flatMap((i) => (faces[i]!.captureTime ? [yearOf(faces[i]!.captureTime!)] : []));
    if (years.length === 0) undated.push(members);
    else spans.push({ members: [...members], from: Math.min(...years), to: Math.max(...years) });
  }
  spans.sort((a, b) => a.from - b.from || a.to - b.to || a.members[0]! - b.members[0]!);
  const merged: typeof spans = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last !== undefined && span.from <= last.to) {
      last.members.push(...span.members);
      last.to = Math.max(last.to, span.to);
    } else merged.push(span);
  }
  undated.sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  const groups = [
    ...merged.map((s) => ({ members: s.members.sort((a, b) => a - b), label: yearRange(s.from, s.to) })),
    ...undated.map((members, k) => ({ members, label: k === 0 ? UNDATED_LABEL : `${UNDATED_LABEL} #${k + 1}` })),
  ];
  return { groups, looks };
}

/**
 * Why a split makes no era set, in one line naming the setting (undefined when it makes one): one era only, or
 * every era under `eras.minEraFaces`.
 */
export function eraSplitWhy(split: EraSplit, config: EraConfig): string | undefined {
  const { eras, mode } = split;
  const faces = eras.reduce((n, e) => n + e.members.length, 0);
  if (eras.length === 0) return "no face of the set matched a face in the store; scan its sources first";
  if (eras.length === 1) {
    const era = eras[0]!;
    const span = era.from && era.to ? yearRange(yearOf(era.from), yearOf(era.to)) : null;
    if (mode === "time") {
      return `all ${faces} faces are one era: no two consecutive capture years${span ? ` (${span})` : ""} are more than ` +
        `eras.eraMinYearGap ${config.eraMinYearGap} years apart; nothing to split by time`;
    }
    if (mode === "both" && (split.looks ?? 0) > 1) {
      return `all ${faces} faces are one era: the looks found at eras.eraMaxCosDist ${config.eraMaxCosDist} share their ` +
        `capture years${span ? ` (${span})` : ""}; nothing to split by both`;
    }
    return `all ${faces} faces are one look at eras.eraMaxCosDist ${config.eraMaxCosDist}; lower it to split looks finer`;
  }
  if (eras.every((e) => e.thin)) {
    const largest = Math.max(...eras.map((e) => e.members.length));
    return `${eras.length} eras, 0 sets: every era has fewer than eras.minEraFaces ${config.minEraFaces} faces (largest ${largest}); ` +
      "they go to _thin/; lower eras.minEraFaces to make sets of them";
  }
  return undefined;
}
