/**
 * `build-folders`: turn hand-sorted person folders into face sets. Each immediate subfolder of `folders` is one
 * person (the folder name); its faces come from the store (the folders must have been scanned), the person's face
 * of each photo is picked with planFolderFaces (lib/identity/folders.ts), and each folder becomes one new set with
 * origin `hand-sorted`, numbered after the library's maximum in folder-name order, with `person` recorded in the
 * top-level entry's fields and in its provenance.json. Existing sets and entries are never touched.
 *
 * Re-running is a clean no-op: a folder whose person already has a set (top-level `person`, provenance
 * `person`, or any person the ledger knows, merged and dismissed sets included), or more than half of whose
 * picked faces one existing set already holds (matched by face id, or by source and box for sets other tools
 * made; a dismissed set's faces count), is skipped with a message.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { folderGroupsWarning, type FolderPlan, planFolderFaces } from "../identity/folders";
import { FaceIndex, libraryFaceOwners } from "../identity/centroids";
import { renderFaceGroups } from "../export/faces";
import { facesetName } from "../library/manifest";
import { nextFacesetNumber, type Library } from "../library/read";
import { addFacesets, type NewFaceset } from "../library/write";
import { isUnder } from "../scan/scan";
import { walkImages } from "../scan/walk";
import { provenanceFile, readSetProvenance } from "../library/provenance";
import { endRun, finishRun, latestDetectorSha256, type LibraryWorkflowOptions, openRun, recordBase, type RunRecordBase, setProvenance, underLibraryLock } from "./context";

export type FolderStatus =
  | "new" // becomes a new set
  | "exists" // the person already has a set
  | "already-added" // most of its faces are already in one existing set
  | "not-scanned" // no file of the folder is in the store
  | "no-faces"; // scanned, but no face to take

export interface FolderOutcome {
  person: string;
  folder: string;
  status: FolderStatus;
  /** The new set (status new) or the existing one (exists, already-added). */
  set?: string;
  number?: number;
  /** A one-line explanation for every status but `new`, and for partly scanned folders. */
  message?: string;
  /** Image files under the folder, and how many of them the store knows. */
  imageFiles: number;
  scannedFiles: number;
  /** The plan (when the folder has faces in the store). */
  plan?: FolderPlan;
}

export interface BuildFoldersOptions extends LibraryWorkflowOptions {
  /** The folder of person folders. */
  folders: string;
}

/** `<library>/_runs/<runId>.json` of a build-folders run. */
export interface BuildFoldersRunRecord extends RunRecordBase<"build-folders"> {
  folders: string;
  detectorSha256: string | null;
  recognizerSha256: string;
  /** Per person folder, in name order: status, set, counts and every face's decision. */
  people: (Omit<FolderOutcome, "plan"> & {
    seed?: FolderPlan["seed"];
    iterations?: number;
    photos?: number;
    groupPhotos?: number;
    counts?: FolderPlan["counts"];
    /** Photos per group of the folder's picks (FolderPlan.groups); two or more: it may hold two people. */
    groups?: FolderPlan["groups"];
    faces?: FolderPlan["faces"];
  })[];
}

export interface BuildFoldersResult {
  folders: FolderOutcome[];
  record: BuildFoldersRunRecord;
  recordFile?: string;
  warnings: string[];
}

