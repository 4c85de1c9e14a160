/**
 * Photoshop (PSD/PSB) decoding to 8-bit RGB via ag-psd, without node-canvas.
 *
 * Policy: use the merged ("composite") image the file carries; when that is a placeholder (all black, absent, or
 * flagged as not real by Photoshop) flatten the visible layers ourselves. Only RGB and Grayscale, 8 or 16 bits.
 */
import { getCompositeImageData, getLayerImageData, initializeCanvas, readPsd } from "ag-psd";
import type { Layer, PixelData, Psd } from "ag-psd";
import type { RgbImage } from "../types";
import { ImageLoadError, type ImageErrorReason } from "./errors";

// ag-psd's ColorMode is a `const enum`; per-file transpilers (Deno, vitest) cannot inline it, so use the numbers.
const COLOR_MODES: Record<number, string> = {
  0: "Bitmap", 1: "Grayscale", 2: "Indexed", 3: "RGB", 4: "CMYK", 7: "Multichannel", 8: "Duotone", 9: "Lab",
};
const GRAYSCALE = 1;
const RGB = 3;

interface PsdHeader {
  large: boolean; // version 2 = PSB: RLE row counts are 4 bytes instead of 2
  channels: number;
  height: number;
  width: number;
  depth: number;
  colorMode: number;
}

export function decodePsd(bytes: Uint8Array, file: string, maxPixels: number): RgbImage {
  const header = readHeader(bytes, file);
  const { width, height, depth, colorMode } = header;
  if (width * height > maxPixels) {
    throw new ImageLoadError(file, "too-many-pixels", `${width}x${height} exceeds the limit of ${maxPixels} pixels`);
  }
  if (colorMode !== RGB && colorMode !== GRAYSCALE) {
    const name = COLOR_MODES[colorMode] ?? `#${colorMode}`;
    throw new ImageLoadError(file, "unsupported-format", `PSD color mode ${name} (only RGB and Grayscale)`);
  }
  if (depth !== 8 && depth !== 16) {
    throw new ImageLoadError(file, "unsupported-format", `${depth}-bit PSD channels (only 8 and 16)`);
  }

  // ag-psd's 8-bit buffers come from a global factory that defaults to a canvas; set ours on every call so another
  // module's initializeCanvas cannot leave us needing node-canvas.
  initializeCanvas(noCanvas, plainImageData);
  let psd: Psd;
  try {
    // A private copy: ag-psd byte-swaps raw 16-bit data in place, and bounds-checks reads against the whole
    // ArrayBuffer rather than the view. useRawData parses once and defers pixel decoding, so layers are only
    // decompressed when the composite turns out to be a placeholder.
    psd = readPsd(bytes.slice(), { useRawData: true, useImageData: true, skipThumbnail: true });
  } catch (err) {
    throw agPsdFailure(file, err, "reading PSD structure");
  }
  return decodeComposite(psd, header, file) ?? flattenLayers(psd, header, file);
}

