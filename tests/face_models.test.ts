import { describe, expect, test } from "vitest";
import { ArcFaceEmbedder, FaceEngine, ModelContractError, ScrfdDetector } from "../lib/mod";
import { ANY_TEST_DETECTOR, MODELS, needs, TEST_RECOGNIZER } from "./support/fixtures";
import path from "node:path";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

async function contractError(open: () => Promise<unknown>): Promise<ModelContractError> {
  try {
    await open();
  } catch (err) {
    if (err instanceof ModelContractError) return err;
    throw err;
  }
  throw new Error("expected a ModelContractError");
}

describe("model contracts are checked at load", () => {
  test("a recogniser is refused as a detector, naming the file and what was expected", needs("models/mobilefacenet_128d.onnx"), async () => {
    const file = path.join(MODELS, "mobilefacenet_128d.onnx");
    const err = await contractError(() => ScrfdDetector.open(file));
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/SCRFD detector with landmarks/);
  });

  test("a detector is refused as a recogniser", async () => {
    const err = await contractError(() => ArcFaceEmbedder.open(ANY_TEST_DETECTOR));
    expect(err.message).toContain(ANY_TEST_DETECTOR);
    expect(err.message).toMatch(/ArcFace recogniser: one input \[B,3,S,S\] and one output \[B,D\]/);
  });

  test("a file that is not ONNX names the file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "facesets-model-"));
    const bogus = path.join(dir, "det_10g.onnx");
    writeFileSync(bogus, "not a model");
    const err = await contractError(() => ScrfdDetector.open(bogus));
    expect(err.message).toMatch(new RegExp(`^${bogus}: not a loadable ONNX model`));
  });

  test("a missing file names the file", async () => {
    const err = await contractError(() => ScrfdDetector.open("/nonexistent/det.onnx"));
    expect(err.message).toMatch(/^\/nonexistent\/det.onnx: cannot read model file/);
  });
});

describe("recogniser properties come from the model", () => {
  test("w600k_mbf_int8 has a fixed batch-1 output: embedded one face per run, 512-d, InsightFace's 127.5 normalisation", async () => {
    const emb = await ArcFaceEmbedder.open(TEST_RECOGNIZER);
    try {
      expect([emb.dim, emb.inputSizePx, emb.batched, emb.inputMean, emb.inputStd]).toEqual([512, 112, false, 127.5, 127.5]);
    } finally {
      await emb.close();
    }
  });

  test("a 128-d recogniser works too and its embeddings are unit length", needs("models/mobilefacenet_128d.onnx"), async () => {
    const engine = await FaceEngine.open({ detectorFile: ANY_TEST_DETECTOR, recognizerFile: path.join(MODELS, "mobilefacenet_128d.onnx") });
    try {
      expect(engine.embedder.dim).toBe(128);
      const crop = { width: 112, height: 112, data: new Uint8Array(112 * 112 * 3).map((_, i) => (i * 7) % 256) };
      const [a, b] = await engine.embedder.embed([crop, crop]);
      expect(a!.length).toBe(128);
      expect(Math.hypot(...a!)).toBeCloseTo(1, 5);
      expect(Array.from(b!)).toEqual(Array.from(a!));
    } finally {
      await engine.close();
    }
  });
});
