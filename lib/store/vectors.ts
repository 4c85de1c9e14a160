/**
 * Moving float arrays between DuckDB result/append chunks and Float32Arrays.
 *
 * [Note: ARRAY fast path] A `FLOAT[D]` column's vector keeps all of a chunk's floats in one flat child vector
 * (row-major, D per row). @duckdb/node-api 1.5.6 exposes that child only as a private field (`childData.items`,
 * a Float32Array view of DuckDB's memory); copying it once per 2,048-row chunk reads 100k x 512 embeddings about
 * twice as fast as the public `getItem(row).items` (numbers in lib/store/schema.ts). The fast path is taken only
 * when the field has exactly the expected shape and no row is NULL; otherwise the public per-row path runs, so a
 * change inside the package costs speed, not correctness (tests/store.test.ts checks both paths agree).
 */
import { arrayValue, type DuckDBArrayValue, DuckDBArrayVector, type DuckDBVector } from "@duckdb/node-api";

interface ArrayVectorInternals {
  childData?: { items?: unknown };
  validity?: { itemValid?: (index: number) => boolean };
}

/** The chunk's flat child floats when the private layout is as expected and no row is NULL; else undefined. */
function flatChild(vector: DuckDBVector, rowCount: number, width: number): Float32Array | undefined {
  if (!(vector instanceof DuckDBArrayVector) || vector.type.length !== width) return undefined;
  const internals = vector as unknown as ArrayVectorInternals;
  const items = internals.childData?.items;
  if (!(items instanceof Float32Array) || items.length !== rowCount * width) return undefined;
  const itemValid = internals.validity?.itemValid;
  if (typeof itemValid !== "function") return undefined;
  for (let r = 0; r < rowCount; r++) if (!itemValid.call(internals.validity, r)) return undefined;
  return items;
}

export interface ReadFloatArraysOptions {
  /** Use only the package's public API (slower; for tests that compare both paths). Default false. */
  publicOnly?: boolean;
}

/**
 * Copy the first `rowCount` rows of a `FLOAT[width]` vector into `out`, row r at `out[outOffset + r * width]`.
 * Throws on a NULL row or a row of another width (the store's embedding column is NOT NULL and fixed-width).
 */
export function readFloatArrays(
  vector: DuckDBVector,
  rowCount: number,
  width: number,
  out: Float32Array,
  outOffset = 0,
  { publicOnly = false }: ReadFloatArraysOptions = {},
): void {
  if (outOffset + rowCount * width > out.length) {
    throw new RangeError(`readFloatArrays: ${rowCount} rows of ${width} floats do not fit at ${outOffset} of ${out.length}`);
  }
  const flat = publicOnly ? undefined : flatChild(vector, rowCount, width);
  if (flat) {
    out.set(flat, outOffset);
    return;
  }
  for (let r = 0; r < rowCount; r++) {
    const value = vector.getItem(r) as DuckDBArrayValue | null;
    if (value === null) throw new RangeError(`readFloatArrays: row ${r} is NULL`);
    const items = value.items;
    if (items.length !== width) throw new RangeError(`readFloatArrays: row ${r} has ${items.length} floats, expected ${width}`);
    const base = outOffset + r * width;
    for (let k = 0; k < width; k++) out[base + k] = items[k] as number;
  }
}

/**
 * Copy a `FLOAT[width]` vector's rows into `out` through the fast path only; false (nothing copied) when that path
 * is unavailable, e.g. because some row is NULL. For nullable columns, whose callers then read row by row.
 */
export function tryReadFloatArraysFast(vector: DuckDBVector, rowCount: number, width: number, out: Float32Array, outOffset = 0): boolean {
  const flat = flatChild(vector, rowCount, width);
  if (!flat || outOffset + flat.length > out.length) return false;
  out.set(flat, outOffset);
  return true;
}

/** A nullable `FLOAT[n]` cell as plain numbers (float32 values widened to double). */
export function floatArrayItem(vector: DuckDBVector, row: number): number[] | null {
  const value = vector.getItem(row) as DuckDBArrayValue | null;
  return value === null ? null : (value.items as number[]);
}

/** A float array as a DuckDB ARRAY value for appending (null stays null). */
export function floatArrayValue(values: ArrayLike<number> | null): DuckDBArrayValue | null {
  return values === null ? null : arrayValue(Array.from(values));
}
