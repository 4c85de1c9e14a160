import { describe, expect, test } from "vitest";
import { formatMarkdownCell, markdownTable } from "../lib/report/markdown";

describe("markdownTable", () => {
  test("aligned columns, numbers right-aligned with the precision, integers plain", () => {
    const rows = [
      { t: 0.45, name: "ann", n: 12, f: 0.91234 },
      { t: 0.5, name: "bob | co", n: 3, f: null },
      { t: 1, name: "cy", n: 40, f: 1 },
    ];
    const md = markdownTable(rows, [
      { header: "threshold", value: "t", precision: 2 },
      { header: "who", value: "name" },
      { header: "faces", value: "n" },
      { header: "F", value: (r) => r.f },
    ]);
    expect(md).toBe(
      [
        "| threshold | who       | faces |     F |",
        "| --------: | --------- | ----: | ----: |",
        "|      0.45 | ann       |    12 | 0.912 |",
        "|      0.50 | bob \\| co |     3 |     – |",
        "|      1.00 | cy        |    40 | 1.000 |",
        "",
      ].join("\n"),
    );
  });

  test("cells: NaN, infinities, newlines", () => {
    expect(formatMarkdownCell(Number.NaN)).toBe("–");
    expect(formatMarkdownCell(Infinity)).toBe("∞");
    expect(formatMarkdownCell("a\nb")).toBe("a b");
    expect(formatMarkdownCell(1 / 3, 1)).toBe("0.3");
    expect(() => markdownTable([], [])).toThrow(/no columns/);
    expect(markdownTable([], [{ header: "x", value: () => 1, align: "center" }])).toBe("|  x  |\n| :-: |\n");
  });
});
