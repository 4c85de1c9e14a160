import type { Landmarks5, Point, RgbImage } from "../types";
import { cvRound } from "../util/round";

/** A 2x3 affine matrix [[a, b, tx], [c, d, ty]] mapping source pixels to destination pixels. */
export type Affine = [[number, number, number], [number, number, number]];

/** InsightFace's arcface_dst: where the 5 landmarks sit in a 112x112 ArcFace crop. */
export const ARCFACE_TEMPLATE_112: readonly Point[] = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
]) as readonly Point[];

/** The template scaled to a crop side as face_align.estimate_norm does (multiples of 112, or of 128 with an 8 px shift). */
export function arcfaceTemplate(sizePx: number): Point[] {
  let ratio: number;
  let shiftX: number;
  if (sizePx % 112 === 0) {
    ratio = sizePx / 112;
    shiftX = 0;
  } else if (sizePx % 128 === 0) {
    ratio = sizePx / 128;
    shiftX = 8 * ratio;
  } else {
    throw new RangeError(`crop size must be a multiple of 112 or 128 (estimate_norm), got ${sizePx}`);
  }
  return ARCFACE_TEMPLATE_112.map(([x, y]) => [x * ratio + shiftX, y * ratio]);
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection) taking `src` onto `dst`.
 * For 2-D points this closed form equals Umeyama's estimate (skimage SimilarityTransform.estimate) whenever the
 * optimal rotation is proper, which holds for any real face's landmarks.
 */
export function similarityTransform(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0];
    sy += src[i]![1];
    dx += dst[i]![0];
    dy += dst[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const ax = src[i]![0] - sx, ay = src[i]![1] - sy;
    const bx = dst[i]![0] - dx, by = dst[i]![1] - dy;
    dot += ax * bx + ay * by;
    cross += ax * by - ay * bx;
    norm += ax * ax + ay * ay;
  }
  const a = dot / norm;
  const b = cross / norm;
  return [
    [a, -b, dx - (a * sx - b * sy)],
    [b, a, dy - (b * sx + a * sy)],
  ];
}

/** The source -> crop matrix of face_align.estimate_norm for a crop of `sizePx`. */
export function estimateNorm(kps: Landmarks5, sizePx = 112): Affine {
  return similarityTransform(kps, arcfaceTemplate(sizePx));
}

// cv2.warpAffine's fixed-point sampling: coordinates with 10 fractional bits, snapped to 1/32 pixel,
// bilinear weights in 15-bit fixed point.
const AB_BITS = 10;
const AB_SCALE = 1 << AB_BITS;
const INTER_BITS = 5;
const INTER_TAB_SIZE = 1 << INTER_BITS;
const REMAP_BITS = 15;
const REMAP_SCALE = 1 << REMAP_BITS;

/**
 * cv2.warpAffine(image, M, (width, height), INTER_LINEAR, BORDER_CONSTANT, 0) for 8-bit RGB: M maps source to
 * destination; each destination pixel samples the source at M^-1, snapped to 1/32 pixel as OpenCV does.
 */
export function warpAffine(image: RgbImage, m: Affine, width: number, height: number): RgbImage {
  const [[m0, m1, m2], [m3, m4, m5]] = m;
  const det = m0 * m4 - m1 * m3;
  const invDet = det !== 0 ? 1 / det : 0;
  const i0 = m4 * invDet, i1 = -m1 * invDet, i3 = -m3 * invDet, i4 = m0 * invDet;
  const i2 = -i0 * m2 - i1 * m5;
  const i5 = -i3 * m2 - i4 * m5;

  const out = new Uint8Array(width * height * 3);
  const sw = image.width, sh = image.height, src = image.data;
  const roundDelta = AB_SCALE / INTER_TAB_SIZE / 2;
  const adelta = new Int32Array(width);
  const bdelta = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    adelta[x] = cvRound(i0 * x * AB_SCALE);
    bdelta[x] = cvRound(i3 * x * AB_SCALE);
  }
  const pixel = (x: number, y: number, c: number) =>
    x >= 0 && x < sw && y >= 0 && y < sh ? src[(y * sw + x) * 3 + c]! : 0;

  for (let y = 0; y < height; y++) {
    const x0 = cvRound((i1 * y + i2) * AB_SCALE) + roundDelta;
    const y0 = cvRound((i4 * y + i5) * AB_SCALE) + roundDelta;
    for (let x = 0; x < width; x++) {
      const X = (x0 + adelta[x]!) >> (AB_BITS - INTER_BITS);
      const Y = (y0 + bdelta[x]!) >> (AB_BITS - INTER_BITS);
      const sx = X >> INTER_BITS;
      const sy = Y >> INTER_BITS;
      const o = (y * width + x) * 3;
      if (sx >= sw || sx + 1 < 0 || sy >= sh || sy + 1 < 0) continue; // fully outside: border value 0
      const fx = (X & (INTER_TAB_SIZE - 1)) / INTER_TAB_SIZE;
      const fy = (Y & (INTER_TAB_SIZE - 1)) / INTER_TAB_SIZE;
      // Products of multiples of 1/32 are exact in 15-bit fixed point, so no table renormalisation is needed.
      const w00 = (1 - fx) * (1 - fy) * REMAP_SCALE;
      const w01 = fx * (1 - fy) * REMAP_SCALE;
      const w10 = (1 - fx) * fy * REMAP_SCALE;
      const w11 = fx * fy * REMAP_SCALE;
      const inside = sx >= 0 && sy >= 0 && sx + 1 < sw && sy + 1 < sh;
      for (let c = 0; c < 3; c++) {
        let acc: number;
        if (inside) {
          const p = (sy * sw + sx) * 3 + c;
          const q = p + sw * 3;
          acc = src[p]! * w00 + src[p + 3]! * w01 + src[q]! * w10 + src[q + 3]! * w11;
        } else {
          acc = pixel(sx, sy, c) * w00 + pixel(sx + 1, sy, c) * w01 + pixel(sx, sy + 1, c) * w10 +
            pixel(sx + 1, sy + 1, c) * w11;
        }
        const v = (acc + (1 << (REMAP_BITS - 1))) >> REMAP_BITS;
        out[o + c] = v > 255 ? 255 : v;
      }
    }
  }
  return { width, height, data: out };
}

/** The aligned ArcFace crop of one face (face_align.norm_crop). */
export function normCrop(image: RgbImage, kps: Landmarks5, sizePx = 112): { crop: RgbImage; matrix: Affine } {
  const matrix = estimateNorm(kps, sizePx);
  return { crop: warpAffine(image, matrix, sizePx, sizePx), matrix };
}
