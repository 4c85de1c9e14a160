/**
 * `split-eras`: split one face set (an identity) into eras and add each era as a new set. Reads the library and
 * the store, plans with splitEras (pure, lib/identity/eras.ts), then (unless dry-run) copies the parent's crop
 * bytes into the era sets and adds them with addFacesets: eras of >= minEraFaces faces as new sets numbered after
 * the library's maximum (origin `era-split`), smaller ones under `_thin/` and in `thin_eras`. The parent set is
 * never touched; the top-level manifest is replaced atomically by addFacesets.
 *
 * A re-run with the same inputs is a no-op: every planned era already exists (same face keys) as a set or thin
 * era. A parent that was split before into different eras (other config or mode) is refused by name instead of
 * growing a second, overlapping family.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { datedSetFaces, storeFaceLookup } from "../identity/set_faces";
import { type Era, eraDate, eraSplitWhy, type EraSplit, type EraSplitMode, splitEras } from "../identity/eras";
import { LibraryError } from "../library/errors";
import { syncLedger } from "../library/reconcile";
import { claimedFacesetNumber, type FacesetFace, facesetName, thinEraName } from "../library/manifest";
import { cropPath, type Library, type LoadedFaceset, nextFacesetNumber, THIN_FOLDER } from "../library/read";
import { addFacesets, faceKey, faceKeySignature, type NewFace, type NewFaceset } from "../library/write";
import { provenanceFile } from "../library/provenance";
import { endRun, finishRun, latestDetectorSha256, type LibraryWorkflowOptions, openRun, recordBase, type RunRecordBase, setProvenance, underLibraryLock } from "./context";

/** Copies crops instead of rendering them, so it takes no progress or log callbacks. */
export interface SplitErasWorkflowOptions extends Omit<LibraryWorkflowOptions, "onProgress" | "log"> {
  /** The parent set's number (faceset_NNN). */
  faceset: number;
  /** Default: `both` when any face has a capture time, else `embedding` (see splitEras). */
  mode?: EraSplitMode;
}

/**
 * What happened: `split` (sets written), `dry-run` (planned only), `single-era` (nothing to split, nothing
 * written), `already-split` (every era exists already, nothing written).
 */
export type SplitErasStatus = "split" | "dry-run" | "single-era" | "already-split";

/** One era as reported and recorded. */
export interface EraOutcome {
  index: number;
  label: string;
  faces: number;
  dated: number;
  /** `YYYY-MM-DD` of the earliest / latest dated face; null when none is dated. */
  from: string | null;
  to: string | null;
  medianYear: number | null;
  meanParentCosDist: number;
  thin: boolean;
  /** The set (or thin era) it became or would become, e.g. `faceset_004` or `_thin/faceset_005`. */
  target: string;
  /** faceKey of each member, as in the parent manifest. */
  faceKeys: string[];
}

export interface SplitErasRunRecord extends RunRecordBase<"split-eras"> {
  parent: string;
  requestedMode: EraSplitMode | null;
  mode: EraSplitMode;
  note: string | null;
  status: SplitErasStatus;
  /** Parent faces, those matched to a store face (the ones split), and the rest (left out, listed). */
  faces: number;
  matched: number;
  unmatched: string[];
  dated: number;
  eras: EraOutcome[];
}

export interface SplitErasResult {
  status: SplitErasStatus;
  /** One line saying what happened (printed by the script). */
  message: string;
  record: SplitErasRunRecord;
  split: EraSplit;
  /** Sets written (empty unless status is `split`). */
  written: LoadedFaceset[];
  recordFile?: string;
  warnings: string[];
}


/** Era sets made earlier from `parent`: entries (sets and thin eras) whose `parent` field names it, by number. */
function existingChildren(library: Library, parent: string): string[] {
  const out: string[] = [];
  for (const e of library.manifest.facesets) if (e.extra?.parent === parent) out.push(e.name);
  for (const e of library.manifest.thinEras) {
    if (typeof e !== "string" && e.extra?.parent === parent) out.push(`${THIN_FOLDER}/${thinEraName(e)}`);
  }
  const number = (name: string) => claimedFacesetNumber(path.posix.basename(name)) ?? 0;
  return out.sort((a, b) => number(a) - number(b));
}

