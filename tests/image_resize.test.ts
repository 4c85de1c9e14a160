import { describe, expect, test } from "vitest";
import { resizeBilinear, type RgbImage } from "../lib/mod";

const grey = (width: number, height: number, values: number[]): RgbImage => ({
  width,
  height,
  data: Uint8Array.from(values.flatMap((v) => [v, v, v])),
});
const channel0 = (img: RgbImage) => Array.from(img.data.filter((_, i) => i % 3 === 0));

describe("resizeBilinear follows cv2.resize INTER_LINEAR", () => {
  test("same size is a copy", () => {
    const img = grey(2, 2, [1, 2, 3, 4]);
    expect(channel0(resizeBilinear(img, 2, 2))).toEqual([1, 2, 3, 4]);
  });

  test("an exact halving averages 2x2 blocks with rounding (OpenCV switches to INTER_AREA)", () => {
    const img = grey(4, 2, [0, 1, 10, 20, 2, 2, 30, 40]);
    expect(channel0(resizeBilinear(img, 2, 1))).toEqual([(0 + 1 + 2 + 2 + 2) >> 2, (10 + 20 + 30 + 40 + 2) >> 2]);
  });

  test("2x upscale uses half-pixel centres and clamps at the edges", () => {
    // cv2.resize(np.array([[0, 100]], np.uint8), (4, 1)) == [[0, 25, 75, 100]]
    expect(channel0(resizeBilinear(grey(2, 1, [0, 100]), 4, 1))).toEqual([0, 25, 75, 100]);
  });

  test("a constant image stays constant at any size", () => {
    const out = resizeBilinear(grey(7, 5, new Array(35).fill(200)), 13, 3);
    expect(new Set(out.data)).toEqual(new Set([200]));
  });
});
