import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { type ImageErrorReason, ImageLoadError, loadImage, sniffFormat } from "../lib/mod";
import { FACES, needs } from "./support/fixtures";

const BAD = path.join(FACES, "bad");

async function reasonOf(file: string, maxPixels?: number): Promise<ImageErrorReason | "loaded"> {
  try {
    await loadImage(file, maxPixels === undefined ? {} : { maxPixels });
    return "loaded";
  } catch (err) {
    if (err instanceof ImageLoadError) {
      expect(err.message.startsWith(`${file}: ${err.reason}: `)).toBe(true);
      expect(err.message).not.toContain("\n");
      return err.reason;
    }
    throw err;
  }
}

describe("loadImage refuses bad input with a typed reason", needs("faces/bad"), () => {
  test.each<[string, ImageErrorReason]>([
    ["empty.jpg", "empty-file"],
    ["truncated.jpg", "truncated"],
    ["not_an_image.png", "not-an-image"],
    ["garbage.psd", "corrupt"],
    ["huge_dims.png", "too-many-pixels"],
  ])("%s -> %s", async (name, reason) => {
    expect(await reasonOf(path.join(BAD, name))).toBe(reason);
  });

  test("huge_dims.png is refused from its header, before any decoding", async () => {
    const started = performance.now();
    const before = process.memoryUsage().rss;
    expect(await reasonOf(path.join(BAD, "huge_dims.png"))).toBe("too-many-pixels");
    // Decoding 900 megapixels would allocate gigabytes; the header check allocates nothing of the sort.
    expect(process.memoryUsage().rss - before).toBeLessThan(200e6);
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  test("one_pixel.png is a valid 1x1 image", async () => {
    const image = await loadImage(path.join(BAD, "one_pixel.png"));
    expect([image.width, image.height, image.data.length]).toEqual([1, 1, 3]);
  });

  test("a missing file is unreadable, not a crash", async () => {
    expect(await reasonOf(path.join(BAD, "does-not-exist.jpg"))).toBe("unreadable");
  });

  test("the pixel limit is configurable", async () => {
    expect(await reasonOf(path.join(BAD, "one_pixel.png"), 0)).toBe("too-many-pixels");
  });

  test("a JPEG 2000 file is an image we do not read, and the message lists what we do read", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "facesets-load-"));
    const jp2 = path.join(dir, "x.jp2");
    // The JP2 signature box, then junk: sniffed as an image, never decoded.
    writeFileSync(jp2, Buffer.concat([Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]), Buffer.alloc(64)]));
    expect(await reasonOf(jp2)).toBe("unsupported-format");
    await expect(loadImage(jp2)).rejects.toThrow(/HEIF\/HEIC.*BMP/);
  });
});

describe("loadImage decodes what it accepts", needs("faces/faceapi/amy/amy1.png"), () => {
  test("format comes from the bytes, not the extension", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "facesets-load-"));
    const misnamed = path.join(dir, "really-a-png.jpg");
    copyFileSync(path.join(FACES, "faceapi/amy/amy1.png"), misnamed);
    const image = await loadImage(misnamed);
    expect(image.format).toBe("png");
    expect(sniffFormat(new Uint8Array(readFileSync(misnamed)))).toBe("png");
  });

  test.each(["webp", "tiff"] as const)("%s decodes to the same RGB as its lossless source", async (format) => {
    const dir = mkdtempSync(path.join(tmpdir(), "facesets-load-"));
    const source = path.join(FACES, "faceapi/amy/amy1.png");
    const target = path.join(dir, `amy1.${format}`);
    const encoder = sharp(source);
    writeFileSync(target, await (format === "webp" ? encoder.webp({ lossless: true }) : encoder.tiff({ compression: "lzw" })).toBuffer());
    const [a, b] = await Promise.all([loadImage(source), loadImage(target)]);
    expect(b.format).toBe(format);
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    expect(Buffer.compare(Buffer.from(a.data), Buffer.from(b.data))).toBe(0);
  });

  test("grey images become RGB with equal channels", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "facesets-load-"));
    const grey = path.join(dir, "grey.png");
    writeFileSync(grey, await sharp(path.join(FACES, "faceapi/amy/amy1.png")).greyscale().png().toBuffer());
    const image = await loadImage(grey);
    expect(image.data.length).toBe(image.width * image.height * 3);
    for (let i = 0; i < image.data.length; i += 3) {
      expect(image.data[i]).toBe(image.data[i + 1]);
      expect(image.data[i]).toBe(image.data[i + 2]);
    }
  });

  test("sha256 is of the file's bytes", async () => {
    const file = path.join(FACES, "faceapi/amy/amy1.png");
    const { createHash } = await import("node:crypto");
    const expected = createHash("sha256").update(readFileSync(file)).digest("hex");
    expect((await loadImage(file)).sha256).toBe(expected);
  });
});