function readHeader(bytes: Uint8Array, file: string): PsdHeader {
  if (bytes.length === 0) throw new ImageLoadError(file, "empty-file", "0 bytes");
  if (bytes.length < 4 || String.fromCharCode(...bytes.subarray(0, 4)) !== "8BPS") {
    throw new ImageLoadError(file, "not-an-image", "no 8BPS signature");
  }
  if (bytes.length < 26) throw new ImageLoadError(file, "truncated", `PSD header is ${bytes.length} of 26 bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4);
  const header: PsdHeader = {
    large: version === 2,
    channels: view.getUint16(12),
    height: view.getUint32(14),
    width: view.getUint32(18),
    depth: view.getUint16(22),
    colorMode: view.getUint16(24),
  };
  const { channels, height, width, depth } = header;
  if (version !== 1 && version !== 2) throw new ImageLoadError(file, "corrupt", `PSD version ${version}`);
  if (width === 0 || height === 0) throw new ImageLoadError(file, "corrupt", `PSD size ${width}x${height}`);
  if (channels < 1 || channels > 56) throw new ImageLoadError(file, "corrupt", `PSD channel count ${channels}`);
  if (![1, 8, 16, 32].includes(depth)) throw new ImageLoadError(file, "corrupt", `PSD bit depth ${depth}`);
  return header;
}

/** The composite as RGB, or undefined when it is a placeholder and the layers must be flattened instead. */
function decodeComposite(psd: Psd, header: PsdHeader, file: string): RgbImage | undefined {
  // Photoshop with "Maximize Compatibility" off stores a white image here and says so in resource 1057
  // (the 16-bit fox fixture); writers without a composite (ag-psd) store all black instead.
  if (psd.imageResources?.versionInfo?.hasRealMergedData === false) return undefined;
  const raw = psd.rawCompositeData;
  if (!raw || raw.length < 2) return undefined;
  checkCompositeLength(raw, header, file);
  let pixels: PixelData | undefined;
  try {
    pixels = header.depth === 16
      ? pairBytes(getCompositeImageData({ ...psd, width: psd.width * 2, bitsPerChannel: 8 }))
      : getCompositeImageData(psd);
  } catch (err) {
    throw agPsdFailure(file, err, "decoding the composite");
  }
  if (!pixels || pixels.width === 0 || pixels.height === 0) return undefined;
  const data = new Uint8Array(pixels.width * pixels.height * 3);
  const src = pixels.data;
  const scale = 255 / maxSample(pixels);
  let any = 0;
  // Alpha is dropped: the merged image's colours are already Photoshop's flattened result.
  for (let s = 0, d = 0; d < data.length; s += 4, d += 3) {
    for (let c = 0; c < 3; c++) {
      const v = Math.round((src[s + c] ?? 0) * scale);
      data[d + c] = v;
      any |= v;
    }
  }
  return any === 0 ? undefined : { width: pixels.width, height: pixels.height, data };
}

/** ag-psd zero-fills reads past the end of the file without complaint, so measure the composite section first. */
function checkCompositeLength(raw: Uint8Array, header: PsdHeader, file: string): void {
  const { channels, height, width, depth, large } = header;
  const compression = (raw[0] ?? 0) * 256 + (raw[1] ?? 0);
  let need: number;
  if (compression === 0) {
    need = 2 + channels * height * Math.ceil((width * depth) / 8);
  } else if (compression === 1) {
    const countBytes = large ? 4 : 2;
    need = 2 + channels * height * countBytes;
    if (raw.length >= need) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 2; i < 2 + channels * height * countBytes; i += countBytes) {
        need += large ? view.getUint32(i) : view.getUint16(i);
      }
    }
  } else {
    throw new ImageLoadError(file, "corrupt", `composite compression ${compression}`);
  }
  if (raw.length < need) {
    throw new ImageLoadError(file, "truncated", `composite image data is ${raw.length} of ${need} bytes`);
  }
}

/** Flattens the visible layers onto opaque black, in float, rounding once at the end. */
function flattenLayers(psd: Psd, header: PsdHeader, file: string): RgbImage {
  const { width, height } = header;
  const acc = new Float32Array(width * height * 3);

  const draw = (layer: Layer, opacity: number): void => {
    if (opacity <= 0) return;
    const pixels = layerPixels(layer, header.depth, file);
    if (!pixels || pixels.width === 0 || pixels.height === 0) return;
    const src = pixels.data;
    const max = maxSample(pixels);
    const scale = 255 / max;
    const alphaScale = opacity / max;
    const left = layer.left ?? 0;
    const top = layer.top ?? 0;
    // Layers may hang off any edge of the canvas: clip the source rectangle to it.
    const x0 = Math.max(0, -left), x1 = Math.min(pixels.width, width - left);
    const y0 = Math.max(0, -top), y1 = Math.min(pixels.height, height - top);
    for (let y = y0; y < y1; y++) {
      let s = (y * pixels.width + x0) * 4;
      let d = ((y + top) * width + x0 + left) * 3;
      for (let x = x0; x < x1; x++, s += 4, d += 3) {
        const a = (src[s + 3] ?? 0) * alphaScale;
        if (a === 0) continue;
        // Source-over onto an opaque destination: dst += (src - dst) * alpha.
        for (let c = 0; c < 3; c++) {
          const dst = acc[d + c] ?? 0;
          acc[d + c] = dst + ((src[s + c] ?? 0) * scale - dst) * a;
        }
      }
    }
  };

  // ag-psd lists layers bottom to top. Every blend mode is composited as "normal", group opacity is multiplied
  // into the children (exact for pass-through groups of non-overlapping layers), and layer masks, clipping masks
  // and effects are ignored: enough to recover faces from files saved without a usable composite.
  const visit = (layers: Layer[], parentOpacity: number): void => {
    for (const layer of layers) {
      if (layer.hidden) continue;
      const opacity = parentOpacity * (layer.opacity ?? 1);
      if (layer.children) visit(layer.children, opacity);
      else draw(layer, opacity * (layer.fillOpacity ?? 1));
    }
  };
  visit(psd.children ?? [], 1);

  const data = new Uint8Array(acc.length);
  // Every value is a convex mix of 0..255 samples, so rounding cannot leave 0..255.
  for (let i = 0; i < acc.length; i++) data[i] = Math.round(acc[i] ?? 0);
  return { width, height, data };
}

function layerPixels(layer: Layer, depth: number, file: string): PixelData | undefined {
  const channels = layer.rawData?.channels ?? [];
  try {
    // ag-psd 31 decodes 16-bit RLE channels as if they were 8-bit (see pairBytes); its 16-bit raw, zip and
    // zip-with-prediction paths are right. Raw and zip without prediction survive the byte-pair trick too.
    if (depth === 16 && channels.some((ch) => ch.data && ch.compression === 1)) {
      if (channels.some((ch) => ch.data && ch.compression === 3)) {
        throw new ImageLoadError(file, "unsupported-format", "16-bit layer mixing RLE and predicted-zip channels");
      }
      const rawData = layer.rawData && { ...layer.rawData, bitsPerChannel: 8 };
      const left = layer.left ?? 0;
      const right = left + 2 * ((layer.right ?? 0) - left);
      return pairBytes(getLayerImageData({ ...layer, right, rawData }));
    }
    return getLayerImageData(layer);
  } catch (err) {
    if (err instanceof ImageLoadError) throw err;
    throw agPsdFailure(file, err, `decoding layer "${layer.name ?? ""}"`);
  }
}

/**
 * ag-psd's RLE reader ignores the bit depth, so 16-bit RLE data must be decoded as an 8-bit image twice as wide;
 * each pair of neighbouring "pixels" then holds the big-endian high and low bytes of one 16-bit sample.
 */
function pairBytes(wide: PixelData | undefined): PixelData | undefined {
  if (!wide) return undefined;
  const width = wide.width >> 1;
  const src = wide.data;
  const data = new Uint16Array(width * wide.height * 4);
  for (let p = 0; p < width * wide.height; p++) {
    for (let c = 0; c < 4; c++) {
      data[p * 4 + c] = ((src[p * 8 + c] ?? 0) << 8) | (src[p * 8 + 4 + c] ?? 0);
    }
  }
  return { width, height: wide.height, data };
}

/**
 * 16-bit samples become 8-bit by round(v * 255 / 65535) (= v / 257, the exact inverse of the usual 8 -> 16
 * widening x * 257). Rounding rather than v >> 8 avoids a half-level darkening and matches ImageMagick/libpng.
 */
function maxSample(pixels: PixelData): number {
  return pixels.data instanceof Uint16Array ? 65535 : 255;
}

function agPsdFailure(file: string, err: unknown, doing: string): ImageLoadError {
  const message = err instanceof Error ? err.message : String(err);
  // Reading past the end surfaces as a section-size check or a DataView/TypedArray bounds error.
  const short = /exceeds file size|past end|exceeding buffer|outside the bounds/i.test(message);
  const reason: ImageErrorReason = short ? "truncated" : "corrupt";
  // Layer names and library messages may hold newlines; the stored reason line must not.
  return new ImageLoadError(file, reason, `${doing}: ${message}`.replace(/\s+/g, " ").trim());
}

function noCanvas(): never {
  throw new Error("facesets decodes PSDs without a canvas; ag-psd asked for one (thumbnail or canvas output?)");
}

function plainImageData(width: number, height: number): ImageData {
  return { width, height, data: new Uint8ClampedArray(width * height * 4), colorSpace: "srgb" } as ImageData;
}
