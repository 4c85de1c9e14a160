/**
 * lib/export/crops: 512 aligned crops follow InsightFace estimate_norm (multiples of 128: ratio S/128 and an
 * 8*ratio x shift), checked geometrically and against the 112 ArcFace crop on real photos.
 */
import path from "node:path";
import { describe, expect, test } from "vitest";
import { alignedCrop, cropFileName } from "../lib/export/mod";
import { arcfaceTemplate, estimateNorm, normCrop } from "../lib/face/align";
import { loadImage } from "../lib/image/load";
import { resizeBilinear } from "../lib/image/resize";
import type { Landmarks5, RgbImage } from "../lib/types";
import { ANY_GOLDEN, FACES, needs, readGolden } from "./support/fixtures";

/** Measured 5.2-7.7 on the first golden images: the 112 crop point-samples a large face (aliasing), the 512 does not. */
const WINDOW_MEAN_ABS_DIFF_MAX = 9;
/** Comparing the whole 512 crop with the 112 crop mixes two framings (measured 32-42). */
const WRONG_FRAMING_MEAN_ABS_DIFF_MIN = 20;

const meanAbsDiff = (a: RgbImage, b: RgbImage) => {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
};

function window(image: RgbImage, x0: number, y0: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const start = ((y0 + y) * image.width + x0) * 3;
    data.set(image.data.subarray(start, start + width * 3), y * width * 3);
  }
  return { width, height, data };
}

const available = needs(`golden/${ANY_GOLDEN}`);
const golden = available.skip ? undefined : readGolden(ANY_GOLDEN);
const goldenFaces = (golden?.images ?? []).filter((im) => im.faces.length > 0).slice(0, 3);

describe("alignedCrop", available, () => {
  test("the 512 matrix is the 112 matrix scaled by 4 and shifted 32 px right (estimate_norm for 128 multiples)", () => {
    const kps = goldenFaces[0]!.faces[0]!.kps as Landmarks5;
    const m112 = estimateNorm(kps, 112);
    const m512 = estimateNorm(kps, 512);
    const expected = [
      [4 * m112[0][0], 4 * m112[0][1], 4 * m112[0][2] + 32],
      [4 * m112[1][0], 4 * m112[1][1], 4 * m112[1][2]],
    ];
    m512.forEach((row, r) => row.forEach((v, c) => expect(v).toBeCloseTo(expected[r]![c]!, 9)));
    expect(arcfaceTemplate(512)[0]).toEqual([38.2946 * 4 + 32, 51.6963 * 4]);
  });

  test.each(goldenFaces.map((im) => [im.file, im] as const))(
    "%s: the 112 frame of the 512 crop, downscaled, matches normCrop 112",
    async (_file, im) => {
      const image = await loadImage(path.join(FACES, im.file));
      const kps = im.faces[0]!.kps as Landmarks5;
      const crop = alignedCrop(image, kps);
      expect([crop.width, crop.height, crop.data.length]).toEqual([512, 512, 512 * 512 * 3]);
      const reference = normCrop(image, kps, 112).crop;
      // [32, 480) x [0, 448) of the 512 crop is the 112 frame; two exact halvings average like cv2 INTER_AREA.
      const frame = window(crop, 32, 0, 448, 448);
      const down = resizeBilinear(resizeBilinear(frame, 224, 224), 112, 112);
      expect(meanAbsDiff(down, reference)).toBeLessThan(WINDOW_MEAN_ABS_DIFF_MAX);
      // The whole 512 crop shows more (below and beside the face), so it is not the 112 crop scaled.
      expect(meanAbsDiff(resizeBilinear(crop, 112, 112), reference)).toBeGreaterThan(WRONG_FRAMING_MEAN_ABS_DIFF_MIN);
    },
  );

  test("refuses sizes estimate_norm cannot make", () => {
    const image: RgbImage = { width: 4, height: 4, data: new Uint8Array(48) };
    const kps = goldenFaces[0]!.faces[0]!.kps as Landmarks5;
    expect(() => alignedCrop(image, kps, 500)).toThrow(RangeError);
    expect(alignedCrop(image, kps, 256).width).toBe(256);
  });
});

describe("cropFileName", () => {
  test.each(
    [
      [7, "face_00007.png"],
      [123456, "face_123456.png"],
      ["3f9a0c-12", "face_3f9a0c-12.png"],
    ] as const,
  )("%s -> %s", (input, name) => {
    expect(cropFileName(input)).toBe(name);
  });

  test.each([["../x"], ["a/b"], [""], [".hidden"], ["x".repeat(129)], [-1], [1.5]] as const)(
    "refuses %s",
    (input) => {
      expect(() => cropFileName(input)).toThrow(RangeError);
    },
  );
});
