/**
 * A minimal ZIP reader: enough to pull named model files out of a release zip (lib/models) and to read the
 * arrays of an .npz (lib/interop/npz.ts).
 *
 * Reads the end-of-central-directory record and the central directory, then extracts single entries by
 * streaming their bytes from the zip file through `inflateRaw` (method 8) or straight through (method 0) into
 * a destination file, checking size and CRC-32 on the way and computing sha256 in the same pass. Nothing is
 * held in memory beyond stream buffers, so a 280 MB zip is never loaded whole.
 *
 * Not supported (refused with a clear ZipError): zip64, multi-disk archives, encryption, methods other than
 * stored/deflate.
 */

import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { type FileHandle, open, rm, stat, writeFile } from "node:fs/promises";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32, createInflateRaw } from "node:zlib";

export class ZipError extends Error {
  override name = "ZipError";
}

export const ZIP_METHOD_STORED = 0;
export const ZIP_METHOD_DEFLATE = 8;

/** One central-directory record. Sizes are in bytes. */
export interface ZipEntry {
  /** Full path inside the archive, '/'-separated (directories end with '/'). */
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  isDirectory: boolean;
}

export interface ExtractResult {
  /** Uncompressed bytes written. */
  bytes: number;
  /** sha256 of the written bytes, lowercase hex. */
  sha256: string;
}

export interface ExtractOptions {
  /** Called with the number of uncompressed bytes written so far (after every chunk). */
  onProgress?: (bytesWritten: number, totalBytes: number) => void;
}

/** Record signatures and fixed header sizes of the ZIP format (APPNOTE 4.3): this reader's and the npz writer's. */
export const ZIP_RECORD = {
  sigEocd: 0x06054b50,
  sigCentral: 0x02014b50,
  sigLocal: 0x04034b50,
  eocdSize: 22,
  centralHeaderSize: 46,
  localHeaderSize: 30,
} as const;
const SIG_EOCD = ZIP_RECORD.sigEocd;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = ZIP_RECORD.sigCentral;
const SIG_LOCAL = ZIP_RECORD.sigLocal;
const EOCD_MIN = ZIP_RECORD.eocdSize;
const CENTRAL_MIN = ZIP_RECORD.centralHeaderSize;
const LOCAL_MIN = ZIP_RECORD.localHeaderSize;
const MAX_COMMENT = 0xffff;

async function readAt(fd: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fd.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  if (done !== length) throw new ZipError(`unexpected end of file (wanted ${length} bytes at offset ${position})`);
  return buf;
}

function zip64Error(zipPath: string): ZipError {
  return new ZipError(`${zipPath}: zip64 archives are not supported (entry or archive over 4 GiB / 65535 entries)`);
}

