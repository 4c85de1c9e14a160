/**
 * NumPy's .npz: a ZIP archive of `name.npy` entries (what `np.savez` writes and `np.load` reads).
 *
 * Written: entries STORED (no compression: float32 embeddings barely compress), in the order given, with correct
 * CRC-32s and a fixed 1980-01-01 timestamp so that equal arrays give byte-identical files; streamed entry by entry
 * to a temp file beside the target, then renamed (readers never see half a file). Limits of plain ZIP (no zip64):
 * each entry and the whole archive under 4 GiB, at most 65,535 entries; past them use the Parquet export.
 * Read: STORED and DEFLATE entries (`np.savez_compressed`), CRC checked; the central directory is parsed by the
 * zip reader the model installer uses (lib/util/zip.ts).
 */
import { open, rename, rm } from "node:fs/promises";
import { crc32, inflateRawSync } from "node:zlib";
import { readZipEntries, ZIP_METHOD_DEFLATE, ZIP_METHOD_STORED, ZIP_RECORD, ZipError } from "../util/zip";
import { decodeNpy, encodeNpy, type NpyArray, NpyError } from "./npy";

const { sigLocal: SIG_LOCAL, sigCentral: SIG_CENTRAL, sigEocd: SIG_EOCD } = ZIP_RECORD;
const { localHeaderSize: LOCAL_HEADER, centralHeaderSize: CENTRAL_HEADER, eocdSize: EOCD } = ZIP_RECORD;
const ZIP_VERSION = 20; // 2.0: what numpy/Python's zipfile write for plain entries
const FLAG_UTF8 = 0x0800;
const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
const MAX_U32 = 0xffffffff;
const MAX_ENTRIES = 0xffff;

/** An array name as numpy sees it: the entry is `${name}.npy`. */
function checkName(name: string): void {
  if (name.length === 0 || name.includes("/") || name.includes("\\")) throw new NpyError(`npz: invalid array name ${JSON.stringify(name)}`);
}

/**
 * Write `arrays` (name -> array, in iteration order) to `outPath` as an .npz, atomically.
 * `np.load(outPath, allow_pickle=False)[name]` gives each array back.
 */
