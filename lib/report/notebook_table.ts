/**
 * Tables in notebooks print through danfojs, whose console table cuts every cell to 16 characters ("1 distinct
 * phot...") and shows 10 rows and 10 columns. These options make it print every row, every column and every
 * character; danfojs itself stays out of lib/ (notebooks pass the options to `new dfd.DataFrame(rows, { config })`).
 */

/** danfojs `config` for `rows`: no row, column or cell cut (widths from the longest text of each column). */
export interface FullTableConfig {
  tableMaxRow: number;
  tableMaxColInConsole: number;
  tableDisplayConfig: { columns: Record<number, { width: number }> };
}

const cellText = (v: unknown) => (v === null || v === undefined ? String(v) : typeof v === "object" ? JSON.stringify(v) : String(v));

export function fullTableConfig(rows: readonly object[]): FullTableConfig {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  // Column 0 is danfojs' index; the data columns follow in key order.
  const columns: Record<number, { width: number }> = {
    0: { width: Math.max(1, String(Math.max(0, rows.length - 1)).length) },
  };
  keys.forEach((k, i) => {
    const width = Math.max(k.length, ...rows.map((r) => cellText((r as Record<string, unknown>)[k]).length), 1);
    columns[i + 1] = { width };
  });
  return { tableMaxRow: Math.max(1, rows.length), tableMaxColInConsole: Math.max(1, keys.length), tableDisplayConfig: { columns } };
}
