/**
 * View models of the review page: plain JSON records built from the library on disk, the store's face records and
 * the run records. The page renders them as they are; nothing here knows HTML. Files the page may show are never
 * named by path in a view: the builder hands each one to `register`, which answers an opaque id (see server.ts).
 */
import path from "node:path";
import { cosDist, unitMean } from "../cluster/vectors";
import { FaceIndex } from "../identity/centroids";
import type { FacesetFace } from "../library/manifest";
import { cropPath, type Library, type LoadedFaceset } from "../library/read";
import type { FaceRow } from "../store/records";
import { FaceStore } from "../store/store";
import type { BBox } from "../types";
import { listRunRecords, readRunRecordJson } from "../library/runs";

/** A file the page may ask for, by the id `register` gave it. */
export type ServedFile =
  | { kind: "crop"; file: string; setDir: string }
  | { kind: "store-face"; row: FaceRow }
  | { kind: "photo"; source: string; bbox: BBox };

export type Register = (file: ServedFile) => string;

/** The store's faces, read once per page build (the store is closed again at once: other commands may need it). */
export interface StoreSnapshot {
  index: FaceIndex;
  dim: number;
}

/**
 * Read the store's faces; undefined with a reason when there is no store or another process holds it for writing
 * (the page then shows the library's own numbers).
 */
export async function readStoreSnapshot(storePath: string | undefined): Promise<{ snapshot?: StoreSnapshot; note?: string }> {
  if (storePath === undefined) return { note: "no store given: distances and leftovers need --store" };
  let store: FaceStore;
  try {
    store = await FaceStore.open(storePath, { readOnly: true });
  } catch (err) {
    return { note: `store ${storePath} not readable now (${(err as Error).message.split("\n")[0]})` };
  }
  try {
    const rows = await store.selectFaces({ includeRetired: true });
    return { snapshot: { index: new FaceIndex(rows), dim: store.recognizer?.dim ?? rows[0]?.embedding.length ?? 0 } };
  } finally {
    await store.close();
  }
}

/** What the curation ledger says about a set (libraryStatus), when it is known. */
export interface SetStatus {
  set: string;
  person: string | null;
  state: "active" | "merged" | "dismissed";
  faces: number;
  mergedInto: string | null;
}

/** One face of a set on the Sets page. */
export interface FaceTile {
  /** Thumbnail id (register). */
  thumb: string;
  /** Source photo with the box (register); undefined when the source cannot be located. */
  photo?: string;
  /** What the curation verbs take: the manifest's face id, else the crop file name. */
  faceRef: string;
  crop: string;
  source: string;
  faceShortPx: number;
  blur: number | null;
  detScore: number | null;
  /** Cosine distance to the set's current centroid; `distanceOf` says where it comes from. */
  cosDist: number | null;
  /** "centroid": recomputed from the store's embeddings of the set's faces now; "manifest": as written with the face. */
  distanceOf: "centroid" | "manifest";
}

export interface SetView {
  name: string;
  number: number;
  person: string | null;
  origin: string | null;
  faces: number;
  /** Distinct source files among the faces. */
  photos: number;
  /** Faces matched to a store face (embeddings known). */
  matched: number;
  /** Farthest from the centroid first. */
  tiles: FaceTile[];
}

export interface SetsView {
  library: string;
  sets: SetView[];
  /** Merged and dismissed sets (from the ledger), for restore and reference. */
  inactive: SetStatus[];
  warnings: string[];
  notes: string[];
}

/** The source file of a set face on disk: as written, or relative to the library. */
function sourceFile(face: FacesetFace, library: Library): string {
  return path.isAbsolute(face.source) ? face.source : path.resolve(library.dir, face.source);
}

