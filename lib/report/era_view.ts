/**
 * Era view of one face set (a parent identity): each face's capture year, its cosine distance to the set's centroid
 * and the era splitEras (lib/identity/eras.ts) puts it in, as a table of eras and an eraScatter figure. For the
 * notebooks and reports: it reads the library and the store and writes nothing, so it works on any set, whether
 * split-eras ran on it or not.
 *
 * The faces are matched to the store and dated as split-eras does: each manifest face to its store face
 * (FaceIndex.match: face id, else box overlap on its source), its capture time the EXIF DateTimeOriginal of its
 * file under any live path. Faces the store does not hold are left out and listed in `unmatched`.
 */
import path from "node:path";
import type { RunConfig } from "../config";
import { cosDist } from "../cluster/vectors";
import { eraDate, type EraSplit, type EraSplitMode, splitEras } from "../identity/eras";
import { claimedFacesetNumber, facesetName } from "../library/manifest";
import { type Library, readLibrary } from "../library/read";
import { faceKey } from "../library/write";
import type { FaceStore } from "../store/store";
import { datedSetFaces, storeFaceLookup } from "../identity/set_faces";
import { storeRecognizer } from "../workflows/context";
import { eraScatter, type PlotFigure } from "./figures";

/** One face of the set as the view shows it. */
export interface EraViewFace {
  /** faceKey of the manifest face. */
  key: string;
  /** The source path the manifest records. */
  source: string;
  /** EXIF DateTimeOriginal as a UTC-naive Date; null when the file has none. */
  captureTime: Date | null;
  /** Capture year (camera wall clock); null when undated. */
  year: number | null;
  /** Cosine distance (1 - cos) to the centroid of all the set's matched faces: the parent identity's centroid. */
  parentCosDist: number;
  /** Label of the face's era (e.g. "1999", "look 2", "undated"). */
  era: string;
  /** Index of that era in `split.eras`. */
  eraIndex: number;
}

export interface EraView {
  /** `faceset_NNN` and its number. */
  set: string;
  number: number;
  /** The set's `person` field when it has one, else `set`. */
  identity: string;
  /** For titles and printing: `Ann (faceset_007)`, or `faceset_007` when the set has no person. */
  label: string;
  /** The matched faces, in manifest order. */
  faces: EraViewFace[];
  /** faceKeys of manifest faces without a store face (not in `faces`, not split). */
  unmatched: string[];
  /** Faces (of `faces`) with a capture time. */
  dated: number;
  /** The split itself (eras in order, parent centroid, resolved settings). */
  split: EraSplit;
  /** One line worth printing: no or partial capture times (from splitEras), unmatched faces; undefined otherwise. */
  note: string | undefined;
}

/** One row of the era table. */
export interface EraTableRow {
  era: string;
  faces: number;
  dated: number;
  /** `YYYY-MM-DD` of the earliest / latest dated face ("" when none is dated). */
  from: string;
  to: string;
  median_year: number | null;
  /** Mean cosine distance (1 - cos) of the era's faces to the parent centroid. */
  mean_parent_dist: number;
  /** Fewer than minEraFaces faces: split-eras would put it under `_thin/`. */
  thin: boolean;
}

/** A set of the library, for choosing which one to view. */
export interface EraSetSummary {
  set: string;
  number: number;
  identity: string;
  /** Faces in the manifest, of them matched to the store, of those with a capture time. */
  faces: number;
  matched: number;
  dated: number;
}

export interface EraViewOptions {
  /** Split mode (default: `both` when any face is dated, else `embedding`; see splitEras). */
  mode?: EraSplitMode;
  /** The library as already read (default: read `libraryDir`). */
  library?: Library;
}

/** What the library calls set `number` in titles: its top-level `person` field, else its folder name. */
function identityOf(library: Library, number: number): string {
  const name = facesetName(number);
  const person = library.manifest.facesets.find((e) => e.name === name)?.extra?.person;
  return typeof person === "string" && person.length > 0 ? person : name;
}

