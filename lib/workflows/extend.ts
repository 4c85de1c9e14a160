/**
 * `extend`: add a folder's faces to the existing identities they belong to. Reads the store and the library, plans
 * with planExtend (pure, lib/identity/extend.ts: the decisions per face), then (unless dry-run) renders the crops
 * and appends them with appendToFaceset (crops under new names, set manifest and top-level count replaced
 * atomically; nothing renumbered), and writes the run record. `cluster-osrc --extend` runs the same two steps
 * (planLibraryExtend, appendExtension) on its bucket.
 *
 * [Note: anchor centroid] Routing compares with each set's *anchor* centroid: the mean of the set's faces that
 * extend did not add (faces it adds carry `added_by: "extend"`). So extend never moves an identity: a re-run
 * makes the same decisions and adds nothing, and a chain of runs cannot drift a set towards a look-alike.
 *
 * The owner's decisions (the ledger, lib/library/ledger.ts) are honoured: a face rejected from a set, or held by
 * a set marked not-same with it, never joins it; faces of dismissed sets and claims of merged ones count as claimed.
 */
import path from "node:path";
import type { RunConfig } from "../config";
import { FaceIndex, facesetIdentity, libraryFaceOwners } from "../identity/centroids";
import { type ExtendDecision, type ExtendIdentity, type ExtendPlan, type ExtendSetOutcome, planExtend } from "../identity/extend";
import { renderFaceGroups } from "../export/faces";
import { refusedFaces, setPeople } from "../library/ledger";
import type { FacesetFace } from "../library/manifest";
import { claimedFaceIds } from "../library/provenance";
import type { Library } from "../library/read";
import { appendToFaceset } from "../library/write";
import type { FaceRow } from "../store/records";
import { endRun, finishRun, type LibraryWorkflowOptions, openRun, recordBase, type RunRecordBase, underLibraryLock } from "./context";

/** Marks the faces extend adds (in the face record's extra fields) so they stay out of the anchor centroid. */
export const ADDED_BY_EXTEND = "extend";

export interface ExtendOptions extends LibraryWorkflowOptions {
  /** The folder whose faces in the store are routed to the sets. */
  source: string;
}

/** Per set, before the run: faces, how many matched store faces, how many define the anchor. */
export type ExtendIdentityRecord = { name: string; faces: number; matched: number; anchorFaces: number };
/** What appendToFaceset did per set (it skips faces already in the set by face key). */
export type ExtendAppended = { identity: string; added: number; skipped: number; crops: string[] };

/** `<library>/_runs/<runId>.json` of an extend run. */
export interface ExtendRunRecord extends RunRecordBase<"extend"> {
  source: string;
  recognizerSha256: string;
  /** The library before the run: per set, faces, how many matched store faces, how many define the anchor. */
  identities: ExtendIdentityRecord[];
  counts: ExtendPlan["counts"];
  sets: ExtendSetOutcome[];
  identitiesWithoutCentroid: string[];
  appended: ExtendAppended[];
  faces: ExtendDecision[];
}

export interface ExtendResult {
  plan: ExtendPlan;
  record: ExtendRunRecord;
  recordFile?: string;
  warnings: string[];
  /** Set name -> person, for showing `faceset_007 (NAME)`. */
  people: Map<string, string>;
}

const addedByExtend = (face: FacesetFace) => face.extra?.added_by === ADDED_BY_EXTEND;

/** The extend plan of `faces` against the library's sets (see the module comment), and the sets as recorded. */
export async function planLibraryExtend(
  library: Library,
  index: FaceIndex,
  faces: readonly FaceRow[],
  dim: number,
  config: RunConfig,
): Promise<{ plan: ExtendPlan; identities: ExtendIdentityRecord[] }> {
  const inLibrary = libraryFaceOwners(library, index);
  const records: ExtendIdentityRecord[] = [];
  const identities: ExtendIdentity[] = [...library.sets.values()].sort((a, b) => a.number - b.number).map((set) => {
    const all = facesetIdentity(set, index, library.dir, dim);
    const anchorSet = { ...set, manifest: { ...set.manifest, faces: set.manifest.faces.filter((f) => !addedByExtend(f)) } };
    const anchor = facesetIdentity(anchorSet, index, library.dir, dim);
    records.push({ name: set.name, faces: set.manifest.faces.length, matched: all.matched.length, anchorFaces: anchor.matched.length });
    return {
      number: set.number,
      name: set.name,
      anchor: anchor.centroid,
      photos: new Set(all.matched.map((r) => r.fileSha256)),
      faceEmbeddings: all.matched.map((r) => r.embedding),
      refused: refusedFaces(library.ledger, set.name),
    };
  });
  const plan = planExtend({ faces, identities, inLibrary, claimedFaceIds: await claimedFaceIds(library), config });
  return { plan, identities: records };
}

/** Render and append the plan's additions (faces marked `added_by: "extend"` and the run id). */
export async function appendExtension(
  libraryDir: string,
  plan: ExtendPlan,
  runId: string,
  config: RunConfig,
  onProgress?: (done: number, total: number) => void,
): Promise<{ appended: ExtendAppended[]; warnings: string[] }> {
  const appended: ExtendAppended[] = [];
  const warnings: string[] = [];
  for await (const [addition, rendered] of renderFaceGroups(plan.additions, (a) => a.faces, config, onProgress)) {
    const marked = rendered.map((face) => ({ ...face, extra: { ...face.extra, added_by: ADDED_BY_EXTEND, run_id: runId } }));
    const result = await appendToFaceset(libraryDir, addition.number, marked);
    warnings.push(...result.warnings);
    appended.push({ identity: addition.identity, added: result.added.length, skipped: result.skipped.length, crops: result.added.map((f) => f.crop) });
  }
  return { appended, warnings };
}

export function extend(options: ExtendOptions): Promise<ExtendResult> {
  return underLibraryLock(options, "extend", () => extendLocked(options));
}

async function extendLocked(options: ExtendOptions): Promise<ExtendResult> {
  const run = await openRun("extend", options);
  const { store, config, log, library, recognizer, libraryDir } = run;
  const source = path.resolve(options.source);
  const index = new FaceIndex(await store.selectFaces());
  const faces = await store.selectFaces({ under: source });
  if (faces.length === 0) log(`no faces in the store under ${source}: scan it first (deno task scan --source ...)`);
  if (library.sets.size === 0) log(`${libraryDir}: no face sets to extend`);
  const { plan, identities } = await planLibraryExtend(library, index, faces, recognizer.dim, config);

  const record: ExtendRunRecord = {
    ...recordBase(run),
    source,
    recognizerSha256: recognizer.sha256,
    identities,
    counts: plan.counts,
    sets: plan.sets,
    identitiesWithoutCentroid: plan.identitiesWithoutCentroid,
    appended: [],
    faces: plan.faces,
  };
  const warnings = [...library.warnings];
  const people = setPeople(library.ledger, library.manifest.facesets);
  if (run.dryRun) return { plan, record: endRun(record), warnings, people };

  const appended = await appendExtension(libraryDir, plan, run.runId, config, options.onProgress);
  record.appended = appended.appended;
  warnings.push(...appended.warnings);
  const recordFile = await finishRun(run, record);
  return { plan, record, recordFile, warnings, people };
}
