/**
 * A contact sheet: faces as one PNG grid, for notebooks and reports (a person judges a cluster by eye). Each tile
 * can carry a caption (the source file name and the distance to the centroid), so a bad crop on the sheet leads
 * back to its photo, and the number in the corner leads to the row of the table printed beside the sheet.
 */
import sharp from "sharp";
import { shortenMiddle } from "../util/shorten";

/** Faces on a sheet are at least this large: at 100 px a person could not tell two similar faces apart. */
export const MIN_SHEET_TILE_PX = 160;

/** One face on a sheet: an image (file path or encoded bytes) and up to two caption lines. */
export interface SheetTile {
  image: string | Uint8Array;
  /** Printed under the face, each line cut in the middle to fit the tile. */
  caption?: readonly string[];
}

export interface ContactSheetOptions {
  /** Side of each tile, px (crops are scaled to it). Default and minimum MIN_SHEET_TILE_PX. */
  tilePx?: number;
  /** Tiles per row. Default 6. */
  columns?: number;
  /** At most this many tiles (the first ones). Default 48. */
  maxTiles?: number;
  gapPx?: number;
  /** Number the tiles 1, 2, ... in their top-left corner (default true when any tile has a caption). */
  numbered?: boolean;
}

const CAPTION_FONT_PX = 12;
const CAPTION_LINE_PX = 15;
/** DejaVu Sans at 12 px averages under 7 px per character; names are cut to what fits. */
const CAPTION_CHAR_PX = 7;

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The caption lines of a tile as they are printed (cut to the tile width). */
export function captionLines(caption: readonly string[], tilePx: number): string[] {
  const maxChars = Math.max(3, Math.floor((tilePx - 4) / CAPTION_CHAR_PX));
  return caption.slice(0, 2).map((line) => shortenMiddle(line, maxChars));
}

/** PNG bytes of `tiles` (images of any size, typically 512 px crops) laid out in a grid on white. */
export async function contactSheet(tiles: readonly (string | SheetTile)[], options: ContactSheetOptions = {}): Promise<Uint8Array> {
  const { tilePx = MIN_SHEET_TILE_PX, columns = 6, maxTiles = 48, gapPx = 4 } = options;
  if (!(tilePx >= MIN_SHEET_TILE_PX)) {
    throw new RangeError(`contactSheet: tilePx must be >= ${MIN_SHEET_TILE_PX} (a face smaller than that cannot be judged), got ${tilePx}`);
  }
  const shown = tiles.slice(0, maxTiles).map((t): SheetTile => (typeof t === "string" ? { image: t } : t));
  const captioned = shown.some((t) => (t.caption?.length ?? 0) > 0);
  const numbered = options.numbered ?? captioned;
  const captionPx = captioned ? 2 * CAPTION_LINE_PX + 2 : 0;
  const cellH = tilePx + captionPx;
  const cols = Math.max(1, Math.min(columns, shown.length));
  const rows = Math.max(1, Math.ceil(shown.length / cols));
  const layers: { input: Buffer; left: number; top: number }[] = [];
  for (const [i, tile] of shown.entries()) {
    const left = gapPx + (i % cols) * (tilePx + gapPx);
    const top = gapPx + Math.floor(i / cols) * (cellH + gapPx);
    const input = typeof tile.image === "string" ? tile.image : Buffer.from(tile.image);
    layers.push({ input: await sharp(input).resize(tilePx, tilePx, { fit: "cover" }).removeAlpha().png().toBuffer(), left, top });
    const text: string[] = [];
    if (numbered) {
      text.push(`<rect x="0" y="0" width="${8 + 8 * String(i + 1).length}" height="18" fill="black" fill-opacity="0.6"/>` +
        `<text x="4" y="13" font-family="DejaVu Sans, sans-serif" font-size="${CAPTION_FONT_PX}" fill="white">${i + 1}</text>`);
    }
    captionLines(tile.caption ?? [], tilePx).forEach((line, k) => {
      text.push(`<text x="2" y="${tilePx + CAPTION_LINE_PX * (k + 1) - 2}" font-family="DejaVu Sans, sans-serif" ` +
        `font-size="${CAPTION_FONT_PX}" fill="black">${xmlEscape(line)}</text>`);
    });
    if (text.length > 0) {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${tilePx}" height="${cellH}">${text.join("")}</svg>`;
      layers.push({ input: Buffer.from(svg), left, top });
    }
  }
  const sheet = await sharp({
    create: {
      width: cols * tilePx + (cols + 1) * gapPx,
      height: rows * cellH + (rows + 1) * gapPx,
      channels: 3,
      background: { r: 255, g: 255, b: 255 },
    },
  })
    .composite(layers)
    // A 256-colour palette: a sheet is looked at, not measured, and write-ups in git stay a few MB, not tens.
    .png({ palette: true, quality: 90, effort: 7 })
    .toBuffer();
  return new Uint8Array(sheet.buffer, sheet.byteOffset, sheet.length);
}
