/**
 * Names for crops entering a set folder. A new crop never takes a name the folder holds (temp files of other
 * processes included) or its manifest lists, case-insensitively (case-insensitive file systems); shared by the
 * library writers (addFacesets, appendToFaceset) and the curation verbs that move crops between sets.
 */
import path from "node:path";
import type { FacesetFace } from "./manifest";
import { MANIFEST_FILE } from "./manifest";

/** Lowercased names the folder holds (`folderFiles`) or its manifest lists (`faces`), and the manifest's own. */
export function takenCropNames(folderFiles: readonly string[], faces: readonly FacesetFace[]): Set<string> {
  const taken = new Set<string>([MANIFEST_FILE.toLowerCase()]);
  for (const file of folderFiles) taken.add(file.toLowerCase());
  for (const face of faces) taken.add(face.crop.toLowerCase());
  return taken;
}

/** The base name of `name`, or `stem-2.ext`, `stem-3.ext`, ...: the first not in `taken` (lowercased); adds it. */
export function unusedCropName(name: string, taken: Set<string>): string {
  const base = path.posix.basename(name);
  const ext = path.extname(base);
  const stem = base.slice(0, base.length - ext.length);
  let candidate = base;
  for (let i = 2; taken.has(candidate.toLowerCase()); i++) candidate = `${stem}-${i}${ext}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}