/** Split set `faceset` of the library at `libraryDir` into eras with `config.eras` and place each face (see module note). */
export async function eraView(
  store: FaceStore,
  libraryDir: string,
  faceset: number,
  config: RunConfig,
  options: EraViewOptions = {},
): Promise<EraView> {
  const dir = path.resolve(libraryDir);
  const library = options.library ?? await readLibrary(dir);
  const set = library.sets.get(faceset);
  if (!set) {
    const sets = [...library.sets.values()].map((s) => s.name).join(", ") || "none";
    throw new RangeError(`${path.join(dir, facesetName(faceset))}: no such set with a manifest (sets: ${sets})`);
  }
  const recognizer = storeRecognizer(store, store.path, `scan ${set.name}'s sources first`);
  const dated = datedSetFaces(await storeFaceLookup(store), set, dir);
  const matched = dated.matched.map(({ face, row, captureTime }) => ({ key: faceKey(face), source: face.source, row, captureTime }));
  const unmatched = dated.unmatched.map(faceKey);
  const inputs = matched.map(({ key, row, captureTime }) => ({ key, embedding: row.embedding, captureTime }));
  const split = splitEras(inputs, recognizer.dim, config.eras, { mode: options.mode });

  const eraOf = new Array<number>(matched.length).fill(-1);
  for (const era of split.eras) for (const i of era.members) eraOf[i] = era.index;
  const faces = matched.map(({ key, source }, i): EraViewFace => {
    const captureTime = inputs[i]!.captureTime;
    const era = split.eras[eraOf[i]!]!;
    return {
      key,
      source,
      captureTime,
      year: captureTime ? captureTime.getUTCFullYear() : null, // UTC-naive: the UTC fields are the camera's clock
      parentCosDist: cosDist(inputs[i]!.embedding, split.parentCentroid),
      era: era.label,
      eraIndex: era.index,
    };
  });
  const notes = [
    split.note,
    unmatched.length > 0
      ? `${unmatched.length} of ${set.manifest.faces.length} faces have no store face (source not scanned?) and are left out`
      : undefined,
  ].filter((n): n is string => n !== undefined);
  const identity = identityOf(library, set.number);
  return {
    set: set.name,
    number: set.number,
    identity,
    label: identity === set.name ? set.name : `${identity} (${set.name})`,
    faces,
    unmatched,
    dated: split.dated,
    split,
    note: notes.length > 0 ? notes.join("; ") : undefined,
  };
}

/** The eras as table rows, in split order. */
export function eraTable(view: EraView): EraTableRow[] {
  return view.split.eras.map((era) => ({
    era: era.label,
    faces: era.members.length,
    dated: era.dated,
    from: eraDate(era.from) ?? "",
    to: eraDate(era.to) ?? "",
    median_year: era.medianYear,
    mean_parent_dist: era.meanParentCosDist,
    thin: era.thin,
  }));
}

export interface EraViewFigureOptions {
  /** A distance to draw as a horizontal line, e.g. identity.outlierMaxCosDist; none by default. */
  thresholdCosDist?: number;
  thresholdLabel?: string;
  title?: string;
}

/** What the era names mean, for the figure's subtitle. */
function eraNaming(split: EraSplit): string {
  const { eraMaxCosDist, eraMinYearGap } = split.settings;
  if (split.mode === "time") return `eras: split where consecutive capture years are > ${eraMinYearGap} apart`;
  const clusters = `sub-clusters at ${split.settings.linkage}-linkage cosine distance <= ${eraMaxCosDist}`;
  return split.mode === "both" ? `eras: ${clusters}, named by median capture year` : `eras: ${clusters}`;
}

/**
 * eraScatter of the view: capture year vs distance to the parent centroid, one colour per era (undated faces left
 * out), the subtitle saying how the eras were made.
 */
export function eraViewFigure(view: EraView, options: EraViewFigureOptions = {}): PlotFigure {
  return eraScatter({
    years: view.faces.map((f) => f.year),
    distances: view.faces.map((f) => f.parentCosDist),
    eras: view.faces.map((f) => f.era),
    identity: view.label,
    detail: eraNaming(view.split),
    ...options,
  });
}

/** Every set of the library with its face counts (manifest, matched to the store, dated), by number. */
export async function eraSetSummaries(store: FaceStore, libraryDir: string, library?: Library): Promise<EraSetSummary[]> {
  const dir = path.resolve(libraryDir);
  const lib = library ?? await readLibrary(dir);
  const lookup = await storeFaceLookup(store);
  return [...lib.sets.values()].sort((a, b) => a.number - b.number).map((set) => {
    const { matched } = datedSetFaces(lookup, set, dir);
    const dated = matched.filter((m) => m.captureTime !== null).length;
    return { set: set.name, number: set.number, identity: identityOf(lib, set.number), faces: set.manifest.faces.length, matched: matched.length, dated };
  });
}

/**
 * Which set to view: `wanted` when given ("7" or "faceset_007"; it must be one of `sets`), else the largest set
 * (most matched faces, then lowest number) with any capture time, else the largest set; undefined without sets.
 */
export function pickEraSet(sets: readonly EraSetSummary[], wanted?: string): number | undefined {
  if (wanted !== undefined && wanted.trim() !== "") {
    const text = wanted.trim();
    const n = /^\d+$/.test(text) ? Number(text) : claimedFacesetNumber(text);
    if (n === undefined || !sets.some((s) => s.number === n)) {
      throw new RangeError(
        `era set ${JSON.stringify(wanted)}: not a set of the library (sets: ${sets.map((s) => s.set).join(", ") || "none"})`,
      );
    }
    return n;
  }
  const largest = (list: readonly EraSetSummary[]) =>
    [...list].sort((a, b) => b.matched - a.matched || a.number - b.number)[0]?.number;
  return largest(sets.filter((s) => s.dated > 0)) ?? largest(sets);
}
