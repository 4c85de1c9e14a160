/**
 * Parity with InsightFace 0.7.3's own output (../shared/golden): same faces, boxes, landmarks, scores, blur,
 * embeddings and aligned crops, from our decoding, detection and alignment end to end.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_CONFIG, type DetectionConfig, FaceEngine, loadImage, normCrop } from "../lib/mod";
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
import { cosine, faceViolations, pairFaces, PARITY } from "./support/parity";

/** InsightFace 0.7.3 runs one 640 pass: the strict-parity configuration. */
const STRICT: DetectionConfig = { ...DEFAULT_CONFIG.detection, secondPass: false };
const WITH_SECOND_PASS: DetectionConfig = { ...DEFAULT_CONFIG.detection, secondPass: true };
const MEAN_COSINE_MIN = 0.997;
const CROP_MEAN_ABS_DIFF_MAX = 2;

interface SetReport {
  violations: string[];
  cosines: number[];
  countMismatches: string[];
}

async function compareSet(engine: FaceEngine, golden: GoldenSet, config: DetectionConfig, expectDetSize?: number) {
  const report: SetReport = { violations: [], cosines: [], countMismatches: [] };
  for (const image of golden.images) {
    const loaded = await loadImage(path.join(FACES, image.file));
    expect([loaded.width, loaded.height, loaded.sha256]).toEqual([image.width, image.height, image.sha256]);
    const faces = await engine.analyze(loaded, config);
    if (faces.length !== image.faces.length) {
      report.countMismatches.push(`${image.file}: ${faces.length} faces, golden ${image.faces.length}`);
      continue;
    }
    pairFaces(faces, image.faces).forEach(([ours, gold], i) => {
      report.violations.push(...faceViolations(`${image.file}#${i}`, ours, gold));
      report.cosines.push(cosine(ours.embedding, gold.embedding));
      if (expectDetSize !== undefined && ours.detSizePx !== expectDetSize) {
        report.violations.push(`${image.file}#${i}: found by the ${ours.detSizePx} pass, expected ${expectDetSize}`);
      }
    });
  }
  return report;
}

function expectParity(report: SetReport, expectedFaces: number) {
  expect(report.countMismatches).toEqual([]);
  expect(report.violations).toEqual([]);
  expect(report.cosines.length).toBe(expectedFaces);
  const mean = report.cosines.reduce((a, b) => a + b, 0) / report.cosines.length;
  expect(mean).toBeGreaterThanOrEqual(MEAN_COSINE_MIN);
}

const totalFaces = (g: GoldenSet) => g.images.reduce((n, i) => n + i.faces.length, 0);

describe(
  "det_2.5g + w600k_mbf_int8 against InsightFace 0.7.3",
  needsFullSet("golden/det_2.5g+w600k_mbf_int8.json", "golden/det_2.5g+w600k_mbf_int8.size128.json", "golden/crops_det2.5g_mbf"),
  () => {
  let engine: FaceEngine;
  beforeAll(async () => {
    engine = await FaceEngine.open({ detectorFile: TEST_DETECTOR, recognizerFile: TEST_RECOGNIZER });
  });
  afterAll(() => engine.close());

  test("every golden image: same faces, boxes, landmarks, scores, blur and embeddings (single 640 pass)", async () => {
    const golden = readGolden("det_2.5g+w600k_mbf_int8.json");
    expect(golden.images.length).toBe(169);
    expectParity(await compareSet(engine, golden, STRICT), totalFaces(golden));
  });

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
    expectParity(await compareSet(engine, golden, WITH_SECOND_PASS, 128), totalFaces(golden));
  });

  test("aligned 112x112 crops from our own detections match InsightFace's crops", async () => {
    const golden = readGolden("det_2.5g+w600k_mbf_int8.json");
    const diffs: { crop: string; mad: number }[] = [];
    for (const image of golden.images.filter((i) => i.faces.length > 0)) {
      const loaded = await loadImage(path.join(FACES, image.file));
      const faces = await engine.detect(loaded, STRICT);
      for (const [ours, gold] of pairFaces(faces.map((d) => ({ ...d, faceShortPx: 0, blur: 0, embedding: new Float32Array() })), image.faces)) {
        const crop = normCrop(loaded, ours.kps, 112).crop;
        const ref = await sharp(path.join(GOLDEN, "crops_det2.5g_mbf", gold.crop!)).removeAlpha().raw().toBuffer();
        let sum = 0;
        for (let i = 0; i < ref.length; i++) sum += Math.abs(ref[i]! - crop.data[i]!);
        diffs.push({ crop: gold.crop!, mad: sum / ref.length });
      }
    }
    expect(diffs.length).toBe(167);
    expect(diffs.filter((d) => d.mad > CROP_MEAN_ABS_DIFF_MAX)).toEqual([]);
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
      expectParity(await compareSet(engine, golden, STRICT), totalFaces(golden));
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
      const violations = pairFaces(faces, t1.faces).flatMap(([o, g], i) => faceViolations(`${name}#${i}`, o, g));
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
        faceViolations(`orientation ${orientation}#${i}`, o, g, PARITY)
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
