/**
 * Aligned face crops for export. A crop of side S is cv2.warpAffine of the source through face_align.estimate_norm
 * (kps, S): for S a multiple of 128 (the 512 default) the ArcFace template is scaled by S/128 and shifted right by
 * 8*S/128 px, exactly as InsightFace does, so a 512 crop frames the face like a 128 crop, not like the 112 one:
 * the 112 recognition frame is the window x in [32, 480), y in [0, 448) of a 512 crop (see arcfaceTemplate).
 */
import { DEFAULT_CONFIG } from "../config";
import { estimateNorm, warpAffine } from "../face/align";
import type { Landmarks5, RgbImage } from "../types";

/** The aligned crop of one face, `sizePx` square (a multiple of 112 or 128; RangeError otherwise). */
export function alignedCrop(
  image: RgbImage,
  kps: Landmarks5,
  sizePx: number = DEFAULT_CONFIG.export.cropSizePx,
): RgbImage {
  return warpAffine(image, estimateNorm(kps, sizePx), sizePx, sizePx);
}

/** Digits of an index-based crop name (face_00042.png); larger indices use more digits. */
const INDEX_DIGITS = 5;
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * The crop file name of a face: `face_<faceId>.png` for a face id, `face_00042.png` for an index. Face ids are
 * used verbatim, so they must be file-name safe (letters, digits, _ and -, at most 128); anything else is
 * refused rather than mangled, because two mangled ids could meet on one name.
 */
export function cropFileName(faceIdOrIndex: string | number): string {
  if (typeof faceIdOrIndex === "number") {
    if (!Number.isSafeInteger(faceIdOrIndex) || faceIdOrIndex < 0) {
      throw new RangeError(`crop index must be a non-negative integer, got ${faceIdOrIndex}`);
    }
    return `face_${String(faceIdOrIndex).padStart(INDEX_DIGITS, "0")}.png`;
  }
  if (!SAFE_ID.test(faceIdOrIndex)) {
    throw new RangeError(
      `face id ${
        JSON.stringify(faceIdOrIndex)
      } is not file-name safe (letters, digits, _ and -, 1-128 chars); pass an index instead`,
    );
  }
  return `face_${faceIdOrIndex}.png`;
}
