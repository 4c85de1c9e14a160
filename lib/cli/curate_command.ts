/**
 * `deno task curate VERB --library DIR [--store PATH] [--dry-run] [--json]`: the verbs, their usage texts and
 * their output. What changed goes to stdout (one line each), hand edits found and warnings to stderr; with
 * --json the last stdout line is the outcome (status: exactly the LibraryStatus object). An unknown set or face,
 * or a refused request, is a usage error (exit 2) that names it; nothing was written.
 */
import { CurateError } from "../curation/errors";
import type { CurateOutcome, CurateTarget } from "../curation/run";
import { dismissSet, markNotSame, mergeSets, nameSet, restoreSet } from "../curation/set_verbs";
import { moveFaces, rejectFaces, splitFaces } from "../curation/face_verbs";
import { libraryStatusDetail } from "../curation/status";
import { undoLast } from "../curation/undo";
import { setLabel } from "../library/ledger";
import { DEFAULT_STORE_PATH, DRY_RUN_OPTION, HELP_PRINTED, JSON_OPTION, parseCommandArgs, requireExistingPath, requireOption, STORE_OPTION } from "./args";
import { UsageError } from "./errors";
import { printWarnings } from "./library_command";
import { textTable } from "./table";

const COMMON = `  --library DIR   the face-set library
  --store PATH    the face store (default: ${DEFAULT_STORE_PATH})
  --dry-run       say what would change, write nothing
  --json          make the last stdout line the outcome as one JSON object
  --help          show this help`;

const SET_HELP = "SET is a number (7), a folder name (faceset_007) or a person's name";
const FACE_HELP = "FACE is a face id as in the set manifests, or its crop file name";

interface Verb {
  usage: string;
  about: string;
  options: Record<string, { type: "string" | "boolean"; multiple?: boolean }>;
  run: (target: CurateTarget, values: Record<string, unknown>) => Promise<CurateOutcome>;
}

const strings = (values: Record<string, unknown>, key: string): string[] => (values[key] as string[] | undefined) ?? [];
const one = (values: Record<string, unknown>, key: string, name: string): string => requireOption(values as Record<string, string>, key, name);
const atLeast = (values: Record<string, unknown>, key: string, name: string, n = 1): string[] => {
  const list = strings(values, key);
  if (list.length < n) throw new UsageError(`--${key} ${name} is required${n > 1 ? ` ${n} times` : ""}`);
  return list;
};

const VERBS: Record<string, Verb> = {
  name: {
    usage: "name --set SET --person NAME",
    about: "Name the set's person: tables, reports, notebooks and status show faceset_007 (NAME). The folder keeps its name.",
    options: { set: { type: "string" }, person: { type: "string" } },
    run: (t, v) => nameSet(t, one(v, "set", "SET"), one(v, "person", "NAME")),
  },
  merge: {
    usage: "merge --set SET [--set SET ...] --into SET",
    about: "Move the sets' faces and crops into the --into set. The merged sets leave the set list (folder removed)\n" +
      "and stay in the ledger as merged into it; their numbers are never given out again. Refused for sets marked not-same.",
    options: { set: { type: "string", multiple: true }, into: { type: "string" } },
    run: (t, v) => mergeSets(t, atLeast(v, "set", "SET"), one(v, "into", "SET")),
  },
  move: {
    usage: "move --face FACE [--face FACE ...] --to SET",
    about: "Move faces (and their crops) to another set; each is rejected from the set it left.",
    options: { face: { type: "string", multiple: true }, to: { type: "string" } },
    run: (t, v) => moveFaces(t, atLeast(v, "face", "FACE"), one(v, "to", "SET")),
  },
  reject: {
    usage: "reject --set SET --face FACE [--face FACE ...]",
    about: "Take faces out of a set (crops removed); extend, cluster-osrc, refine and build-folders never put them back there.",
    options: { set: { type: "string" }, face: { type: "string", multiple: true } },
    run: (t, v) => rejectFaces(t, one(v, "set", "SET"), atLeast(v, "face", "FACE")),
  },
  split: {
    usage: "split --set SET --face FACE [--face FACE ...]",
    about: "Those faces become a new set, numbered after the highest number ever given in the library.",
    options: { set: { type: "string" }, face: { type: "string", multiple: true } },
    run: (t, v) => splitFaces(t, one(v, "set", "SET"), atLeast(v, "face", "FACE")),
  },
  dismiss: {
    usage: "dismiss --set SET",
    about: "Move the set's folder to <library>/_dismissed/ (out of the set list): its person is never routed to\n" +
      "and its faces are never discovered again. restore undoes it.",
    options: { set: { type: "string" } },
    run: (t, v) => dismissSet(t, one(v, "set", "SET")),
  },
  restore: {
    usage: "restore --set SET",
    about: "Bring a dismissed set back into the set list.",
    options: { set: { type: "string" } },
    run: (t, v) => restoreSet(t, one(v, "set", "SET")),
  },
  "not-same": {
    usage: "not-same --set SET --set SET",
    about: "Mark two sets as different people: merge refuses them and extend never joins their faces.",
    options: { set: { type: "string", multiple: true } },
    run: (t, v) => {
      const sets = atLeast(v, "set", "SET", 2);
      if (sets.length !== 2) throw new UsageError(`--set SET is given exactly twice, got ${sets.length}`);
      return markNotSame(t, sets[0]!, sets[1]!);
    },
  },
  undo: {
    usage: "undo",
    about: "Revert the last curate decision (folders and ledger as they were). Run it again to go further back.",
    options: {},
    run: (t) => undoLast(t),
  },
};

