/**
 * Every format the loader reads, on real decoders: HEIC through libheif (WebAssembly) with HEIF's own display
 * transforms, AVIF through sharp, GIF and animated WebP (first frame), BMP (our decoder, against the pixels it was
 * written from), multi-page TIFF (every page), TIFF-based RAW (largest embedded JPEG preview, turned by the RAW's
 * orientation; none usable: an error that says so). Faces are counted with the small test models.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  decodeBmp,
  decodeImage,
  DEFAULT_CONFIG,
  type FaceEngine,
  findRawPreview,
  IMAGE_EXTENSIONS,
  ImageLoadError,
  type LoadedImage,
  orientRaster,
  type RgbImage,
  sniffFormat,
} from "../lib/mod";
import { openEngineFromModelsDir } from "../lib/cli/mod";
import { FACES, MODELS, needs } from "./support/fixtures";
import { bmpExpected, buildRawTiff, encodeBmp } from "./support/format_fixtures";
import { withExifOrientation, withIrot } from "./support/heif_boxes";

const T1_JPEG = path.join(FACES, "insightface/python-package/t1.jpg");
const T1_HEIC = path.join(FACES, "heic/t1.heic");
const IMG1_HEIC = path.join(FACES, "heic/IMG_0001.HEIC");
const read = (file: string) => new Uint8Array(readFileSync(file));
const same = (a: RgbImage, b: RgbImage) => a.width === b.width && a.height === b.height && Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)) === 0;

/** Mean absolute difference per channel value of two rasters of one size. */
function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

