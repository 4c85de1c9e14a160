/**
 * deno task report — the write-up of a cluster-osrc run: markdown with figures, from its run record.
 */
import { latestDiscoveryRecord, writeDiscoveryReport } from "../lib/mod";
import { HELP_PRINTED, parseCommandArgs, requireExistingPath, runMain, UsageError } from "../lib/cli/mod";

const USAGE = `usage: deno task report --run RUN_RECORD [--out DIR] [--labels CSV]
       deno task report --library DIR          (the library's latest cluster-osrc or refine run)

Write docs/analysis/<date>-<source-name>.md for a cluster-osrc or refine run: Source, Coverage by existing
identities, Pipeline, Result (Phase 1 clustering, Phase 2 export), Leftovers (clusters that made no set: why,
contact sheet, nearest set; single faces by nearest set), Re-running; figures as PNG with an interactive HTML
beside each (a routing histogram, a threshold sweep, a UMAP map) and a captioned contact sheet per new set.
A report of another run with the same source and date is never replaced: this one is then named
<date>-<source-name>-<run id>.md. Writing the same run's report again replaces it and removes the figures it no
longer makes. Needs Chromium (/usr/bin/chromium, or $FACESETS_CHROMIUM).

  --run FILE      a run record (<library>/_runs/<run id>.json)
  --library DIR   use the library's most recent cluster-osrc or refine run record
  --out DIR       output folder (default: docs/analysis)
  --labels CSV    labels.csv (file, identity) of the photos: adds pairwise / BCubed scores to the sweep
  --help          show this help`;

const OPTIONS = {
  run: { type: "string" },
  library: { type: "string" },
  out: { type: "string", default: "docs/analysis" },
  labels: { type: "string" },
} as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  let recordFile = values.run;
  if (!recordFile && values.library) {
    recordFile = await latestDiscoveryRecord(values.library);
    if (!recordFile) throw new UsageError(`--library ${values.library} has no cluster-osrc or refine run record (run cluster-osrc first)`);
  }
  if (!recordFile) throw new UsageError("--run RUN_RECORD or --library DIR is required");
  requireExistingPath("--run", recordFile);
  if (values.labels) requireExistingPath("--labels", values.labels);

  const written = await writeDiscoveryReport({
    recordFile,
    outDir: values.out,
    labelsFile: values.labels,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(`report: ${written.markdown}`);
  for (const f of Object.values(written.figures)) console.log(`figure: ${f}`);
  for (const f of written.contactSheets) console.log(`contact sheet: ${f}`);
  return 0;
}

await runMain(main, USAGE);