/** The archive's entries, in central-directory order. */
export async function readZipEntries(zipPath: string): Promise<ZipEntry[]> {
  let fileSize: number;
  try {
    fileSize = (await stat(zipPath)).size;
  } catch (err) {
    throw new ZipError(`${zipPath}: cannot read: ${(err as Error).message}`);
  }
  if (fileSize < EOCD_MIN) throw new ZipError(`${zipPath}: not a zip file (${fileSize} bytes)`);

  const fd = await open(zipPath, "r");
  try {
    const tailLen = Math.min(fileSize, EOCD_MIN + MAX_COMMENT);
    const tailStart = fileSize - tailLen;
    const tail = await readAt(fd, tailStart, tailLen);
    let eocd = -1;
    for (let i = tailLen - EOCD_MIN; i >= 0; i--) {
      if (tail.readUInt32LE(i) === SIG_EOCD && i + EOCD_MIN + tail.readUInt16LE(i + 20) <= tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipError(`${zipPath}: not a zip file (no end-of-central-directory record)`);
    if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === SIG_ZIP64_LOCATOR) throw zip64Error(zipPath);

    const diskNumber = tail.readUInt16LE(eocd + 4);
    const cdDisk = tail.readUInt16LE(eocd + 6);
    const entriesOnDisk = tail.readUInt16LE(eocd + 8);
    const totalEntries = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (totalEntries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw zip64Error(zipPath);
    if (diskNumber !== 0 || cdDisk !== 0 || entriesOnDisk !== totalEntries) {
      throw new ZipError(`${zipPath}: multi-disk (split) zip archives are not supported`);
    }
    const eocdAbs = tailStart + eocd;
    if (cdOffset + cdSize > eocdAbs) {
      throw new ZipError(`${zipPath}: corrupt zip (central directory at ${cdOffset}+${cdSize} runs past its end record)`);
    }

    const cd = await readAt(fd, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let n = 0; n < totalEntries; n++) {
      if (p + CENTRAL_MIN > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) {
        throw new ZipError(`${zipPath}: corrupt zip (central directory record ${n} is malformed)`);
      }
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      const compressedSize = cd.readUInt32LE(p + 20);
      const size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const localHeaderOffset = cd.readUInt32LE(p + 42);
      const end = p + CENTRAL_MIN + nameLen + extraLen + commentLen;
      if (end > cd.length) throw new ZipError(`${zipPath}: corrupt zip (central directory record ${n} is truncated)`);
      const rawName = cd.subarray(p + CENTRAL_MIN, p + CENTRAL_MIN + nameLen);
      // Bit 11: name is UTF-8; otherwise CP437, which equals latin1 for the ASCII names model packs use.
      const name = (flags & 0x800 ? rawName.toString("utf8") : rawName.toString("latin1")).replace(/\\/g, "/");
      if (compressedSize === 0xffffffff || size === 0xffffffff || localHeaderOffset === 0xffffffff) {
        throw zip64Error(zipPath);
      }
      entries.push({
        name,
        method,
        flags,
        crc32: crc,
        compressedSize,
        size,
        localHeaderOffset,
        isDirectory: name.endsWith("/"),
      });
      p = end;
    }
    return entries;
  } finally {
    await fd.close();
  }
}

/** Last path component of an entry name. */
export function entryBaseName(name: string): string {
  const parts = name.split("/").filter((s) => s.length > 0);
  return parts[parts.length - 1] ?? "";
}

/**
 * The file entry whose base name is `baseName`, wherever it sits (root or a folder such as `buffalo_l/`).
 * macOS resource forks (`__MACOSX/`, `._*`) are ignored; the shallowest match wins; two equally shallow
 * matches in different folders are ambiguous and refused.
 */
export function findEntryByBaseName(entries: readonly ZipEntry[], baseName: string): ZipEntry | undefined {
  const matches = entries.filter(
    (e) => !e.isDirectory && !e.name.startsWith("__MACOSX/") && entryBaseName(e.name) === baseName,
  );
  if (matches.length <= 1) return matches[0];
  const depth = (e: ZipEntry) => e.name.split("/").filter((s) => s.length > 0).length;
  matches.sort((a, b) => depth(a) - depth(b));
  const [first, second] = matches as [ZipEntry, ZipEntry];
  if (depth(first) === depth(second)) {
    throw new ZipError(`ambiguous: ${baseName} occurs as ${first.name} and ${second.name}`);
  }
  return first;
}

/** Counts bytes, updates CRC-32 and sha256, and refuses to grow past the declared size. */
class VerifyStream extends Transform {
  bytes = 0;
  crc = 0;
  readonly hash = createHash("sha256");

  constructor(
    private readonly entry: ZipEntry,
    private readonly onProgress?: (bytesWritten: number, totalBytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.entry.size) {
      cb(new ZipError(`entry ${this.entry.name} inflates to more than its declared ${this.entry.size} bytes`));
      return;
    }
    this.crc = crc32(chunk, this.crc);
    this.hash.update(chunk);
    this.onProgress?.(this.bytes, this.entry.size);
    cb(null, chunk);
  }
}

/**
 * Stream one entry's uncompressed bytes into `destPath` (created or truncated). Checks the size and CRC-32
 * declared in the central directory; on any failure the partial destination file is removed.
 */
export async function extractEntry(
  zipPath: string,
  entry: ZipEntry,
  destPath: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  if (entry.isDirectory) throw new ZipError(`${zipPath}: ${entry.name} is a directory`);
  if (entry.flags & 0x1) throw new ZipError(`${zipPath}: ${entry.name} is encrypted (not supported)`);
  if (entry.method !== ZIP_METHOD_STORED && entry.method !== ZIP_METHOD_DEFLATE) {
    throw new ZipError(`${zipPath}: ${entry.name} uses compression method ${entry.method} (only stored and deflate are supported)`);
  }

  let dataStart: number;
  const fd = await open(zipPath, "r");
  try {
    const local = await readAt(fd, entry.localHeaderOffset, LOCAL_MIN);
    if (local.readUInt32LE(0) !== SIG_LOCAL) {
      throw new ZipError(`${zipPath}: corrupt zip (no local header for ${entry.name} at ${entry.localHeaderOffset})`);
    }
    // The local header's name/extra lengths may differ from the central directory's: use the local ones.
    dataStart = entry.localHeaderOffset + LOCAL_MIN + local.readUInt16LE(26) + local.readUInt16LE(28);
  } catch (err) {
    throw err instanceof ZipError ? err : new ZipError(`${zipPath}: ${entry.name}: ${(err as Error).message}`);
  } finally {
    await fd.close();
  }

  const verify = new VerifyStream(entry, options.onProgress);
  try {
    if (entry.compressedSize === 0) {
      await writeFile(destPath, new Uint8Array(0));
    } else {
      const source = createReadStream(zipPath, {
        start: dataStart,
        end: dataStart + entry.compressedSize - 1,
        highWaterMark: 1 << 20,
      });
      const sink = createWriteStream(destPath);
      if (entry.method === ZIP_METHOD_DEFLATE) {
        await pipeline(source, createInflateRaw(), verify, sink);
      } else {
        await pipeline(source, verify, sink);
      }
    }
    if (verify.bytes !== entry.size) {
      throw new ZipError(`${zipPath}: ${entry.name} is truncated or corrupt (${verify.bytes} of ${entry.size} bytes)`);
    }
    if (verify.crc >>> 0 !== entry.crc32 >>> 0) {
      throw new ZipError(`${zipPath}: ${entry.name} failed its CRC-32 check (corrupt zip)`);
    }
    return { bytes: verify.bytes, sha256: verify.hash.digest("hex") };
  } catch (err) {
    await rm(destPath, { force: true }).catch(() => {});
    if (err instanceof ZipError) throw err;
    throw new ZipError(`${zipPath}: cannot extract ${entry.name}: ${(err as Error).message}`);
  }
}
