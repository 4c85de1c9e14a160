/**
 * Discovery in a mixed bucket (the `cluster-osrc` plan). Pure: store faces + existing identities + config in,
 * a plan with one decision per face out; nothing is read or written here (lib/workflows/cluster_osrc.ts does).
 *
 * The owner's pipeline, in order:
 *  1. faces already in a library set (or claimed by an earlier discovery) are left alone;
 *  2. route: a face within `routeMaxCosDist` of an existing identity's centroid belongs to it and is dropped;
 *  3. cluster the rest among themselves at `clusterMaxCosDist` (two faces of one photo never share a cluster);
 *  4. gate each face (face_short, blur, det_score); in clusters of >= `outlierMinClusterSize` faces drop faces
 *     farther than `outlierMaxCosDist` from the cluster centroid; keep clusters with >= `minUniqueSources` distinct
 *     photos (faces of different files within `samePhotoMaxCosDist` are one photo: see same_photo.ts);
 *  5. export gate: face_short >= `exportMinFaceShortPx` and distance <= `exportMaxCosDist` to the set centroid;
 *  6. number the sets that still hold faces after the library's highest number, largest first.
 */
import type { RunConfig } from "../config";
import type { FaceRow } from "../store/records";
import { cosDist, unitMean } from "../cluster/vectors";
import { type Identity, nearestIdentity } from "./centroids";
import { exportGateFailures, qualityGateFailures } from "./gates";
import { cluster } from "../cluster/cluster";
import { distinctPhotoCount, photoGroups } from "../cluster/same_photo";
import { type DecidedFace, decidedFace } from "./face_decision";
import { facesetName } from "../library/manifest";

/** What happened to one face, in pipeline order: the first step that took it. */
export type FaceFate =
  | "in-library" // already a face of an existing set
  | "claimed" // a member of a cluster an earlier discovery turned into a set
  | "routed" // within routeMaxCosDist of an existing identity
  | "gated" // failed a quality gate
  | "outlier" // too far from its cluster's centroid
  | "small-cluster" // its cluster has too few distinct photos
  | "export-gated" // in a kept cluster, but failed the export gate
  | "exported"; // written to a new set

export interface FaceDecision extends DecidedFace {
  /** The nearest existing identity with a centroid, and the cosine distance to it (null: the library has none). */
  nearestIdentity: string | null;
  nearestCosDist: number | null;
  fate: FaceFate;
  /** For `gated` / `export-gated`: the failed gates, e.g. "face_short 71 < 90". */
  reasons?: string[];
  /** For `in-library` / `claimed` / `routed`: the set. */
  identity?: string;
  /** Cluster index (into DiscoveryPlan.clusters) for faces that were clustered. */
  cluster?: number;
  /** Cosine distance to the cluster centroid (after gating), when computed. */
  clusterCosDist?: number;
  /** For `exported`: the new set's name. */
  set?: string;
}

export interface ClusterOutcome {
  index: number;
  /** Faces clustered together. */
  faces: number;
  gated: number;
  outliers: number;
  /**
   * Distinct photos among the faces left after gates and outliers: files, with faces of different files within
   * `samePhotoMaxCosDist` taken as one photo (distinctPhotoCount).
   */
  uniqueSources: number;
  kept: boolean;
  /** Why a cluster was not kept, or why a kept one got no set. */
  dropReason?: string;
  exportGated: number;
  exported: number;
  /** The new set, when one is made. */
  setNumber?: number;
  setName?: string;
}

export interface PlannedSet {
  number: number;
  name: string;
  cluster: number;
  /** Unit centroid of the kept cluster members (after gates and outliers); export distances are to it. */
  centroid: Float32Array;
  /** The faces to export, with their distance to `centroid`, in face order. */
  faces: { row: FaceRow; centroidCosDist: number }[];
  /** Every kept member (exported or not): later runs leave them alone, so a re-run makes no new set. */
  claimedFaceIds: string[];
}

export interface DiscoveryCounts {
  faces: number;
  inLibrary: number;
  claimed: number;
  routed: number;
  clustered: number;
  clusters: number;
  gated: number;
  outliers: number;
  smallCluster: number;
  keptClusters: number;
  exportGated: number;
  exported: number;
  newSets: number;
  /** Kept clusters whose every face failed the export gate (reported, no set made). */
  emptySets: number;
}

