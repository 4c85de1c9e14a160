import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { decodeImage, ImageLoadError, sniffFormat, truncationOf } from "../lib/mod";
import { FACES, needs, sharedAvailable } from "./support/fixtures";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

// Every photo of the fixture set in use (at least a handful in tests/fixtures, over a hundred in ../shared).
const photos = (needs("faces").skip ? [] : filesUnder(FACES))
  .filter((f) => /\.(jpe?g|png)$/i.test(f) && !f.includes(`${path.sep}bad${path.sep}`))
  .map((file) => ({ file, bytes: new Uint8Array(readFileSync(file)) }));

describe("truncationOf reads the container structure", needs("faces"), () => {
  test("every complete JPEG and PNG fixture is complete", () => {
    expect(photos.length).toBeGreaterThan(sharedAvailable() ? 100 : 5); // tests/fixtures holds a dozen
    const judged = photos.map(({ file, bytes }) => [path.relative(FACES, file), truncationOf(bytes, sniffFormat(bytes) as "jpeg" | "png")]);
    expect(judged.filter(([, cut]) => cut !== undefined)).toEqual([]);
  });

  test("the same files cut short are truncated, wherever the cut falls", () => {
    for (const { file, bytes } of photos.slice(0, 40)) {
      const format = sniffFormat(bytes) as "jpeg" | "png";
      for (const keep of [0.02, 0.5, 0.999]) {
        const cut = bytes.slice(0, Math.max(12, Math.floor(bytes.length * keep)));
        expect(truncationOf(cut, format), `${file} cut to ${cut.length}`).toMatch(/ends after/);
      }
    }
  });

  test("bytes after a JPEG's end marker (motion photos append video) are not a cut", () => {
    const jpeg = photos.find((p) => sniffFormat(p.bytes) === "jpeg")!.bytes;
    const withTrailer = new Uint8Array([...jpeg, ...new Uint8Array(5000).fill(0x41)]);
    expect(truncationOf(withTrailer, "jpeg")).toBeUndefined();
  });

  test("WebP: complete from sharp, cut when the RIFF size says more", async () => {
    const webp = new Uint8Array(await sharp(photos[0]!.file).webp().toBuffer());
    expect(truncationOf(webp, "webp")).toBeUndefined();
    expect(truncationOf(webp.slice(0, webp.length - 100), "webp")).toMatch(/ends after/);
  });
});

test("a truncated JPEG says truncated while other images decode beside it", needs("faces/bad/truncated.jpg"), async () => {
  // libvips shares one error buffer across threads; its message alone flipped between "premature end" and
  // "Unknown error" under this load before the loader judged truncation from the bytes.
  const truncated = new Uint8Array(readFileSync(path.join(FACES, "bad", "truncated.jpg")));
  const others = photos.slice(0, 8).map((p) => decodeImage(p.bytes, p.file));
  const failures = Array.from({ length: 8 }, (_, i) =>
    decodeImage(truncated, `copy${i}.jpg`).then(() => "decoded", (err: ImageLoadError) => err.message.replace(/^copy\d/, "copy"))
  );
  const [, messages] = await Promise.all([Promise.all(others), Promise.all(failures)]);
  expect(new Set(messages)).toEqual(new Set(["copy.jpg: truncated: JPEG data ends after 42941 bytes, before its end-of-image marker"]));
});
