/**
 * deno task extend — add a folder's faces to the existing face sets they belong to.
 */
import { extend, shellCommand } from "../lib/mod";
import {
  DEFAULT_STORE_PATH,
  HELP_PRINTED,
  LIBRARY_COMMAND_OPTIONS,
  parseCommandArgs,
  printExtendPlan,
  requireExistingPath,
  requireFolder,
  requireOption,
  runLibraryWorkflow,
  runMain,
  SCAN_FIRST_OPTIONS,
  scanFirstUsage,
} from "../lib/cli/mod";

const USAGE = `usage: deno task extend --source DIR --library DIR [--scan [--models DIR]] [--store PATH] [--config FILE] [--set KEY=VALUE]... [--dry-run] [--json]

Route the faces under DIR to the existing face sets: a face within routeMaxCosDist of a set's centroid that
passes the quality gates and the export gate is appended to that set (new crop files, set manifest and top-level
count replaced atomically). Nothing is renumbered or rewritten; faces already in any set, or claimed by an earlier
discovery, are skipped, and a set takes at most one face per photo. The centroid is that of the faces the set was
made with (faces extend added do not move it), so re-running adds nothing. Scan the folder first, or add --scan.

  --source DIR    the photos (their faces must be in the store: deno task scan --source DIR)
  --library DIR   the face-set library (faceset_NNN folders + manifest.json)
  --store PATH    the face store (default: ${DEFAULT_STORE_PATH})
${scanFirstUsage("--source")}
  --config FILE   JSON overrides of the run config (thresholds: see README)
  --set KEY=VALUE one config setting, e.g. --set identity.minUniqueSources=4
                  (repeatable, applied after --config, validated like it)
  --dry-run       print what would be added, write nothing
  --json          make the last stdout line the run's counts as one JSON object
  --help          show this help`;

const OPTIONS = { source: { type: "string" }, library: { type: "string" }, ...LIBRARY_COMMAND_OPTIONS, ...SCAN_FIRST_OPTIONS } as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const sourceArg = requireOption(values, "source", "DIR");
  const libraryDir = requireOption(values, "library", "DIR");
  const source = requireFolder("--source", sourceArg);
  requireExistingPath("--library", libraryDir, "nothing to extend");
  await runLibraryWorkflow(values, {
    scanSource: source,
    libraryDir,
    workflow: (io) => extend({ ...io, source, libraryDir, command: shellCommand(["extend", ...Deno.args]) }),
    printPlan: printExtendPlan,
    outcome: (result) => ({ runId: result.record.runId, ...result.plan.counts }),
  });
  return 0;
}

await runMain(main, USAGE);