export interface DiscoveryPlan {
  counts: DiscoveryCounts;
  /** Per existing identity: faces of the bucket routed to it (every identity listed, zero included). */
  routed: { identity: string; faces: number }[];
  /** Per existing identity: set faces that matched no store face (they do not count in its centroid). */
  unmatchedLibraryFaces: { identity: string; faces: number }[];
  /** Existing identities without a single matched face: nothing can be routed to them. */
  identitiesWithoutCentroid: string[];
  clusters: ClusterOutcome[];
  newSets: PlannedSet[];
  /** One per input face, in input order. */
  faces: FaceDecision[];
}

export interface DiscoveryInput {
  /** The bucket's faces (e.g. `store.selectFaces({ under: source })`), in a stable order. */
  faces: readonly FaceRow[];
  dim: number;
  identities: readonly Identity[];
  /** Face ids claimed by earlier discoveries (their sets' provenance). */
  claimedFaceIds?: ReadonlySet<string>;
  /** The first new set number (nextFacesetNumber of the library). */
  firstNumber: number;
  config: RunConfig;
  /**
   * Route faces near an existing identity to it (step 2; default true). `refine` passes false: it clusters the
   * source among itself only (nearest identities are still recorded; faces already in sets stay left alone).
   */
  route?: boolean;
}

