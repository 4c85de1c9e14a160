import sharp from "sharp";
import type { RgbImage } from "../types";
import { writeFileAtomic } from "../util/atomic";

/** PNG bytes of an RGB raster. */
export async function encodePng(image: RgbImage): Promise<Uint8Array> {
  const buffer = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}

export async function savePng(image: RgbImage, path: string): Promise<void> {
  await writeFileAtomic(path, await encodePng(image));
}
