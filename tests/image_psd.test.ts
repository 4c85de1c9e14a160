import fs from "node:fs";
import path from "node:path";
import { getLayerImageData, initializeCanvas, readPsd } from "ag-psd";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { ImageLoadError, type ImageErrorReason } from "../lib/image/errors";
import { decodePsd } from "../lib/image/psd";
import type { RgbImage } from "../lib/types";
import { FACES, needs } from "./support/fixtures";

const PSD_DIR = path.join(FACES, "psd");
const LIMIT = 100_000_000;

const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(PSD_DIR, name)));
const decode = (name: string): RgbImage => decodePsd(fixture(name), name, LIMIT);

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

function reasonOf(fn: () => unknown): ImageErrorReason {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImageLoadError);
    const e = err as ImageLoadError;
    expect(e.message).not.toContain("\n");
    expect(e.message).toContain(e.reason);
    return e.reason;
  }
  throw new Error("expected an ImageLoadError");
}

async function t1Reference(): Promise<RgbImage> {
  const file = path.join(FACES, "insightface/python-package/t1.jpg");
  const { data, info } = await sharp(file).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

// ---- A tiny PSD writer for cases the fixtures do not cover (16-bit RLE, exact alpha/opacity maths) ----

type Compression = 0 | 1;
interface CraftLayer {
  left: number;
  top: number;
  width: number;
  height: number;
  opacity?: number; // 0..255 as stored
  hidden?: boolean;
  planes: Map<number, number[]>; // channel id (-1 alpha, 0..2 colour) -> samples, row-major
  compression: Compression;
}
interface CraftSpec {
  width: number;
  height: number;
  depth: number;
  colorMode?: number;
  composite?: { compression: Compression; planes: number[][] }; // default: all-zero raw RGB
  layers?: CraftLayer[];
}

class Bytes {
  readonly out: number[] = [];
  u8(v: number): this { this.out.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v >>> 8).u8(v); }
  u32(v: number): this { return this.u16(v >>> 16).u16(v & 0xffff); }
  str(s: string): this { for (const ch of s) this.u8(ch.charCodeAt(0)); return this; }
  bytes(b: number[]): this { for (const v of b) this.out.push(v); return this; }
}

function rowBytes(samples: number[], width: number, row: number, depth: number): number[] {
  const b = new Bytes();
  for (const v of samples.slice(row * width, (row + 1) * width)) (depth === 16 ? b.u16(v) : b.u8(v));
  return b.out;
}

/** PackBits with literal runs only: valid, and enough to exercise the RLE readers. */
function packBits(row: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < row.length; i += 128) {
    const chunk = row.slice(i, i + 128);
    out.push(chunk.length - 1, ...chunk);
  }
  return out;
}

/** Channel data for `planes`: RLE keeps all row counts before all rows, as both PSD sections do. */
function encodePlanes(planes: number[][], width: number, height: number, depth: number, c: Compression): number[] {
  const rows = planes.flatMap((p) => Array.from({ length: height }, (_, y) => rowBytes(p, width, y, depth)));
  if (c === 0) return rows.flat();
  const packed = rows.map(packBits);
  const b = new Bytes();
  for (const r of packed) b.u16(r.length);
  return b.bytes(packed.flat()).out;
}

function craftPsd(spec: CraftSpec): Uint8Array {
  const { width, height, depth } = spec;
  const b = new Bytes().str("8BPS").u16(1).bytes([0, 0, 0, 0, 0, 0]).u16(3).u32(height).u32(width).u16(depth);
  b.u16(spec.colorMode ?? 3).u32(0).u32(0); // colour mode data, image resources: empty

  const layers = spec.layers ?? [];
  const info = new Bytes().u16(layers.length);
  const channelData: number[][] = [];
  for (const [i, l] of layers.entries()) {
    info.u32(l.top).u32(l.left).u32(l.top + l.height).u32(l.left + l.width).u16(l.planes.size);
    for (const [id, samples] of l.planes) {
      const data = [0, l.compression, ...encodePlanes([samples], l.width, l.height, depth, l.compression)];
      info.u16(id & 0xffff).u32(data.length);
      channelData.push(data);
    }
    const name = `L${i}`;
    info.str("8BIMnorm").u8(l.opacity ?? 255).u8(0).u8(l.hidden ? 2 : 0).u8(0);
    info.u32(12).u32(0).u32(0).u8(name.length).str(name).u8(0); // no mask, no blending ranges, name padded to 4
  }
  info.bytes(channelData.flat());
  if (info.out.length % 2) info.u8(0);
  b.u32(info.out.length + 8).u32(info.out.length).bytes(info.out).u32(0); // layer & mask section

  const composite = spec.composite ?? { compression: 0, planes: [0, 1, 2].map(() => new Array<number>(width * height).fill(0)) };
  b.u16(composite.compression).bytes(encodePlanes(composite.planes, width, height, depth, composite.compression));
  return new Uint8Array(b.out);
}

