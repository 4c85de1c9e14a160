/**
 * deno task refine — cluster a folder's faces into fresh sets, without routing them to existing identities.
 */
import { refine, shellCommand } from "../lib/mod";
import {
  DEFAULT_STORE_PATH,
  HELP_PRINTED,
  LIBRARY_COMMAND_OPTIONS,
  parseCommandArgs,
  printDiscoveryPlan,
  requireFolder,
  requireOption,
  runLibraryWorkflow,
  runMain,
  SCAN_FIRST_OPTIONS,
  scanFirstUsage,
} from "../lib/cli/mod";

const USAGE = `usage: deno task refine --library DIR --source DIR [--scan [--models DIR]] [--store PATH] [--config FILE] [--set KEY=VALUE]... [--dry-run] [--json]

Cluster the faces under --source among themselves (no routing to existing identities): quality gates, outliers,
minimum distinct photos and the export gate as in cluster-osrc; each trustworthy cluster becomes a new set with
origin auto-cluster, numbered after the library's highest set. Faces already in a set or claimed by an earlier
discovery are left alone (so a re-run adds nothing), but new photos of a person the library already holds can
form a second set of that person: use cluster-osrc or extend to route them instead. Existing sets never change.

  --library DIR   the face-set library (faceset_NNN folders + manifest.json); created when absent
  --source DIR    the photos (their faces must be in the store: deno task scan --source DIR)
  --store PATH    the face store (default: ${DEFAULT_STORE_PATH})
${scanFirstUsage("--source")}
  --config FILE   JSON overrides of the run config (thresholds: see README)
  --set KEY=VALUE one config setting, e.g. --set identity.minUniqueSources=4
                  (repeatable, applied after --config, validated like it)
  --dry-run       print the plan, write nothing
  --json          make the last stdout line the run's counts as one JSON object
  --help          show this help`;

const OPTIONS = { source: { type: "string" }, library: { type: "string" }, ...LIBRARY_COMMAND_OPTIONS, ...SCAN_FIRST_OPTIONS } as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const libraryDir = requireOption(values, "library", "DIR");
  const source = requireFolder("--source", requireOption(values, "source", "DIR"));
  await runLibraryWorkflow(values, {
    scanSource: source,
    libraryDir,
    workflow: (io) => refine({ ...io, source, libraryDir, command: shellCommand(["refine", ...Deno.args]) }),
    printPlan: printDiscoveryPlan,
    outcome: (result) => ({ runId: result.record.runId, ...result.plan.counts }),
  });
  return 0;
}

await runMain(main, USAGE);