const STATUS_USAGE = "status";
const STATUS_ABOUT = "Every set the library ever had (active, merged, dismissed) with number, person and face count, and the\n" +
  'hand edits found. With --json the last line is {"sets": [...], "handEdits": [...]}.';

export const CURATE_USAGE = `usage: deno task curate VERB --library DIR [--store PATH] [--dry-run] [--json]

Curate the face-set library: every decision is kept in <library>/_ledger/ (plain files) and honoured by every
later run. ${SET_HELP}; ${FACE_HELP}.

${[...Object.values(VERBS).map((v) => v.usage), STATUS_USAGE].map((u) => `  ${u}`).join("\n")}

deno task curate VERB --help explains one verb.
${COMMON}`;

function verbUsage(name: string): string {
  const verb = VERBS[name];
  const [usage, about] = verb ? [verb.usage, verb.about] : [STATUS_USAGE, STATUS_ABOUT];
  return `usage: deno task curate ${usage} --library DIR [--store PATH] [--dry-run] [--json]\n\n${about}\n${SET_HELP}; ${FACE_HELP}.\n\n${COMMON}`;
}

/** The usage text for the command line (the verb's when one is named). */
export function curateUsage(args: readonly string[]): string {
  const verb = args[0];
  return verb !== undefined && (verb in VERBS || verb === "status") ? verbUsage(verb) : CURATE_USAGE;
}

const COMMON_OPTIONS = { library: { type: "string" }, ...STORE_OPTION, ...DRY_RUN_OPTION, ...JSON_OPTION } as const;

function printOutcome(outcome: CurateOutcome, json: boolean): void {
  for (const e of outcome.handEdits) process.stderr.write(`hand edit${outcome.dryRun ? " (not recorded: dry run)" : " recorded"}: ${e.detail}\n`);
  printWarnings(outcome.warnings);
  for (const line of outcome.changes) console.log(line);
  if (outcome.dryRun) console.log("dry run: nothing written");
  if (json) console.log(JSON.stringify({ verb: outcome.verb, changes: outcome.changes, sets: outcome.sets, handEdits: outcome.handEdits, dryRun: outcome.dryRun, seq: outcome.seq ?? null }));
}

async function status(libraryDir: string, json: boolean): Promise<void> {
  const detail = await libraryStatusDetail(libraryDir);
  printWarnings(detail.warnings);
  const { sets, handEdits } = detail.status;
  if (sets.length === 0) console.log(`${libraryDir}: no sets`);
  else {
    console.log(textTable(
      ["set", "state", "faces", "merged into"],
      sets.map((s) => [setLabel(s.set, s.person), s.state, s.faces, s.mergedInto ?? ""]),
    ));
  }
  if (handEdits.length > 0) {
    console.log("\nhand edits:");
    const pending = new Set(detail.pending);
    for (const e of detail.status.handEdits) {
      console.log(`  ${e.kind}${e.set ? ` ${e.set}` : ""}: ${e.detail}${pending.has(e as never) ? " (found now; the next command that writes records it)" : ""}`);
    }
  }
  const unnamed = sets.find((s) => s.state === "active" && s.person === null);
  if (unnamed) console.log(`\nname a set: deno task curate name --library ${libraryDir} --set ${Number(unnamed.set.slice(8))} --person "NAME"`);
  if (!detail.hasLedger && sets.length > 0) console.log("\n(no ledger yet: the next curate or library command that writes starts it)");
  if (json) console.log(JSON.stringify(detail.status));
}

/** Run `deno task curate ...`; returns the exit code (errors are thrown: UsageError -> 2, others -> 1). */
export async function curateMain(args: readonly string[]): Promise<number> {
  const [verbName, ...rest] = args;
  if (verbName === undefined || verbName === "--help" || verbName === "-h") {
    if (verbName === undefined) throw new UsageError("a VERB is required");
    console.log(CURATE_USAGE);
    return 0;
  }
  const verb = VERBS[verbName];
  if (!verb && verbName !== "status") {
    throw new UsageError(`unknown verb "${verbName}" (verbs: ${[...Object.keys(VERBS), "status"].join(", ")})`);
  }
  const parsed = parseCommandArgs([...rest], { ...COMMON_OPTIONS, ...(verb?.options ?? {}) }, verbUsage(verbName));
  if (parsed === HELP_PRINTED) return 0;
  const values = parsed.values as Record<string, unknown>;
  const libraryDir = one(values, "library", "DIR");
  requireExistingPath("--library", libraryDir);
  if (!verb) {
    await status(libraryDir, values.json === true);
    return 0;
  }
  try {
    const outcome = await verb.run({ libraryDir, storePath: values.store as string, dryRun: values["dry-run"] === true }, values);
    printOutcome(outcome, values.json === true);
  } catch (err) {
    if (err instanceof CurateError) throw new UsageError(err.message);
    throw err;
  }
  return 0;
}
