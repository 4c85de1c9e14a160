/** Contact sheets: faces at least 160 px, captioned (file name, distance), numbered; smaller tiles refused. */
import path from "node:path";
import { describe, expect, test } from "vitest";
import sharp from "sharp";
import { captionLines, contactSheet, MIN_SHEET_TILE_PX } from "../lib/mod";
import { FACES, needsFullSet } from "./support/fixtures";

/** Dark pixels (grey < 100) in a band of the sheet: text leaves some, white background none. */
async function darkPixels(png: Uint8Array, band: { left: number; top: number; width: number; height: number }): Promise<number> {
  const { data } = await sharp(png).extract(band).greyscale().raw().toBuffer({ resolveWithObject: true });
  return data.reduce((n, v) => n + (v < 100 ? 1 : 0), 0);
}

describe("contactSheet", needsFullSet(), () => {
  const photos = ["img1.jpg", "img2.jpg", "img3.jpg"].map((f) => path.join(FACES, "deepface", f));

  test("tiles of MIN_SHEET_TILE_PX (160) by default; captions printed under each face", async () => {
    expect(MIN_SHEET_TILE_PX).toBe(160);
    const gap = 4;
    const bare = await sharp(await contactSheet(photos, { columns: 3 })).metadata();
    expect([bare.width, bare.height]).toEqual([3 * 160 + 4 * gap, 160 + 2 * gap]);
    const sheet = await contactSheet(photos.map((p, i) => ({ image: p, caption: [path.basename(p), `d 0.${i}00`] })), { columns: 3 });
    const meta = await sharp(sheet).metadata();
    expect(meta.width).toBe(3 * 160 + 4 * gap);
    const captionBand = { left: gap, top: gap + 160, width: 160, height: meta.height! - gap - 160 - gap };
    expect(meta.height).toBeGreaterThan(160 + 2 * gap + 20); // room for two caption lines
    expect(await darkPixels(sheet, captionBand)).toBeGreaterThan(50);
  });

  test("a caption without text leaves its band white (the dark-pixel check can fail)", async () => {
    const sheet = await contactSheet([{ image: photos[0]!, caption: ["", ""] }], { numbered: false });
    const meta = await sharp(sheet).metadata();
    expect(await darkPixels(sheet, { left: 4, top: 4 + 160, width: 160, height: meta.height! - 8 - 160 })).toBe(0);
  });

  test("refuses tiles below 160 px, at the edge", async () => {
    await expect(contactSheet(photos, { tilePx: 159 })).rejects.toThrow(/tilePx must be >= 160/);
    const ok = await sharp(await contactSheet(photos.slice(0, 1), { tilePx: 160 })).metadata();
    expect(ok.width).toBe(168);
  });

  test("long file names are cut in the middle to the tile width", () => {
    const [name, dist] = captionLines(["IMG_20240312_101500_burst_0042_final_edit.jpg", "d 0.231"], 160);
    expect([...name!].length).toBe(Math.floor((160 - 4) / 7));
    expect(name!.startsWith("IMG_2024")).toBe(true);
    expect(name!.endsWith("edit.jpg")).toBe(true);
    expect(dist).toBe("d 0.231");
  });
});
