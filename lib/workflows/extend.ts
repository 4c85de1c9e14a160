/**
 * `extend`: add a folder's faces to the existing identities they belong to. Reads the store and the library, plans
 * with planExtend (pure), then (unless dry-run) renders the crops and appends them with appendToFaceset (crops
 * under new names, set manifest and top-level count replaced atomically; nothing renumbered), and writes the run
 * record.
 *
 * Decisions, per face of the source, in order (the first step that takes a face is its fate):
 *  1. `in-library`: already a face of a set (or thin era), matched by face id / source + box (FaceIndex.match);
 *  2. `claimed`: a member of a cluster a discovery turned into a set (its provenance claimed_face_ids);
 *  3. `not-routed`: no identity's anchor centroid within `routeMaxCosDist`; otherwise the nearest identity is it;
 *  4. `gated`: fails a quality gate (`minFaceShortPx`, `minBlur`, `minDetScore`); `export-gated`: fails the
 *     export gate (`exportMinFaceShortPx`, distance <= `exportMaxCosDist`). Extended sets keep the bar of
 *     discovered sets: a face enters a set only if discovery would have exported it there;
 *  5. `same-photo`: the set already holds a face of that photo, or a nearer face of it goes to the set in this
 *     run (one person appears once per photo, as in clustering);
 *  6. `added`.
 *
 * [Note: anchor centroid] Routing compares with each set's *anchor* centroid: the mean of the set's faces that
 * extend did not add (faces it adds carry `added_by: "extend"`). So extend never moves an identity: a re-run
 * makes the same decisions and adds nothing, and a chain of runs cannot drift a set towards a look-alike.
 */
import path from "node:path";
import type { RunConfig } from "../config";
import { cosDist, FaceIndex, facesetIdentity, libraryFaceOwners } from "../identity/centroids";
import { exportGateFailures, qualityGateFailures } from "../identity/discover";
import { type DecidedFace, decidedFace } from "../identity/face_decision";
import { renderFaceGroups } from "../export/faces";
import type { FacesetFace } from "../library/manifest";
import { readLibrary } from "../library/read";
import { appendToFaceset } from "../library/write";
import type { FaceRow } from "../store/records";
import { type LibraryWorkflowOptions, type RunRecordHeader, startRun, storeRecognizer } from "./context";
import { claimedFaceIds, writeRunRecord } from "./provenance";

/** Marks the faces extend adds (in the face record's extra fields) so they stay out of the anchor centroid. */
export const ADDED_BY_EXTEND = "extend";

export type ExtendFate =
  | "in-library"
  | "claimed"
  | "not-routed"
  | "gated"
  | "export-gated"
  | "same-photo"
  | "no-landmarks"
  | "added";

/** An existing set as extend sees it. */
export interface ExtendIdentity {
  number: number;
  name: string;
  /** Unit mean of the set's matched faces that extend did not add; undefined when none matched. */
  anchor: Float32Array | undefined;
  /** Photos (content sha256) the set already holds a face of. */
  photos: ReadonlySet<string>;
}

export interface ExtendDecision extends DecidedFace {
  nearestIdentity: string | null;
  nearestCosDist: number | null;
  fate: ExtendFate;
  /** The set: the one holding it (in-library) or the one it was routed to. */
  identity?: string;
  /** Failed gates (gated / export-gated) or why same-photo. */
  reasons?: string[];
}

export interface ExtendSetOutcome {
  identity: string;
  number: number;
  /** Faces routed to the set (before gates). */
  routed: number;
  gated: number;
  exportGated: number;
  samePhoto: number;
  added: number;
}

export interface ExtendPlan {
  counts: Record<"faces" | "inLibrary" | "claimed" | "notRouted" | "routed" | "gated" | "exportGated" | "samePhoto" | "noLandmarks" | "added", number>;
  sets: ExtendSetOutcome[];
  identitiesWithoutCentroid: string[];
  /** Per set with faces to add: the store faces and their distance to the anchor centroid, in input order. */
  additions: { identity: string; number: number; faces: { row: FaceRow; centroidCosDist: number }[] }[];
  faces: ExtendDecision[];
}

