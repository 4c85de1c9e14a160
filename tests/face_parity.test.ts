/**
 * Parity with InsightFace 0.7.3's own output (../shared/golden): same faces, boxes, landmarks, scores, blur,
 * embeddings and aligned crops, from our decoding, detection and alignment end to end.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_CONFIG, type DetectionConfig, FaceEngine, loadImage } from "../lib/mod";
import {
  faceDifference,
  measureParity,
  pairFaces,
  type ParityBounds,
  type ParityFigures,
  parityViolations,
} from "../lib/bench/mod";
import {
  ANY_GOLDEN,
  ANY_TEST_DETECTOR,
  FACES,
  GOLDEN,
  type GoldenSet,
  needs,
  needsFullSet,
  readGolden,
  TEST_DETECTOR,
  TEST_DETECTOR_500M,
  TEST_RECOGNIZER,
} from "./support/fixtures";

/** InsightFace 0.7.3 runs one 640 pass: the strict-parity configuration. */
const STRICT: DetectionConfig = { ...DEFAULT_CONFIG.detection, secondPass: false };
const WITH_SECOND_PASS: DetectionConfig = { ...DEFAULT_CONFIG.detection, secondPass: true };

/**
 * The README's parity level with a stated margin. Measured by `deno task parity` (2026-12-03, det_2.5g set, the
 * worst of the three sets): positions 0.015 of the tolerance, det_score 7.1e-5, blur 0.0028 %, cosine min 0.9952 and
 * mean 0.9982, crops 0.001 grey levels on average (max 0.02). The bounds leave 3-7x room for onnxruntime's
 * CPU-dependent rounding, and are 20-100x tighter than the first engine issue's (1.0 of the tolerance, 0.02, 5 %,
 * 0.99 / 0.997, 2 grey levels), so a regression far past the README's numbers fails here.
 */
const README_LEVEL: ParityBounds = { maxPositionShare: 0.05, maxDetScoreAbs: 5e-4, maxBlurRel: 1e-4, minCosine: 0.993 };
const MEAN_COSINE_MIN = 0.997;
const CROP_MEAN_ABS_DIFF_MAX = 0.01;
const CROP_FACE_MEAN_ABS_DIFF_MAX = 0.1;
/** The first engine issue's tolerances: used where pixels differ by design (EXIF-rotated JPEGs are re-encoded). */
const ISSUE_LEVEL: ParityBounds = { maxPositionShare: 1, maxDetScoreAbs: 0.02, maxBlurRel: 0.05, minCosine: 0.99 };

function expectParity(figures: ParityFigures, bounds = README_LEVEL) {
  expect(figures.imageMismatches).toEqual([]);
  expect(figures.countMismatches).toEqual([]);
  expect(figures.passMismatches).toEqual([]);
  expect(figures.faces.flatMap((f) => parityViolations(f, bounds))).toEqual([]);
  expect(figures.faces.length).toBe(figures.goldenFaces);
  expect(figures.cosine.mean).toBeGreaterThanOrEqual(MEAN_COSINE_MIN);
}

const FULL_GOLDEN = needsFullSet("golden/det_2.5g+w600k_mbf_int8.json", "golden/det_2.5g+w600k_mbf_int8.size128.json", "golden/crops_det2.5g_mbf");

describe("det_2.5g + w600k_mbf_int8 against InsightFace 0.7.3", FULL_GOLDEN, () => {
  let engine: FaceEngine;
  beforeAll(async () => {
    engine = await FaceEngine.open({ detectorFile: TEST_DETECTOR, recognizerFile: TEST_RECOGNIZER });
  });
  afterAll(() => engine.close());

  test("every golden image: same faces, boxes, landmarks, scores, blur, embeddings and 112 crops (single 640 pass)", async () => {
    const golden = readGolden("det_2.5g+w600k_mbf_int8.json");
    expect(golden.images.length).toBe(169);
    const figures = await measureParity(engine, golden, { facesDir: FACES, cropsDir: path.join(GOLDEN, "crops_det2.5g_mbf"), config: STRICT });
    expectParity(figures);
    // Aligned crops from our own detections against InsightFace's crops.
    expect(figures.crop?.faces).toBe(167);
    expect(figures.crop!.mean).toBeLessThanOrEqual(CROP_MEAN_ABS_DIFF_MAX);
    expect(figures.crop!.max).toBeLessThanOrEqual(CROP_FACE_MEAN_ABS_DIFF_MAX);
  }, 600_000); // 169 images on 2 shared cores

  test("the second pass leaves every image the 640 pass handles unchanged", async () => {
    const golden = readGolden("det_2.5g+w600k_mbf_int8.json");
    const withFaces = golden.images.filter((i) => i.faces.length > 0).slice(0, 12);
    for (const image of withFaces) {
      const loaded = await loadImage(path.join(FACES, image.file));
      const strict = await engine.analyze(loaded, STRICT);
      const second = await engine.analyze(loaded, WITH_SECOND_PASS);
      expect(second).toEqual(strict);
    }
  });

  test("tight face crops: the 128 second pass reproduces InsightFace at det size 128", async () => {
    const golden = readGolden("det_2.5g+w600k_mbf_int8.size128.json");
    expect(golden.images.length).toBe(46);
    expectParity(await measureParity(engine, golden, { facesDir: FACES, config: WITH_SECOND_PASS, expectDetSizePx: 128 }));
  });

  test("our alignment matrix equals InsightFace's estimate_norm on the golden landmarks", async () => {
    const golden = readGolden("det_2.5g+w600k_mbf_int8.json");
    const { estimateNorm } = await import("../lib/mod");
    for (const face of golden.images.flatMap((i) => i.faces)) {
      const m = estimateNorm(face.kps as never, 112);
      // The golden landmarks are float32, so the reference matrix carries float32 rounding (~1e-7 relative).
      m.flat().forEach((v, k) => {
        const expected = face.align_matrix.flat()[k]!;
        expect(Math.abs(v - expected)).toBeLessThanOrEqual(1e-5 + 1e-6 * Math.abs(expected));
      });
    }
  });
});

