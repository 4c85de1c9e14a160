/**
 * Multi-step library changes (curate's merge, move, split, dismiss, ..., undo) that a kill at any point never
 * leaves half done. Before the first change, the set folders the change touches are snapshotted as hard links
 * (crops are never rewritten in place and manifests are replaced by rename, so a link keeps the old bytes at no
 * cost) with the top-level manifest and the ledger, under `_ledger/undo/<seq>/`; then `_ledger/pending.json`
 * names the snapshot. The change ends by committing the ledger (see [Note: ledger commit] in ledger.ts) and
 * removing the journal. The next writer (under the library lock) finds a journal and either sees the ledger
 * committed (only the journal is removed) or puts the snapshot back: the library is exactly as before the change,
 * and re-running the command does it whole. A committed change keeps its snapshot for `curate undo`.
 */
import { copyFile, link, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { writeFileAtomic } from "../util/atomic";
import { LibraryError } from "./errors";
import { type Decision, type Ledger, LEDGER_SETS_FILE, ledgerDir, readDecisions } from "./ledger";
import { MANIFEST_FILE } from "./manifest";

export const LEDGER_JOURNAL_FILE = "pending.json";
export const UNDO_FOLDER = "undo";
const TRASH_MARK = ".trash-";
const TMP_MARK = ".tmp-";

/** `_ledger/undo/<seq>/meta.json`: what the snapshot holds. */
export interface SnapshotMeta {
  seq: number;
  verb: string;
  /** Paths relative to the library, and whether each existed before the change. */
  touched: { path: string; existed: boolean }[];
  manifestExisted: boolean;
}

interface Journal {
  seq: number;
  verb: string;
  /** Relative to `_ledger/`. */
  snapshot: string;
}

const exists = async (p: string) => (await lstat(p).catch(() => undefined)) !== undefined;

/**
 * Copy a tree as hard links (a plain copy where the file system has none); symlinks are copied as links. JSON
 * files (manifests, provenance) are always copied: they are small, and an editor that saves in place would
 * otherwise change the snapshot too.
 */
export async function linkTree(from: string, to: string): Promise<void> {
  const info = await lstat(from);
  if (info.isSymbolicLink()) {
    await symlink(await readlink(from), to);
  } else if (info.isDirectory()) {
    await mkdir(to, { recursive: true });
    for (const name of await readdir(from)) await linkTree(path.join(from, name), path.join(to, name));
  } else if (from.endsWith(".json")) {
    await copyFile(from, to);
  } else {
    try {
      await link(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV" && code !== "ENOSYS") throw err;
      await copyFile(from, to);
    }
  }
}

/** A relative library path that stays inside the library. */
function inside(libraryDir: string, rel: string): string {
  if (rel === "" || path.isAbsolute(rel) || rel.split(/[\\/]/).includes("..")) {
    throw new LibraryError(`${libraryDir}: refusing the path "${rel}" (not inside the library)`);
  }
  return path.join(libraryDir, rel);
}

/** Remove a folder by first renaming it aside, so a kill never leaves it half removed under its own name. */
export async function removeAside(libraryDir: string, target: string): Promise<void> {
  if (!(await exists(target))) return;
  const trash = path.join(ledgerDir(libraryDir), `${TRASH_MARK}${process.pid}-${Date.now()}-${path.basename(target)}`);
  await mkdir(path.dirname(trash), { recursive: true });
  await rename(target, trash);
  await rm(trash, { recursive: true, force: true });
}

/** Snapshot `touched` (library-relative paths) before change `seq`, then journal it. Returns the snapshot folder. */
export async function beginLedgerChange(libraryDir: string, seq: number, verb: string, touched: readonly string[]): Promise<string> {
  const dir = ledgerDir(libraryDir);
  const rel = path.posix.join(UNDO_FOLDER, String(seq));
  const final = path.join(dir, rel);
  const temp = `${final}${TMP_MARK}${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await rm(final, { recursive: true, force: true }); // an uncommitted change's leftover (cleanLedgerLeftovers)
  await mkdir(temp, { recursive: true });
  const meta: SnapshotMeta = { seq, verb, touched: [], manifestExisted: false };
  for (const p of new Set(touched)) {
    const source = inside(libraryDir, p);
    const existed = await exists(source);
    if (existed) await linkTree(source, path.join(temp, "folders", p));
    meta.touched.push({ path: p, existed });
  }
  const manifest = path.join(libraryDir, MANIFEST_FILE);
  if (await exists(manifest)) {
    await copyFile(manifest, path.join(temp, MANIFEST_FILE));
    meta.manifestExisted = true;
  }
  const sets = path.join(dir, LEDGER_SETS_FILE);
  if (await exists(sets)) await copyFile(sets, path.join(temp, LEDGER_SETS_FILE));
  await writeFileAtomic(path.join(temp, "meta.json"), JSON.stringify(meta, null, 1) + "\n");
  await rename(temp, final);
  const journal: Journal = { seq, verb, snapshot: rel };
  await writeFileAtomic(path.join(dir, LEDGER_JOURNAL_FILE), JSON.stringify(journal) + "\n");
  return rel;
}

/** The change is committed (the ledger holds its seq): drop the journal; the snapshot stays for undo. */
export async function endLedgerChange(libraryDir: string): Promise<void> {
  await rm(path.join(ledgerDir(libraryDir), LEDGER_JOURNAL_FILE), { force: true });
}

export async function readSnapshotMeta(libraryDir: string, snapshot: string): Promise<SnapshotMeta> {
  const file = path.join(ledgerDir(libraryDir), snapshot, "meta.json");
  try {
    return JSON.parse(await readFile(file, "utf8")) as SnapshotMeta;
  } catch (err) {
    throw new LibraryError(`${file}: cannot read the snapshot (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file);
  }
}

/**
 * Put the touched folders and the top-level manifest back as the snapshot holds them (not the ledger: recovery
 * leaves it uncommitted, undo restores only the sets it reverts). Idempotent: a kill during it is repaired by
 * running it again.
 */
export async function restoreSnapshot(libraryDir: string, snapshot: string): Promise<SnapshotMeta> {
  const meta = await readSnapshotMeta(libraryDir, snapshot);
  const root = path.join(ledgerDir(libraryDir), snapshot);
  for (const t of meta.touched) {
    const target = inside(libraryDir, t.path);
    await removeAside(libraryDir, target);
    if (!t.existed) continue;
    const temp = path.join(path.dirname(target), `.${path.basename(target)}${TMP_MARK}${process.pid}`);
    await rm(temp, { recursive: true, force: true });
    await mkdir(path.dirname(target), { recursive: true });
    await linkTree(path.join(root, "folders", t.path), temp);
    await rename(temp, target);
  }
  const manifest = path.join(libraryDir, MANIFEST_FILE);
  if (meta.manifestExisted) await writeFileAtomic(manifest, await readFile(path.join(root, MANIFEST_FILE)));
  else await rm(manifest, { force: true });
  return meta;
}

/** The ledger (sets.json) as the snapshot holds it; undefined when the library had none then. */
export async function snapshotLedgerText(libraryDir: string, snapshot: string): Promise<string | undefined> {
  return await readFile(path.join(ledgerDir(libraryDir), snapshot, LEDGER_SETS_FILE), "utf8").catch(() => undefined);
}

/**
 * Finish what a killed change left (call under the library lock, before reading the library to change it):
 * committed -> the journal goes; not committed -> the snapshot is put back. Returns a line for the warnings, or
 * undefined when nothing was pending.
 */
export async function recoverLedgerChange(libraryDir: string, ledger: Ledger | undefined): Promise<string | undefined> {
  const file = path.join(ledgerDir(libraryDir), LEDGER_JOURNAL_FILE);
  let journal: Journal;
  try {
    journal = JSON.parse(await readFile(file, "utf8")) as Journal;
  } catch {
    await rm(file, { force: true }); // absent, or cut short before its rename: nothing began
    return undefined;
  }
  if ((ledger?.lastSeq ?? 0) >= journal.seq) {
    await endLedgerChange(libraryDir);
    return undefined;
  }
  await restoreSnapshot(libraryDir, journal.snapshot);
  await rm(path.join(ledgerDir(libraryDir), journal.snapshot), { recursive: true, force: true });
  await endLedgerChange(libraryDir);
  return `${file}: an interrupted curate ${journal.verb} was rolled back; the library is as it was before it (run it again)`;
}

/** Remove temp and trash leftovers of killed changes, and snapshots of changes that were never committed. */
export async function cleanLedgerLeftovers(libraryDir: string, ledger: Ledger): Promise<void> {
  const dir = ledgerDir(libraryDir);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(TRASH_MARK)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
  const kept = new Set((await readDecisions(libraryDir, ledger.lastSeq)).flatMap((d: Decision) => (d.snapshot ? [d.snapshot] : [])));
  const undo = path.join(dir, UNDO_FOLDER);
  for (const name of await readdir(undo).catch(() => [] as string[])) {
    if (!kept.has(path.posix.join(UNDO_FOLDER, name))) await rm(path.join(undo, name), { recursive: true, force: true });
  }
}
