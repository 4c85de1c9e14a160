/**
 * EXIF orientation (TIFF tag 0x0112, values 1..8) applied to a decoded raster, for pixels that come without a
 * decoder that knows it: the JPEG preview of a RAW file is stored as the sensor sees it, and the RAW file's own
 * IFD0 says how to turn it. Values outside 1..8 mean "as stored".
 */
import type { RgbImage } from "../types";

/** For each orientation: whether width and height swap, and the source pixel of output pixel (x, y). */
const SOURCE: Record<number, { swap: boolean; at: (x: number, y: number, w: number, h: number) => [number, number] }> = {
  2: { swap: false, at: (x, y, w) => [w - 1 - x, y] }, // mirrored left-right
  3: { swap: false, at: (x, y, w, h) => [w - 1 - x, h - 1 - y] }, // upside down
  4: { swap: false, at: (x, y, _w, h) => [x, h - 1 - y] }, // mirrored top-bottom
  5: { swap: true, at: (x, y) => [y, x] }, // transposed
  6: { swap: true, at: (x, y, _w, h) => [y, h - 1 - x] }, // shown after a 90-degree clockwise turn
  7: { swap: true, at: (x, y, w, h) => [w - 1 - y, h - 1 - x] }, // transversed
  8: { swap: true, at: (x, y, w) => [w - 1 - y, x] }, // shown after a 90-degree anticlockwise turn
};

/** The raster as it is meant to be shown under EXIF `orientation` (a new raster; 1 or unknown: the input). */
export function orientRaster(image: RgbImage, orientation: number): RgbImage {
  const rule = SOURCE[orientation];
  if (!rule) return image;
  const { width: w, height: h, data } = image;
  const width = rule.swap ? h : w;
  const height = rule.swap ? w : h;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = rule.at(x, y, w, h);
      const from = (sy * w + sx) * 3;
      const to = (y * width + x) * 3;
      out[to] = data[from]!;
      out[to + 1] = data[from + 1]!;
      out[to + 2] = data[from + 2]!;
    }
  }
  return { width, height, data: out };
}
