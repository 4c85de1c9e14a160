/**
 * deno task build-folders — turn hand-sorted person folders into face sets.
 */
import path from "node:path";
import { buildFolders, buildFoldersWhy, type BuildFoldersResult, shellCommand } from "../lib/mod";
import {
  DEFAULT_STORE_PATH,
  HELP_PRINTED,
  LIBRARY_COMMAND_OPTIONS,
  parseCommandArgs,
  requireFolder,
  requireOption,
  runLibraryWorkflow,
  runMain,
  SCAN_FIRST_OPTIONS,
  scanFirstUsage,
  textTable,
} from "../lib/cli/mod";

const USAGE = `usage: deno task build-folders --folders DIR --library DIR [--scan [--models DIR]] [--store PATH] [--config FILE] [--set KEY=VALUE]... [--dry-run] [--json]

Each immediate subfolder of DIR is one person, sorted by hand (the folder name is the person). Each becomes a new
face set (origin hand-sorted, numbered after the library's highest set, in folder-name order) with the person's
face of every photo: in a photo with several faces, the one nearest the folder's centroid (seeded from its
single-face photos). All of the owner's faces are kept; those below the quality or export gates are reported.
Folders whose person already has a set, or most of whose faces one set already holds, are skipped,
so a re-run writes no set. Scan DIR first, or add --scan.

  --folders DIR   the folder of person folders (scanned: deno task scan --source DIR)
  --library DIR   the face-set library (faceset_NNN folders + manifest.json); created when absent
  --store PATH    the face store (default: ${DEFAULT_STORE_PATH})
${scanFirstUsage("--folders")}
  --config FILE   JSON overrides of the run config (thresholds: see README)
  --set KEY=VALUE one config setting, e.g. --set identity.minUniqueSources=4
                  (repeatable, applied after --config, validated like it)
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
  const why = buildFoldersWhy(folders, record.folders);
  console.log(`\nnew sets: ${made}${why ? `: ${why}` : ""}`);
}

const OPTIONS = { folders: { type: "string" }, library: { type: "string" }, ...LIBRARY_COMMAND_OPTIONS, ...SCAN_FIRST_OPTIONS } as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const foldersArg = requireOption(values, "folders", "DIR");
  const libraryDir = requireOption(values, "library", "DIR");
  const folders = requireFolder("--folders", foldersArg);
  await runLibraryWorkflow(values, {
    scanSource: folders,
    libraryDir,
    workflow: (io) => buildFolders({ ...io, folders, libraryDir, command: shellCommand(["build-folders", ...Deno.args]) }),
    printPlan,
    outcome: (result) => ({
      runId: result.record.runId,
      people: Object.fromEntries(result.folders.map((o) => [o.person, { status: o.status, set: o.set ?? null, picked: o.plan?.counts.picked ?? 0 }])),
    }),
    scanHint: `run deno task scan --source ${foldersArg} first`,
  });
  return 0;
}

await runMain(main, USAGE);
