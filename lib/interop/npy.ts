/**
 * NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), for exchanging
 * face records with Python (`numpy.load(..., allow_pickle=False)`).
 *
 * Written: format 1.0, little-endian, C order, dtypes `<f4 <f8 <i4 <i8 |b1` and fixed-width unicode `<U{n}`
 * (UTF-32LE, NUL-padded; numpy strips trailing NULs when reading, so a string cannot end in "\0"). Never object
 * arrays: they need pickle, which is both unsafe to load and refused by allow_pickle=False.
 * Read: the same dtypes plus byte strings `|S{n}` (decoded as UTF-8, as old caches often store paths), formats
 * 1.0-3.0. Big-endian data, Fortran order (above 1-D), object arrays and other dtypes are refused by name.
 */

export class NpyError extends Error {
  override name = "NpyError";
}

/** A typed n-d array in C (row-major) order; `data.length` is the product of `shape`. */
export type NpyArray =
  | { dtype: "<f4"; shape: number[]; data: Float32Array }
  | { dtype: "<f8"; shape: number[]; data: Float64Array }
  | { dtype: "<i4"; shape: number[]; data: Int32Array }
  | { dtype: "<i8"; shape: number[]; data: BigInt64Array }
  /** Booleans as 0/1 bytes. */
  | { dtype: "|b1"; shape: number[]; data: Uint8Array }
  /** Unicode strings; `dtype` is `<U{width}` with width in code points. */
  | { dtype: `<U${number}`; shape: number[]; data: string[] };

export type NpyDtype = NpyArray["dtype"];

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy pads the header so the data starts on a 64-byte boundary (good for memory mapping). */
const HEADER_ALIGN = 64;

export function npyElementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkShape(shape: readonly number[], length: number, what: string): number[] {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new NpyError(`${what}: invalid shape (${shape.join(", ")})`);
  if (npyElementCount(shape) !== length) {
    throw new NpyError(`${what}: shape (${shape.join(", ")}) holds ${npyElementCount(shape)} elements, data has ${length}`);
  }
  return [...shape];
}

/** A float32 array of `shape` (default 1-D). */
export function npyFloat32(data: Float32Array, shape: readonly number[] = [data.length]): NpyArray {
  return { dtype: "<f4", shape: checkShape(shape, data.length, "npyFloat32"), data };
}

export function npyFloat64(data: Float64Array, shape: readonly number[] = [data.length]): NpyArray {
  return { dtype: "<f8", shape: checkShape(shape, data.length, "npyFloat64"), data };
}

export function npyInt32(data: Int32Array, shape: readonly number[] = [data.length]): NpyArray {
  return { dtype: "<i4", shape: checkShape(shape, data.length, "npyInt32"), data };
}

export function npyInt64(data: BigInt64Array, shape: readonly number[] = [data.length]): NpyArray {
  return { dtype: "<i8", shape: checkShape(shape, data.length, "npyInt64"), data };
}

export function npyBool(values: ArrayLike<boolean>, shape: readonly number[] = [values.length]): NpyArray {
  return { dtype: "|b1", shape: checkShape(shape, values.length, "npyBool"), data: Uint8Array.from(Array.from(values), (b) => (b ? 1 : 0)) };
}

/** Strings as fixed-width unicode, width = the longest string's code points (at least 1). `shape` [] = a scalar. */
export function npyStrings(values: readonly string[], shape: readonly number[] = [values.length]): NpyArray {
  let width = 1;
  for (const v of values) {
    if (v.endsWith("\0")) throw new NpyError(`npyStrings: ${JSON.stringify(v)} ends in NUL, which numpy would strip`);
    width = Math.max(width, codePoints(v).length);
  }
  return { dtype: `<U${width}`, shape: checkShape(shape, values.length, "npyStrings"), data: [...values] };
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0)!);
  return out;
}

function unicodeWidth(dtype: string): number | undefined {
  const m = /^[<|]U(\d+)$/.exec(dtype);
  return m ? Number(m[1]) : undefined;
}

