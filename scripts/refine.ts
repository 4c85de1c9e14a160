/**
 * deno task refine — cluster a folder's faces into fresh sets, without routing them to existing identities.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { FaceStore, Progress, readConfigFile, refine, type RefineResult, runMain, textTable, UsageError } from "../lib/mod";

const DEFAULT_STORE = "data/facesets.duckdb";

const USAGE = `usage: deno task refine --library DIR --source DIR [--store PATH] [--config FILE] [--dry-run] [--json]

Cluster the faces under --source among themselves (no routing to existing identities): quality gates, outliers,
minimum distinct photos and the export gate as in cluster-osrc; each trustworthy cluster becomes a new set with
origin auto-cluster, numbered after the library's highest set. Faces already in a set or claimed by an earlier
discovery are left alone, so people the library holds make no new set; existing sets are never changed.

  --library DIR   the face-set library (faceset_NNN folders + manifest.json); created when absent
  --source DIR    the photos (their faces must be in the store: deno task scan --source DIR)
  --store PATH    the face store (default: ${DEFAULT_STORE})
  --config FILE   JSON overrides of the run config (thresholds: see README)
  --dry-run       print the plan, write nothing
  --json          make the last stdout line the run's counts as one JSON object
  --help          show this help`;

function printPlan({ plan, record }: RefineResult): void {
  const c = plan.counts;
  const id = record.config.identity;
  console.log(`\nfaces under ${record.source}: ${c.faces}`);
  console.log(`  already in the library ${c.inLibrary}, claimed by earlier discoveries ${c.claimed}, clustered ${c.clustered}`);
  console.log(
    `clusters at ${id.clusterMaxCosDist} (${id.linkage}): ${c.clusters}; gated faces ${c.gated}, outliers ${c.outliers}, ` +
      `faces in clusters with < ${id.minUniqueSources} photos ${c.smallCluster}; kept clusters ${c.keptClusters}`,
  );
  const shown = plan.clusters.filter((k) => k.faces >= 2 || k.kept);
  if (shown.length > 0) {
    console.log(textTable(
      ["cluster", "faces", "gated", "outliers", "photos", "export-gated", "exported", "set / reason"],
      shown.map((k) => [k.index, k.faces, k.gated, k.outliers, k.uniqueSources, k.exportGated, k.exported, k.setName ?? k.dropReason ?? ""]),
    ));
  }
  console.log(`\nnew sets: ${c.newSets}${c.emptySets > 0 ? ` (${c.emptySets} kept clusters left empty by the export gate, skipped)` : ""}`);
  if (plan.newSets.length > 0) {
    console.log(textTable(
      ["set", "cluster", "exported faces", "claimed faces"],
      plan.newSets.map((s) => [s.name, s.cluster, s.faces.length, s.claimedFaceIds.length]),
    ));
  }
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
  if (!values.library) throw new UsageError("--library DIR is required");
  if (!values.source) throw new UsageError("--source DIR is required");
  const source = path.resolve(values.source);
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new UsageError(`--source ${values.source} is not a folder`);
  if (!existsSync(values.store)) throw new UsageError(`--store ${values.store} does not exist: run deno task scan first`);
  const config = await readConfigFile(values.config);
  const dryRun = values["dry-run"];

  const store = await FaceStore.open(path.resolve(values.store), { readOnly: true });
  try {
    const progress = new Progress({ label: "export" });
    const result = await refine({
      source,
      libraryDir: values.library,
      store,
      storePath: values.store,
      config,
      dryRun,
      command: ["refine", ...Deno.args].join(" "),
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
