/**
 * The file work of curation verbs: crops move between set folders by rename (bytes never rewritten), under names
 * the target folder has never used; set folders move between the set list and `_dismissed/` by rename.
 */
import { mkdir, readdir, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import type { FacesetFace } from "../library/manifest";
import { takenCropNames, unusedCropName } from "../library/crop_names";
import type { LoadedFaceset } from "../library/read";
import { exists } from "./run";

/** Lowercased names a set folder holds or its manifest lists (a new crop takes none of them). */
export async function takenNames(set: LoadedFaceset): Promise<Set<string>> {
  return takenCropNames(await readdir(set.dir).catch(() => [] as string[]), set.manifest.faces);
}

/** A planned crop move: the face record as it will read in the target. */
export interface CropMove {
  from: string;
  to: string;
  face: FacesetFace;
}

/** Plan moving `faces` of `from` into the folder `toDir` (names from `taken`), marking each with `moved_from`. */
export function planCropMoves(from: LoadedFaceset, faces: readonly FacesetFace[], toDir: string, taken: Set<string>): CropMove[] {
  return faces.map((face) => {
    const crop = unusedCropName(face.crop, taken);
    return {
      from: path.join(from.dir, face.crop),
      to: path.join(toDir, crop),
      face: { ...face, crop, extra: { ...face.extra, moved_from: from.name } },
    };
  });
}

/** Rename the crops; a crop already gone (deleted by hand meanwhile) is skipped, its face still moves. */
export async function moveCrops(moves: readonly CropMove[]): Promise<void> {
  for (const m of moves) {
    if (!(await exists(m.from))) continue;
    await mkdir(path.dirname(m.to), { recursive: true });
    await rename(m.from, m.to);
  }
}

/** Delete crops of faces taken out of a set (the undo snapshot keeps their bytes). */
export async function removeCrops(set: LoadedFaceset, faces: readonly FacesetFace[]): Promise<void> {
  for (const face of faces) await unlink(path.join(set.dir, face.crop)).catch(() => undefined);
}

/** The claimed_face_ids of a set's provenance.json ([] when it has none). */
export async function provenanceClaims(setDir: string): Promise<string[]> {
  try {
    const json = JSON.parse(await readFile(path.join(setDir, "provenance.json"), "utf8")) as { claimed_face_ids?: unknown };
    const ids = json.claimed_face_ids;
    return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}
