/** Notebook tables (danfojs, as the notebooks print them) show every row and every character. */
import { createRequire } from "node:module";
import { describe, expect, test } from "vitest";
import { fullTableConfig } from "../lib/mod";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const dfd = require("danfojs") as any;

const rows = Array.from({ length: 14 }, (_, i) => ({
  cluster: i,
  why: `${i} distinct photos < identity.minUniqueSources 6 (after ${i} gated)`,
  nearest: `faceset_${String(i).padStart(3, "0")}`,
}));

describe("fullTableConfig", () => {
  test("danfojs with it prints all 14 rows and every character of each cell", () => {
    const text = new dfd.DataFrame(rows, { config: fullTableConfig(rows) }).toString() as string;
    for (const r of rows) {
      expect(text).toContain(r.why);
      expect(text).toContain(r.nearest);
    }
  });

  test("danfojs without it cuts the text and the rows (so the check above can fail)", () => {
    const text = new dfd.DataFrame(rows).toString() as string;
    expect(text).not.toContain(rows[0]!.why);
    expect(text).not.toContain(rows[13]!.nearest);
  });
});
