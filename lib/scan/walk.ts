import path from "node:path";
import { IMAGE_EXTENSIONS } from "../image/formats";
import { readFolderNames, readSourceFile, realpathSource, type SourceStat, statSource } from "../util/source_names";

export interface WalkOptions {
  /** Follow symbolic links to files and folders (default false, so link loops cannot happen). */
  followSymlinks?: boolean;
  /** Extensions to pick up, lowercase with the dot (default: the loader's). */
  extensions?: readonly string[];
  /** Told of each face-set library found under the root and left out (its crops are not photos). */
  onLibrarySkipped?: (dir: string) => void;
}

export interface WalkedFile {
  /** The path (names that are not UTF-8 carry escaped bytes: lib/util/source_names.ts). */
  path: string;
  size: number;
  mtimeMs: number;
  /** A followed symbolic link whose target does not exist: recorded as an error, never read. */
  brokenLink?: boolean;
}

/** Why a file under the source is deliberately not read. */
export type IgnoredReason = "system-file" | "symlink-not-followed" | "in-faceset-library" | "not-a-regular-file";
export const IGNORED_REASONS: readonly IgnoredReason[] = ["system-file", "symlink-not-followed", "in-faceset-library", "not-a-regular-file"];

export interface UnreadableFolder {
  path: string;
  /** One line: the error code and what follows for the photos recorded under it. */
  reason: string;
}

/** Every non-folder entry under the root, in exactly one bucket. */
export interface WalkResult {
  /** Files with a photo extension, in a stable order (sorted by name per folder): these are read. */
  images: WalkedFile[];
  /** Every non-folder entry seen (images + unsupported + ignored). */
  files: number;
  /** Files with another extension: lowercase extension with the dot ("" when none) -> count. */
  unsupported: Map<string, number>;
  /** Files not read on purpose, by reason. */
  ignored: Map<IgnoredReason, number>;
  /** Folders that could not be listed: their files are not counted, and their recorded photos are kept. */
  unreadableFolders: UnreadableFolder[];
  /** Face-set libraries left out. */
  libraries: string[];
}

/** Folders of OS metadata and version control: their files are counted as ignored system files, never read. */
const SYSTEM_DIRS = new Set([".git", "@eaDir", ".Trashes", ".Spotlight-V100", ".fseventsd", "$RECYCLE.BIN", "System Volume Information"]);
/** Files operating systems and photo tools leave beside photos. */
const SYSTEM_FILES = new Set([".ds_store", "thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", ".localized", "icon\r", ".picasa.ini", "picasa.ini"]);
const isSystemFile = (name: string) => SYSTEM_FILES.has(name.toLowerCase()) || name.startsWith("._");

/**
 * Whether `dir` is a face-set library: its manifest.json is an object with a `facesets` array. Its crops would
 * otherwise be scanned as photos and fed back into discovery. Any read or parse problem means "not a library".
 */
async function isFacesetLibrary(dir: string): Promise<boolean> {
  try {
    const text = new TextDecoder().decode(await readSourceFile(path.join(dir, "manifest.json")));
    const json = JSON.parse(text) as unknown;
    return typeof json === "object" && json !== null && Array.isArray((json as { facesets?: unknown }).facesets);
  } catch {
    return false;
  }
}

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException)?.code ?? String(err);

/**
 * Every entry under `root`, recursively, each in one bucket: photos to read (by extension, any case),
 * unsupported extensions, ignored files (system files, links not followed, face-set library contents, sockets
 * and the like) and folders that cannot be listed. The walk never stops on an unreadable folder.
 */
export async function walkTree(
  root: string,
  { followSymlinks = false, extensions = IMAGE_EXTENSIONS, onLibrarySkipped = () => {} }: WalkOptions = {},
): Promise<WalkResult> {
  const result: WalkResult = { images: [], files: 0, unsupported: new Map(), ignored: new Map(), unreadableFolders: [], libraries: [] };
  const visited = new Set<string>();
  const wanted = (name: string) => extensions.includes(path.extname(name).toLowerCase());
  const ignore = (why: IgnoredReason) => {
    result.files++;
    result.ignored.set(why, (result.ignored.get(why) ?? 0) + 1);
  };

  /** List a folder, or record it as unreadable. */
  const list = async (dir: string): Promise<string[] | undefined> => {
    try {
      return (await readFolderNames(dir)).sort();
    } catch (err) {
      result.unreadableFolders.push({ path: dir, reason: `folder cannot be listed (${codeOf(err)}); the photos recorded under it keep their records` });
      return undefined;
    }
  };

  /** Count everything under a folder that is not read (a library, a system folder) as ignored. */
  const countIgnored = async (dir: string, why: IgnoredReason): Promise<void> => {
    const names = await list(dir);
    for (const name of names ?? []) {
      const full = path.join(dir, name);
      const info = await statSource(full, false).catch(() => undefined);
      if (info?.isDirectory) await countIgnored(full, why);
      else ignore(why);
    }
  };

  const visit = async (dir: string): Promise<void> => {
    if (followSymlinks) {
      const real = await realpathSource(dir).catch(() => dir);
      if (visited.has(real)) return; // a link loop or a second link to the same folder
      visited.add(real);
    }
    const names = await list(dir);
    if (names === undefined) return;
    if (names.includes("manifest.json") && await isFacesetLibrary(dir)) {
      result.libraries.push(dir);
      onLibrarySkipped(dir);
      await countIgnored(dir, "in-faceset-library");
      return;
    }
    for (const name of names) {
      const full = path.join(dir, name);
      let info: SourceStat;
      try {
        info = await statSource(full, false);
      } catch {
        ignore("not-a-regular-file"); // vanished between listing and looking: nothing to read
        continue;
      }
      if (info.isSymbolicLink) {
        if (!followSymlinks) {
          ignore("symlink-not-followed");
          continue;
        }
        try {
          info = await statSource(full, true);
        } catch {
          // A dangling link the user asked us to follow: a file we cannot read, so it gets a record saying why.
          result.files++;
          if (wanted(name)) result.images.push({ path: full, size: 0, mtimeMs: 0, brokenLink: true });
          else countUnsupported(result, name);
          continue;
        }
      }
      if (info.isDirectory) {
        if (SYSTEM_DIRS.has(name)) await countIgnored(full, "system-file");
        else await visit(full);
      } else if (!info.isFile) {
        ignore("not-a-regular-file");
      } else if (isSystemFile(name)) {
        ignore("system-file");
      } else {
        result.files++;
        if (wanted(name)) result.images.push({ path: full, size: info.size, mtimeMs: Math.trunc(info.mtimeMs) });
        else countUnsupported(result, name);
      }
    }
  };
  await visit(root);
  return result;
}

function countUnsupported(result: WalkResult, name: string): void {
  const ext = path.extname(name).toLowerCase();
  result.unsupported.set(ext, (result.unsupported.get(ext) ?? 0) + 1);
}

/**
 * Image files under `root` (the `images` of walkTree). Unreadable folders are reported through `onError` and
 * skipped; the walk goes on.
 */
export async function walkImages(
  root: string,
  options: WalkOptions = {},
  onError: (dir: string, err: unknown) => void = () => {},
): Promise<WalkedFile[]> {
  const result = await walkTree(root, options);
  for (const f of result.unreadableFolders) onError(f.path, new Error(f.reason));
  return result.images;
}
