/**
 * A hand-sorted folder as one identity (the `build-folders` plan). Pure: the folder's store faces + config in, the
 * faces that make the person's set out; nothing is read or written here.
 *
 * The folder asserts *who* is in each photo, not *which* face: a portrait's one face is the person, a group photo
 * holds the person and others. So:
 *  1. seed a centroid from the faces of single-face photos (all faces when the folder has no single-face photo);
 *  2. in every photo pick the face nearest the centroid; recompute the centroid from the picks (group-photo picks
 *     only when within `clusterMaxCosDist`, see 3); repeat until the picks stop changing (or `maxIterations`);
 *  3. a group photo whose nearest face is farther than `clusterMaxCosDist` (the loosest "same person" distance of
 *     the config) gives no face: the person was most likely not detected there, and the faces found are others;
 *  4. single-face photos are kept whatever their distance (the owner sorted them), but a face farther than
 *     `clusterMaxCosDist` is reported (`far`) so a mis-sorted photo can be found;
 *  5. quality gates (`minFaceShortPx`, `minBlur`, `minDetScore`, `exportMinFaceShortPx`) do not drop faces of a
 *     hand-sorted set: the owner chose them. Failures are reported per face (`lowQuality`).
 * Faces without landmarks (imported from another tool) cannot be cropped and are left out.
 *
 * A folder may hold two people after all (two siblings sorted into one folder): the picks are clustered among
 * themselves as discovery would (`clusterMaxCosDist`, the config's linkage) and the groups of 2+ photos are
 * reported (`groups`), so the workflow can warn; the set is made as the owner sorted it.
 */
import type { RunConfig } from "../config";
import type { FaceRow } from "../store/records";
import { cosDist, unitMean } from "../cluster/vectors";
import { qualityGateFailures } from "./gates";
import { cluster } from "../cluster/cluster";
import { type DecidedFace, decidedFace } from "./face_decision";

export type FolderFaceFate =
  | "picked" // the person's face in its photo: goes into the set
  | "other-face" // another face of a photo whose pick is a different face
  | "not-found" // the nearest face of a group photo is too far: no face of that photo is taken
  | "no-landmarks"; // imported without landmarks: no crop can be made

export interface FolderFaceDecision extends DecidedFace {
  /** Faces of the same photo (content) in the folder. */
  facesInPhoto: number;
  fate: FolderFaceFate;
  /** Cosine distance to the final centroid (null when there is none). */
  centroidCosDist: number | null;
  /** For picked faces: failed quality or export gates (reported, the face is kept). */
  lowQuality?: string[];
  /** For picked faces: farther than clusterMaxCosDist from the centroid (reported, the face is kept). */
  far?: boolean;
}

export interface FolderPlan {
  /** Unit centroid of the picked faces; undefined when nothing was picked. */
  centroid: Float32Array | undefined;
  /** How the centroid was seeded. */
  seed: "single-face-photos" | "all-faces" | "none";
  iterations: number;
  photos: number;
  groupPhotos: number;
  /** The set's faces, in input order, with their distance to `centroid`. */
  picked: { row: FaceRow; centroidCosDist: number }[];
  /** One per input face, in input order. */
  faces: FolderFaceDecision[];
  counts: { faces: number; picked: number; otherFaces: number; notFound: number; noLandmarks: number; lowQuality: number; far: number };
  /**
   * The picks clustered among themselves at clusterMaxCosDist: photos per group of at least 2 photos, largest
   * first. Two or more entries: the folder may hold more than one person.
   */
  groups: number[];
}

export interface FolderPlanOptions {
  /** Pick / recompute rounds at most (default 10; the picks of real folders settle in 2-3). */
  maxIterations?: number;
}

/** Failed gates of a face that would drop it from a discovered set (quality gates, then the export face size). */
export function lowQualityReasons(row: FaceRow, config: RunConfig): string[] {
  const out = qualityGateFailures(row, config);
  const { exportMinFaceShortPx } = config.export;
  if (!(row.faceShortPx >= exportMinFaceShortPx)) {
    out.push(`export face_short ${row.faceShortPx.toFixed(0)} < ${exportMinFaceShortPx}`);
  }
  return out;
}