export function planDiscovery(input: DiscoveryInput): DiscoveryPlan {
  const { faces, dim, identities, config, claimedFaceIds = new Set<string>(), route = true } = input;
  const id = config.identity;

  const owner = new Map<string, string>();
  for (const identity of identities) for (const row of identity.matched) owner.set(row.faceId, identity.name);
  const routedCount = new Map(identities.map((i) => [i.name, 0]));

  /** Faces left for clustering (not in a set, not claimed, not routed), as indices into `faces`. */
  const rest: number[] = [];
  const decisions: FaceDecision[] = faces.map((row, i) => {
    const nearest = nearestIdentity(row.embedding, identities, (identity) => identity.centroid);
    const nearestCosDist = nearest?.cosDist ?? null;
    const decision: FaceDecision = {
      ...decidedFace(row),
      nearestIdentity: nearest?.identity.name ?? null,
      nearestCosDist,
      fate: "small-cluster", // provisional for clustered faces: the cluster steps below set the real fate
    };
    const inSet = owner.get(row.faceId);
    if (inSet !== undefined) return { ...decision, fate: "in-library", identity: inSet };
    if (claimedFaceIds.has(row.faceId)) return { ...decision, fate: "claimed" };
    if (route && nearest !== undefined && nearest.cosDist <= id.routeMaxCosDist) {
      const name = nearest.identity.name;
      routedCount.set(name, routedCount.get(name)! + 1);
      return { ...decision, fate: "routed", identity: name };
    }
    rest.push(i);
    return decision;
  });

  // Cluster what is left; faces of one photo (one content hash) may never share a cluster.
  const matrix = new Float32Array(rest.length * dim);
  const cannotLink = photoGroups(rest.map((i) => faces[i]!));
  const rowOf = new Int32Array(faces.length).fill(-1);
  rest.forEach((i, r) => {
    rowOf[i] = r;
    matrix.set(faces[i]!.embedding, r * dim);
  });
  const clustering = rest.length > 0
    ? cluster(matrix, dim, { linkage: id.linkage, maxCosDist: id.clusterMaxCosDist, cannotLink })
    : { clusters: [] as number[][] };

  const outcomes: ClusterOutcome[] = [];
  const candidates: { outcome: ClusterOutcome; centroid: Float32Array; members: number[]; exported: number[] }[] = [];
  clustering.clusters.forEach((memberRows, index) => {
    const members = memberRows.map((r) => rest[r]!);
    const outcome: ClusterOutcome = {
      index,
      faces: members.length,
      gated: 0,
      outliers: 0,
      uniqueSources: 0,
      kept: false,
      exportGated: 0,
      exported: 0,
    };
    outcomes.push(outcome);
    let passing: number[] = [];
    for (const i of members) {
      const d = decisions[i]!;
      d.cluster = index;
      const failures = qualityGateFailures(faces[i]!, config);
      if (failures.length > 0) {
        d.fate = "gated";
        d.reasons = failures;
        outcome.gated++;
      } else passing.push(i);
    }
    if (passing.length === 0) {
      outcome.dropReason = "no face passed the quality gates";
      return;
    }
    let centroid = unitMean(passing.map((i) => faces[i]!.embedding), dim);
    if (passing.length >= id.outlierMinClusterSize) {
      const inliers: number[] = [];
      for (const i of passing) {
        const dist = cosDist(faces[i]!.embedding, centroid);
        decisions[i]!.clusterCosDist = dist;
        if (dist > id.outlierMaxCosDist) {
          decisions[i]!.fate = "outlier";
          outcome.outliers++;
        } else inliers.push(i);
      }
      if (inliers.length < passing.length) {
        passing = inliers;
        centroid = unitMean(passing.map((i) => faces[i]!.embedding), dim);
      }
    }
    outcome.uniqueSources = distinctPhotoCount(passing.map((i) => rowOf[i]!), matrix, dim, cannotLink, id.samePhotoMaxCosDist);
    if (outcome.uniqueSources < id.minUniqueSources) {
      for (const i of passing) decisions[i]!.fate = "small-cluster";
      outcome.dropReason = `${outcome.uniqueSources} distinct photos < ${id.minUniqueSources}`;
      return;
    }
    outcome.kept = true;
    const exported: number[] = [];
    for (const i of passing) {
      const row = faces[i]!;
      const d = decisions[i]!;
      const dist = cosDist(row.embedding, centroid);
      d.clusterCosDist = dist;
      const failures = exportGateFailures(row, dist, config);
      if (failures.length > 0) {
        d.fate = "export-gated";
        d.reasons = failures;
        outcome.exportGated++;
      } else exported.push(i);
    }
    outcome.exported = exported.length;
    if (exported.length === 0) outcome.dropReason = "every face failed the export gate";
    candidates.push({ outcome, centroid, members: passing, exported });
  });

  // Largest first (faces to export, then kept members); ties by the cluster's first face id for stable numbers.
  const numbered = candidates
    .filter((c) => c.exported.length > 0)
    .sort((a, b) =>
      b.exported.length - a.exported.length || b.members.length - a.members.length ||
      (faces[a.members[0]!]!.faceId < faces[b.members[0]!]!.faceId ? -1 : 1)
    );
  const newSets: PlannedSet[] = numbered.map((c, k) => {
    const number = input.firstNumber + k;
    const name = facesetName(number);
    c.outcome.setNumber = number;
    c.outcome.setName = name;
    for (const i of c.exported) {
      decisions[i]!.fate = "exported";
      decisions[i]!.set = name;
    }
    return {
      number,
      name,
      cluster: c.outcome.index,
      centroid: c.centroid,
      faces: c.exported.map((i) => ({ row: faces[i]!, centroidCosDist: decisions[i]!.clusterCosDist! })),
      claimedFaceIds: c.members.map((i) => faces[i]!.faceId),
    };
  });

  const count = (fate: FaceFate) => decisions.filter((d) => d.fate === fate).length;
  return {
    counts: {
      faces: faces.length,
      inLibrary: count("in-library"),
      claimed: count("claimed"),
      routed: count("routed"),
      clustered: rest.length,
      clusters: outcomes.length,
      gated: count("gated"),
      outliers: count("outlier"),
      smallCluster: count("small-cluster"),
      keptClusters: candidates.length,
      exportGated: count("export-gated"),
      exported: count("exported"),
      newSets: newSets.length,
      emptySets: candidates.length - newSets.length,
    },
    routed: identities.map((i) => ({ identity: i.name, faces: routedCount.get(i.name)! })),
    unmatchedLibraryFaces: identities.filter((i) => i.unmatched.length > 0).map((i) => ({
      identity: i.name,
      faces: i.unmatched.length,
    })),
    identitiesWithoutCentroid: identities.filter((i) => i.centroid === undefined).map((i) => i.name),
    clusters: outcomes,
    newSets,
    faces: decisions,
  };
}
