/**
 * deno task cluster-osrc — discover new identities in a mixed bucket and add them as new face sets.
 */
import { clusterOsrc, shellCommand } from "../lib/mod";
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

const USAGE = `usage: deno task cluster-osrc --source DIR --library DIR [--extend] [--scan [--models DIR]] [--store PATH] [--config FILE] [--set KEY=VALUE]... [--dry-run] [--json]

Discover the people of a mixed bucket: faces near an existing identity are routed to it (and left out), the rest
are clustered, gated and outlier-filtered, and each trustworthy cluster becomes a new face set numbered after the
library's highest set. Existing sets and manifest entries are never changed. Scan the bucket first, or add --scan.
With --extend, the faces routed to people the library holds are appended to their sets in the same run, as
deno task extend would (same gates; never a face the owner rejected from that set, never a second copy of a photo).

  --source DIR    the bucket (its faces must be in the store: deno task scan --source DIR)
  --library DIR   the face-set library (faceset_NNN folders + manifest.json); created when absent
  --extend        also append the bucket's faces of known people to their sets
  --store PATH    the face store (default: ${DEFAULT_STORE_PATH})
${scanFirstUsage("--source")}
  --config FILE   JSON overrides of the run config (thresholds: see README)
  --set KEY=VALUE one config setting, e.g. --set identity.minUniqueSources=4
                  (repeatable, applied after --config, validated like it)
  --dry-run       print the plan, write nothing
  --json          make the last stdout line the run's counts as one JSON object
  --help          show this help`;

const OPTIONS = { source: { type: "string" }, library: { type: "string" }, extend: { type: "boolean", default: false }, ...LIBRARY_COMMAND_OPTIONS, ...SCAN_FIRST_OPTIONS } as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const sourceArg = requireOption(values, "source", "DIR");
  const libraryDir = requireOption(values, "library", "DIR");
  const source = requireFolder("--source", sourceArg);
  await runLibraryWorkflow(values, {
    scanSource: source,
    libraryDir,
    workflow: (io) => clusterOsrc({ ...io, source, libraryDir, extend: values.extend, command: shellCommand(["cluster-osrc", ...Deno.args]) }),
    printPlan: printDiscoveryPlan,
    outcome: (result) => ({ runId: result.record.runId, ...result.plan.counts, ...(result.extension ? { extended: result.extension.counts.added } : {}) }),
  });
  return 0;
}

await runMain(main, USAGE);