/** Immediate subfolders of `dir` (symlinks to folders included, hidden ones not), sorted by name. */
async function personFolders(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new Error(`${dir}: cannot list the folders (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith(".")) continue;
    if ((await stat(path.join(dir, name)).catch(() => undefined))?.isDirectory()) out.push(name);
  }
  return out;
}

/**
 * person -> set name, from the top-level entries' `person`, every set's provenance.json `person`, and the ledger:
 * every person a set had or has (merged sets answer with the set they went into, dismissed ones with their own
 * name and state), so a folder whose set was merged, renamed or dismissed is never made again.
 */
async function knownPeople(library: Library): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of library.ledger?.sets ?? []) {
    const where = s.state === "merged" ? `${s.mergedInto} (${s.name} was merged into it)` : s.state === "dismissed" ? `${s.name} (dismissed)` : s.name;
    for (const person of [s.person, s.entry?.person]) if (typeof person === "string" && !out.has(person)) out.set(person, where);
  }
  for (const entry of library.manifest.facesets) {
    const person = entry.extra?.person;
    if (typeof person === "string") out.set(person, entry.name);
  }
  for (const set of library.sets.values()) {
    const json = await readSetProvenance(set.dir);
    if (json === undefined) continue;
    const person = (json as { person?: unknown }).person;
    if (typeof person === "string" && !out.has(person)) out.set(person, set.name);
  }
  return out;
}

/**
 * The one set holding more than half of `faceIds`, if any: then the folder's person already has that set (made by
 * an earlier build-folders, or by another tool that recorded no person), and a second set would duplicate it.
 */
function mostlyHeldBy(faceIds: readonly string[], owners: ReadonlyMap<string, string>): { set: string; faces: number } | undefined {
  const held = new Map<string, number>();
  for (const id of faceIds) {
    const set = owners.get(id);
    if (set !== undefined) held.set(set, (held.get(set) ?? 0) + 1);
  }
  const [set, faces] = [...held].sort((a, b) => b[1] - a[1])[0] ?? [];
  return set !== undefined && faces! * 2 > faceIds.length ? { set, faces: faces! } : undefined;
}

export function buildFolders(options: BuildFoldersOptions): Promise<BuildFoldersResult> {
  return underLibraryLock(options, "build-folders", () => buildFoldersLocked(options));
}

async function buildFoldersLocked(options: BuildFoldersOptions): Promise<BuildFoldersResult> {
  const root = path.resolve(options.folders);
  const run = await openRun("build-folders", options, { scanHint: `scan the folders first (deno task scan --source ${root})` });
  const { store, config, log, library, recognizer } = run;
  const dim = recognizer.dim;
  const people = await knownPeople(library);
  const owners = libraryFaceOwners(library, new FaceIndex(await store.selectFaces()));
  // Faces of dismissed sets still belong to them: a folder of that person is not made into a set again.
  for (const s of library.ledger?.sets ?? []) {
    if (s.state === "dismissed") for (const id of s.faces) if (!owners.has(id)) owners.set(id, `${s.name} (dismissed)`);
  }
  const known = [...(await store.knownFiles()).values()];

  const names = await personFolders(root);
  if (names.length === 0) throw new Error(`${root}: no person folders in it (each subfolder is one person)`);
  const outcomes: FolderOutcome[] = [];
  let number = nextFacesetNumber(library);
  for (const person of names) {
    const folder = path.join(root, person);
    const imageFiles = (await walkImages(folder)).length;
    const scannedFiles = known.filter((f) => f.status !== "missing" && isUnder(f.path, folder)).length;
    const outcome: FolderOutcome = { person, folder, status: "new", imageFiles, scannedFiles };
    outcomes.push(outcome);
    const existingSet = people.get(person);
    if (existingSet !== undefined) {
      outcome.status = "exists";
      outcome.set = existingSet;
      outcome.message = `${person}: already ${existingSet}; skipped`;
      continue;
    }
    if (scannedFiles === 0) {
      outcome.status = "not-scanned";
      outcome.message = `${folder}: not scanned (${imageFiles} image files, none in the store); ` +
        `run deno task scan --source ${root} first`;
      continue;
    }
    const faces = await store.selectFaces({ under: folder });
    const plan = planFolderFaces(faces, dim, config);
    outcome.plan = plan;
    const partly = scannedFiles < imageFiles
      ? ` (only ${scannedFiles} of ${imageFiles} image files are in the store; scan again to include the rest)`
      : "";
    if (plan.picked.length === 0) {
      outcome.status = "no-faces";
      outcome.message = `${folder}: no face to take (${faces.length} faces in ${scannedFiles} scanned files)${partly}`;
      continue;
    }
    const holder = mostlyHeldBy(plan.picked.map((p) => p.row.faceId), owners);
    if (holder !== undefined) {
      outcome.status = "already-added";
      outcome.set = holder.set;
      outcome.message = `${person}: ${holder.faces} of its ${plan.picked.length} faces are already in ${holder.set}; skipped`;
      continue;
    }
    if (partly) outcome.message = `${folder}:${partly}`;
    outcome.number = number++;
    outcome.set = facesetName(outcome.number);
  }
  for (const o of outcomes) if (o.message) log(o.message);
  if (outcomes.every((o) => o.status === "not-scanned")) {
    throw new Error(
      `${root}: none of its ${outcomes.length} person folders is in the store ${options.storePath}; ` +
        `scan them first: deno task scan --source ${root}`,
    );
  }

  const detectorSha256 = await latestDetectorSha256(store);
  const record: BuildFoldersRunRecord = {
    ...recordBase(run),
    folders: root,
    detectorSha256,
    recognizerSha256: recognizer.sha256,
    people: outcomes.map(({ plan, ...o }) => ({
      ...o,
      ...(plan
        ? {
          seed: plan.seed,
          iterations: plan.iterations,
          photos: plan.photos,
          groupPhotos: plan.groupPhotos,
          counts: plan.counts,
          groups: plan.groups,
          faces: plan.faces,
        }
        : {}),
    })),
  };
  // A folder whose picks form two tight groups far apart most likely holds two people: made as sorted, but said.
  const warnings = [...library.warnings];
  for (const o of outcomes) {
    if (o.status !== "new" || o.plan === undefined) continue;
    const warning = folderGroupsWarning(`${path.basename(root)}/${o.person}`, o.plan.groups);
    if (warning !== undefined) warnings.push(`${warning}; check ${o.folder} (clustered at identity.clusterMaxCosDist ${config.identity.clusterMaxCosDist})`);
  }
  if (run.dryRun) return { folders: outcomes, record: endRun(record), warnings };

  const fresh = outcomes.filter((o) => o.status === "new");
  const newSets: NewFaceset[] = [];
  for await (const [o, faces] of renderFaceGroups(fresh, (folder) => folder.plan!.picked, config, options.onProgress)) {
    const provenance = setProvenance(run, detectorSha256, {
      source: o.folder,
      person: o.person,
      folder: o.folder,
      claimedFaceIds: o.plan!.picked.map((p) => p.row.faceId),
    });
    newSets.push({
      number: o.number!,
      origin: "hand-sorted",
      provenance: { tool: "facesets", command: "build-folders", run_id: run.runId, source: o.folder },
      extra: { person: o.person },
      faces,
      files: [provenanceFile(provenance)],
    });
  }
  if (newSets.length > 0) await addFacesets(run.libraryDir, newSets);
  const recordFile = await finishRun(run, record);
  return { folders: outcomes, record, recordFile, warnings };
}

/** Why a build-folders plan makes no new set (one line, by status, with the fix), or undefined when it makes one. */
export function buildFoldersWhy(folders: readonly FolderOutcome[], root: string): string | undefined {
  if (folders.some((o) => o.status === "new")) return undefined;
  const of = (status: FolderStatus) => folders.filter((o) => o.status === status);
  const names = (list: readonly FolderOutcome[]) =>
    list.slice(0, 3).map((o) => (o.set ? `${o.person}: ${o.set}` : o.person)).join(", ") + (list.length > 3 ? ", ..." : "");
  const parts = [
    ...(of("exists").length > 0 ? [`${of("exists").length} already have a set (${names(of("exists"))})`] : []),
    ...(of("already-added").length > 0 ? [`${of("already-added").length} are mostly in a set already (${names(of("already-added"))})`] : []),
    ...(of("not-scanned").length > 0 ? [`${of("not-scanned").length} not scanned (deno task scan --source ${root}, or add --scan)`] : []),
    ...(of("no-faces").length > 0 ? [`${of("no-faces").length} have no face to take (${names(of("no-faces"))})`] : []),
  ];
  return `${folders.length} person folder${folders.length === 1 ? "" : "s"}, 0 new sets: ${parts.join(", ")}`;
}
