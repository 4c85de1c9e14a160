/**
 * A contact sheet: a set's crops as one PNG grid, for notebooks and reports (a person judges a cluster by eye).
 */
import sharp from "sharp";

export interface ContactSheetOptions {
  /** Side of each tile, px (crops are scaled down to it). Default 96. */
  tilePx?: number;
  /** Tiles per row. Default 8. */
  columns?: number;
  /** At most this many tiles (the first ones). Default 48. */
  maxTiles?: number;
  gapPx?: number;
}

/** PNG bytes of `files` (images of any size, typically 512 px crops) laid out in a grid on white. */
export async function contactSheet(files: readonly string[], options: ContactSheetOptions = {}): Promise<Uint8Array> {
  const { tilePx = 96, columns = 8, maxTiles = 48, gapPx = 4 } = options;
  const shown = files.slice(0, maxTiles);
  const cols = Math.max(1, Math.min(columns, shown.length));
  const rows = Math.max(1, Math.ceil(shown.length / cols));
  const tiles = await Promise.all(
    shown.map((file) => sharp(file).resize(tilePx, tilePx, { fit: "cover" }).removeAlpha().png().toBuffer()),
  );
  const sheet = await sharp({
    create: {
      width: cols * tilePx + (cols + 1) * gapPx,
      height: rows * tilePx + (rows + 1) * gapPx,
      channels: 3,
      background: { r: 255, g: 255, b: 255 },
    },
  })
    .composite(tiles.map((input, i) => ({
      input,
      left: gapPx + (i % cols) * (tilePx + gapPx),
      top: gapPx + Math.floor(i / cols) * (tilePx + gapPx),
    })))
    .png()
    .toBuffer();
  return new Uint8Array(sheet.buffer, sheet.byteOffset, sheet.length);
}
