/**
 * Versions of a file for the writeFileAtomic kill test: version k is `size` bytes, a header line naming k, then a
 * byte pattern that depends on k. A reader can tell a whole version from a partial or mixed one.
 */
const HEADER = 32;

export function versionBytes(k: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const header = new TextEncoder().encode(`version ${k}\n`.padEnd(HEADER, " "));
  out.set(header);
  for (let i = HEADER; i < size; i++) out[i] = (i * 7 + k * 13) & 0xff;
  return out;
}

/** The version `bytes` is; throws when they are not exactly one whole version of `size` bytes. */
export function versionOf(bytes: Uint8Array, size: number): number {
  if (bytes.length !== size) throw new Error(`partial file: ${bytes.length} of ${size} bytes`);
  const m = /^version (\d+)\n/.exec(new TextDecoder().decode(bytes.subarray(0, HEADER)));
  if (!m) throw new Error("no version header");
  const k = Number(m[1]);
  for (let i = HEADER; i < size; i++) {
    if (bytes[i] !== ((i * 7 + k * 13) & 0xff)) throw new Error(`version ${k} is mixed with another at byte ${i}`);
  }
  return k;
}
