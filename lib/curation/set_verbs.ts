/**
 * Verbs on whole sets: name, merge, dismiss, restore, not-same. Each plans on the ledger and the library (see
 * run.ts), reports one line per change and touches only the folders it names.
 */
import { rename, mkdir } from "node:fs/promises";
import path from "node:path";
import { DISMISSED_FOLDER, isNotSame, type LedgerSet, pairOf, setLabel } from "../library/ledger";
import { facesetNumber } from "../library/manifest";
import { removeAside } from "../library/ledger_journal";
import { CurateError } from "./errors";
import { type CropMove, moveCrops, planCropMoves, provenanceClaims, takenNames } from "./files";
import type { LoadedFaceset } from "../library/read";
import { loadedSet, resolveActiveSet, resolveSet, type SetRef } from "./refs";
import { type CurateOutcome, type CurateTarget, exists, runCuration, writeSetManifest } from "./run";

/** A person name must not read as a set reference (a number or `faceset_NNN`), nor be empty. */
function checkPersonName(person: string): string {
  const name = person.trim();
  if (name === "") throw new CurateError("--person: the name is empty");
  if (/^\d+$/.test(name) || facesetNumber(name) !== undefined) {
    throw new CurateError(`--person "${person}": a name cannot be a set number or folder name`);
  }
  if (/[\n\r\t]/.test(name)) throw new CurateError(`--person "${person}": one line, please`);
  return name;
}

/** `name --set SET --person NAME`: tables, reports and status show `faceset_007 (NAME)`; the folder keeps its name. */
export function nameSet(target: CurateTarget, set: SetRef, person: string): Promise<CurateOutcome> {
  return runCuration(target, "name", ({ ledger }) => {
    const name = checkPersonName(person);
    const s = resolveActiveSet(ledger, set);
    const other = ledger.sets.find((o) => o !== s && o.state === "active" && o.person?.toLowerCase() === name.toLowerCase());
    if (other) {
      throw new CurateError(
        `${other.name} is already named "${other.person}"; merge them (curate merge --set ${s.number} --into ${other.number}) or pick another name`,
      );
    }
    const old = s.person;
    if (old === name) return { changes: [`${setLabel(s.name, name)}: already so named`], sets: [s.name], touched: [], decision: { verb: "name", sets: [], faces: [], detail: "" }, noop: true };
    s.person = name;
    const line = `${s.name}: named "${name}"` + (old ? ` (was "${old}")` : "");
    return { changes: [line], sets: [s.name], touched: [], decision: { verb: "name", sets: [s.name], faces: [], detail: line } };
  });
}

/** The not-same pairs among `sets` (names), as lines. */
function notSamePairs(ledger: Parameters<typeof isNotSame>[0], sets: readonly LedgerSet[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      if (isNotSame(ledger, sets[i]!.name, sets[j]!.name)) out.push(`${sets[i]!.name} / ${sets[j]!.name}`);
    }
  }
  return out;
}

/**
 * `merge --set SET [--set SET ...] --into SET`: the sets' faces and crops move into the target; the merged sets
 * leave the set list (folder removed) and stay in the ledger as merged into the target; their numbers are never
 * given out again. Refused when any two of them were marked not-same.
 */
export function mergeSets(target: CurateTarget, sets: readonly SetRef[], into: SetRef): Promise<CurateOutcome> {
  return runCuration(target, "merge", async ({ ledger, library }) => {
    if (sets.length === 0) throw new CurateError("merge needs at least one --set");
    const to = resolveActiveSet(ledger, into);
    const from: LedgerSet[] = [];
    for (const ref of sets) {
      const s = resolveActiveSet(ledger, ref);
      if (s === to) throw new CurateError(`--set ${ref} is the --into set ${to.name}`);
      if (!from.includes(s)) from.push(s);
    }
    const refused = notSamePairs(ledger, [to, ...from]);
    if (refused.length > 0) {
      throw new CurateError(`refusing to merge: marked not the same person (${refused.join(", ")}); nothing changed`);
    }
    const toSet = loadedSet(library, to);
    const taken = await takenNames(toSet);
    const moves: { s: LedgerSet; loaded: LoadedFaceset; planned: CropMove[] }[] = [];
    const changes: string[] = [];
    for (const s of from) {
      const loaded = loadedSet(library, s);
      const planned = planCropMoves(loaded, loaded.manifest.faces, toSet.dir, taken);
      moves.push({ s, loaded, planned });
      changes.push(`${setLabel(s.name, s.person)}: ${planned.length} face(s) moved into ${setLabel(to.name, to.person)}; ${s.name} merged (its number is never reused)`);
    }
    const folders = [to.folder, ...from.map((s) => s.folder)];
    const apply = async () => {
      const faces = [...toSet.manifest.faces];
      for (const { planned } of moves) {
        await moveCrops(planned);
        faces.push(...planned.map((m) => m.face));
      }
      await writeSetManifest(toSet, faces);
      for (const { loaded } of moves) await removeAside(library.dir, loaded.dir);
    };
    // The ledger: faces go to the target (no longer rejected there), merged sets keep their claims, and their
    // not-same marks pass to the target (same person).
    for (const { s, loaded } of moves) {
      const keys = [...s.faces];
      to.faces.push(...keys.filter((k) => !to.faces.includes(k)));
      to.rejected = to.rejected.filter((k) => !keys.includes(k));
      s.claimed = [...new Set([...(s.claimed ?? []), ...(await provenanceClaims(loaded.dir)), ...keys])];
      s.faces = [];
      s.state = "merged";
      s.mergedInto = to.name;
      to.person ??= s.person;
      ledger.notSame = ledger.notSame.map(([a, b]) => pairOf(a === s.name ? to.name : a, b === s.name ? to.name : b));
    }
    const decisionFaces = moves.flatMap((m) => m.planned.map((p) => p.face.faceId ?? p.face.crop));
    return {
      changes: [...changes, `${setLabel(to.name, to.person)}: now ${to.faces.length} faces`],
      sets: [to.name, ...from.map((s) => s.name)],
      touched: folders,
      decision: { verb: "merge", sets: [to.name, ...from.map((s) => s.name)], faces: decisionFaces, detail: `merged ${from.map((s) => s.name).join(", ")} into ${to.name}` },
      apply,
    };
  });
}

