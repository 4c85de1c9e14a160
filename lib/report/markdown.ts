/**
 * Markdown tables for run reports: columns padded so the raw .md reads as a table too (reports are diffed and read in
 * terminals, not only rendered), numbers right-aligned with a fixed precision so columns line up by decimal point.
 */

export type MarkdownCell = string | number | boolean | null | undefined;

export interface Column<Row> {
  header: string;
  /** Field name of the row, or a function computing the cell. */
  value: keyof Row | ((row: Row) => MarkdownCell);
  /** Digits after the decimal point for numbers; default: the table's `precision`. Columns of whole numbers print plain. */
  precision?: number;
  /** Default: right for columns whose cells are all numbers, else left. */
  align?: "left" | "right" | "center";
}

export interface TableOptions {
  /** Digits after the decimal point for non-integer numbers. Default 3. */
  precision?: number;
  /** Text for null / undefined / NaN cells. Default "–". */
  empty?: string;
}

/** Format one cell. Integers stay integers; other numbers get `precision` decimals. */
export function formatMarkdownCell(value: MarkdownCell, precision = 3, empty = "–"): string {
  if (value === null || value === undefined) return empty;
  if (typeof value === "number") {
    if (Number.isNaN(value)) return empty;
    if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
    return Number.isInteger(value) ? String(value) : value.toFixed(precision);
  }
  // A pipe would end the cell; a newline would end the row.
  return String(value).replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A markdown table of `rows` with the given columns (GitHub-flavoured; padded for plain-text reading). */
export function markdownTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], options: TableOptions = {}): string {
  if (columns.length === 0) throw new RangeError("markdownTable: no columns given");
  const precision = options.precision ?? 3;
  const empty = options.empty ?? "–";
  const raw = rows.map((row) =>
    columns.map((c) => (typeof c.value === "function" ? c.value(row) : (row[c.value] as MarkdownCell)))
  );
  // A column with any fractional number prints all its numbers with the precision, so 1 reads "1.000" beside
  // "0.977"; columns of whole numbers (counts) print them plain.
  const fractional = columns.map((_, k) => raw.some((r) => typeof r[k] === "number" && Number.isFinite(r[k]) && !Number.isInteger(r[k])));
  const cells = raw.map((r) =>
    r.map((v, k) => {
      const p = columns[k]!.precision ?? precision;
      return typeof v === "number" && fractional[k] && Number.isFinite(v) ? v.toFixed(p) : formatMarkdownCell(v, p, empty);
    })
  );
  const aligns = columns.map((c, k) => {
    if (c.align) return c.align;
    const numeric = raw.length > 0 && raw.every((r) => typeof r[k] === "number" || r[k] === null || r[k] === undefined);
    return numeric ? "right" : "left";
  });
  const headers = columns.map((c) => formatMarkdownCell(c.header));
  // Width 3 minimum: the separator needs room for ":-:".
  const widths = headers.map((h, k) => Math.max(3, h.length, ...cells.map((r) => r[k]!.length)));
  const pad = (text: string, k: number) => {
    const w = widths[k]!;
    if (aligns[k] === "right") return text.padStart(w);
    if (aligns[k] === "center") {
      const left = Math.floor((w - text.length) / 2);
      return (" ".repeat(left) + text).padEnd(w);
    }
    return text.padEnd(w);
  };
  const line = (texts: string[]) => `| ${texts.map(pad).join(" | ")} |`;
  const separator = widths.map((w, k) => {
    const a = aligns[k];
    if (a === "right") return "-".repeat(w - 1) + ":";
    if (a === "center") return ":" + "-".repeat(w - 2) + ":";
    return "-".repeat(w);
  });
  return [line(headers), `| ${separator.join(" | ")} |`, ...cells.map(line)].join("\n") + "\n";
}

/** Rows with every non-integer number rounded to `digits` (for printing tables, e.g. danfojs in notebooks). */
export function roundNumbers<Row extends object>(rows: readonly Row[], digits = 3): Row[] {
  const f = 10 ** digits;
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [k, typeof v === "number" && !Number.isInteger(v) ? Math.round(v * f) / f : v]),
    ) as Row
  );
}
