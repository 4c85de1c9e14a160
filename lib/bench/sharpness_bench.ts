/**
 * How the blur measures move with face size: the faces of some photos are measured on the photo rescaled by
 * several factors (sharp's lanczos3, as a camera or video pipeline would resample), at the detections of the
 * original scaled with it, so only the measure's own size dependence shows (no detector jitter).
 */
import sharp from "sharp";
import type { DetectionConfig } from "../config";
import type { FaceEngine } from "../face/engine";
import { faceSharpness, laplacianVariance } from "../face/quality";
import { loadImage } from "../image/load";
import type { BBox, RgbImage } from "../types";

export interface SharpnessBenchRow {
  scale: number;
  /** Median over faces of (measure at this scale) / (measure at scale 1). */
  blurMedianRatio: number;
  sharpnessMedianRatio: number;
  /** Median over faces of |log2 ratio|: how far a single face moves. */
  blurMedianAbsLog2: number;
  sharpnessMedianAbsLog2: number;
  /** Faces below `gate` at this scale. */
  blurBelowGate: number;
  sharpnessBelowGate: number;
}

export interface SharpnessBench {
  photos: number;
  faces: number;
  gate: number;
  /** Medians at scale 1. */
  blurMedian: number;
  sharpnessMedian: number;
  rows: SharpnessBenchRow[];
}

const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function rescale(image: RgbImage, scale: number): Promise<RgbImage> {
  if (scale === 1) return image;
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { kernel: "lanczos3", fit: "fill" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Measure `blur` and `sharpness` of every face of at least `minFaceShortPx` in `files` at each of `scales`
 * (1 is added when missing). `gate` is the threshold whose failures are counted per scale.
 */
export async function benchSharpness(
  engine: FaceEngine,
  files: readonly string[],
  config: DetectionConfig,
  { scales = [0.25, 0.5, 1, 2, 4], minFaceShortPx = 90, gate = 40 }: { scales?: readonly number[]; minFaceShortPx?: number; gate?: number } = {},
): Promise<SharpnessBench> {
  const all = [...new Set([...scales, 1])].sort((a, b) => a - b);
  const measured: { blur: number[]; sharpness: number[] }[] = [];
  let photos = 0;
  for (const file of files) {
    const image = await loadImage(file);
    const faces = (await engine.detect(image, config)).filter((d) => Math.min(d.bbox[2] - d.bbox[0], d.bbox[3] - d.bbox[1]) >= minFaceShortPx);
    if (faces.length === 0) continue;
    photos++;
    const rows = faces.map(() => ({ blur: [] as number[], sharpness: [] as number[] }));
    for (const scale of all) {
      const scaled = await rescale(image, scale);
      faces.forEach((d, i) => {
        const bbox = d.bbox.map((v) => v * scale) as BBox;
        rows[i]!.blur.push(laplacianVariance(scaled, bbox));
        rows[i]!.sharpness.push(faceSharpness(scaled, bbox));
      });
    }
    measured.push(...rows);
  }
  const one = all.indexOf(1);
  const ratios = (key: "blur" | "sharpness", i: number) => measured.map((m) => m[key][i]! / m[key][one]!);
  return {
    photos,
    faces: measured.length,
    gate,
    blurMedian: median(measured.map((m) => m.blur[one]!)),
    sharpnessMedian: median(measured.map((m) => m.sharpness[one]!)),
    rows: all.map((scale, i) => ({
      scale,
      blurMedianRatio: median(ratios("blur", i)),
      sharpnessMedianRatio: median(ratios("sharpness", i)),
      blurMedianAbsLog2: median(ratios("blur", i).map((r) => Math.abs(Math.log2(r)))),
      sharpnessMedianAbsLog2: median(ratios("sharpness", i).map((r) => Math.abs(Math.log2(r)))),
      blurBelowGate: measured.filter((m) => m.blur[i]! < gate).length,
      sharpnessBelowGate: measured.filter((m) => m.sharpness[i]! < gate).length,
    })),
  };
}