/** Plan one hand-sorted folder's set from its store faces (`store.selectFaces({ under: folder })`). */
export function planFolderFaces(
  faces: readonly FaceRow[],
  dim: number,
  config: RunConfig,
  { maxIterations = 10 }: FolderPlanOptions = {},
): FolderPlan {
  const maxDist = config.identity.clusterMaxCosDist;
  const usable = faces.map((_, i) => i).filter((i) => faces[i]!.kps !== null);
  const photos = new Map<string, number[]>();
  for (const i of usable) {
    const sha = faces[i]!.fileSha256;
    const list = photos.get(sha);
    if (list) list.push(i);
    else photos.set(sha, [i]);
  }
  const groups = [...photos.values()];
  const singles = groups.filter((g) => g.length === 1).map((g) => g[0]!);
  const seed: FolderPlan["seed"] = usable.length === 0 ? "none" : singles.length > 0 ? "single-face-photos" : "all-faces";
  const embeddingsOf = (indices: readonly number[]) => indices.map((i) => faces[i]!.embedding);

  let centroid: Float32Array | undefined = seed === "none"
    ? undefined
    : unitMean(embeddingsOf(seed === "single-face-photos" ? singles : usable), dim);
  /** Per photo (in `groups` order): the picked face, or -1 when none is near enough. */
  let picks: number[] = [];
  let iterations = 0;
  while (centroid !== undefined && iterations < maxIterations) {
    iterations++;
    const c: Float32Array = centroid;
    const next = groups.map((g) => {
      let best = g[0]!;
      for (const i of g) if (cosDist(faces[i]!.embedding, c) < cosDist(faces[best]!.embedding, c)) best = i;
      return g.length === 1 || cosDist(faces[best]!.embedding, c) <= maxDist ? best : -1;
    });
    const stable = next.length === picks.length && next.every((p, k) => p === picks[k]);
    picks = next;
    if (stable) break;
    const chosen = picks.filter((p) => p >= 0);
    // Keep the previous centroid when every pick dropped out (cannot happen while a single-face photo exists).
    if (chosen.length > 0) centroid = unitMean(embeddingsOf(chosen), dim);
  }

  const pickedSet = new Set(picks.filter((p) => p >= 0));
  const notFoundPhotos = new Set(groups.filter((_, k) => picks[k] === -1).flatMap((g) => g));
  const photoSize = new Map(groups.flatMap((g) => g.map((i) => [i, g.length] as const)));
  const picked: FolderPlan["picked"] = [];
  const decisions = faces.map((row, i): FolderFaceDecision => {
    const centroidCosDist = centroid === undefined ? null : cosDist(row.embedding, centroid);
    const base = {
      ...decidedFace(row),
      facesInPhoto: photoSize.get(i) ?? faces.filter((r) => r.fileSha256 === row.fileSha256).length,
      centroidCosDist,
    };
    if (row.kps === null) return { ...base, fate: "no-landmarks" };
    if (notFoundPhotos.has(i)) return { ...base, fate: "not-found" };
    if (!pickedSet.has(i)) return { ...base, fate: "other-face" };
    picked.push({ row, centroidCosDist: centroidCosDist! });
    const decision: FolderFaceDecision = { ...base, fate: "picked" };
    const lowQuality = lowQualityReasons(row, config);
    if (lowQuality.length > 0) decision.lowQuality = lowQuality;
    if (centroidCosDist! > maxDist) decision.far = true;
    return decision;
  });

  const count = (fate: FolderFaceFate) => decisions.filter((d) => d.fate === fate).length;
  return {
    groups: pickGroups(picked.map((p) => p.row), dim, config),
    centroid,
    seed,
    iterations,
    photos: groups.length,
    groupPhotos: groups.length - singles.length,
    picked,
    faces: decisions,
    counts: {
      faces: faces.length,
      picked: picked.length,
      otherFaces: count("other-face"),
      notFound: count("not-found"),
      noLandmarks: count("no-landmarks"),
      lowQuality: decisions.filter((d) => d.lowQuality !== undefined).length,
      far: decisions.filter((d) => d.far).length,
    },
  };
}

/** Photos per group of the picks (one face per photo) clustered at clusterMaxCosDist; groups of 2+ photos, largest first. */
function pickGroups(rows: readonly FaceRow[], dim: number, config: RunConfig): number[] {
  if (rows.length < 4) return []; // two groups of 2 photos need 4
  const matrix = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => matrix.set(r.embedding, i * dim));
  const { clusters } = cluster(matrix, dim, { linkage: config.identity.linkage, maxCosDist: config.identity.clusterMaxCosDist });
  return clusters
    .map((members) => new Set(members.map((i) => rows[i]!.fileSha256)).size)
    .filter((photos) => photos >= 2)
    .sort((a, b) => b - a);
}

/** "People/Opa: may hold 2 people (groups of 5 and 5 photos)", or undefined for a folder of one group. */
export function folderGroupsWarning(folderLabel: string, groups: readonly number[]): string | undefined {
  if (groups.length < 2) return undefined;
  const sizes = groups.length === 2 ? `${groups[0]} and ${groups[1]}` : `${groups.slice(0, -1).join(", ")} and ${groups.at(-1)}`;
  return `${folderLabel}: may hold ${groups.length} people (groups of ${sizes} photos)`;
}
