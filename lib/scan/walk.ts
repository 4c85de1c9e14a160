import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { IMAGE_EXTENSIONS } from "../image/load";

export interface WalkOptions {
  /** Follow symbolic links to files and folders (default false, so link loops cannot happen). */
  followSymlinks?: boolean;
  /** Extensions to pick up, lowercase with the dot (default: the loader's). */
  extensions?: readonly string[];
  /** Told of each face-set library found under the root and left out (its crops are not photos). */
  onLibrarySkipped?: (dir: string) => void;
}

export interface WalkedFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Folders we never descend into: our own temp files and OS metadata, not photos. */
const SKIPPED_DIRS = new Set([".git", "@eaDir", ".Trashes", ".Spotlight-V100"]);

/**
 * Whether `dir` is a face-set library: its manifest.json is an object with a `facesets` array. Its crops would
 * otherwise be scanned as photos and fed back into discovery. Any read or parse problem means "not a library".
 */
async function isFacesetLibrary(dir: string): Promise<boolean> {
  try {
    const json = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as unknown;
    return typeof json === "object" && json !== null && Array.isArray((json as { facesets?: unknown }).facesets);
  } catch {
    return false;
  }
}

/**
 * Image files under `root`, recursively, in a stable order (sorted by name per folder). Extensions match in any
 * case. Unreadable folders are reported through `onError` and skipped; the walk goes on.
 */
export async function walkImages(
  root: string,
  { followSymlinks = false, extensions = IMAGE_EXTENSIONS, onLibrarySkipped = () => {} }: WalkOptions = {},
  onError: (dir: string, err: unknown) => void = () => {},
): Promise<WalkedFile[]> {
  const out: WalkedFile[] = [];
  const visited = new Set<string>();
  const wanted = (name: string) => extensions.includes(path.extname(name).toLowerCase());

  const visit = async (dir: string): Promise<void> => {
    if (followSymlinks) {
      const real = await realpath(dir);
      if (visited.has(real)) return; // a link loop or a second link to the same folder
      visited.add(real);
    }
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      onError(dir, err);
      return;
    }
    if (names.includes("manifest.json") && await isFacesetLibrary(dir)) {
      onLibrarySkipped(dir);
      return;
    }
    for (const name of names) {
      const full = path.join(dir, name);
      let info;
      try {
        info = await lstat(full);
        if (info.isSymbolicLink()) {
          if (!followSymlinks) continue;
          info = await stat(full);
        }
      } catch (err) {
        onError(full, err);
        continue;
      }
      if (info.isDirectory()) {
        if (!SKIPPED_DIRS.has(name)) await visit(full);
      } else if (info.isFile() && wanted(name)) {
        out.push({ path: full, size: info.size, mtimeMs: Math.trunc(info.mtimeMs) });
      }
    }
  };
  await visit(root);
  return out;
}
