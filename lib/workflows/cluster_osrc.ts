/**
 * `cluster-osrc`: discover new identities in a mixed bucket and add them to the library as new face sets.
 * Reads the store and the library, plans with planDiscovery (pure), then (unless dry-run) renders the crops,
 * adds the sets (numbered after the library's maximum; existing sets and entries untouched) and writes the run
 * record. See lib/identity/discover.ts for the decisions.
 */
import path from "node:path";
import { FaceIndex, libraryIdentities } from "../identity/centroids";
import { type ClusterOutcome, type DiscoveryCounts, type DiscoveryPlan, type FaceDecision, planDiscovery } from "../identity/discover";
import { renderFaceGroups } from "../export/faces";
import { nextFacesetNumber } from "../library/read";
import type { FacesetOrigin } from "../library/manifest";
import { addFacesets, type NewFaceset } from "../library/write";
import { type SourceCoverage, sourceCoverage } from "../scan/coverage";
import { walkTree } from "../scan/walk";
import { claimedFaceIds, provenanceFile } from "../library/provenance";
import type { ExtendDecision, ExtendPlan, ExtendSetOutcome } from "../identity/extend";
import { setPeople } from "../library/ledger";
import { appendExtension, type ExtendAppended, planLibraryExtend } from "./extend";
import { endRun, finishRun, latestDetectorSha256, type LibraryWorkflowOptions, openRun, recordBase, type RunRecordBase, setProvenance, underLibraryLock } from "./context";

export interface ClusterOsrcOptions extends LibraryWorkflowOptions {
  /** The mixed bucket: its faces in the store are planned. */
  source: string;
  /**
   * Also append the bucket's faces of people the library holds to their sets, as `extend` would (its gates,
   * same-photo rule and the owner's rejections), in the same run (cluster-osrc only; default false).
   */
  extend?: boolean;
}

/** Everything a cluster-osrc run decided, as written to `<library>/_runs/<runId>.json` (camelCase keys like every facesets record; the library manifests and provenance.json keep the owner's snake_case). */
export interface DiscoveryRunRecord extends RunRecordBase<"cluster-osrc"> {
  source: string;
  detectorSha256: string | null;
  recognizerSha256: string | null;
  /** What the store knows about the source: files by extension and status, duplicates, face statistics. */
  coverage: SourceCoverage;
  /** The library before the run: existing identities, how many of their faces matched store faces. */
  identities: { name: string; origin: string | null; faces: number; matched: number; unmatched: number }[];
  counts: DiscoveryCounts;
  routed: DiscoveryPlan["routed"];
  identitiesWithoutCentroid: string[];
  clusters: ClusterOutcome[];
  newSets: { name: string; number: number; cluster: number; faces: number; claimed: number }[];
  faces: FaceDecision[];
  /** With --extend: what extend decided for the bucket and what it appended (see lib/workflows/extend.ts). */
  extension?: { counts: ExtendPlan["counts"]; sets: ExtendSetOutcome[]; appended: ExtendAppended[]; faces: ExtendDecision[] };
}

export interface ClusterOsrcResult {
  plan: DiscoveryPlan;
  record: DiscoveryRunRecord;
  /** Where the run record was written (undefined on a dry run). */
  recordFile?: string;
  warnings: string[];
  /** With --extend: the extend plan of the bucket. */
  extension?: ExtendPlan;
  /** Set name -> person, for showing `faceset_007 (NAME)`. */
  people: Map<string, string>;
}

/** What differs between the discovery commands: cluster-osrc routes to existing identities, refine does not. */
export interface DiscoveryMode {
  kind: "cluster-osrc" | "refine";
  /** planDiscovery's `route`. */
  route: boolean;
  /** The new sets' origin. */
  origin: FacesetOrigin;
}

/** A discovery run's result; `record.kind` is the mode's (DiscoveryRunRecord is the cluster-osrc one). */
export type DiscoveryWorkflowResult = Omit<ClusterOsrcResult, "record"> & {
  record: Omit<DiscoveryRunRecord, "kind"> & { kind: DiscoveryMode["kind"] };
};

