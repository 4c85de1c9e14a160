/** Plain-text tables for terminals: columns padded to their widest cell, numbers right-aligned. */

export type Cell = string | number | null | undefined;

export function formatCell(value: Cell, digits = 3): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  return value;
}

/** Render `rows` under `header`; a column is right-aligned when every non-empty cell in it is a number. */
export function textTable(header: readonly string[], rows: readonly (readonly Cell[])[], digits = 3): string {
  const cells = rows.map((r) => header.map((_, c) => formatCell(r[c], digits)));
  const numeric = header.map((_, c) => rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number"));
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (values: readonly string[]) =>
    values.map((v, c) => (numeric[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}