describe("det_500m + w600k_mbf_int8 against InsightFace 0.7.3", needs("models/det_500m.onnx", "models/w600k_mbf_int8.onnx", "golden/det_500m+w600k_mbf_int8.json"), () => {
  // The parity test a lone clone runs: tests/fixtures carries this detector and its golden records for its photos.
  test("the engine is not tied to one detector", async () => {
    const engine = await FaceEngine.open({ detectorFile: TEST_DETECTOR_500M, recognizerFile: TEST_RECOGNIZER });
    try {
      const golden = readGolden("det_500m+w600k_mbf_int8.json");
      expect(golden.images.length).toBeGreaterThanOrEqual(5);
      expectParity(await measureParity(engine, golden, { facesDir: FACES, config: STRICT }));
    } finally {
      await engine.close();
    }
  });
});

// With det_2.5g and its records in ../shared, with det_500m and its records in tests/fixtures.
describe("EXIF and PSD sources give t1.jpg's records", needs(`golden/${ANY_GOLDEN}`, "faces/insightface/python-package/t1.jpg"), () => {
  let engine: FaceEngine;
  let t1: GoldenSet["images"][number];
  beforeAll(async () => {
    engine = await FaceEngine.open({ detectorFile: ANY_TEST_DETECTOR, recognizerFile: TEST_RECOGNIZER });
    t1 = readGolden(ANY_GOLDEN).images.find((i) => i.file.endsWith("python-package/t1.jpg"))!;
    expect(t1.faces.length).toBeGreaterThan(1);
  });
  afterAll(() => engine?.close());

  for (const name of ["t1_composite.psd", "t1_layers_only.psd"]) {
    test(name, needs(`faces/psd/${name}`), async () => {
      const loaded = await loadImage(path.join(FACES, "psd", name));
      expect([loaded.format, loaded.width, loaded.height]).toEqual(["psd", t1.width, t1.height]);
      const faces = await engine.analyze(loaded, STRICT);
      expect(faces.length).toBe(t1.faces.length);
      // The PSDs carry exactly t1.jpg's decoded pixels: the README's level applies.
      const violations = pairFaces(faces, t1.faces).flatMap(([o, g], i) => parityViolations(faceDifference(`${name}#${i}`, o, g), README_LEVEL));
      expect(violations).toEqual([]);
    });
  }

  for (const orientation of [3, 6, 8]) {
    const file = `exif/t1_orientation${orientation}.jpg`;
    test(`EXIF orientation ${orientation} is applied: faces in display orientation`, needs(`faces/${file}`), async () => {
      const loaded = await loadImage(path.join(FACES, file));
      // The fixtures store t1's pixels rotated and tag them so that display orientation is t1's own.
      expect([loaded.width, loaded.height]).toEqual([t1.width, t1.height]);
      const faces = await engine.analyze(loaded, STRICT);
      expect(faces.length).toBe(t1.faces.length);
      // Same faces in the same places, within the parity tolerances (the rotated JPEG was re-encoded losslessly enough).
      const violations = pairFaces(faces, t1.faces).flatMap(([o, g], i) =>
        parityViolations(faceDifference(`orientation ${orientation}#${i}`, o, g), ISSUE_LEVEL)
      );
      expect(violations).toEqual([]);
    });
  }
});

describe("a PSD of faces (no t1 pixels)", needs("faces/psd/faces_flat_composite_only.psd", "faces/psd/expected.json", "models/det_500m.onnx"), () => {
  test("faces_flat_composite_only.psd: the composite holds the faces psd/expected.json counts (det_500m)", async () => {
    const expected = JSON.parse(readFileSync(path.join(FACES, "psd", "expected.json"), "utf8")) as Record<string, { composite_faces: number }>;
    const engine = await FaceEngine.open({ detectorFile: TEST_DETECTOR_500M, recognizerFile: TEST_RECOGNIZER });
    try {
      const loaded = await loadImage(path.join(FACES, "psd", "faces_flat_composite_only.psd"));
      expect([loaded.format, loaded.width, loaded.height]).toEqual(["psd", 800, 450]);
      const faces = await engine.analyze(loaded, STRICT);
      expect(faces.length).toBe(expected["faces_flat_composite_only.psd"]!.composite_faces);
      expect(faces.length).toBe(2);
    } finally {
      await engine.close();
    }
  });
});
