/**
 * deno task curate VERB --library DIR ... — name, merge, move, reject, split, dismiss, restore, not-same, undo,
 * status (see lib/cli/curate_command.ts and lib/curation/).
 */
import { curateMain, curateUsage, runMain } from "../lib/cli/mod";

await runMain(() => curateMain(Deno.args), curateUsage(Deno.args));
