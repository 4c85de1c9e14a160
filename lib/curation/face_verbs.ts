/**
 * Verbs on faces: move, reject, split, and a new set from store faces (the review page's leftovers). A face taken
 * out of a set is recorded as rejected from it, so no later run (extend, cluster-osrc --extend, build-folders)
 * puts it back there.
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { DEFAULT_CONFIG, type RunConfig } from "../config";
import { renderFaces } from "../export/faces";
import { type LedgerSet, newSetId, setLabel } from "../library/ledger";
import { type FacesetFace, facesetManifestJson, facesetName, type FacesetOrigin, formatManifest, MANIFEST_FILE } from "../library/manifest";
import { type Library, type LoadedFaceset, nextFacesetNumber } from "../library/read";
import { faceKey } from "../library/write";
import { withFaceStore } from "../store/store";
import { CurateError } from "./errors";
import { type CropMove, moveCrops, planCropMoves, removeCrops, takenNames } from "./files";
import { type FaceRef, type FoundFace, loadedSet, resolveActiveSet, resolveFace, type SetRef } from "./refs";
import { type CurateContext, type CurateOutcome, type CurateTarget, exists, runCuration, writeSetManifest } from "./run";

/** Faces by set, in the order given; a face named twice counts once. */
function groupBySet(found: readonly FoundFace[]): Map<LoadedFaceset, FoundFace[]> {
  const out = new Map<LoadedFaceset, FoundFace[]>();
  const seen = new Set<string>();
  for (const f of found) {
    if (seen.has(`${f.set.name}|${f.key}`)) continue;
    seen.add(`${f.set.name}|${f.key}`);
    const list = out.get(f.set);
    if (list) list.push(f);
    else out.set(f.set, [f]);
  }
  return out;
}

/** Take `keys` out of a ledger set: no longer held, rejected from it. */
function takeOut(set: LedgerSet, keys: readonly string[]): void {
  set.faces = set.faces.filter((k) => !keys.includes(k));
  set.rejected = [...new Set([...set.rejected, ...keys])];
}

const ledgerSetOf = (ctx: CurateContext, loaded: LoadedFaceset) => ctx.ledger.sets.find((s) => s.name === loaded.name)!;
const faceLabel = (f: FacesetFace) => f.faceId ?? f.crop;
const requireFaces = (faces: readonly FaceRef[]) => {
  if (faces.length === 0) throw new CurateError("give at least one --face");
};

/** `move --face FACE [--face ...] --to SET`: the faces (and crops) move to the set; each is rejected from where it was. */
export function moveFaces(target: CurateTarget, faces: readonly FaceRef[], to: SetRef): Promise<CurateOutcome> {
  return runCuration(target, "move", async (ctx) => {
    requireFaces(faces);
    const dest = resolveActiveSet(ctx.ledger, to);
    const destSet = loadedSet(ctx.library, dest);
    const found = faces.map((ref) => resolveFace(ctx.library, ref));
    for (const f of found) {
      if (f.set === destSet) throw new CurateError(`face "${faceLabel(f.face)}" is already in ${dest.name}`);
    }
    const taken = await takenNames(destSet);
    const groups = [...groupBySet(found)].map(([set, list]) => ({ set, list, moves: planCropMoves(set, list.map((f) => f.face), destSet.dir, taken) }));
    const changes: string[] = [];
    for (const { set, list } of groups) {
      const from = ledgerSetOf(ctx, set);
      changes.push(`${list.length} face(s) moved from ${setLabel(from.name, from.person)} to ${setLabel(dest.name, dest.person)}`);
      const keys = list.map((f) => f.key);
      takeOut(from, keys);
      dest.faces.push(...keys.filter((k) => !dest.faces.includes(k)));
      dest.rejected = dest.rejected.filter((k) => !keys.includes(k));
      if (from.faces.length === 0) changes.push(`${from.name} now holds no faces (curate dismiss --set ${from.number} takes it out)`);
    }
    return {
      changes,
      sets: [dest.name, ...groups.map((g) => g.set.name)],
      touched: [dest.folder, ...groups.map((g) => ledgerSetOf(ctx, g.set).folder)],
      decision: { verb: "move", sets: [dest.name, ...groups.map((g) => g.set.name)], faces: found.map((f) => faceLabel(f.face)), detail: changes.join("; ") },
      apply: async () => {
        const added: FacesetFace[] = [];
        for (const { set, list, moves } of groups) {
          await moveCrops(moves);
          added.push(...moves.map((m) => m.face));
          const gone = new Set(list.map((f) => f.face));
          await writeSetManifest(set, set.manifest.faces.filter((f) => !gone.has(f)));
        }
        await writeSetManifest(destSet, [...destSet.manifest.faces, ...added]);
      },
    };
  });
}

