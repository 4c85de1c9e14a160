/**
 * A library write journal, so a write killed half-way is completed by the next one.
 *
 * A library write touches several files that no single rename can swap together: new set folders are renamed into
 * place one by one and only then listed in the top-level manifest, and `extend` replaces a set's manifest before
 * the top-level count. Before those steps the writer records, atomically, the top-level manifest it is about to
 * write and what must be on disk for it to be true. Killed in between, the journal stays; the next write (under
 * the library lock, before it reads anything) writes that manifest, leaving out the sets whose folders never
 * arrived, and a manifest whose set-manifest step never happened is dropped. Readers only warn.
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../util/atomic";
import { formatManifest, MANIFEST_FILE } from "./manifest";

export const PENDING_FILE = ".facesets-pending.json";

type JsonObject = Record<string, unknown>;

export interface PendingWrite {
  /** The top-level manifest JSON the write ends with. */
  manifest: JsonObject;
  /** Sets the write moves into place (dir relative to the library); entries of those that never arrived are left out. */
  placed: { name: string; dir: string }[];
  /** A set manifest the write replaces first: the journal holds only once it has this many faces. */
  setManifest?: { dir: string; faces: number };
}

export function pendingFile(libraryDir: string): string {
  return path.join(libraryDir, PENDING_FILE);
}

export async function recordPendingWrite(libraryDir: string, pending: PendingWrite): Promise<void> {
  await writeFileAtomic(pendingFile(libraryDir), JSON.stringify(pending) + "\n");
}

export async function clearPendingWrite(libraryDir: string): Promise<void> {
  await rm(pendingFile(libraryDir), { force: true });
}

async function readJson(file: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch {
    return undefined;
  }
}

async function facesIn(setDir: string): Promise<number | undefined> {
  const json = await readJson(path.join(setDir, MANIFEST_FILE)) as { faces?: unknown } | undefined;
  return Array.isArray(json?.faces) ? json.faces.length : undefined;
}

/**
 * Complete (or drop) a write a killed process left journaled. Call under the library lock, before reading the
 * library. Returns what was done, for the caller's warnings; undefined when nothing was pending.
 */
export async function completePendingWrite(libraryDir: string): Promise<string | undefined> {
  const file = pendingFile(libraryDir);
  const pending = await readJson(file) as PendingWrite | undefined;
  if (pending === undefined) {
    await clearPendingWrite(libraryDir); // absent, or a journal cut short before its rename: nothing to complete
    return undefined;
  }
  const manifest = { ...pending.manifest };
  if (pending.setManifest) {
    const faces = await facesIn(path.join(libraryDir, pending.setManifest.dir));
    if (faces !== pending.setManifest.faces) {
      await clearPendingWrite(libraryDir);
      return `${file}: an interrupted write had not replaced ${pending.setManifest.dir}/${MANIFEST_FILE}; dropped it`;
    }
  }
  const missing = new Set<string>();
  for (const p of pending.placed) {
    if (await facesIn(path.join(libraryDir, p.dir)) === undefined) missing.add(p.name);
  }
  const keep = (e: unknown) => !(typeof e === "object" && e !== null && missing.has((e as { name?: string }).name ?? ""));
  for (const key of ["facesets", "thin_eras"]) {
    if (Array.isArray(manifest[key])) manifest[key] = (manifest[key] as unknown[]).filter(keep);
  }
  await writeFileAtomic(path.join(libraryDir, MANIFEST_FILE), formatManifest(manifest));
  await clearPendingWrite(libraryDir);
  const arrived = pending.placed.filter((p) => !missing.has(p.name)).map((p) => p.name);
  return `${file}: completed an interrupted write` + (arrived.length > 0 ? ` (listed ${arrived.join(", ")})` : "");
}
