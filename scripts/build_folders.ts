/**
 * deno task build-folders — turn hand-sorted person folders into face sets.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  buildFolders,
  type BuildFoldersResult,
  FaceStore,
  Progress,
  readConfigFile,
  runMain,
  textTable,
  UsageError,
} from "../lib/mod";

const DEFAULT_STORE = "data/facesets.duckdb";

const USAGE = `usage: deno task build-folders --folders DIR --library DIR [--store PATH] [--config FILE] [--dry-run] [--json]

Each immediate subfolder of DIR is one person, sorted by hand (the folder name is the person). Each becomes a new
face set (origin hand-sorted, numbered after the library's highest set, in folder-name order) with the person's
face of every photo: in a photo with several faces, the one nearest the folder's centroid (seeded from its
single-face photos). All of the owner's faces are kept; those below the quality or export gates are reported.
Folders whose person already has a set are skipped, so a re-run writes no set. Scan DIR first.

  --folders DIR   the folder of person folders (scanned: deno task scan --source DIR)
  --library DIR   the face-set library (faceset_NNN folders + manifest.json); created when absent
  --store PATH    the face store (default: ${DEFAULT_STORE})
  --config FILE   JSON overrides of the run config (thresholds: see README)
  --dry-run       print the plan, write nothing
  --json          make the last stdout line the outcome per person as one JSON object
  --help          show this help`;

function printPlan({ folders, record }: BuildFoldersResult): void {
  console.log(`\nperson folders under ${record.folders}: ${folders.length}`);
  console.log(textTable(
    ["person", "set", "status", "photos", "group photos", "faces", "picked", "low quality", "far"],
    folders.map((o) => [
      o.person,
      o.set ?? "",
      o.status,
      o.plan?.photos,
      o.plan?.groupPhotos,
      o.plan?.counts.faces,
      o.plan?.counts.picked,
      o.plan?.counts.lowQuality,
      o.plan?.counts.far,
    ]),
  ));
  const flagged = folders.flatMap((o) =>
    o.status === "new"
      ? (o.plan?.faces ?? []).filter((d) => d.lowQuality || d.far).map((d) => [
        o.person,
        path.relative(record.folders, d.path),
        d.centroidCosDist,
        [...(d.far ? ["far from the folder's centroid"] : []), ...(d.lowQuality ?? [])].join("; "),
      ])
      : []
  );
  if (flagged.length > 0) {
    console.log("\nkept, but below a gate or far from the person's other faces (check these photos)");
    console.log(textTable(["person", "photo", "centroid dist", "why"], flagged));
  }
  const made = folders.filter((o) => o.status === "new").length;
  console.log(`\nnew sets: ${made}${made === 0 ? " (nothing to do)" : ""}`);
}

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: Deno.args,
      options: {
        folders: { type: "string" },
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
  if (!values.folders) throw new UsageError("--folders DIR is required");
  if (!values.library) throw new UsageError("--library DIR is required");
  const folders = path.resolve(values.folders);
  if (!existsSync(folders) || !statSync(folders).isDirectory()) throw new UsageError(`--folders ${values.folders} is not a folder`);
  if (!existsSync(values.store)) {
    throw new UsageError(`--store ${values.store} does not exist: run deno task scan --source ${values.folders} first`);
  }
  const config = await readConfigFile(values.config);
  const dryRun = values["dry-run"];

  const store = await FaceStore.open(path.resolve(values.store), { readOnly: true });
  try {
    const progress = new Progress({ label: "export" });
    const result = await buildFolders({
      folders,
      libraryDir: values.library,
      store,
      storePath: values.store,
      config,
      dryRun,
      command: ["build-folders", ...Deno.args].join(" "),
      onProgress: (done, total) => progress.update(done, total),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    progress.finish();
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    printPlan(result);
    if (dryRun) console.log("\ndry run: nothing written");
    else console.log(`\nrun record: ${result.recordFile}`);
    if (values.json) {
      console.log(JSON.stringify({
        runId: result.record.runId,
        people: Object.fromEntries(result.folders.map((o) => [o.person, { status: o.status, set: o.set ?? null, picked: o.plan?.counts.picked ?? 0 }])),
      }));
    }
  } finally {
    await store.close();
  }
  return 0;
}

await runMain(main, USAGE);