export interface ExtendInput {
  faces: readonly FaceRow[];
  identities: readonly ExtendIdentity[];
  /** Face id -> the set (or thin era) that already holds the face. */
  inLibrary: ReadonlyMap<string, string>;
  claimedFaceIds?: ReadonlySet<string>;
  config: RunConfig;
}

/** Pure: one decision per face (see the module comment for the order). */
export function planExtend(input: ExtendInput): ExtendPlan {
  const { faces, identities, inLibrary, config, claimedFaceIds = new Set<string>() } = input;
  const withAnchor = identities.filter((i) => i.anchor !== undefined);
  const outcomes = new Map(
    identities.map((i) => [i.name, { identity: i.name, number: i.number, routed: 0, gated: 0, exportGated: 0, samePhoto: 0, added: 0 }]),
  );
  const decisions: ExtendDecision[] = faces.map((row) => {
    let nearest: ExtendIdentity | undefined;
    let nearestCosDist: number | null = null;
    for (const identity of withAnchor) {
      const d = cosDist(row.embedding, identity.anchor!);
      if (nearestCosDist === null || d < nearestCosDist) [nearest, nearestCosDist] = [identity, d];
    }
    const decision: ExtendDecision = {
      ...decidedFace(row),
      nearestIdentity: nearest?.name ?? null,
      nearestCosDist,
      fate: "not-routed",
    };
    const holder = inLibrary.get(row.faceId);
    if (holder !== undefined) return { ...decision, fate: "in-library", identity: holder };
    if (claimedFaceIds.has(row.faceId)) return { ...decision, fate: "claimed" };
    if (nearest === undefined || nearestCosDist === null || !(nearestCosDist <= config.identity.routeMaxCosDist)) {
      return decision;
    }
    const outcome = outcomes.get(nearest.name)!;
    outcome.routed++;
    const routed = { ...decision, identity: nearest.name };
    if (row.kps === null) return { ...routed, fate: "no-landmarks" }; // imported without landmarks: no crop
    const gates = qualityGateFailures(row, config);
    if (gates.length > 0) {
      outcome.gated++;
      return { ...routed, fate: "gated", reasons: gates };
    }
    const exportGates = exportGateFailures(row, nearestCosDist, config);
    if (exportGates.length > 0) {
      outcome.exportGated++;
      return { ...routed, fate: "export-gated", reasons: exportGates };
    }
    if (nearest.photos.has(row.fileSha256)) {
      outcome.samePhoto++;
      return { ...routed, fate: "same-photo", reasons: [`${nearest.name} already holds a face of this photo`] };
    }
    return { ...routed, fate: "added" };
  });

  // One face per photo and set: among this run's candidates, the nearest wins.
  const best = new Map<string, number>();
  decisions.forEach((d, i) => {
    if (d.fate !== "added") return;
    const key = `${d.identity}|${d.fileSha256}`;
    const other = best.get(key);
    if (other === undefined || d.nearestCosDist! < decisions[other]!.nearestCosDist!) best.set(key, i);
  });
  decisions.forEach((d, i) => {
    if (d.fate !== "added" || best.get(`${d.identity}|${d.fileSha256}`) === i) return;
    d.fate = "same-photo";
    d.reasons = [`a nearer face of this photo goes to ${d.identity}`];
    outcomes.get(d.identity!)!.samePhoto++;
  });

  const additions: ExtendPlan["additions"] = [];
  for (const identity of identities) {
    const chosen = faces.flatMap((row, i) =>
      decisions[i]!.fate === "added" && decisions[i]!.identity === identity.name
        ? [{ row, centroidCosDist: decisions[i]!.nearestCosDist! }]
        : []
    );
    outcomes.get(identity.name)!.added = chosen.length;
    if (chosen.length > 0) additions.push({ identity: identity.name, number: identity.number, faces: chosen });
  }
  const count = (fate: ExtendFate) => decisions.filter((d) => d.fate === fate).length;
  return {
    counts: {
      faces: faces.length,
      inLibrary: count("in-library"),
      claimed: count("claimed"),
      notRouted: count("not-routed"),
      routed: decisions.filter((d) => d.identity !== undefined && d.fate !== "in-library").length,
      gated: count("gated"),
      exportGated: count("export-gated"),
      samePhoto: count("same-photo"),
      noLandmarks: count("no-landmarks"),
      added: count("added"),
    },
    sets: [...outcomes.values()],
    identitiesWithoutCentroid: identities.filter((i) => i.anchor === undefined).map((i) => i.name),
    additions,
    faces: decisions,
  };
}

