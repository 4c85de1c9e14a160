/**
 * Child process of the writeFileAtomic kill test: `deno run -A tests/support/atomic_writer.ts FILE COUNT SIZE`
 * rewrites FILE with versions 1..COUNT (tests/support/atomic_versions.ts) through writeFileAtomic, printing
 * `wrote k` on stderr after each.
 */
import process from "node:process";
import { writeFileAtomic } from "../../lib/util/atomic";
import { versionBytes } from "./atomic_versions";

const [file, count, size] = process.argv.slice(2);
for (let k = 1; k <= Number(count); k++) {
  await writeFileAtomic(file!, versionBytes(k, Number(size)));
  console.error(`wrote ${k}`);
}
