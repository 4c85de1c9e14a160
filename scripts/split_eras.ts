/**
 * deno task split-eras — split one face set into eras (by capture year, by look, or both) as new sets.
 */
import path from "node:path";
import {
  checkEraSplitMode,
  ERA_SPLIT_MODES,
  facesetNumber,
  readConfigFile,
  splitErasWorkflow,
  type SplitErasResult,
  withFaceStore,
  shellCommand,
} from "../lib/mod";
import {
  DEFAULT_STORE_PATH,
  HELP_PRINTED,
  LIBRARY_COMMAND_OPTIONS,
  parseCommandArgs,
  printWarnings,
  requireExistingPath,
  requireOption,
  runMain,
  textTable,
  UsageError,
} from "../lib/cli/mod";

const USAGE = `usage: deno task split-eras --library DIR --faceset NNN [--store PATH] [--by ${ERA_SPLIT_MODES.join("|")}] [--config FILE] [--set KEY=VALUE]... [--dry-run] [--json]

Split one identity's face set into eras. Eras with at least eras.minEraFaces faces become new sets (origin
era-split, numbered after the library's highest set, with parent, era_from, era_to and era_label in their
manifest entry); smaller eras go under <library>/_thin/ and into thin_eras. The parent set is never changed.
Crops are copied from the parent. A second identical run writes nothing.

  --library DIR   the face-set library
  --faceset NNN   the set to split: 7, 007 or faceset_007
  --store PATH    the face store holding the set's faces (default: ${DEFAULT_STORE_PATH})
  --by MODE       time: split where consecutive capture years differ by more than eras.eraMinYearGap;
                  embedding: sub-cluster at eras.eraMaxCosDist (average linkage);
                  both: embedding clusters ordered and labelled by median capture year
                  (default: both when any face has a capture time, else embedding)
  --config FILE   JSON overrides of the run config (section "eras": see README)
  --set KEY=VALUE one config setting, e.g. --set identity.minUniqueSources=4
                  (repeatable, applied after --config, validated like it)
  --dry-run       print the eras found, write nothing
  --json          make the last stdout line the run's outcome as one JSON object
  --help          show this help`;

function parseFaceset(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : facesetNumber(value);
  if (n === undefined || !Number.isSafeInteger(n)) {
    throw new UsageError(`--faceset ${JSON.stringify(value)}: expected a set number (7, 007) or name (faceset_007)`);
  }
  return n;
}

function printEras(result: SplitErasResult): void {
  const { record } = result;
  const e = record.config.eras;
  console.log(
    `${record.parent}: ${record.faces} faces, ${record.matched} in the store, ${record.dated} with a capture time; ` +
      `split by ${record.mode} (eraMaxCosDist ${e.eraMaxCosDist}, eraMinYearGap ${e.eraMinYearGap}, minEraFaces ${e.minEraFaces})`,
  );
  if (record.note) console.log(`note: ${record.note}`);
  console.log(textTable(
    ["era", "label", "faces", "dated", "from", "to", "mean dist to parent", "goes to"],
    record.eras.map((o) => [o.index + 1, o.label, o.faces, o.dated, o.from, o.to, o.meanParentCosDist, o.thin ? `${o.target} (thin)` : o.target]),
  ));
}

const OPTIONS = { library: { type: "string" }, faceset: { type: "string" }, by: { type: "string" }, ...LIBRARY_COMMAND_OPTIONS } as const;

async function main(): Promise<number> {
  const parsed = parseCommandArgs(Deno.args, OPTIONS, USAGE);
  if (parsed === HELP_PRINTED) return 0;
  const { values } = parsed;
  const libraryDir = requireOption(values, "library", "DIR");
  const faceset = parseFaceset(requireOption(values, "faceset", "NNN"));
  let mode;
  try {
    mode = values.by === undefined ? undefined : checkEraSplitMode(values.by, "--by");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  requireExistingPath("--library", libraryDir);
  requireExistingPath("--store", values.store, "run deno task scan first");
  const config = await readConfigFile(values.config, values.set);
  const dryRun = values["dry-run"];

  await withFaceStore(path.resolve(values.store), { readOnly: true }, async (store) => {
    const result = await splitErasWorkflow({
      libraryDir,
      faceset,
      store,
      storePath: values.store,
      config,
      mode,
      dryRun,
      command: shellCommand(["split-eras", ...Deno.args]),
    });
    printWarnings(result.warnings);
    printEras(result);
    console.log(`\n${result.message}`);
    if (result.recordFile) console.log(`run record: ${result.recordFile}`);
    if (values.json) {
      const { status, mode: ran, note, eras } = result.record;
      console.log(JSON.stringify({ status, mode: ran, note, eras: eras.map(({ faceKeys: _k, ...o }) => o) }));
    }
  });
  return 0;
}

await runMain(main, USAGE);