export interface ExtendOptions extends LibraryWorkflowOptions {
  /** The folder whose faces in the store are routed to the sets. */
  source: string;
}

/** `<library>/_runs/<runId>.json` of an extend run. */
export interface ExtendRunRecord extends RunRecordHeader<"extend"> {
  source: string;
  library: string;
  store: string;
  recognizerSha256: string;
  config: RunConfig;
  /** The library before the run: per set, faces, how many matched store faces, how many define the anchor. */
  identities: { name: string; faces: number; matched: number; anchorFaces: number }[];
  counts: ExtendPlan["counts"];
  sets: ExtendSetOutcome[];
  identitiesWithoutCentroid: string[];
  /** What appendToFaceset did per set (it skips faces already in the set by face key). */
  appended: { identity: string; added: number; skipped: number; crops: string[] }[];
  faces: ExtendDecision[];
}

export interface ExtendResult {
  plan: ExtendPlan;
  record: ExtendRunRecord;
  recordFile?: string;
  warnings: string[];
}

const addedByExtend = (face: FacesetFace) => face.extra?.added_by === ADDED_BY_EXTEND;

export async function extend(options: ExtendOptions): Promise<ExtendResult> {
  const { store, config, dryRun = false } = options;
  const log = options.log ?? (() => {});
  const { runId, header } = startRun("extend", options);
  const source = path.resolve(options.source);
  const libraryDir = path.resolve(options.libraryDir);

  const recognizer = storeRecognizer(store, options.storePath);
  const dim = recognizer.dim;
  const library = await readLibrary(libraryDir);
  const index = new FaceIndex(await store.selectFaces());

  const inLibrary = libraryFaceOwners(library, index);
  const recordIdentities: ExtendRunRecord["identities"] = [];
  const identities: ExtendIdentity[] = [...library.sets.values()].sort((a, b) => a.number - b.number).map((set) => {
    const all = facesetIdentity(set, index, libraryDir, dim);
    const anchorSet = { ...set, manifest: { ...set.manifest, faces: set.manifest.faces.filter((f) => !addedByExtend(f)) } };
    const anchor = facesetIdentity(anchorSet, index, libraryDir, dim);
    recordIdentities.push({
      name: set.name,
      faces: set.manifest.faces.length,
      matched: all.matched.length,
      anchorFaces: anchor.matched.length,
    });
    return { number: set.number, name: set.name, anchor: anchor.centroid, photos: new Set(all.matched.map((r) => r.fileSha256)) };
  });

  const faces = await store.selectFaces({ under: source });
  if (faces.length === 0) log(`no faces in the store under ${source}: scan it first (deno task scan --source ...)`);
  if (identities.length === 0) log(`${libraryDir}: no face sets to extend`);
  const plan = planExtend({ faces, identities, inLibrary, claimedFaceIds: await claimedFaceIds(library), config });

  const record: ExtendRunRecord = {
    ...header,
    source,
    library: libraryDir,
    store: path.resolve(options.storePath),
    recognizerSha256: recognizer.sha256,
    config,
    identities: recordIdentities,
    counts: plan.counts,
    sets: plan.sets,
    identitiesWithoutCentroid: plan.identitiesWithoutCentroid,
    appended: [],
    faces: plan.faces,
  };
  const warnings = [...library.warnings];
  if (dryRun) {
    record.finishedAt = new Date().toISOString();
    return { plan, record, warnings };
  }

  for await (const [addition, rendered] of renderFaceGroups(plan.additions, (a) => a.faces, config, options.onProgress)) {
    const marked = rendered.map((face) => ({ ...face, extra: { ...face.extra, added_by: ADDED_BY_EXTEND, run_id: runId } }));
    const result = await appendToFaceset(libraryDir, addition.number, marked);
    warnings.push(...result.warnings);
    record.appended.push({
      identity: addition.identity,
      added: result.added.length,
      skipped: result.skipped.length,
      crops: result.added.map((f) => f.crop),
    });
  }
  record.finishedAt = new Date().toISOString();
  const recordFile = await writeRunRecord(libraryDir, runId, record);
  return { plan, record, recordFile, warnings };
}
