/**
 * Decisions the page sends (`POST /api/decide`, a JSON body) and how each is carried out: by the curation API of
 * lib/curation, the same functions `deno task curate` calls, so the page's decisions land in the ledger like any
 * curate command. Nothing here changes the library itself.
 */
import type { SetStatus } from "./view";

/** A decision from the page. Sets are named as the curation API takes them (`faceset_007`). */
export type DecisionRequest =
  | { verb: "name"; set: string; person: string }
  | { verb: "merge"; sets: string[]; into: string }
  | { verb: "move"; faces: string[]; to: string }
  | { verb: "reject"; set: string; faces: string[] }
  | { verb: "split"; set: string; faces: string[] }
  | { verb: "dismiss"; set: string }
  | { verb: "restore"; set: string }
  | { verb: "create"; faces: string[] }
  | { verb: "undo" };

export type DecisionVerb = DecisionRequest["verb"];
export const DECISION_VERBS: readonly DecisionVerb[] = ["name", "merge", "move", "reject", "split", "dismiss", "restore", "create", "undo"];

/** A malformed request body: answered with 400 and this message. */
export class DecisionRequestError extends Error {
  override name = "DecisionRequestError";
}

export interface CurateTargetLike {
  libraryDir: string;
  storePath?: string;
  dryRun?: boolean;
}

export interface CurateOutcomeLike {
  verb: string;
  changes: string[];
  sets: string[];
}

/** The part of lib/curation's API the page uses (see docs in lib/curation/mod.ts). */
export interface CurationApi {
  nameSet(t: CurateTargetLike, set: string, person: string): Promise<CurateOutcomeLike>;
  mergeSets(t: CurateTargetLike, sets: string[], into: string): Promise<CurateOutcomeLike>;
  moveFaces(t: CurateTargetLike, faces: string[], to: string): Promise<CurateOutcomeLike>;
  rejectFaces(t: CurateTargetLike, set: string, faces: string[]): Promise<CurateOutcomeLike>;
  splitFaces(t: CurateTargetLike, set: string, faces: string[]): Promise<CurateOutcomeLike>;
  dismissSet(t: CurateTargetLike, set: string): Promise<CurateOutcomeLike>;
  restoreSet(t: CurateTargetLike, set: string): Promise<CurateOutcomeLike>;
  createSetFromFaces(t: CurateTargetLike, faceIds: string[]): Promise<CurateOutcomeLike>;
  undoLast(t: CurateTargetLike): Promise<CurateOutcomeLike>;
  libraryStatus(libraryDir: string): Promise<{ sets: SetStatus[] }>;
}

/** The curation function each verb needs. */
const FUNCTION_OF: Readonly<Record<DecisionVerb, keyof CurationApi>> = {
  name: "nameSet",
  merge: "mergeSets",
  move: "moveFaces",
  reject: "rejectFaces",
  split: "splitFaces",
  dismiss: "dismissSet",
  restore: "restoreSet",
  create: "createSetFromFaces",
  undo: "undoLast",
};

/** Verbs whose curation function exists in `api` (the page offers only these). */
export function availableVerbs(api: Partial<CurationApi>): DecisionVerb[] {
  return DECISION_VERBS.filter((v) => typeof api[FUNCTION_OF[v]] === "function");
}

const isObject = (v: unknown): v is { [key: string]: unknown } => typeof v === "object" && v !== null && !Array.isArray(v);

function text(body: { [key: string]: unknown }, key: string): string {
  const v = body[key];
  if (typeof v !== "string" || v.trim() === "") throw new DecisionRequestError(`"${key}" must be a non-empty string`);
  return v.trim();
}

function list(body: { [key: string]: unknown }, key: string, min = 1): string[] {
  const v = body[key];
  if (!Array.isArray(v) || v.length < min || v.some((x) => typeof x !== "string" || x === "")) {
    throw new DecisionRequestError(`"${key}" must be a list of at least ${min} non-empty strings`);
  }
  return v as string[];
}

/** Validate a request body into a DecisionRequest (DecisionRequestError names the field). */
export function parseDecision(body: unknown): DecisionRequest {
  if (!isObject(body)) throw new DecisionRequestError("the body must be a JSON object");
  const verb = body.verb;
  switch (verb) {
    case "name":
      return { verb, set: text(body, "set"), person: text(body, "person") };
    case "merge":
      return { verb, sets: list(body, "sets"), into: text(body, "into") };
    case "move":
      return { verb, faces: list(body, "faces"), to: text(body, "to") };
    case "reject":
    case "split":
      return { verb, set: text(body, "set"), faces: list(body, "faces") };
    case "dismiss":
    case "restore":
      return { verb, set: text(body, "set") };
    case "create":
      return { verb, faces: list(body, "faces") };
    case "undo":
      return { verb };
    default:
      throw new DecisionRequestError(`unknown verb ${JSON.stringify(verb)} (one of ${DECISION_VERBS.join(", ")})`);
  }
}

/** Carry out one decision through the curation API; a verb `api` lacks throws DecisionRequestError. */
export async function decide(api: Partial<CurationApi>, t: CurateTargetLike, d: DecisionRequest): Promise<CurateOutcomeLike> {
  const fn = api[FUNCTION_OF[d.verb]];
  if (typeof fn !== "function") throw new DecisionRequestError(`"${d.verb}" is not available: lib/curation has no ${FUNCTION_OF[d.verb]}`);
  const a = api as CurationApi;
  switch (d.verb) {
    case "name":
      return await a.nameSet(t, d.set, d.person);
    case "merge":
      return await a.mergeSets(t, d.sets, d.into);
    case "move":
      return await a.moveFaces(t, d.faces, d.to);
    case "reject":
      return await a.rejectFaces(t, d.set, d.faces);
    case "split":
      return await a.splitFaces(t, d.set, d.faces);
    case "dismiss":
      return await a.dismissSet(t, d.set);
    case "restore":
      return await a.restoreSet(t, d.set);
    case "create":
      return await a.createSetFromFaces(t, d.faces);
    case "undo":
      return await a.undoLast(t);
  }
}