function headerOnly(width: number, height: number, depth: number, colorMode: number): Uint8Array {
  return new Uint8Array(new Bytes().str("8BPS").u16(1).bytes([0, 0, 0, 0, 0, 0]).u16(3).u32(height).u32(width)
    .u16(depth).u16(colorMode).out);
}

// ---- Fixtures ----

describe("decodePsd on real fixtures", () => {
  it("t1_composite.psd carries exactly t1.jpg's decoded pixels", needs("faces/psd/t1_composite.psd"), async () => {
    const ref = await t1Reference();
    const img = decode("t1_composite.psd");
    expect([img.width, img.height]).toEqual([ref.width, ref.height]);
    expect(Buffer.from(img.data).equals(Buffer.from(ref.data))).toBe(true);
  });

  it("t1_layers_only.psd (all-zero composite) flattens its layer to exactly t1.jpg's pixels", needs("faces/psd/t1_layers_only.psd"), async () => {
    const ref = await t1Reference();
    const img = decode("t1_layers_only.psd");
    expect([img.width, img.height]).toEqual([ref.width, ref.height]);
    expect(Buffer.from(img.data).equals(Buffer.from(ref.data))).toBe(true);
  });

  it("faces_layers_no_composite.psd flattens to faces_layers.psd's composite, without the hidden layer", needs("faces/psd/faces_layers.psd", "faces/psd/faces_layers_no_composite.psd"), () => {
    const composite = decode("faces_layers.psd");
    const flattened = decode("faces_layers_no_composite.psd");
    expect([flattened.width, flattened.height]).toEqual([800, 450]);
    expect(meanAbsDiff(flattened.data, composite.data)).toBe(0);

    // The hidden layer's pixels must not show through where it sits.
    initializeCanvas(() => { throw new Error("no canvas"); },
      (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4), colorSpace: "srgb" }) as ImageData);
    const psd = readPsd(fixture("faces_layers_no_composite.psd"), { useRawData: true, skipThumbnail: true });
    const hidden = psd.children?.find((l) => l.hidden);
    const pixels = hidden && getLayerImageData(hidden);
    if (!hidden || !pixels) throw new Error("fixture lost its hidden layer");
    let sum = 0;
    for (let y = 0; y < pixels.height; y++) {
      for (let x = 0; x < pixels.width; x++) {
        const d = ((y + (hidden.top ?? 0)) * 800 + x + (hidden.left ?? 0)) * 3;
        for (let c = 0; c < 3; c++) sum += Math.abs((flattened.data[d + c] ?? 0) - (pixels.data[(y * pixels.width + x) * 4 + c] ?? 0));
      }
    }
    expect(sum / (pixels.width * pixels.height * 3)).toBeGreaterThan(20);
  });

  it("faces_flat_composite_only.psd decodes its composite (the empty 0x0 layer is ignored)", needs("faces/psd/faces_flat_composite_only.psd", "faces/psd/faces_layers.psd"), () => {
    const img = decode("faces_flat_composite_only.psd");
    expect([img.width, img.height]).toEqual([800, 450]);
    expect(meanAbsDiff(img.data, decode("faces_layers.psd").data)).toBe(0);
  });

  it("agpsd_16bits_fox_photo.psd: placeholder composite skipped, 16-bit layer flattened with clipping", needs("faces/psd/agpsd_16bits_fox_photo.psd"), () => {
    const img = decode("agpsd_16bits_fox_photo.psd");
    expect([img.width, img.height]).toEqual([500, 500]);
    const px = (x: number, y: number) => Array.from(img.data.subarray((y * 500 + x) * 3, (y * 500 + x) * 3 + 3));
    // The rotated photo leaves transparent corners (black here); the middle is the fox, not Photoshop's white
    // "no real merged data" placeholder nor ag-psd's misread of it (1,1,1).
    expect(px(0, 0)).toEqual([0, 0, 0]);
    expect(px(499, 499)).toEqual([0, 0, 0]);
    let sum = 0;
    for (const v of img.data) sum += v;
    const mean = sum / img.data.length;
    expect(mean).toBeGreaterThan(30);
    expect(mean).toBeLessThan(120);
  });

  it("garbage.psd (signature + random bytes) is a typed error, not a crash", needs("faces/bad/garbage.psd"), () => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(FACES, "bad/garbage.psd")));
    expect(reasonOf(() => decodePsd(bytes, "garbage.psd", LIMIT))).toBe("corrupt");
  });

  it("truncated files say truncated, whether cut in the layers or in the composite", needs("faces/psd/t1_composite.psd"), () => {
    const bytes = fixture("t1_composite.psd");
    expect(reasonOf(() => decodePsd(bytes.slice(0, 1_000_000), "cut.psd", LIMIT))).toBe("truncated");
    expect(reasonOf(() => decodePsd(bytes.slice(0, bytes.length - 1000), "cut.psd", LIMIT))).toBe("truncated");
    expect(reasonOf(() => decodePsd(bytes.slice(0, 20), "cut.psd", LIMIT))).toBe("truncated");
  });
});