function shapeLiteral(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/** The .npy bytes of an array. */
export function encodeNpy(array: NpyArray): Uint8Array {
  const count = npyElementCount(array.shape);
  if (array.data.length !== count) throw new NpyError(`encodeNpy: shape (${array.shape.join(", ")}) needs ${count} elements, data has ${array.data.length}`);
  let header = `{'descr': '${array.dtype}', 'fortran_order': False, 'shape': ${shapeLiteral(array.shape)}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += " ".repeat((HEADER_ALIGN - (unpadded % HEADER_ALIGN)) % HEADER_ALIGN) + "\n";
  if (header.length > 0xffff) throw new NpyError("encodeNpy: header too long for format 1.0");

  const body = encodeData(array);
  const out = new Uint8Array(MAGIC.length + 4 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

function encodeData(array: NpyArray): Uint8Array {
  const width = unicodeWidth(array.dtype);
  if (width !== undefined) {
    const strings = array.data as string[];
    const out = new Uint8Array(strings.length * width * 4);
    const view = new DataView(out.buffer);
    strings.forEach((s, i) => {
      const cps = codePoints(s);
      if (cps.length > width) throw new NpyError(`encodeNpy: ${JSON.stringify(s)} is longer than ${array.dtype}`);
      cps.forEach((cp, k) => view.setUint32((i * width + k) * 4, cp, true));
    });
    return out;
  }
  // Typed arrays are in platform byte order; every platform facesets runs on (x64, arm64) is little-endian.
  const typed = array.data as Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
  return new Uint8Array(typed.buffer.slice(typed.byteOffset, typed.byteOffset + typed.byteLength));
}

/** Parse a .npy file's bytes (`what` names it in errors). */
export function decodeNpy(bytes: Uint8Array, what = "npy"): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw new NpyError(`${what}: not a .npy array (bad magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyError(`${what}: unsupported .npy format version ${major}.${bytes[7]}`);
  }
  if (headerStart + headerLen > bytes.length) throw new NpyError(`${what}: truncated header`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    if (/'descr'\s*:\s*\[/.test(header)) throw new NpyError(`${what}: structured (record) arrays are not supported`);
    throw new NpyError(`${what}: cannot parse the .npy header ${JSON.stringify(header.trim())}`);
  }
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new NpyError(`${what}: invalid shape (${shapeText})`);
  if (fortran === "True" && shape.filter((d) => d > 1).length > 1) {
    throw new NpyError(`${what}: Fortran-ordered arrays are not supported (save with np.ascontiguousarray)`);
  }
  const count = npyElementCount(shape);
  const data = bytes.subarray(headerStart + headerLen);
  const need = (itemSize: number) => {
    if (data.length < count * itemSize) throw new NpyError(`${what}: truncated data (${data.length} of ${count * itemSize} bytes)`);
    // Copy: the data offset need not be aligned for typed-array views, and the caller may keep only one array.
    const copy = new Uint8Array(count * itemSize);
    copy.set(data.subarray(0, count * itemSize));
    return copy.buffer;
  };
  switch (descr) {
    case "<f4":
      return { dtype: "<f4", shape, data: new Float32Array(need(4)) };
    case "<f8":
      return { dtype: "<f8", shape, data: new Float64Array(need(8)) };
    case "<i4":
      return { dtype: "<i4", shape, data: new Int32Array(need(4)) };
    case "<i8":
      return { dtype: "<i8", shape, data: new BigInt64Array(need(8)) };
    case "|b1":
      return { dtype: "|b1", shape, data: new Uint8Array(need(1)) };
  }
  const uWidth = unicodeWidth(descr);
  if (uWidth !== undefined) {
    const raw = new DataView(need(4 * uWidth));
    const strings: string[] = [];
    for (let i = 0; i < count; i++) {
      let s = "";
      for (let k = 0; k < uWidth; k++) {
        const cp = raw.getUint32((i * uWidth + k) * 4, true);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      strings.push(s);
    }
    return { dtype: `<U${Math.max(uWidth, 1)}`, shape, data: strings };
  }
  const sWidth = /^\|S(\d+)$/.exec(descr)?.[1];
  if (sWidth !== undefined) {
    const w = Number(sWidth);
    const raw = new Uint8Array(need(w));
    const decoder = new TextDecoder("utf-8");
    const strings: string[] = [];
    for (let i = 0; i < count; i++) {
      const cell = raw.subarray(i * w, (i + 1) * w);
      const end = cell.indexOf(0);
      strings.push(decoder.decode(end < 0 ? cell : cell.subarray(0, end)));
    }
    return npyStrings(strings, shape);
  }
  if (descr === "|O") {
    throw new NpyError(`${what}: object arrays need pickle and are refused; save strings with dtype=str (e.g. np.array(paths, dtype=str))`);
  }
  if (descr.startsWith(">")) throw new NpyError(`${what}: big-endian dtype ${descr} is not supported (save with .astype('<${descr.slice(1)}'))`);
  throw new NpyError(`${what}: dtype ${descr} is not supported (use <f4, <f8, <i4, <i8, |b1 or <U)`);
}

/** The array's values as float64 numbers (for numeric dtypes); throws for strings. */
export function npyNumbers(array: NpyArray, what = "array"): Float64Array {
  switch (array.dtype) {
    case "<f4":
    case "<f8":
    case "<i4":
    case "|b1":
      return Float64Array.from(array.data as ArrayLike<number>);
    case "<i8":
      return Float64Array.from(array.data, (v) => Number(v));
    default:
      throw new NpyError(`${what}: expected numbers, got ${array.dtype} strings`);
  }
}