export function splitErasWorkflow(options: SplitErasWorkflowOptions): Promise<SplitErasResult> {
  return underLibraryLock(options, "split-eras", () => splitErasLocked(options));
}

async function splitErasLocked(options: SplitErasWorkflowOptions): Promise<SplitErasResult> {
  const parentName = facesetName(options.faceset);
  const run = await openRun("split-eras", options, {
    checkLibrary: (library) => {
      if (library.sets.has(options.faceset)) return;
      const decided = library.ledger?.sets.find((s) => s.name === parentName && s.state !== "active");
      const hint = decided
        ? decided.state === "merged"
          ? ` (it was merged into ${decided.mergedInto}; split that set)`
          : ` (it is dismissed; curate restore --set ${decided.number} brings it back)`
        : library.thin.has(options.faceset)
        ? ` (it is a thin era under ${THIN_FOLDER}/; only sets in the library are split)`
        : ` (sets: ${[...library.sets.values()].map((s) => s.name).join(", ") || "none"})`;
      throw new LibraryError(`${path.join(library.dir, parentName)}: no such set with a manifest${hint}`);
    },
  });
  const { store, config, library, recognizer, libraryDir } = run;
  const parent = library.sets.get(options.faceset)!;
  const dim = recognizer.dim;

  const { matched, unmatched } = datedSetFaces(await storeFaceLookup(store), parent, libraryDir);
  const warnings = [...library.warnings];
  if (unmatched.length > 0) {
    warnings.push(
      `${parentName}: ${unmatched.length} of ${parent.manifest.faces.length} faces have no store face (source not ` +
        `scanned?); they are left out of every era (e.g. ${unmatched[0]!.source})`,
    );
  }
  if (matched.length === 0) {
    throw new LibraryError(
      `${parent.dir}: none of its ${parent.manifest.faces.length} faces is in the store ${options.storePath}; scan their sources first`,
      parent.dir,
    );
  }

  const split = splitEras(
    matched.map(({ face, row, captureTime }) => ({ key: faceKey(face), embedding: row.embedding, captureTime })),
    dim,
    config.eras,
    { mode: options.mode },
  );

  // Where each era goes: numbers after the library's maximum, in era order (addFacesets numbers the same way).
  const first = nextFacesetNumber(library);
  const outcomes: EraOutcome[] = split.eras.map((era, k) => ({
    index: era.index,
    label: era.label,
    faces: era.members.length,
    dated: era.dated,
    from: eraDate(era.from),
    to: eraDate(era.to),
    medianYear: era.medianYear,
    meanParentCosDist: era.meanParentCosDist,
    thin: era.thin,
    target: (era.thin ? `${THIN_FOLDER}/` : "") + facesetName(first + k),
    faceKeys: era.keys,
  }));

  // Already split? Every planned era is an existing set or thin era with the same faces.
  const existing = new Map<string, string>();
  for (const set of library.sets.values()) existing.set(faceKeySignature(set.manifest.faces.map(faceKey)), set.name);
  for (const set of library.thin.values()) {
    existing.set(faceKeySignature(set.manifest.faces.map(faceKey)), `${THIN_FOLDER}/${set.name}`);
  }
  const children = existingChildren(library, parentName);
  const found = split.eras.map((era) => existing.get(faceKeySignature(era.keys)));

  let status: SplitErasStatus;
  let message: string;
  if (split.eras.length <= 1) {
    status = "single-era";
    message = `${parentName}: one era only (${split.mode}): ${eraSplitWhy(split, config.eras)}; nothing written`;
  } else if (found.every((f) => f !== undefined)) {
    status = "already-split";
    found.forEach((f, k) => (outcomes[k]!.target = f!));
    message = `${parentName}: already split into ${found.join(", ")} (same faces); nothing written`;
  } else if (children.length > 0) {
    throw new LibraryError(
      `${parentName}: already split into ${children.join(", ")}, and this run finds other eras ` +
        `(${split.mode}, ${split.eras.length} eras); remove those sets first to split it again`,
      libraryDir,
    );
  } else {
    status = run.dryRun ? "dry-run" : "split";
    const sets = outcomes.filter((o) => !o.thin).length;
    message = `${parentName}: ${split.eras.length} eras by ${split.mode}: ${sets} new set(s), ` +
      `${split.eras.length - sets} thin era(s)` + (sets === 0 ? ` (${eraSplitWhy(split, config.eras)})` : "") +
      (run.dryRun ? "; dry run, nothing written" : "");
  }

  const record: SplitErasRunRecord = {
    ...recordBase(run),
    parent: parentName,
    requestedMode: split.requested ?? null,
    mode: split.mode,
    note: split.note ?? null,
    status,
    faces: parent.manifest.faces.length,
    matched: matched.length,
    unmatched: unmatched.map(faceKey),
    dated: split.dated,
    eras: outcomes,
  };
  if (status === "already-split" && !run.dryRun) {
    // The eras are in the library (an earlier run's, or a killed run's that the lock completed): the ledger
    // records them as the run that made them would have (lib/library/reconcile.ts).
    await syncLedger(libraryDir, { by: run.kind });
  }
  if (status !== "split") return { status, message, record: endRun(record), split, written: [], warnings };

  const detectorSha256 = await latestDetectorSha256(store);
  const newSets: NewFaceset[] = [];
  for (const [k, era] of split.eras.entries()) {
    const faces = await eraFaces(parent, era, matched.map((m) => m.face));
    const outcome = outcomes[k]!;
    const eraFields = {
      parent: parentName,
      era_from: outcome.from,
      era_to: outcome.to,
      era_label: era.label,
    };
    const provenance = setProvenance(run, detectorSha256, {
      ...eraFields,
      era_mode: split.mode,
      era_median_year: era.medianYear,
      era_mean_parent_cos_dist: era.meanParentCosDist,
      claimedFaceIds: era.members.map((i) => matched[i]!.row.faceId),
    });
    newSets.push({
      origin: "era-split",
      provenance: { tool: "facesets", command: "split-eras", run_id: run.runId, parent: parentName },
      extra: eraFields,
      faces,
      files: [provenanceFile(provenance)],
      thin: era.thin,
    });
  }
  const written = await addFacesets(libraryDir, newSets);
  written.forEach((set, k) => (outcomes[k]!.target = (newSets[k]!.thin ? `${THIN_FOLDER}/` : "") + set.name));
  const recordFile = await finishRun(run, record);
  return { status, message, record, split, written, recordFile, warnings };
}

/**
 * The era's face records copied from the parent manifest (extra fields included) with centroid_cos_dist
 * recomputed against the era's centroid, and the parent's crop bytes (no re-rendering: the same pixels).
 */
async function eraFaces(parent: LoadedFaceset, era: Era, faces: readonly FacesetFace[]): Promise<NewFace[]> {
  const out: NewFace[] = [];
  for (const [j, i] of era.members.entries()) {
    const face = faces[i]!;
    const file = cropPath(parent, face.crop);
    let png: Uint8Array;
    try {
      png = await readFile(file);
    } catch (err) {
      throw new LibraryError(
        `${file}: cannot read the crop of ${faceKey(face)} (${(err as NodeJS.ErrnoException).code ?? err}); nothing written`,
        file,
      );
    }
    // New crops are plain names in the era folder; a parent crop in a subfolder keeps its file name.
    out.push({ ...face, crop: path.posix.basename(face.crop), centroidCosDist: era.centroidCosDists[j]!, png });
  }
  return out;
}