describe("decodePsd header checks (nothing is decoded)", () => {
  it("refuses a decompression bomb from the header alone", () => {
    const bomb = headerOnly(300_000, 300_000, 8, 3); // 26 bytes: any decoding attempt would fail differently
    expect(reasonOf(() => decodePsd(bomb, "bomb.psd", LIMIT))).toBe("too-many-pixels");
    expect(reasonOf(() => decodePsd(headerOnly(1000, 1000, 8, 3), "mp.psd", 999_999))).toBe("too-many-pixels");
  });

  it("names unsupported colour modes and depths, non-PSDs and empty files", () => {
    expect(reasonOf(() => decodePsd(headerOnly(4, 4, 8, 4), "cmyk.psd", LIMIT))).toBe("unsupported-format");
    expect(reasonOf(() => decodePsd(headerOnly(4, 4, 32, 3), "hdr.psd", LIMIT))).toBe("unsupported-format");
    expect(reasonOf(() => decodePsd(new TextEncoder().encode("hello, not a psd"), "x.psd", LIMIT))).toBe("not-an-image");
    expect(reasonOf(() => decodePsd(new Uint8Array(0), "empty.psd", LIMIT))).toBe("empty-file");
  });
});

// ---- Crafted files: exact expectations ----

describe("decodePsd on crafted files", () => {
  // 0x01C0 = 448 -> 448/257 = 1.74: rounding gives 2 where v >> 8 would give 1.
  const samples16 = [0, 0x01c0, 0x7fff, 0xffff, 0x8080, 0x1234];
  const expected8 = samples16.map((v) => Math.round(v / 257));

  for (const compression of [0, 1] as const) {
    it(`16-bit composite, ${compression ? "RLE" : "raw"}: samples are paired and rounded to 8 bits`, () => {
      const planes = [samples16, samples16.map((v) => 0xffff - v), samples16.slice().reverse()];
      const img = decodePsd(craftPsd({ width: 3, height: 2, depth: 16, composite: { compression, planes } }), "c.psd", LIMIT);
      expect([img.width, img.height]).toEqual([3, 2]);
      const want = expected8.flatMap((v, i) => [v, Math.round((0xffff - (samples16[i] ?? 0)) / 257), expected8[5 - i] ?? -1]);
      expect(Array.from(img.data)).toEqual(want);
    });
  }

  it("16-bit RLE layer channels (misread by ag-psd alone) are flattened correctly", () => {
    const layer: CraftLayer = {
      left: 0, top: 0, width: 3, height: 2, compression: 1,
      planes: new Map([[-1, new Array<number>(6).fill(0xffff)], [0, samples16], [1, samples16], [2, samples16]]),
    };
    const img = decodePsd(craftPsd({ width: 3, height: 2, depth: 16, layers: [layer] }), "l16.psd", LIMIT);
    expect(Array.from(img.data)).toEqual(expected8.flatMap((v) => [v, v, v]));
  });

  it("8-bit flatten: offsets clip, opacity and alpha compose source-over on black, hidden layers skipped", () => {
    const fill = (n: number, v: number) => new Array<number>(n).fill(v);
    const base: CraftLayer = { // 3x3 grey 200 shifted up-left by one: covers canvas (0,0)-(1,1) only
      left: -1, top: -1, width: 3, height: 3, compression: 1,
      planes: new Map([[0, fill(9, 200)], [1, fill(9, 200)], [2, fill(9, 200)]]),
    };
    const red: CraftLayer = { // 2x1 at (1,0), opacity 128/255, per-pixel alpha 255 then 51
      left: 1, top: 0, width: 2, height: 1, opacity: 128, compression: 0,
      planes: new Map([[-1, [255, 51]], [0, [255, 255]], [1, [0, 0]], [2, [0, 0]]]),
    };
    const hidden: CraftLayer = {
      left: 0, top: 0, width: 3, height: 2, hidden: true, compression: 0,
      planes: new Map([[0, fill(6, 9)], [1, fill(6, 9)], [2, fill(6, 9)]]),
    };
    const img = decodePsd(craftPsd({ width: 3, height: 2, depth: 8, layers: [base, red, hidden] }), "l8.psd", LIMIT);
    const a1 = 128 / 255;
    const a2 = (51 / 255) * a1;
    const mix = (dst: number, src: number, a: number) => Math.round(dst + (src - dst) * a);
    expect(Array.from(img.data)).toEqual([
      200, 200, 200, mix(200, 255, a1), mix(200, 0, a1), mix(200, 0, a1), mix(0, 255, a2), 0, 0,
      200, 200, 200, 200, 200, 200, 0, 0, 0,
    ]);
  });
});
