/**
 * The extend plan: which of a folder's store faces join which existing set. Pure: store faces + the sets as
 * anchors + config in, one decision per face out; lib/workflows/extend.ts reads the library and writes.
 *
 * Decisions, per face of the source, in order (the first step that takes a face is its fate):
 *  1. `in-library`: already a face of a set (or thin era), matched by face id / source + box (FaceIndex.match);
 *  2. `claimed`: a member of a cluster a discovery turned into a set (its provenance claimed_face_ids);
 *  3. `not-routed`: no identity's anchor centroid within `routeMaxCosDist`; otherwise the nearest identity is it;
 *  4. `gated`: fails a quality gate (`minFaceShortPx`, `minBlur`, `minDetScore`); `export-gated`: fails the
 *     export gate (`exportMinFaceShortPx`, distance <= `exportMaxCosDist`). Extended sets keep the bar of
 *     discovered sets: a face enters a set only if discovery would have exported it there;
 *  5. `rejected`: the owner took the face out of that set (curate reject/move/split, a deleted crop), or a set
 *     marked not-same with it holds or held it: never put (back) there;
 *  6. `same-photo`: the set already holds a face of that photo, or a nearer face of it goes to the set in this
 *     run (one person appears once per photo, as in clustering). "That photo" is discovery's rule
 *     (`samePhotoMaxCosDist`, lib/identity/same_photo.ts): the same file, or a file whose face is this close to
 *     one of the set's (a resized, re-encoded or cropped copy of one shot);
 *  7. `added`.
 *
 * Routing compares with each set's *anchor* centroid ([Note: anchor centroid] in lib/workflows/extend.ts).
 */
import type { RunConfig } from "../config";
import type { FaceRow } from "../store/records";
import { nearestIdentity } from "./centroids";
import { cosDist } from "../cluster/vectors";
import { exportGateFailures, qualityGateFailures } from "./gates";
import { type DecidedFace, decidedFace } from "./face_decision";

export type ExtendFate =
  | "in-library"
  | "claimed"
  | "not-routed"
  | "gated"
  | "export-gated"
  | "rejected"
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
  /** Embeddings of the set's faces (matched to the store), for the same-photo rule across files; default none. */
  faceEmbeddings?: readonly Float32Array[];
  /** Face id -> why it may never join this set (the owner's decisions, see the module comment); default none. */
  refused?: ReadonlyMap<string, string>;
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
  rejected: number;
  samePhoto: number;
  added: number;
}

export interface ExtendPlan {
  counts: Record<"faces" | "inLibrary" | "claimed" | "notRouted" | "routed" | "gated" | "exportGated" | "rejected" | "samePhoto" | "noLandmarks" | "added", number>;
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
  const samePhotoMax = config.identity.samePhotoMaxCosDist;
  const limit = Math.fround(samePhotoMax);
  const outcomes = new Map(
    identities.map((i) => [i.name, { identity: i.name, number: i.number, routed: 0, gated: 0, exportGated: 0, rejected: 0, samePhoto: 0, added: 0 }]),
  );
  const decisions: ExtendDecision[] = faces.map((row) => {
    const found = nearestIdentity(row.embedding, identities, (identity) => identity.anchor);
    const nearest = found?.identity;
    const nearestCosDist = found?.cosDist ?? null;
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
    const refusal = nearest.refused?.get(row.faceId);
    if (refusal !== undefined) {
      outcome.rejected++;
      return { ...routed, fate: "rejected", reasons: [refusal] };
    }
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
    const copy = samePhotoMax > 0 ? nearest.faceEmbeddings?.find((e) => Math.fround(cosDist(row.embedding, e)) <= limit) : undefined;
    if (copy !== undefined) {
      outcome.samePhoto++;
      const d = cosDist(row.embedding, copy).toFixed(3);
      return { ...routed, fate: "same-photo", reasons: [`a copy of a photo ${nearest.name} already holds (cos dist ${d} <= samePhotoMaxCosDist ${samePhotoMax})`] };
    }
    return { ...routed, fate: "added" };
  });

  // One face per photo and set: among this run's candidates, the nearest wins. Faces of one file, or of files
  // within samePhotoMaxCosDist of each other (transitively), are one photo.
  for (const identity of identities) {
    const members = decisions.flatMap((d, i) => (d.fate === "added" && d.identity === identity.name ? [i] : []));
    const parent = members.map((_, k) => k);
    const find = (k: number): number => (parent[k] === k ? k : (parent[k] = find(parent[k]!)));
    for (let a = 0; a < members.length; a++) {
      for (let b = a + 1; b < members.length; b++) {
        const [x, y] = [faces[members[a]!]!, faces[members[b]!]!];
        const same = x.fileSha256 === y.fileSha256 || (samePhotoMax > 0 && Math.fround(cosDist(x.embedding, y.embedding)) <= limit);
        if (same) parent[find(b)] = find(a);
      }
    }
    const best = new Map<number, number>();
    members.forEach((i, k) => {
      const root = find(k);
      const other = best.get(root);
      if (other === undefined || decisions[i]!.nearestCosDist! < decisions[other]!.nearestCosDist!) best.set(root, i);
    });
    members.forEach((i, k) => {
      if (best.get(find(k)) === i) return;
      const d = decisions[i]!;
      d.fate = "same-photo";
      d.reasons = [`a nearer face of this photo${faces[best.get(find(k))!]!.fileSha256 === faces[i]!.fileSha256 ? "" : " (a copy of it)"} goes to ${d.identity}`];
      outcomes.get(d.identity!)!.samePhoto++;
    });
  }

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
      rejected: count("rejected"),
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