/** `reject --set SET --face FACE [--face ...]`: the faces leave the set (crops removed) and never come back to it. */
export function rejectFaces(target: CurateTarget, set: SetRef, faces: readonly FaceRef[]): Promise<CurateOutcome> {
  return runCuration(target, "reject", (ctx) => {
    requireFaces(faces);
    const s = resolveActiveSet(ctx.ledger, set);
    const loaded = loadedSet(ctx.library, s);
    const found = [...groupBySet(faces.map((ref) => resolveFace(ctx.library, ref, loaded)))].flatMap(([, list]) => list);
    takeOut(s, found.map((f) => f.key));
    const line = `${found.length} face(s) rejected from ${setLabel(s.name, s.person)} (${found.map((f) => f.face.crop).join(", ")}); ${s.faces.length} left`;
    return {
      changes: [line],
      sets: [s.name],
      touched: [s.folder],
      decision: { verb: "reject", sets: [s.name], faces: found.map((f) => faceLabel(f.face)), detail: line },
      apply: async () => {
        const gone = new Set(found.map((f) => f.face));
        await writeSetManifest(loaded, loaded.manifest.faces.filter((f) => !gone.has(f)));
        await removeCrops(loaded, found.map((f) => f.face));
      },
    };
  });
}

/** Build a new set folder in a temp folder beside it, then rename it into place (never over an existing one). */
const newSetTemp = (library: Library, name: string) => path.join(library.dir, `.${name}.tmp-${process.pid}`);

async function placeNewSet(library: Library, name: string, faces: FacesetFace[], fill: (temp: string) => Promise<void>): Promise<void> {
  const dir = path.join(library.dir, name);
  if (await exists(dir)) throw new CurateError(`${dir} already exists; refusing to overwrite a set folder`);
  const temp = newSetTemp(library, name);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp);
  await fill(temp);
  await writeFile(path.join(temp, MANIFEST_FILE), formatManifest(facesetManifestJson({ name, faces })), { flag: "wx" });
  await rename(temp, dir);
}

/** A new ledger set for `faces`, numbered after the highest number ever given. */
function newLedgerSet(ctx: CurateContext, keys: string[], origin: FacesetOrigin, extra: Record<string, unknown>): LedgerSet {
  const number = Math.max(nextFacesetNumber(ctx.library), ctx.ledger.highestNumber + 1);
  const name = facesetName(number);
  const set: LedgerSet = {
    id: newSetId(ctx.ledger),
    number,
    name,
    folder: name,
    person: null,
    state: "active",
    mergedInto: null,
    faces: keys,
    rejected: [],
    entry: { name, count: keys.length, origin, ...extra },
  };
  ctx.ledger.sets.push(set);
  ctx.ledger.highestNumber = number;
  return set;
}

