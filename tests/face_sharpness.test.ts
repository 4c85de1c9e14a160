/**
 * The two blur measures: `blur` (InsightFace-era Laplacian variance over the box, kept for parity and export)
 * falls as a face gets larger; `sharpness` (the same variance with the face brought down to a 64 px shorter side)
 * stays put, and is what identity.minBlur gates on.
 */
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  DEFAULT_CONFIG,
  FaceEngine,
  faceSharpness,
  type FaceRow,
  laplacianVariance,
  loadImage,
  qualityGateFailures,
  SHARPNESS_SIDE_PX,
} from "../lib/mod";
import type { BBox, RgbImage } from "../lib/types";
import { FACES, needsFullSet, TEST_DETECTOR, TEST_RECOGNIZER } from "./support/fixtures";
import { syntheticFaceRow } from "./support/synthetic_faces";
import { unitVector } from "./support/store_fixtures";

/** A seeded noisy test image (texture at every scale). */
function noise(width: number, height: number, seed = 7): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

async function rescale(image: RgbImage, scale: number): Promise<RgbImage> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(Math.round(image.width * scale), Math.round(image.height * scale), { kernel: "lanczos3", fit: "fill" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

describe("faceSharpness", () => {
  test("equals blur while the box's shorter side is at most 64 px, and measures the face at 64 px beyond", () => {
    expect(SHARPNESS_SIDE_PX).toBe(64);
    const image = noise(200, 200);
    const at = (bbox: BBox) => [faceSharpness(image, bbox), laplacianVariance(image, bbox)];
    const [s64, b64] = at([10, 10, 74, 110]); // 64 x 100
    expect(s64).toBe(b64);
    const [s65, b65] = at([10, 10, 75, 110]); // 65 x 100: area-averaged down
    expect(s65).not.toBe(b65);
    expect(s65!).toBeLessThan(b65!); // averaging removes pixel noise
    expect(faceSharpness(image, [50, 50, 50, 80])).toBe(0); // empty box
  });

  test("a box of uniform colour has no sharpness at any size", () => {
    const flat: RgbImage = { width: 300, height: 300, data: new Uint8Array(300 * 300 * 3).fill(90) };
    expect(faceSharpness(flat, [0, 0, 300, 300])).toBeLessThan(1e-12); // fractional area weights leave float residue only
  });
});

describe("the same faces at several sizes", needsFullSet(), () => {
  let engine: FaceEngine;
  beforeAll(async () => {
    engine = await FaceEngine.open({ detectorFile: TEST_DETECTOR, recognizerFile: TEST_RECOGNIZER });
  });
  afterAll(async () => {
    await engine?.close();
  });

  test("blur falls as the photo is enlarged; sharpness moves by a few percent", async () => {
    const image = await loadImage(path.join(FACES, "deepface/img1.jpg"));
    const [face] = await engine.detect(image, DEFAULT_CONFIG.detection);
    const ratios: Record<number, { blur: number; sharpness: number }> = {};
    for (const scale of [0.5, 2]) {
      const scaled = await rescale(image, scale);
      const bbox = face!.bbox.map((v) => v * scale) as BBox;
      ratios[scale] = {
        blur: laplacianVariance(scaled, bbox) / laplacianVariance(image, face!.bbox),
        sharpness: faceSharpness(scaled, bbox) / faceSharpness(image, face!.bbox),
      };
    }
    // Measured: blur x1.44 at half size and x0.094 at double size; sharpness x0.921 and x1.0048.
    expect(ratios[0.5]!.blur).toBeGreaterThan(1.44);
    expect(ratios[2]!.blur).toBeLessThan(0.094);
    expect(ratios[0.5]!.sharpness).toBeGreaterThan(0.92);
    expect(ratios[0.5]!.sharpness).toBeLessThan(1);
    expect(ratios[2]!.sharpness).toBeCloseTo(1, 2);
  });
});

describe("minBlur gates on sharpness", () => {
  const row = (over: Partial<FaceRow>) => syntheticFaceRow(unitVector(1), "p", { faceShortPx: 200, detScore: 0.9, ...over });
  const minBlur = DEFAULT_CONFIG.identity.minBlur;

  test("at the edge: sharpness equal to minBlur passes, just below fails; blur is not looked at", () => {
    expect(qualityGateFailures(row({ sharpness: minBlur, blur: 1 }), DEFAULT_CONFIG)).toEqual([]);
    expect(qualityGateFailures(row({ sharpness: minBlur - 0.01, blur: 1e5 }), DEFAULT_CONFIG)).toEqual([`sharpness 40.0 < ${minBlur}`]);
  });

  test("a face stored without sharpness (imported, or older stores) is gated on blur, and says so", () => {
    expect(qualityGateFailures(row({ sharpness: null, blur: minBlur }), DEFAULT_CONFIG)).toEqual([]);
    expect(qualityGateFailures(row({ sharpness: null, blur: 19.9 }), DEFAULT_CONFIG)).toEqual([`blur 19.9 < ${minBlur} (no sharpness stored)`]);
    expect(qualityGateFailures(row({ sharpness: null, blur: null }), DEFAULT_CONFIG)).toEqual([`blur unknown < ${minBlur} (no sharpness stored)`]);
  });
});
