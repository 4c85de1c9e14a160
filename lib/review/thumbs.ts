/**
 * Images for the review page, made once with sharp and cached under `<library>/_review/`:
 *   thumbs/<key>.webp   a face: a set's crop scaled down, or a store face (a leftover) aligned from its photo
 *   photos/<key>.jpg    a source photo scaled down, with the face's box drawn in
 * Keys are hashes of what the image is made from (file identity and size/mtime, or the store's content-based face
 * id), so a changed crop gets a new thumbnail and an unchanged one is never made twice. Stale files are harmless
 * and can be deleted with the folder at any time.
 */
import { mkdir, realpath, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import type { RunConfig } from "../config";
import { renderFaces } from "../export/faces";
import { loadImage } from "../image/load";
import type { FaceRow } from "../store/records";
import type { BBox } from "../types";
import { writeFileAtomic } from "../util/atomic";
import { sha256Bytes } from "../util/hash";

/** The library's folder for the review page's caches (underscore: never read as a set). */
export const REVIEW_FOLDER = "_review";
/** Side of a face thumbnail, px (captions and the page show them at this size or less). */
export const THUMB_SIZE_PX = 160;
/** Longest side of a source-photo preview, px. */
export const PHOTO_MAX_SIDE_PX = 1600;
/** Aligned crop side a leftover thumbnail is scaled down from (a multiple of 128, see alignedCrop). */
const LEFTOVER_CROP_PX = 256;
/** Images made at the same time: the machine has two cores and the server answers meanwhile. */
const MAX_PARALLEL = 2;

const keyOf = (text: string) => sha256Bytes(new TextEncoder().encode(text)).slice(0, 32);

/** A small counting semaphore. */
class Limiter {
  #running = 0;
  #waiting: (() => void)[] = [];
  constructor(readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}

export interface ThumbnailStats {
  /** Images made by this cache object (each at most once per key). */
  made: number;
  /** Requests answered from a file already on disk. */
  reused: number;
}

export class ThumbnailCache {
  readonly dir: string;
  readonly stats: ThumbnailStats = { made: 0, reused: 0 };
  readonly #inFlight = new Map<string, Promise<string>>();
  readonly #limiter = new Limiter(MAX_PARALLEL);

  constructor(libraryDir: string, private readonly config: RunConfig) {
    this.dir = path.join(libraryDir, REVIEW_FOLDER);
  }

  /**
   * The thumbnail of a crop file (a set face). The crop must resolve inside its set folder: a crop symlinked to
   * anywhere else is refused here, when it is asked for (the page reads the library without checking every crop).
   */
  async cropThumb(cropFile: string, setDir: string): Promise<string> {
    const [real, root] = await Promise.all([realpath(cropFile), realpath(setDir)]);
    if (!real.startsWith(root + path.sep)) throw new Error(`${cropFile} resolves outside its set folder`);
    const info = await stat(real);
    const key = keyOf(`crop\0${cropFile}\0${info.size}\0${info.mtimeMs}\0${THUMB_SIZE_PX}`);
    return this.#once(path.join(this.dir, "thumbs", `${key}.webp`), async () =>
      await sharp(real).resize(THUMB_SIZE_PX, THUMB_SIZE_PX, { fit: "cover" }).webp({ quality: 82 }).toBuffer());
  }

  /** The thumbnail of a store face (a leftover, which has no crop yet): aligned from its photo like a set crop. */
  storeFaceThumb(row: FaceRow): Promise<string> {
    const key = keyOf(`face\0${row.faceId}\0${THUMB_SIZE_PX}`);
    return this.#once(path.join(this.dir, "thumbs", `${key}.webp`), async () => {
      const config = { ...this.config, export: { ...this.config.export, cropSizePx: LEFTOVER_CROP_PX } };
      const [face] = await renderFaces([{ row, centroidCosDist: 0 }], config);
      return await sharp(face!.png).resize(THUMB_SIZE_PX, THUMB_SIZE_PX).webp({ quality: 82 }).toBuffer();
    });
  }

  /** The source photo scaled down, with `bbox` (in EXIF-oriented source pixels) drawn as a box. */
  async photoWithBox(source: string, bbox: BBox): Promise<string> {
    const info = await stat(source);
    const key = keyOf(`photo\0${source}\0${info.size}\0${info.mtimeMs}\0${bbox.join(",")}\0${PHOTO_MAX_SIDE_PX}`);
    return this.#once(path.join(this.dir, "photos", `${key}.jpg`), async () => {
      const image = await loadImage(source, { maxPixels: this.config.image.maxPixels });
      const scale = Math.min(1, PHOTO_MAX_SIDE_PX / Math.max(image.width, image.height));
      const width = Math.max(1, Math.round(image.width * scale));
      const height = Math.max(1, Math.round(image.height * scale));
      const [x1, y1, x2, y2] = bbox.map((v) => v * scale) as [number, number, number, number];
      const stroke = Math.max(2, Math.round(Math.max(width, height) / 300));
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
        `<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="#ffd400" stroke-width="${stroke}"/></svg>`;
      return await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
        .resize(width, height)
        .composite([{ input: Buffer.from(svg) }])
        .jpeg({ quality: 85 })
        .toBuffer();
    });
  }

  /** Make `file` with `make` unless it exists; one making per file at a time, at most MAX_PARALLEL overall. */
  #once(file: string, make: () => Promise<Uint8Array>): Promise<string> {
    if (existsSync(file)) {
      this.stats.reused++;
      return Promise.resolve(file);
    }
    const pending = this.#inFlight.get(file);
    if (pending) return pending;
    const job = this.#limiter.run(async () => {
      if (existsSync(file)) return file;
      const bytes = await make();
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, bytes);
      this.stats.made++;
      return file;
    }).finally(() => this.#inFlight.delete(file));
    this.#inFlight.set(file, job);
    return job;
  }
}
