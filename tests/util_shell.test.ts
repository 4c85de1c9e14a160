/** Shell quoting of printed commands: every word comes back from a real sh as it went in. */
import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { shellCommand, shellQuote, shortenMiddle, shortenPath } from "../lib/mod";

describe("shellQuote", () => {
  test.each([
    ["/photos/bucket", "/photos/bucket"],
    ["/photos/Bucket 2024", "'/photos/Bucket 2024'"],
    ["it's", "'it'\\''s'"],
    ["", "''"],
    ["$HOME", "'$HOME'"],
    ["a;b", "'a;b'"],
    ["~/x", "'~/x'"],
    ["identity.minUniqueSources=4", "identity.minUniqueSources=4"],
    ["=x", "'=x'"],
  ])("%s -> %s", (arg, quoted) => {
    expect(shellQuote(arg)).toBe(quoted);
  });

  test("a real sh splits a quoted command back into the same words", () => {
    const words = ["--source", "/photos/Bucket 2024", "it's", "", "$(rm -rf x)", "tab\there", "new\nline", "ünïcode ✓"];
    const res = spawnSync("sh", ["-c", `printf '%s\\0' ${shellCommand(words)}`], { encoding: "utf8" });
    expect(res.status).toBe(0);
    expect(res.stdout.split("\0").slice(0, -1)).toEqual(words);
  });
});

describe("shortenMiddle", () => {
  test.each([
    ["IMG_20240312_101500_0042.jpg", 28, "IMG_20240312_101500_0042.jpg"],
    ["IMG_20240312_101500_0042.jpg", 27, "IMG_20240312_…1500_0042.jpg"],
    ["IMG_20240312_101500_0042.jpg", 12, "IMG_20…2.jpg"],
    ["äöü✓✓✓✓✓", 5, "äö…✓✓"],
  ])("%s at %i -> %s", (text, max, out) => {
    const short = shortenMiddle(text, max);
    expect(short).toBe(out);
    expect([...short].length).toBeLessThanOrEqual(max);
  });

  test.each([
    ["face_recognition/knn/test/two_people.jpg", 32, "face_recognition…/two_people.jpg"],
    ["face_recognition/knn/test/two_people.jpg", 40, "face_recognition/knn/test/two_people.jpg"],
    ["a/b/IMG_20240312_101500_0042_final.jpg", 20, "IMG_202403…final.jpg"],
    ["IMG_20240312_101500_0042_final.jpg", 20, "IMG_202403…final.jpg"],
  ])("shortenPath(%s, %i) -> %s", (file, max, out) => {
    const short = shortenPath(file, max);
    expect(short).toBe(out);
    expect([...short].length).toBeLessThanOrEqual(max);
  });

  test("refuses a width with no room for the ellipsis", () => {
    expect(() => shortenMiddle("abcdef", 2)).toThrow(RangeError);
  });
});
