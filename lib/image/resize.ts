import type { RgbImage } from "../types";
import { cvRound } from "../util/round";

/**
 * Bilinear resize with the arithmetic of OpenCV's `cv2.resize(..., INTER_LINEAR)` for 8-bit images:
 * half-pixel centres, edge clamping, 11-bit fixed-point weights and the SIMD vertical pass's rounding.
 * SCRFD was calibrated on OpenCV's output, so the detector input must be made the same way
 * (sharp's resamplers would shift scores and landmarks).
 */
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

interface AxisTable {
  /** Source index of the left/top neighbour per destination index. */
  offset: Int32Array;
  /** Fixed-point weight of the left/top neighbour (the other gets COEF_SCALE - w). */
  weight0: Int32Array;
  weight1: Int32Array;
}

function axisTable(srcSize: number, dstSize: number): AxisTable {
  // OpenCV derives the step as 1 / (dst / src), which differs from src / dst in the last bits.
  const scale = 1 / (dstSize / srcSize);
  const offset = new Int32Array(dstSize);
  const weight0 = new Int32Array(dstSize);
  const weight1 = new Int32Array(dstSize);
  for (let d = 0; d < dstSize; d++) {
    // OpenCV computes the position in double, then stores it as a float before splitting it.
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (s < 0) {
      f = 0;
      s = 0;
    }
    if (s >= srcSize - 1) {
      f = 0;
      s = srcSize - 1;
    }
    offset[d] = s;
    // saturate_cast<short>(x * 2048) rounds half to even; the two weights may then sum to 2049, as in OpenCV.
    weight0[d] = cvRound(Math.fround(1 - f) * COEF_SCALE);
    weight1[d] = cvRound(f * COEF_SCALE);
  }
  return { offset, weight0, weight1 };
}

/** 2x2 box average: OpenCV switches INTER_LINEAR to INTER_AREA for an exact halving. */
function halve(src: RgbImage): RgbImage {
  const width = src.width / 2;
  const height = src.height / 2;
  const out = new Uint8Array(width * height * 3);
  const stride = src.width * 3;
  for (let y = 0; y < height; y++) {
    const r0 = 2 * y * stride;
    const r1 = r0 + stride;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const i = 6 * x + c;
        const sum = src.data[r0 + i]! + src.data[r0 + i + 3]! + src.data[r1 + i]! + src.data[r1 + i + 3]!;
        out[(y * width + x) * 3 + c] = (sum + 2) >> 2;
      }
    }
  }
  return { width, height, data: out };
}

export function resizeBilinear(src: RgbImage, width: number, height: number): RgbImage {
  if (width <= 0 || height <= 0) throw new RangeError(`resize target must be positive, got ${width}x${height}`);
  if (width === src.width && height === src.height) return { width, height, data: src.data.slice() };
  if (src.width === 2 * width && src.height === 2 * height) return halve(src);

  const xs = axisTable(src.width, width);
  const ys = axisTable(src.height, height);
  const rowLen = width * 3;
  const out = new Uint8Array(rowLen * height);

  // Horizontal pass results for the two source rows in use, cached as OpenCV does.
  let rowA = new Int32Array(rowLen);
  let rowB = new Int32Array(rowLen);
  let rowAIndex = -1;
  let rowBIndex = -1;
  const horizontal = (srcRow: number, dst: Int32Array) => {
    const base = srcRow * src.width * 3;
    const data = src.data;
    for (let x = 0; x < width; x++) {
      const s = base + xs.offset[x]! * 3;
      const w0 = xs.weight0[x]!;
      const w1 = xs.weight1[x]!;
      const s1 = w1 === 0 ? s : s + 3;
      const o = x * 3;
      dst[o] = data[s]! * w0 + data[s1]! * w1;
      dst[o + 1] = data[s + 1]! * w0 + data[s1 + 1]! * w1;
      dst[o + 2] = data[s + 2]! * w0 + data[s1 + 2]! * w1;
    }
  };

  for (let y = 0; y < height; y++) {
    const sy0 = ys.offset[y]!;
    const sy1 = Math.min(sy0 + 1, src.height - 1);
    if (rowAIndex !== sy0) {
      if (rowBIndex === sy0) {
        [rowA, rowB] = [rowB, rowA];
        rowAIndex = sy0;
        rowBIndex = -1;
      } else {
        horizontal(sy0, rowA);
        rowAIndex = sy0;
      }
    }
    if (rowBIndex !== sy1) {
      horizontal(sy1, rowB);
      rowBIndex = sy1;
    }
    const b0 = ys.weight0[y]!;
    const b1 = ys.weight1[y]!;
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      // VResizeLinearVec_32s8u: ((D0 >> 4) * b0 >> 16) + ((D1 >> 4) * b1 >> 16), then (+2) >> 2, saturated.
      const v = ((((rowA[i]! >> 4) * b0) >> 16) + (((rowB[i]! >> 4) * b1) >> 16) + 2) >> 2;
      out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width, height, data: out };
}
