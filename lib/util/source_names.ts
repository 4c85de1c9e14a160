/**
 * File names that are not valid UTF-8 (old Latin-1 archives, FAT volumes from other locales) must be scanned and
 * recorded like any other. JavaScript strings cannot hold raw bytes, so such a name is carried as a string in
 * which every byte that is not part of valid UTF-8 is mapped to one private-use character, U+F700 + byte
 * (U+F780..U+F7FF). The mapping is reversible and never ambiguous: the UTF-8 bytes of a real U+F780..U+F7FF in a
 * name are escaped the same way, so every such character in a path stands for exactly one byte.
 *
 * Node reads such paths through Buffers. Deno turns every path into a UTF-8 string and cannot open them at all, so
 * under Deno (the `deno task` scripts) they are listed, inspected and read through `find`, `stat` and `cat` with
 * the bytes passed by printf escapes (POSIX; these names only occur on POSIX file systems).
 */
import { execFile } from "node:child_process";
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import { Buffer } from "node:buffer";

const ESCAPE_BASE = 0xf700;
const ESCAPED = /[\uf780-\uf7ff]/;
const isEscapeCode = (c: number) => c >= ESCAPE_BASE + 0x80 && c <= ESCAPE_BASE + 0xff;

/** The length of the valid UTF-8 sequence at `i`, or 0 when the byte there does not start one. */
function utf8SequenceAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1]!;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) return 0; // overlong, surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1]!;
    if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return 0;
    return 4;
  }
  return 0;
}

/** A name's bytes as a string: valid UTF-8 decoded, every other byte escaped (see the module note). */
export function nameFromBytes(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  const decoder = new TextDecoder();
  while (i < bytes.length) {
    const n = utf8SequenceAt(bytes, i);
    if (n === 0) {
      out += String.fromCharCode(ESCAPE_BASE + bytes[i]!);
      i++;
      continue;
    }
    const text = decoder.decode(bytes.subarray(i, i + n));
    if (n === 3 && isEscapeCode(text.charCodeAt(0))) {
      for (let k = 0; k < 3; k++) out += String.fromCharCode(ESCAPE_BASE + bytes[i + k]!);
    } else out += text;
    i += n;
  }
  return out;
}

/** The bytes a name string stands for (the inverse of nameFromBytes). */
export function nameToBytes(name: string): Uint8Array {
  const encoder = new TextEncoder();
  const parts: number[] = [];
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && isEscapeCode(code)) parts.push(code - ESCAPE_BASE);
    else parts.push(...encoder.encode(ch));
  }
  return new Uint8Array(parts);
}

/** Whether a path holds bytes that are not UTF-8 (it must then be opened through its bytes). */
export function hasRawBytes(p: string): boolean {
  return ESCAPED.test(p);
}

/** A path for messages: escaped bytes shown as \xNN. */
export function displayPath(p: string): string {
  return hasRawBytes(p) ? p.replace(/[\uf780-\uf7ff]/g, (c) => `\\x${(c.charCodeAt(0) - ESCAPE_BASE).toString(16).toUpperCase()}`) : p;
}

const underDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** `\0ooo` escapes of every byte, for `printf %b` in sh. */
function printfEscaped(bytes: Uint8Array): string {
  return [...bytes].map((b) => `\\0${b.toString(8).padStart(3, "0")}`).join("");
}

/** Run `script` in sh with $P set to the raw path (the trailing "x" keeps a final newline in the name). */
function shWithPath(script: string, p: string): Promise<Buffer> {
  const prelude = `P=$(printf '%bx' "$1"); P=\${P%x}; `;
  return new Promise((resolve, reject) => {
    execFile("sh", ["-c", prelude + script, "sh", printfEscaped(nameToBytes(p))], { encoding: "buffer", maxBuffer: 2 ** 31 - 1 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const text = stderr.toString();
      const e = new Error(text.trim() || String(err)) as NodeJS.ErrnoException;
      e.code = /No such file/i.test(text) ? "ENOENT" : /Permission denied/i.test(text) ? "EACCES" : /Not a directory/i.test(text) ? "ENOTDIR" : "EIO";
      reject(e);
    });
  });
}

/** What the walk needs to know of an entry. */
export interface SourceStat {
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
  size: number;
  mtimeMs: number;
}

const fromNodeStats = (s: Awaited<ReturnType<typeof lstat>>): SourceStat => ({
  isFile: s.isFile(),
  isDirectory: s.isDirectory(),
  isSymbolicLink: s.isSymbolicLink(),
  size: Number(s.size),
  mtimeMs: Number(s.mtimeMs),
});

async function shellStat(p: string, follow: boolean): Promise<SourceStat> {
  const out = (await shWithPath(`exec stat ${follow ? "-L " : ""}-c '%F|%s|%.3Y' -- "$P"`, p)).toString().trim();
  const [kind = "", size = "0", mtime = "0"] = out.split("|");
  return {
    isFile: kind.startsWith("regular"),
    isDirectory: kind === "directory",
    isSymbolicLink: kind === "symbolic link",
    size: Number(size),
    mtimeMs: Math.round(Number(mtime) * 1000),
  };
}

/** The entry names of a folder (escaped where not UTF-8). */
export async function readFolderNames(dir: string): Promise<string[]> {
  if (!underDeno) {
    const names = await readdir(hasRawBytes(dir) ? Buffer.from(nameToBytes(dir)) : dir, { encoding: "buffer" });
    return names.map((n) => nameFromBytes(n));
  }
  // Deno decodes names lossily (U+FFFD); only then is the folder listed again through find, byte-exact.
  if (!hasRawBytes(dir)) {
    const names = await readdir(dir);
    if (!names.some((n) => n.includes("\ufffd"))) return names;
  }
  const out = await shWithPath(`cd -- "$P" && exec find . -mindepth 1 -maxdepth 1 -printf '%P\\0'`, dir);
  const names: string[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 0) {
      names.push(nameFromBytes(out.subarray(start, i)));
      start = i + 1;
    }
  }
  return names;
}

/** lstat (follow = false) or stat of a source path. */
export async function statSource(p: string, follow: boolean): Promise<SourceStat> {
  if (!hasRawBytes(p)) return fromNodeStats(follow ? await stat(p) : await lstat(p));
  if (underDeno) return shellStat(p, follow);
  const raw = Buffer.from(nameToBytes(p));
  return fromNodeStats(follow ? await stat(raw) : await lstat(raw));
}

/** The bytes of a source file. */
export async function readSourceFile(p: string): Promise<Uint8Array> {
  if (!hasRawBytes(p)) return new Uint8Array(await readFile(p));
  if (underDeno) return new Uint8Array(await shWithPath(`exec cat -- "$P"`, p));
  return new Uint8Array(await readFile(Buffer.from(nameToBytes(p))));
}

/** The canonical path of a source folder (link loops are detected by it). */
export async function realpathSource(p: string): Promise<string> {
  if (!hasRawBytes(p)) return realpath(p);
  if (underDeno) return nameFromBytes(new Uint8Array(await shWithPath(`exec realpath -z -- "$P"`, p)).subarray(0, -1));
  return nameFromBytes(await realpath(Buffer.from(nameToBytes(p)), { encoding: "buffer" }));
}
