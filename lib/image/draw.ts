import type { Detection, RgbImage } from "../types";

type Rgb = [number, number, number];

const BOX_COLOUR: Rgb = [0, 230, 0];
/** Landmark colours in InsightFace order: eyes, nose, mouth corners. */
const LANDMARK_COLOURS: Rgb[] = [[255, 40, 40], [255, 40, 40], [40, 120, 255], [255, 200, 0], [255, 200, 0]];

function setPixel(img: RgbImage, x: number, y: number, c: Rgb): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const o = (y * img.width + x) * 3;
  img.data[o] = c[0];
  img.data[o + 1] = c[1];
  img.data[o + 2] = c[2];
}

/** A copy of the image with each face's box and 5 landmarks drawn, line width scaled to the image. */
export function drawDetections(image: RgbImage, faces: readonly Detection[]): RgbImage {
  const out: RgbImage = { width: image.width, height: image.height, data: image.data.slice() };
  const thickness = Math.max(1, Math.round(Math.max(image.width, image.height) / 400));
  for (const face of faces) {
    const [x1, y1, x2, y2] = face.bbox.map(Math.round) as [number, number, number, number];
    for (let t = 0; t < thickness; t++) {
      for (let x = x1; x <= x2; x++) {
        setPixel(out, x, y1 + t, BOX_COLOUR);
        setPixel(out, x, y2 - t, BOX_COLOUR);
      }
      for (let y = y1; y <= y2; y++) {
        setPixel(out, x1 + t, y, BOX_COLOUR);
        setPixel(out, x2 - t, y, BOX_COLOUR);
      }
    }
    const radius = thickness + 1;
    face.kps.forEach(([kx, ky], k) => {
      for (let dy = -radius; dy <= radius; dy++) {
        for (let dx = -radius; dx <= radius; dx++) {
          if (dx * dx + dy * dy <= radius * radius) setPixel(out, Math.round(kx) + dx, Math.round(ky) + dy, LANDMARK_COLOURS[k]!);
        }
      }
    });
  }
  return out;
}
