/**
 * `extend`: add a folder's faces to the existing identities they belong to. Reads the store and the library, plans
 * with planExtend (pure, lib/identity/extend.ts: the decisions per face), then (unless dry-run) renders the crops
 * and appends them with appendToFaceset (crops under new names, set manifest and top-level count replaced
 * atomically; nothing renumbered), and writes the run record.
 *
 * [Note: anchor centroid] Routing compares with each set's *anchor* centroid: the mean of the set's faces that
 * extend did not add (faces it adds carry `added_by: "extend"`). So extend never moves an identity: a re-run
 * makes the same decisions and adds nothing, and a chain of runs cannot drift a set towards a look-alike.
 */
import path from "node:path";
import { FaceIndex, facesetIdentity, libraryFaceOwners } from "../identity/centroids";
import { type ExtendDecision, type ExtendIdentity, type ExtendPlan, type ExtendSetOutcome, planExtend } from "../identity/extend";
import { renderFaceGroups } from "../export/faces";
import type { FacesetFace } from "../library/manifest";
import { claimedFaceIds } from "../library/provenance";
import { appendToFaceset } from "../library/write";
import { endRun, finishRun, type LibraryWorkflowOptions, openRun, recordBase, type RunRecordBase, underLibraryLock } from "./context";

/** Marks the faces extend adds (in the face record's extra fields) so they stay out of the anchor centroid. */
export const ADDED_BY_EXTEND = "extend";

export interface ExtendOptions extends LibraryWorkflowOptions {
  /** The folder whose faces in the store are routed to the sets. */
  source: string;
}

/** `<library>/_runs/<runId>.json` of an extend run. */
export interface ExtendRunRecord extends RunRecordBase<"extend"> {
  source: string;
  recognizerSha256: string;
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

export function extend(options: ExtendOptions): Promise<ExtendResult> {
  return underLibraryLock(options, "extend", () => extendLocked(options));
}

async function extendLocked(options: ExtendOptions): Promise<ExtendResult> {
  const run = await openRun("extend", options);
  const { store, config, log, library, recognizer, libraryDir } = run;
  const dim = recognizer.dim;
  const source = path.resolve(options.source);
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
    ...recordBase(run),
    source,
    recognizerSha256: recognizer.sha256,
    identities: recordIdentities,
    counts: plan.counts,
    sets: plan.sets,
    identitiesWithoutCentroid: plan.identitiesWithoutCentroid,
    appended: [],
    faces: plan.faces,
  };
  const warnings = [...library.warnings];
  if (run.dryRun) return { plan, record: endRun(record), warnings };

  for await (const [addition, rendered] of renderFaceGroups(plan.additions, (a) => a.faces, config, options.onProgress)) {
    const marked = rendered.map((face) => ({ ...face, extra: { ...face.extra, added_by: ADDED_BY_EXTEND, run_id: run.runId } }));
    const result = await appendToFaceset(libraryDir, addition.number, marked);
    warnings.push(...result.warnings);
    record.appended.push({
      identity: addition.identity,
      added: result.added.length,
      skipped: result.skipped.length,
      crops: result.added.map((f) => f.crop),
    });
  }
  const recordFile = await finishRun(run, record);
  return { plan, record, recordFile, warnings };
}