/**
 * `dismiss --set SET`: the set's folder moves to `_dismissed/` (out of the set list); its person is never routed
 * to and its faces never re-discovered. `restore` undoes it.
 */
export function dismissSet(target: CurateTarget, set: SetRef): Promise<CurateOutcome> {
  return runCuration(target, "dismiss", async ({ ledger, library }) => {
    const s = resolveActiveSet(ledger, set);
    const loaded = loadedSet(library, s);
    const folder = path.basename(loaded.dir);
    const to = `${DISMISSED_FOLDER}/${folder}`;
    if (await exists(path.join(library.dir, to))) throw new CurateError(`${to} already exists; move it away first`);
    const from = s.folder;
    s.claimed = [...new Set([...(s.claimed ?? []), ...(await provenanceClaims(loaded.dir))])];
    s.state = "dismissed";
    s.folder = to;
    const line = `${setLabel(s.name, s.person)}: dismissed (folder moved to ${to}; never routed to, its faces never re-discovered)`;
    return {
      changes: [line],
      sets: [s.name],
      touched: [from, to],
      decision: { verb: "dismiss", sets: [s.name], faces: [], detail: line },
      apply: async () => {
        await mkdir(path.join(library.dir, DISMISSED_FOLDER), { recursive: true });
        await rename(loaded.dir, path.join(library.dir, to));
      },
    };
  });
}

/** `restore --set SET`: a dismissed set's folder comes back into the set list. */
export function restoreSet(target: CurateTarget, set: SetRef): Promise<CurateOutcome> {
  return runCuration(target, "restore", async ({ ledger, library }) => {
    const s = resolveSet(ledger, set);
    if (s.state !== "dismissed") throw new CurateError(`set "${set}" (${s.name}) is ${s.state}, not dismissed; nothing to restore`);
    if (s.folderDeleted) throw new CurateError(`${s.name}'s folder was deleted by hand; there is nothing to restore`);
    const from = s.folder;
    const folder = path.posix.basename(from);
    if (!(await exists(path.join(library.dir, from)))) throw new CurateError(`${from} does not exist; nothing to restore`);
    if (await exists(path.join(library.dir, folder))) throw new CurateError(`${folder} already exists in the library; move it away first`);
    s.state = "active";
    s.folder = folder;
    const line = `${setLabel(s.name, s.person)}: restored (folder back at ${folder})`;
    return {
      changes: [line],
      sets: [s.name],
      touched: [from, folder],
      decision: { verb: "restore", sets: [s.name], faces: [], detail: line },
      apply: () => rename(path.join(library.dir, from), path.join(library.dir, folder)),
    };
  });
}

/** `not-same --set SET --set SET`: merge refuses them and extend never joins their faces. */
export function markNotSame(target: CurateTarget, a: SetRef, b: SetRef): Promise<CurateOutcome> {
  return runCuration(target, "not-same", ({ ledger }) => {
    const x = resolveActiveSet(ledger, a);
    const y = resolveActiveSet(ledger, b);
    if (x === y) throw new CurateError(`--set ${a} and --set ${b} are the same set (${x.name})`);
    const pair = pairOf(x.name, y.name);
    const line = `${setLabel(x.name, x.person)} and ${setLabel(y.name, y.person)}: marked not the same person`;
    if (isNotSame(ledger, x.name, y.name)) {
      return { changes: [`${line} (already)`], sets: pair, touched: [], decision: { verb: "not-same", sets: [], faces: [], detail: "" }, noop: true };
    }
    ledger.notSame.push(pair);
    return { changes: [line], sets: pair, touched: [], decision: { verb: "not-same", sets: pair, faces: [], detail: line } };
  });
}