export async function writeNpz(outPath: string, arrays: Iterable<[string, NpyArray]> | Record<string, NpyArray>): Promise<void> {
  const entries: [string, NpyArray][] = Symbol.iterator in arrays ? [...(arrays as Iterable<[string, NpyArray]>)] : Object.entries(arrays);
  if (entries.length > MAX_ENTRIES) throw new NpyError(`npz: ${entries.length} arrays is more than a plain zip holds (${MAX_ENTRIES})`);
  const names = new Set<string>();
  for (const [name] of entries) {
    checkName(name);
    if (names.has(name)) throw new NpyError(`npz: array ${JSON.stringify(name)} given twice`);
    names.add(name);
  }

  const tmp = `${outPath}.${process.pid}.tmp`;
  const fd = await open(tmp, "w");
  try {
    const central: Uint8Array[] = [];
    let offset = 0;
    const write = async (bytes: Uint8Array) => {
      await fd.write(bytes, 0, bytes.length, null);
      offset += bytes.length;
    };
    for (const [name, array] of entries) {
      const fileName = new TextEncoder().encode(`${name}.npy`);
      const data = encodeNpy(array);
      if (data.length >= MAX_U32 || offset >= MAX_U32) {
        throw new NpyError(`npz: ${name} does not fit a plain zip (over 4 GiB); export as parquet instead`);
      }
      const crc = crc32(data) >>> 0;
      const flags = fileName.some((b) => b > 0x7f) ? FLAG_UTF8 : 0;
      const local = new Uint8Array(LOCAL_HEADER + fileName.length);
      const lv = new DataView(local.buffer);
      lv.setUint32(0, SIG_LOCAL, true);
      lv.setUint16(4, ZIP_VERSION, true);
      lv.setUint16(6, flags, true);
      lv.setUint16(8, ZIP_METHOD_STORED, true);
      lv.setUint16(10, 0, true); // time 00:00:00
      lv.setUint16(12, DOS_DATE_1980_01_01, true);
      lv.setUint32(14, crc, true);
      lv.setUint32(18, data.length, true);
      lv.setUint32(22, data.length, true);
      lv.setUint16(26, fileName.length, true);
      lv.setUint16(28, 0, true);
      local.set(fileName, LOCAL_HEADER);

      const cd = new Uint8Array(CENTRAL_HEADER + fileName.length);
      const cv = new DataView(cd.buffer);
      cv.setUint32(0, SIG_CENTRAL, true);
      cv.setUint16(4, ZIP_VERSION, true); // made by: MS-DOS/FAT attributes, spec 2.0
      cv.setUint16(6, ZIP_VERSION, true);
      cv.setUint16(8, flags, true);
      cv.setUint16(10, ZIP_METHOD_STORED, true);
      cv.setUint16(12, 0, true);
      cv.setUint16(14, DOS_DATE_1980_01_01, true);
      cv.setUint32(16, crc, true);
      cv.setUint32(20, data.length, true);
      cv.setUint32(24, data.length, true);
      cv.setUint16(28, fileName.length, true);
      // extra length, comment length, disk number, internal and external attributes: 0
      cv.setUint32(42, offset, true);
      cd.set(fileName, CENTRAL_HEADER);
      central.push(cd);

      await write(local);
      await write(data);
    }
    const cdOffset = offset;
    for (const cd of central) await write(cd);
    const cdSize = offset - cdOffset;
    if (offset >= MAX_U32) throw new NpyError("npz: archive over 4 GiB (no zip64); export as parquet instead");
    const end = new Uint8Array(EOCD);
    const ev = new DataView(end.buffer);
    ev.setUint32(0, SIG_EOCD, true);
    ev.setUint16(8, entries.length, true);
    ev.setUint16(10, entries.length, true);
    ev.setUint32(12, cdSize, true);
    ev.setUint32(16, cdOffset, true);
    await write(end);
    await fd.sync();
    await fd.close();
    await rename(tmp, outPath);
  } catch (err) {
    await fd.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Every `*.npy` entry of an .npz, by array name (entry name without `.npy`), in archive order. */
export async function readNpz(npzPath: string): Promise<Map<string, NpyArray>> {
  let entries;
  try {
    entries = await readZipEntries(npzPath);
  } catch (err) {
    if (err instanceof ZipError) throw new NpyError(`${npzPath}: not a readable .npz (${err.message.replace(`${npzPath}: `, "")})`);
    throw err;
  }
  const out = new Map<string, NpyArray>();
  const fd = await open(npzPath, "r");
  try {
    for (const entry of entries) {
      if (entry.isDirectory || !entry.name.endsWith(".npy")) continue;
      const what = `${npzPath}: ${entry.name}`;
      if (entry.flags & 0x1) throw new NpyError(`${what}: encrypted entries are not supported`);
      if (entry.method !== ZIP_METHOD_STORED && entry.method !== ZIP_METHOD_DEFLATE) {
        throw new NpyError(`${what}: compression method ${entry.method} is not supported (stored or deflate only)`);
      }
      const local = new Uint8Array(LOCAL_HEADER);
      await fd.read(local, 0, LOCAL_HEADER, entry.localHeaderOffset);
      const lv = new DataView(local.buffer);
      if (lv.getUint32(0, true) !== SIG_LOCAL) throw new NpyError(`${what}: corrupt zip (no local header)`);
      const dataStart = entry.localHeaderOffset + LOCAL_HEADER + lv.getUint16(26, true) + lv.getUint16(28, true);
      const stored = new Uint8Array(entry.compressedSize);
      const { bytesRead } = await fd.read(stored, 0, stored.length, dataStart);
      if (bytesRead !== stored.length) throw new NpyError(`${what}: truncated`);
      const bytes = entry.method === ZIP_METHOD_DEFLATE ? new Uint8Array(inflateRawSync(stored)) : stored;
      if (bytes.length !== entry.size) throw new NpyError(`${what}: size ${bytes.length} differs from the declared ${entry.size}`);
      if ((crc32(bytes) >>> 0) !== entry.crc32 >>> 0) throw new NpyError(`${what}: CRC-32 mismatch (corrupt file)`);
      const name = entry.name.slice(entry.name.lastIndexOf("/") + 1, -".npy".length);
      out.set(name, decodeNpy(bytes, what));
    }
  } finally {
    await fd.close();
  }
  return out;
}