async function rawOf(bytes: Uint8Array | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** What this file reads from the fixture set (the HEIC files and det_2.5g, by whose face counts it is pinned). */
const NEEDS = needs("faces/heic/t1.heic", "faces/heic/IMG_0001.HEIC", "faces/insightface/python-package/t1.jpg", "faces/deepface/img2.jpg", "models/det_2.5g.onnx");

describe("image formats", NEEDS, () => {
let engine: FaceEngine;
const facesOf = async (image: RgbImage) => (await engine.analyze(image, DEFAULT_CONFIG.detection)).length;
let t1: LoadedImage;
let t1Faces: number;

beforeAll(async () => {
  engine = await openEngineFromModelsDir(MODELS);
  t1 = await decodeImage(read(T1_JPEG), T1_JPEG);
  t1Faces = await facesOf(t1);
  expect(t1Faces).toBe(6); // the group photo's six people, as the README of ../shared/faces says
}, 60_000);
afterAll(async () => {
  await engine?.close();
});

describe("HEIC/HEIF through libheif", () => {
  test("t1.heic (HEVC, made from t1.jpg) decodes to the JPEG's size and pixels within HEVC's loss, with the same 6 faces", async () => {
    const heic = await decodeImage(read(T1_HEIC), T1_HEIC);
    expect(heic.format).toBe("heif");
    expect([heic.width, heic.height]).toEqual([t1.width, t1.height]);
    expect(meanAbsDiff(heic, t1)).toBeLessThan(3);
    expect(await facesOf(heic)).toBe(t1Faces);
  });

  test.each([[1, 8], [2, 3], [3, 6]] as const)(
    "an irot of %i anticlockwise quarter turns is applied while decoding (= EXIF orientation %i of the stored pixels)",
    async (turns, orientation) => {
      const bytes = read(T1_HEIC);
      const upright = await decodeImage(bytes, T1_HEIC);
      const turned = await decodeImage(withIrot(bytes, turns), "turned.heic");
      expect(same(turned, orientRaster(upright, orientation))).toBe(true);
      expect(same(turned, upright)).toBe(false);
    },
  );

  test("an EXIF Orientation inside a HEIF file is not applied again (the HEIF rule)", async () => {
    const bytes = read(IMG1_HEIC);
    const plain = await decodeImage(bytes, IMG1_HEIC);
    const tagged = await decodeImage(withExifOrientation(bytes, 6), "tagged.heic");
    expect([tagged.width, tagged.height]).toEqual([1382, 1868]); // portrait as stored; orientation 6 would make it landscape
    expect(same(tagged, plain)).toBe(true);
    expect(await facesOf(tagged)).toBe(1);
  });

  test("a truncated HEIC is a typed error naming the file", async () => {
    const bytes = read(T1_HEIC);
    await expect(decodeImage(bytes.subarray(0, 5000), "cut.heic")).rejects.toMatchObject({ reason: "truncated", file: "cut.heic" });
  });
});

describe("AVIF, GIF and animated WebP through sharp", () => {
  test("AVIF: the image and its faces", async () => {
    const avif = new Uint8Array(await sharp(T1_JPEG).avif({ quality: 90 }).toBuffer());
    expect(sniffFormat(avif)).toBe("avif");
    const image = await decodeImage(avif, "t1.avif");
    expect([image.format, image.width, image.height]).toEqual(["avif", t1.width, t1.height]);
    expect(await facesOf(image)).toBe(t1Faces);
  });

  test("GIF: the faces of a still GIF", async () => {
    const gif = new Uint8Array(await sharp(T1_JPEG).gif().toBuffer());
    const image = await decodeImage(gif, "t1.gif");
    expect(image.format).toBe("gif");
    expect(image.note).toBeUndefined();
    expect(await facesOf(image)).toBe(t1Faces);
  });

  test.each(["gif", "webp"] as const)("animated %s: the first frame only, and the record says so", async (format) => {
    const blank = await sharp({ create: { width: t1.width, height: t1.height, channels: 3, background: "#808080" } }).png().toBuffer();
    const photo = await sharp(T1_JPEG).png().toBuffer();
    const encode = (frames: Buffer[]) => {
      const joined = sharp(frames, { join: { animated: true } });
      return (format === "gif" ? joined.gif() : joined.webp({ quality: 95 })).toBuffer();
    };
    const faceFirst = await decodeImage(new Uint8Array(await encode([photo, blank])), `a.${format}`);
    expect(faceFirst.note).toBe("first-frame: frame 1 of 2 analysed");
    expect(await facesOf(faceFirst)).toBe(t1Faces);
    const faceSecond = await decodeImage(new Uint8Array(await encode([blank, photo])), `b.${format}`);
    expect(await facesOf(faceSecond)).toBe(0); // documented: later frames are not read
  });
});

describe("BMP (decoded here; libvips has no BMP loader)", () => {
  const layouts = [
    { bpp: 24 },
    { bpp: 24, topDown: true },
    { bpp: 32 },
    { bpp: 32, bitfields: true, topDown: true },
    { bpp: 16 },
    { bpp: 16, bitfields: true },
    { bpp: 8 },
  ] as const;
  test.each(layouts)("%o decodes to exactly the pixels it holds", async (layout) => {
    const source = await rawOf(await sharp(path.join(FACES, "deepface/img2.jpg")).resize(301, 227).toBuffer()); // odd width: row padding
    const bmp = encodeBmp(source, layout);
    expect(sniffFormat(bmp)).toBe("bmp");
    const image = await decodeImage(bmp, "x.bmp");
    expect(image.format).toBe("bmp");
    expect(same(image, bmpExpected(source, layout))).toBe(true);
  });

  test("a 24-bit BMP of t1 has t1's faces", async () => {
    const image = await decodeImage(encodeBmp(t1, { bpp: 24 }), "t1.bmp");
    expect(same(image, t1)).toBe(true);
    expect(await facesOf(image)).toBe(t1Faces);
  });

  test("RLE8: runs, literals and end-of-line decode to the palette colours", () => {
    // 4x2, bottom-up. Row 0 (bottom): run of 3 x index 1, literal [2]... as absolute runs need >= 3 pixels: 1 pixel of 2.
    const header = new Uint8Array(14 + 40 + 4 * 4);
    const v = new DataView(header.buffer);
    header.set([0x42, 0x4d]);
    v.setUint32(14, 40, true);
    v.setInt32(18, 4, true);
    v.setInt32(22, 2, true);
    v.setUint16(26, 1, true);
    v.setUint16(28, 8, true);
    v.setUint32(30, 1, true); // RLE8
    v.setUint32(46, 4, true); // 4 palette entries
    [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]].forEach(([r, g, b], i) => header.set([b!, g!, r!, 0], 54 + i * 4));
    const pixels = [3, 1, 1, 2, 0, 0, /* row 1: absolute run of 3 */ 0, 3, 3, 2, 1, 0, 1, 3, 0, 1];
    const bytes = new Uint8Array([...header, ...pixels]);
    v.setUint32(10, header.length, true);
    new DataView(bytes.buffer).setUint32(10, header.length, true);
    const image = decodeBmp(bytes, "rle.bmp", 1e6);
    const px = (x: number, y: number) => [...image.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)];
    expect([px(0, 1), px(2, 1), px(3, 1)]).toEqual([[255, 0, 0], [255, 0, 0], [0, 255, 0]]); // bottom row
    expect([px(0, 0), px(1, 0), px(2, 0), px(3, 0)]).toEqual([[0, 0, 255], [0, 255, 0], [255, 0, 0], [0, 0, 255]]);
  });

  test("a cut BMP is truncated, a printer BMP is unsupported", async () => {
    const bmp = encodeBmp(t1, { bpp: 24 });
    await expect(decodeImage(bmp.subarray(0, bmp.length - 5000), "cut.bmp")).rejects.toMatchObject({ reason: "truncated" });
    const jpegBmp = bmp.slice();
    new DataView(jpegBmp.buffer).setUint32(30, 4, true);
    await expect(decodeImage(jpegBmp, "p.bmp")).rejects.toMatchObject({ reason: "unsupported-format" });
  });
});

describe("multi-page TIFF", () => {
  test("every page is listed and decodes; the face on page 2 is found there", async () => {
    const blank = await sharp({ create: { width: t1.width, height: t1.height, channels: 3, background: "#808080" } }).png().toBuffer();
    const tiff = new Uint8Array(await sharp([blank, await sharp(T1_JPEG).png().toBuffer()], { join: { animated: true } }).tiff({ compression: "lzw" }).toBuffer());
    const first = await decodeImage(tiff, "scan.tif");
    expect([first.format, first.page, first.pages]).toEqual(["tiff", 0, [0, 1]]);
    expect(await facesOf(first)).toBe(0);
    const second = await decodeImage(tiff, "scan.tif", { page: 1 });
    expect(second.page).toBe(1);
    expect(same(second, t1)).toBe(true); // lossless pages: exactly the photo
    expect(await facesOf(second)).toBe(t1Faces);
  });
});

describe("TIFF-based RAW: the largest embedded JPEG preview, in the RAW's orientation", () => {
  /** t1 as a camera held upright stores it: turned a quarter anticlockwise, with Orientation 6 to undo it. */
  async function rawFixture(orientation = 6) {
    const sensor = await sharp(T1_JPEG).rotate(-90).jpeg({ quality: 95 }).toBuffer();
    const small = await sharp(sensor).resize(160).jpeg().toBuffer();
    const thumb = new Uint8Array(160 * 120 * 3); // an uncompressed thumbnail, as NEF's IFD0 holds
    return buildRawTiff({
      ifd0: { entries: [[0xfe, 4, [1]], [0x100, 4, [160]], [0x101, 4, [120]], [0x103, 3, [1]], [0x112, 3, [orientation]]], blob: thumb },
      subIfds: [{ entries: [[0xfe, 4, [0]], [0x103, 3, [7]]], blob: new Uint8Array(sensor), blobAs: "strip" }],
      ifd1: { entries: [[0x103, 3, [6]]], blob: new Uint8Array(small), blobAs: "jpeg-interchange" },
    });
  }

  test("a .nef: the SubIFD's full-size preview is chosen over the small one, turned upright, recorded as a preview", async () => {
    const bytes = await rawFixture();
    const found = findRawPreview(bytes);
    expect(found.preview).toMatchObject({ width: t1.height, height: t1.width, orientation: 6, where: "IFD0/SubIFD0", candidates: 2 });
    const image = await decodeImage(bytes, "DSC_0001.NEF");
    expect(image.format).toBe("raw");
    expect([image.width, image.height]).toEqual([t1.width, t1.height]);
    expect(image.note).toMatch(/^raw-preview: 886x1280 embedded JPEG \(IFD0\/SubIFD0, largest of 2\), orientation 6$/);
    const stored = await rawOf(Buffer.from(found.preview!.jpeg));
    expect(same(image, orientRaster(stored, 6))).toBe(true);
    expect(meanAbsDiff(image, t1)).toBeLessThan(4);
    expect(await facesOf(image)).toBe(t1Faces);
  });

  test("a DNG is known by its DNGVersion tag whatever its name; a plain TIFF named .tif stays a TIFF", async () => {
    const raw = await rawFixture(1);
    expect(sniffFormat(raw, "x.tif")).toBe("tiff");
    const dng = buildRawTiff({ ifd0: { entries: [[0xc612, 1, [1, 4, 0, 0]], [0x103, 3, [7]]], blob: findRawPreview(raw).preview!.jpeg, blobAs: "strip" } });
    expect(sniffFormat(dng, "x.tif")).toBe("raw");
    const image = await decodeImage(dng, "x.dng");
    expect([image.width, image.height]).toEqual([t1.height, t1.width]); // orientation 1: as stored
  });

  test("a RAW without a usable preview is an error that says so", async () => {
    const noPreview = buildRawTiff({ ifd0: { entries: [[0x100, 4, [16]], [0x101, 4, [16]], [0x103, 3, [1]]], blob: new Uint8Array(768) } });
    // Lossless JPEG (SOF3) is sensor data, not a preview.
    const lossless = new Uint8Array([0xff, 0xd8, 0xff, 0xc3, 0, 11, 8, 0, 16, 0, 16, 1, 1, 0x11, 0, 0xff, 0xd9]);
    const sensorOnly = buildRawTiff({ ifd0: { entries: [[0x103, 3, [7]]], blob: lossless, blobAs: "strip" } });
    for (const [bytes, name] of [[noPreview, "a.cr2"], [sensorOnly, "b.arw"]] as const) {
      const err = await decodeImage(bytes, name).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ImageLoadError);
      expect(err).toMatchObject({ reason: "no-usable-preview" });
      expect((err as Error).message).toMatch(/no embedded JPEG preview/);
    }
  });
});

describe("orientRaster", () => {
  test.each([2, 3, 4, 5, 6, 7, 8])("orientation %i matches libvips' EXIF autorotation", async (orientation) => {
    const source = await sharp(path.join(FACES, "deepface/img2.jpg")).resize(37, 23).png().toBuffer();
    const stored = await rawOf(source);
    const tagged = await sharp(source).withMetadata({ orientation }).jpeg({ quality: 100 }).toBuffer();
    const storedJpeg = await rawOf(tagged); // as stored (rawOf never autorotates)
    const { data, info } = await sharp(tagged).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const expected = { width: info.width, height: info.height, data: new Uint8Array(data) };
    expect(same(orientRaster(storedJpeg, orientation), expected)).toBe(true);
    expect(orientRaster(stored, 1)).toBe(stored);
  });
});

test("the scanner's extensions cover every format the loader reads", () => {
  for (const ext of [".heic", ".heif", ".avif", ".gif", ".bmp", ".dng", ".nef", ".cr2", ".arw", ".tif", ".webp", ".psd"]) {
    expect(IMAGE_EXTENSIONS).toContain(ext);
  }
});
});