function setView(set: LoadedFaceset, library: Library, snapshot: StoreSnapshot | undefined, register: Register): Omit<SetView, "person" | "origin"> {
  const rows = set.manifest.faces.map((face) => snapshot?.index.match(face, library.dir)?.row);
  const embeddings = rows.flatMap((r) => (r ? [r.embedding] : []));
  const centroid = snapshot && embeddings.length > 0 ? unitMean(embeddings, snapshot.dim) : undefined;
  const tiles = set.manifest.faces.map((face, i): FaceTile => {
    const row = rows[i];
    const source = row?.path ?? sourceFile(face, library);
    return {
      thumb: register({ kind: "crop", file: cropPath(set, face.crop), setDir: set.dir }),
      photo: register({ kind: "photo", source, bbox: row?.bbox ?? face.bbox }),
      faceRef: face.faceId ?? path.posix.basename(face.crop),
      crop: face.crop,
      source,
      faceShortPx: row?.faceShortPx ?? face.faceShortPx,
      blur: row ? row.blur : face.blur,
      detScore: row ? row.detScore : face.detScore,
      cosDist: row && centroid ? cosDist(row.embedding, centroid) : face.centroidCosDist,
      distanceOf: row && centroid ? "centroid" : "manifest",
    };
  });
  tiles.sort((a, b) => (b.cosDist ?? -1) - (a.cosDist ?? -1) || a.crop.localeCompare(b.crop));
  return {
    name: set.name,
    number: set.number,
    faces: tiles.length,
    photos: new Set(tiles.map((t) => t.source)).size,
    matched: embeddings.length,
    tiles,
  };
}

/** The Sets page: every active set (the library's set folders), by number. */
export function buildSetsView(
  library: Library,
  snapshot: StoreSnapshot | undefined,
  statuses: readonly SetStatus[] | undefined,
  register: Register,
): SetsView {
  const byName = new Map((statuses ?? []).map((s) => [s.set, s]));
  const origins = new Map(library.manifest.facesets.map((e) => [e.name, e.origin]));
  const sets = [...library.sets.values()]
    .sort((a, b) => a.number - b.number)
    .map((set) => ({
      ...setView(set, library, snapshot, register),
      person: byName.get(set.name)?.person ?? null,
      origin: origins.get(set.name) ?? null,
    }));
  return {
    library: library.dir,
    sets,
    inactive: (statuses ?? []).filter((s) => s.state !== "active"),
    warnings: library.warnings,
    notes: [],
  };
}

/** One run record on the Runs page. */
export interface RunView {
  runId: string;
  kind: string;
  startedAt: string;
  finishedAt: string;
  command: string;
  dryRun: boolean;
  source: string | null;
  /** The record's `counts`, as name/number pairs in the record's order (see listCounts when it has none). */
  counts: [string, number][];
  file: string;
}

/**
 * Counts of a record without a `counts` object (build-folders keeps them per person folder): the length of each
 * top-level list, and for lists of records with a `status`, how many have each status (`people created 2`).
 */
function listCounts(record: { [key: string]: unknown }): [string, number][] {
  const out: [string, number][] = [];
  for (const [key, value] of Object.entries(record)) {
    if (!Array.isArray(value)) continue;
    out.push([key, value.length]);
    const statuses = new Map<string, number>();
    for (const item of value) {
      const status = (item as { status?: unknown } | null)?.status;
      if (typeof status === "string") statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    for (const [status, n] of statuses) out.push([`${key} ${status}`, n]);
  }
  return out;
}

/** The Runs page: every run record of the library, newest first; unreadable records are listed in `problems`. */
export async function buildRunsView(libraryDir: string): Promise<{ runs: RunView[]; problems: string[] }> {
  const runs: RunView[] = [];
  const problems: string[] = [];
  for (const file of (await listRunRecords(libraryDir)).reverse()) {
    let r: { [key: string]: unknown };
    try {
      r = (await readRunRecordJson(file)) as { [key: string]: unknown };
    } catch (err) {
      problems.push((err as Error).message.split("\n")[0]!);
      continue;
    }
    const text = (v: unknown) => (typeof v === "string" ? v : "");
    const counts = typeof r.counts === "object" && r.counts !== null
      ? Object.entries(r.counts as { [key: string]: unknown }).filter((e): e is [string, number] => typeof e[1] === "number")
      : listCounts(r);
    runs.push({
      runId: text(r.runId) || path.basename(file, ".json"),
      kind: text(r.kind) || "unknown",
      startedAt: text(r.startedAt),
      finishedAt: text(r.finishedAt),
      command: text(r.command),
      dryRun: r.dryRun === true,
      source: text(r.source) || text(r.folders) || null,
      counts,
      file: path.basename(file),
    });
  }
  return { runs, problems };
}