export async function clusterOsrc(options: ClusterOsrcOptions): Promise<ClusterOsrcResult> {
  return (await runDiscovery(options, { kind: "cluster-osrc", route: true, origin: "discovered" })) as ClusterOsrcResult;
}

/** The discovery workflow shared by cluster-osrc and refine (lib/workflows/refine.ts). */
export function runDiscovery(options: ClusterOsrcOptions, mode: DiscoveryMode): Promise<DiscoveryWorkflowResult> {
  return underLibraryLock(options, mode.kind, () => runDiscoveryLocked(options, mode));
}

async function runDiscoveryLocked(options: ClusterOsrcOptions, mode: DiscoveryMode): Promise<DiscoveryWorkflowResult> {
  const run = await openRun(mode.kind, options);
  const { store, config, log, library, recognizer } = run;
  const dim = recognizer.dim;
  const source = path.resolve(options.source);
  const allFaces = await store.selectFaces();
  const index = new FaceIndex(allFaces);
  const identities = libraryIdentities(library, index, dim);
  const claimed = await claimedFaceIds(library);
  const bucket = await store.selectFaces({ under: source });
  if (bucket.length === 0) log(`no faces in the store under ${source}: scan it first (deno task scan --source ...)`);

  const extension = options.extend && mode.route ? (await planLibraryExtend(library, index, bucket, dim, config)).plan : undefined;
  const discover = () =>
    planDiscovery({ faces: bucket, dim, identities, claimedFaceIds: claimed, firstNumber: nextFacesetNumber(library), config, route: mode.route });
  let plan = discover();
  // A face extend appends (anchor centroid) that discovery did not route (full centroid) must not also start a
  // new set: plan again with those faces left out. Rare, so the plan is made twice only then.
  const appended = new Set((extension?.additions ?? []).flatMap((a) => a.faces.map((f) => f.row.faceId)));
  const clash = plan.newSets.some((s) => s.claimedFaceIds.some((id) => appended.has(id)));
  if (clash) {
    for (const id of appended) claimed.add(id);
    plan = discover();
  }

  const detectorSha256 = await latestDetectorSha256(store);
  const record: DiscoveryWorkflowResult["record"] = {
    ...recordBase(run),
    source,
    detectorSha256: detectorSha256,
    recognizerSha256: recognizer.sha256,
    coverage: sourceCoverage(source, (await store.knownFiles()).values(), bucket, await walkTree(source)),
    identities: identities.map((i) => ({
      name: i.name,
      origin: i.origin ?? null,
      faces: i.matched.length + i.unmatched.length,
      matched: i.matched.length,
      unmatched: i.unmatched.length,
    })),
    counts: plan.counts,
    routed: plan.routed,
    identitiesWithoutCentroid: plan.identitiesWithoutCentroid,
    clusters: plan.clusters,
    newSets: plan.newSets.map((s) => ({
      name: s.name,
      number: s.number,
      cluster: s.cluster,
      faces: s.faces.length,
      claimed: s.claimedFaceIds.length,
    })),
    faces: plan.faces,
  };

  const people = setPeople(library.ledger, library.manifest.facesets);
  if (extension) record.extension = { counts: extension.counts, sets: extension.sets, appended: [], faces: extension.faces };
  if (run.dryRun) return { plan, record: endRun(record), warnings: library.warnings, extension, people };

  const newSets: NewFaceset[] = [];
  for await (const [set, faces] of renderFaceGroups(plan.newSets, (s) => s.faces, config, options.onProgress)) {
    const provenance = setProvenance(run, detectorSha256, { source, cluster: set.cluster, claimedFaceIds: set.claimedFaceIds });
    newSets.push({
      number: set.number,
      origin: mode.origin,
      provenance: { tool: "facesets", command: mode.kind, run_id: run.runId, source },
      faces,
      files: [provenanceFile(provenance)],
    });
  }
  const warnings = [...library.warnings];
  if (extension && record.extension) {
    const done = await appendExtension(run.libraryDir, extension, run.runId, config, options.onProgress);
    record.extension.appended = done.appended;
    warnings.push(...done.warnings);
  }
  if (newSets.length > 0) await addFacesets(run.libraryDir, newSets);
  const recordFile = await finishRun(run, record);
  return { plan, record, recordFile, warnings, extension, people };
}
