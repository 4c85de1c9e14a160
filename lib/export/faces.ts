/**
 * Store faces -> library face records with their PNG crops. Each source image is decoded once for all of its
 * faces (a group photo feeds several sets), then dropped, so memory stays at one image at a time.
 */
import type { RunConfig } from "../config";
import { loadImage } from "../image/load";
import type { NewFace } from "../library/write";
import type { FaceRow } from "../store/records";
import type { LoadedImage } from "../types";
import { alignedCrop, cropFileName } from "./crops";
import { encodePng } from "../image/save";

export interface FaceToExport {
  row: FaceRow;
  /** Cosine distance to the centroid of the set the face goes to. */
  centroidCosDist: number;
}

export class CropSourceError extends Error {
  override name = "CropSourceError";
}

/**
 * Render the crops of `faces` (any order; the result keeps it). The source is read from the face's first live
 * path whose bytes still hash to the face's content; a face without landmarks (imported) cannot be cropped.
 */
export async function renderFaces(
  faces: readonly FaceToExport[],
  config: RunConfig,
  onProgress?: (done: number, total: number) => void,
): Promise<NewFace[]> {
  // One decode per content and page (a multi-page TIFF's faces are on their own pages).
  const byContent = new Map<string, number[]>();
  faces.forEach((f, i) => {
    const key = `${f.row.page ?? 0}:${f.row.fileSha256}`;
    const list = byContent.get(key);
    if (list) list.push(i);
    else byContent.set(key, [i]);
  });
  const out: NewFace[] = new Array(faces.length);
  let done = 0;
  for (const indices of byContent.values()) {
    const first = faces[indices[0]!]!.row;
    const image = await loadSource(first, first.fileSha256, config);
    for (const i of indices) {
      const { row, centroidCosDist } = faces[i]!;
      if (!row.kps) throw new CropSourceError(`${row.path}: face ${row.faceId} has no landmarks; cannot align a crop`);
      const png = await encodePng(alignedCrop(image, row.kps, config.export.cropSizePx));
      out[i] = {
        source: row.path,
        bbox: row.bbox,
        detScore: row.detScore ?? 0,
        faceShortPx: row.faceShortPx,
        blur: row.blur ?? 0,
        crop: cropFileName(row.faceId),
        centroidCosDist,
        faceId: row.faceId,
        sourceSha256: row.fileSha256,
        kps: row.kps,
        png,
      };
      onProgress?.(++done, faces.length);
    }
  }
  return out;
}

async function loadSource(row: FaceRow, sha256: string, config: RunConfig): Promise<LoadedImage> {
  const candidates = [...new Set([row.path, ...row.paths])];
  const problems: string[] = [];
  for (const file of candidates) {
    try {
      const image = await loadImage(file, { maxPixels: config.image.maxPixels, page: row.page ?? 0 });
      if (image.sha256 === sha256) return image;
      problems.push(`${file}: content changed since the scan`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  throw new CropSourceError(
    `no readable source with the scanned content for face ${row.faceId} (${problems.join("; ") || "no live path"}); re-run scan`,
  );
}

/**
 * Render the faces of several sets in turn, with one progress over all of them. Each set's faces come back before
 * the next set is rendered, so a workflow can write one set while the others wait.
 */
export async function* renderFaceGroups<Group>(
  groups: readonly Group[],
  facesOf: (group: Group) => readonly FaceToExport[],
  config: RunConfig,
  onProgress?: (done: number, total: number) => void,
): AsyncGenerator<[Group, NewFace[]]> {
  const total = groups.reduce((n, group) => n + facesOf(group).length, 0);
  let before = 0;
  for (const group of groups) {
    const offset = before;
    const faces = await renderFaces(facesOf(group), config, (done) => onProgress?.(offset + done, total));
    before += faces.length;
    yield [group, faces];
  }
}
