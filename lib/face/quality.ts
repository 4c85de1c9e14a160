import type { BBox, RgbImage } from "../types";

/** Shorter side of the bbox in pixels (the gates' face_short). */
export function faceShortPx(bbox: BBox): number {
  return Math.min(bbox[2] - bbox[0], bbox[3] - bbox[1]);
}

/** The bbox clamped to the image with int() truncation, as the InsightFace-era tools crop it; null when empty. */
function boxRegion(image: RgbImage, bbox: BBox): { x1: number; y1: number; w: number; h: number } | null {
  const x1 = Math.max(0, Math.trunc(bbox[0]));
  const y1 = Math.max(0, Math.trunc(bbox[1]));
  const x2 = Math.min(image.width, Math.trunc(bbox[2]));
  const y2 = Math.min(image.height, Math.trunc(bbox[3]));
  const w = x2 - x1;
  const h = y2 - y1;
  return w > 0 && h > 0 ? { x1, y1, w, h } : null;
}

/**
 * cv2's fixed-point BGR2GRAY of the region (14-bit weights 4899, 9617, 1868 with rounding), row-major. Held as
 * float64 (the integers are exact) so the Laplacian reads one array type for both measures and stays monomorphic.
 */
function grayRegion(image: RgbImage, r: { x1: number; y1: number; w: number; h: number }): Float64Array {
  const gray = new Float64Array(r.w * r.h);
  const src = image.data;
  for (let y = 0; y < r.h; y++) {
    let s = ((y + r.y1) * image.width + r.x1) * 3;
    for (let x = 0; x < r.w; x++, s += 3) {
      gray[y * r.w + x] = (src[s]! * 4899 + src[s + 1]! * 9617 + src[s + 2]! * 1868 + (1 << 13)) >> 14;
    }
  }
  return gray;
}

/**
 * Population variance of the 4-neighbour Laplacian (cv2.Laplacian ksize 1: [[0,1,0],[1,-4,1],[0,1,0]], reflect-101
 * border) of a w x h grey image. Interior pixels are summed without border checks (a 24 MP photo's face box holds
 * millions of them); the sums of integer input are exact in doubles, so the order does not change the result.
 */
function laplacianVarianceOf(gray: Float64Array, w: number, h: number): number {
  const reflect = (i: number, n: number) => {
    if (n === 1) return 0;
    if (i < 0) return -i;
    if (i >= n) return 2 * n - 2 - i;
    return i;
  };
  let sum = 0;
  let sumSq = 0;
  const at = (x: number, y: number) => {
    const up = reflect(y - 1, h) * w, mid = y * w, down = reflect(y + 1, h) * w;
    const v = gray[up + x]! + gray[down + x]! + gray[mid + reflect(x - 1, w)]! + gray[mid + reflect(x + 1, w)]! - 4 * gray[mid + x]!;
    sum += v;
    sumSq += v * v;
  };
  for (let y = 0; y < h; y++) {
    if (y === 0 || y === h - 1 || w < 3) {
      for (let x = 0; x < w; x++) at(x, y);
      continue;
    }
    at(0, y);
    const mid = y * w;
    for (let i = mid + 1, end = mid + w - 1; i < end; i++) {
      const v = gray[i - w]! + gray[i + w]! + gray[i - 1]! + gray[i + 1]! - 4 * gray[i]!;
      sum += v;
      sumSq += v * v;
    }
    at(w - 1, y);
  }
  const n = w * h;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/**
 * Sharpness as InsightFace-era tooling measures it: population variance of cv2.Laplacian(gray, CV_64F) (ksize 1:
 * kernel [[0,1,0],[1,-4,1],[0,1,0]], reflect-101 border) over the bbox crop clamped to the image with int()
 * truncation; grey is cv2's fixed-point BGR2GRAY. Returns 0 for an empty crop. Kept as is for parity and export:
 * it falls as faces get larger (see faceSharpness).
 */
export function laplacianVariance(image: RgbImage, bbox: BBox): number {
  const r = boxRegion(image, bbox);
  if (!r) return 0;
  return laplacianVarianceOf(grayRegion(image, r), r.w, r.h);
}

/** `blur` and `sharpness` of one face from one grey conversion of its box (what the engine stores). */
export function faceQuality(image: RgbImage, bbox: BBox): { blur: number; sharpness: number } {
  const r = boxRegion(image, bbox);
  if (!r) return { blur: 0, sharpness: 0 };
  const gray = grayRegion(image, r);
  return { blur: laplacianVarianceOf(gray, r.w, r.h), sharpness: sharpnessOfGray(gray, r.w, r.h) };
}

/** The face size faceSharpness measures at: the box's shorter side is brought down to this many pixels. */
export const SHARPNESS_SIDE_PX = 64;

/**
 * Size-independent sharpness: laplacianVariance of the face as it would look with its box's shorter side at
 * SHARPNESS_SIDE_PX (64) pixels. The grey box is area-averaged down (each output pixel the exact mean of the source
 * area it covers, as cv2.INTER_AREA), keeping its aspect; a box already that small is measured as it is, so for
 * faces up to 64 px sharpness equals `blur`. Measured on the shared photos rescaled by 1/2, 2 and 4 (docs/sharpness.md):
 * the median ratio to the original stays within 0.95-1.01, where `blur` moves by 0.5x-100x.
 */
export function faceSharpness(image: RgbImage, bbox: BBox): number {
  const r = boxRegion(image, bbox);
  return r ? sharpnessOfGray(grayRegion(image, r), r.w, r.h) : 0;
}

function sharpnessOfGray(gray: Float64Array, w: number, h: number): number {
  const scale = SHARPNESS_SIDE_PX / Math.min(w, h);
  if (scale >= 1) return laplacianVarianceOf(gray, w, h);
  const tw = Math.max(1, Math.round(w * scale));
  const th = Math.max(1, Math.round(h * scale));
  return laplacianVarianceOf(areaDownscale(gray, w, h, tw, th), tw, th);
}

/** Area-average a w x h grey image down to tw x th (tw <= w, th <= h): each output pixel is its source area's mean. */
function areaDownscale(gray: Float64Array, w: number, h: number, tw: number, th: number): Float64Array {
  const sx = w / tw;
  const sy = h / th;
  // Horizontal pass into th-independent column sums per source row, then vertical: separable box weights.
  const rows = new Float64Array(h * tw);
  for (let y = 0; y < h; y++) {
    for (let ox = 0; ox < tw; ox++) {
      const f0 = ox * sx, f1 = f0 + sx;
      let acc = 0;
      for (let x = Math.floor(f0); x < Math.min(w, Math.ceil(f1)); x++) {
        acc += gray[y * w + x]! * (Math.min(f1, x + 1) - Math.max(f0, x));
      }
      rows[y * tw + ox] = acc / sx;
    }
  }
  const out = new Float64Array(tw * th);
  for (let oy = 0; oy < th; oy++) {
    const f0 = oy * sy, f1 = f0 + sy;
    for (let y = Math.floor(f0); y < Math.min(h, Math.ceil(f1)); y++) {
      const wy = (Math.min(f1, y + 1) - Math.max(f0, y)) / sy;
      for (let ox = 0; ox < tw; ox++) out[oy * tw + ox] = out[oy * tw + ox]! + rows[y * tw + ox]! * wy;
    }
  }
  return out;
}
