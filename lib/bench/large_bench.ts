/**
 * Camera-size photos: 24 MP JPEGs the bench makes itself from smaller photos, and how the scan compares with the
 * honest reference for them. A full decode is part of InsightFace parity (cv2.imread decodes every pixel), so
 * the reference is "model time + one full decode" per image, beside "model time alone".
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import type { RunConfig } from "../config";
import type { FaceEngine } from "../face/engine";
import { loadImage } from "../image/load";
import { benchEngine, type EngineBench } from "./engine_bench";
import { benchScan, type ScanBench } from "./scan_bench";

export interface LargePhotoOptions {
  /** Long and short side of the made photos (default 6000 x 4000: 24 MP). */
  longPx?: number;
  shortPx?: number;
  /** JPEG quality (default 90). */
  quality?: number;
  /** Grain added before encoding, as grey levels (default 6): sensor noise makes file sizes camera-like. */
  grain?: number;
}

/**
 * Write `sources` enlarged to 24 MP JPEGs (landscape 6000x4000, portrait 4000x6000 by the source's shape; cover
 * crop from the centre, lanczos3, seeded grain, quality 90) into `dir`; returns their paths in order.
 */
export async function makeLargePhotos(sources: readonly string[], dir: string, options: LargePhotoOptions = {}): Promise<string[]> {
  const { longPx = 6000, shortPx = 4000, quality = 90, grain = 6 } = options;
  await mkdir(dir, { recursive: true });
  const out: string[] = [];
  let seed = 12345;
  for (const [i, source] of sources.entries()) {
    const image = await loadImage(source);
    const portrait = image.height > image.width;
    const [width, height] = portrait ? [shortPx, longPx] : [longPx, shortPx];
    const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      .resize(width, height, { kernel: "lanczos3", fit: "cover" })
      .raw()
      .toBuffer({ resolveWithObject: true });
    for (let p = 0; p < data.length; p++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const v = data[p]! + Math.round(((seed >>> 16) / 65536 - 0.5) * 2 * grain);
      data[p] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    const file = path.join(dir, `large_${String(i).padStart(2, "0")}_${path.basename(source, path.extname(source))}.jpg`);
    await sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toFile(file);
    out.push(file);
  }
  return out;
}

export interface LargeBench {
  images: number;
  faces: number;
  /** Mean file size, MB. */
  meanFileMb: number;
  /** One full decode of every image, one after another (fastest of the repeats), ms. */
  decodeMs: number;
  engine: EngineBench;
  scan: ScanBench;
  /** engine.modelOnlyMs + decodeMs: the reference of a scan that must decode every pixel. */
  referenceMs: number;
  /** Scan rate / reference rate (target >= 0.85). */
  scanVsReference: number;
  /** Scan rate / model-only rate. */
  scanVsModelOnly: number;
}

/** Measure the engine and a scan on `files` (made by makeLargePhotos), and one full decode of each. */
export async function benchLarge(
  engine: FaceEngine,
  files: readonly string[],
  { root, config, repeats = 1 }: { root: string; config: RunConfig; repeats?: number },
): Promise<LargeBench> {
  let decodeMs = Infinity;
  let bytes = 0;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    bytes = 0;
    for (const file of files) bytes += (await loadImage(file, { maxPixels: config.image.maxPixels })).byteLength;
    decodeMs = Math.min(decodeMs, performance.now() - start);
  }
  const e = await benchEngine(engine, files, config.detection, { repeats });
  const s = await benchScan(engine, files, { root, config, repeats, modelOnly: { images: e.images, ms: e.modelOnlyMs } });
  const referenceMs = e.modelOnlyMs + decodeMs;
  const scanRate = s.analysed / s.scanMs;
  return {
    images: e.images,
    faces: e.faces,
    meanFileMb: bytes / files.length / 1e6,
    decodeMs,
    engine: e,
    scan: s,
    referenceMs,
    scanVsReference: scanRate / (e.images / referenceMs),
    scanVsModelOnly: s.ratio,
  };
}
