/**
 * The store face as every per-face decision records it (discovery, hand-sorted folders, extend), so a run record
 * says which face each decision is about and how it measured, whatever the plan.
 */
import type { FaceRow } from "../store/records";

export type DecidedFace = Pick<FaceRow, "faceId" | "path" | "fileSha256" | "bbox" | "faceShortPx" | "blur" | "sharpness" | "detScore">;

/** The decision fields of `row`, in the order run records list them. */
export function decidedFace(row: FaceRow): DecidedFace {
  return {
    faceId: row.faceId,
    path: row.path,
    fileSha256: row.fileSha256,
    bbox: row.bbox,
    faceShortPx: row.faceShortPx,
    blur: row.blur,
    sharpness: row.sharpness,
    detScore: row.detScore,
  };
}