/** `split --set SET --face FACE [--face ...]`: those faces become a new set numbered after the highest number ever given. */
export function splitFaces(target: CurateTarget, set: SetRef, faces: readonly FaceRef[]): Promise<CurateOutcome> {
  return runCuration(target, "split", async (ctx) => {
    requireFaces(faces);
    const s = resolveActiveSet(ctx.ledger, set);
    const loaded = loadedSet(ctx.library, s);
    const found = [...groupBySet(faces.map((ref) => resolveFace(ctx.library, ref, loaded)))].flatMap(([, list]) => list);
    if (found.length === loaded.manifest.faces.length) {
      throw new CurateError(`--face lists every face of ${s.name}; a split leaves at least one (rename it instead: curate name)`);
    }
    const keys = found.map((f) => f.key);
    const origin = (typeof s.entry?.origin === "string" ? s.entry.origin : "hand-sorted") as FacesetOrigin;
    const created = newLedgerSet(ctx, keys, origin, { split_from: s.name });
    takeOut(s, keys);
    const moves: CropMove[] = planCropMoves(loaded, found.map((f) => f.face), newSetTemp(ctx.library, created.name), new Set([MANIFEST_FILE]));
    const line = `${found.length} face(s) of ${setLabel(s.name, s.person)} split off as the new set ${created.name}; ${s.faces.length} left`;
    return {
      changes: [line],
      sets: [s.name, created.name],
      touched: [s.folder, created.folder],
      decision: { verb: "split", sets: [s.name, created.name], faces: found.map((f) => faceLabel(f.face)), detail: line },
      apply: async () => {
        await placeNewSet(ctx.library, created.name, moves.map((m) => m.face), () => moveCrops(moves));
        const gone = new Set(found.map((f) => f.face));
        await writeSetManifest(loaded, loaded.manifest.faces.filter((f) => !gone.has(f)));
      },
    };
  });
}

/**
 * Store faces (e.g. a run's leftovers, picked on the review page) -> a new set numbered after the highest number
 * ever given, crops rendered from the store. Refused: unknown face ids, faces some active set holds.
 */
export function createSetFromFaces(target: CurateTarget, faceIds: readonly string[], config: RunConfig = DEFAULT_CONFIG): Promise<CurateOutcome> {
  return runCuration(target, "create", async (ctx) => {
    if (faceIds.length === 0) throw new CurateError("give at least one face id");
    if (!target.storePath) throw new CurateError("a new set from store faces needs the store (--store PATH)");
    const storePath = path.resolve(target.storePath);
    if (!(await exists(storePath))) throw new CurateError(`--store ${target.storePath} does not exist`);
    const rows = await withFaceStore(storePath, { readOnly: true }, (store) => store.selectFaces());
    const byId = new Map(rows.map((r) => [r.faceId, r]));
    const ids = [...new Set(faceIds)];
    const unknown = ids.filter((id) => !byId.has(id));
    if (unknown.length > 0) throw new CurateError(`unknown face id(s) in ${target.storePath}: ${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ", ..." : ""}`);
    for (const s of ctx.ledger.sets) {
      if (s.state !== "active") continue;
      const held = ids.filter((id) => s.faces.includes(id));
      if (held.length > 0) throw new CurateError(`face ${held[0]} is already in ${setLabel(s.name, s.person)}; use curate move`);
    }
    const created = newLedgerSet(ctx, ids, "hand-sorted", { created_by: "curate" });
    const line = `new set ${created.name} from ${ids.length} store face(s)`;
    return {
      changes: [line],
      sets: [created.name],
      touched: [created.folder],
      decision: { verb: "create", sets: [created.name], faces: ids, detail: line },
      apply: async () => {
        const rendered = await renderFaces(ids.map((id) => ({ row: byId.get(id)!, centroidCosDist: 0 })), config);
        const records = rendered.map(({ png: _png, ...face }) => face);
        await placeNewSet(ctx.library, created.name, records, async (temp) => {
          for (const face of rendered) await writeFile(path.join(temp, face.crop), face.png, { flag: "wx" });
          const provenance = { tool: "facesets", command: "curate create", created_at: new Date().toISOString(), store: storePath, claimed_face_ids: ids };
          await writeFile(path.join(temp, "provenance.json"), JSON.stringify(provenance, null, 1) + "\n", { flag: "wx" });
        });
        created.faces = records.map(faceKey);
      },
    };
  });
}
