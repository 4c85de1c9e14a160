/**
 * deno task extend — add a folder's faces to the existing face sets they belong to.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { extend, type ExtendResult, FaceStore, Progress, readConfigFile, runMain, textTable, UsageError } from "../lib/mod";

const DEFAULT_STORE = "data/facesets.duckdb";

const USAGE = `usage: deno task extend --source DIR --library DIR [--store PATH] [--config FILE] [--dry-run] [--json]

Route the faces under DIR to the existing face sets: a face within routeMaxCosDist of a set's centroid that
passes the quality gates and the export gate is appended to that set (new crop files, set manifest and top-level
count replaced atomically). Nothing is renumbered or rewritten; faces already in any set, or claimed by an earlier
discovery, are skipped, and a set takes at most one face per photo. The centroid is that of the faces the set was
made with (faces extend added do not move it), so re-running adds nothing. Scan the folder first.

  --source DIR    the photos (their faces must be in the store: deno task scan --source DIR)
  --library DIR   the face-set library (faceset_NNN folders + manifest.json)
  --store PATH    the face store (default: ${DEFAULT_STORE})
  --config FILE   JSON overrides of the run config (thresholds: see README)
  --dry-run       print what would be added, write nothing
  --json          make the last stdout line the run's counts as one JSON object
  --help          show this help`;

function printPlan({ plan, record }: ExtendResult): void {
  const c = plan.counts;
  console.log(`\nfaces under ${record.source}: ${c.faces}`);
  console.log(
    `  already in a set ${c.inLibrary}, claimed by discoveries ${c.claimed}, ` +
      `not within ${record.config.identity.routeMaxCosDist} of any set ${c.notRouted}, routed ${c.routed}`,
  );
  if (plan.identitiesWithoutCentroid.length > 0) {
    console.log(`sets without a single scanned face (nothing can be routed to them): ${plan.identitiesWithoutCentroid.join(", ")}`);
  }
  const rows = plan.sets.filter((s) => s.routed > 0);
  if (rows.length > 0) {
    console.log(textTable(
      ["set", "routed", "gated", "export-gated", "same photo", "added"],
      rows.map((s) => [s.identity, s.routed, s.gated, s.exportGated, s.samePhoto, s.added]),
    ));
  }
  console.log(`\nfaces ${record.dryRun ? "to add" : "added"}: ${c.added} to ${plan.additions.length} sets`);
}

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: Deno.args,
      options: {
        source: { type: "string" },
        library: { type: "string" },
        store: { type: "string", default: DEFAULT_STORE },
        config: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.source) throw new UsageError("--source DIR is required");
  if (!values.library) throw new UsageError("--library DIR is required");
  const source = path.resolve(values.source);
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new UsageError(`--source ${values.source} is not a folder`);
  if (!existsSync(values.library)) throw new UsageError(`--library ${values.library} does not exist: nothing to extend`);
  if (!existsSync(values.store)) throw new UsageError(`--store ${values.store} does not exist: run deno task scan first`);
  const config = await readConfigFile(values.config);
  const dryRun = values["dry-run"];

  const store = await FaceStore.open(path.resolve(values.store), { readOnly: true });
  try {
    const progress = new Progress({ label: "export" });
    const result = await extend({
      source,
      libraryDir: values.library,
      store,
      storePath: values.store,
      config,
      dryRun,
      command: ["extend", ...Deno.args].join(" "),
      onProgress: (done, total) => progress.update(done, total),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    progress.finish();
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    printPlan(result);
    if (dryRun) console.log("\ndry run: nothing written");
    else console.log(`\nrun record: ${result.recordFile}`);
    if (values.json) console.log(JSON.stringify({ runId: result.record.runId, ...result.plan.counts }));
  } finally {
    await store.close();
  }
  return 0;
}

await runMain(main, USAGE);
