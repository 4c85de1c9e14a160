import type { BBox, RgbImage } from "../types";

/** Shorter side of the bbox in pixels (the gates' face_short). */
export function faceShortPx(bbox: BBox): number {
  return Math.min(bbox[2] - bbox[0], bbox[3] - bbox[1]);
}

/**
 * Sharpness as InsightFace-era tooling measures it: population variance of cv2.Laplacian(gray, CV_64F) (ksize 1:
 * kernel [[0,1,0],[1,-4,1],[0,1,0]], reflect-101 border) over the bbox crop clamped to the image with int()
 * truncation; grey is cv2's fixed-point BGR2GRAY. Returns 0 for an empty crop.
 */
export function laplacianVariance(image: RgbImage, bbox: BBox): number {
  const x1 = Math.max(0, Math.trunc(bbox[0]));
  const y1 = Math.max(0, Math.trunc(bbox[1]));
  const x2 = Math.min(image.width, Math.trunc(bbox[2]));
  const y2 = Math.min(image.height, Math.trunc(bbox[3]));
  const w = x2 - x1;
  const h = y2 - y1;
  if (w <= 0 || h <= 0) return 0;
  const gray = new Int32Array(w * h);
  const src = image.data;
  for (let y = 0; y < h; y++) {
    let s = ((y + y1) * image.width + x1) * 3;
    for (let x = 0; x < w; x++, s += 3) {
      // cv2 RGB->GRAY for 8-bit: 14-bit fixed-point weights 4899, 9617, 1868 with rounding.
      gray[y * w + x] = (src[s]! * 4899 + src[s + 1]! * 9617 + src[s + 2]! * 1868 + (1 << 13)) >> 14;
    }
  }
  const reflect = (i: number, n: number) => {
    if (n === 1) return 0;
    if (i < 0) return -i;
    if (i >= n) return 2 * n - 2 - i;
    return i;
  };
  let sum = 0;
  let sumSq = 0;
  for (let y = 0; y < h; y++) {
    const up = reflect(y - 1, h) * w, mid = y * w, down = reflect(y + 1, h) * w;
    for (let x = 0; x < w; x++) {
      const left = reflect(x - 1, w), right = reflect(x + 1, w);
      const v = gray[up + x]! + gray[down + x]! + gray[mid + left]! + gray[mid + right]! - 4 * gray[mid + x]!;
      sum += v;
      sumSq += v * v;
    }
  }
  const n = w * h;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}
