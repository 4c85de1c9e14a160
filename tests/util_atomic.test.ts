/**
 * writeFileAtomic replaces a file by writing a temp file beside it and renaming it over the target: the old file's
 * bytes are never rewritten in place, so a reader (or a kill) sees the old file or the new one, never half of one.
 * The checks watch the inode: a hard link to the old file keeps the old bytes, and the target gets a new inode.
 */
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { writeFileAtomic } from "../lib/mod";

describe("writeFileAtomic", () => {
  test("replaces the target by rename: the old inode keeps the old bytes, the target is a new file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "facesets-atomic-"));
    const target = path.join(dir, "manifest.json");
    const old = "x".repeat(100_000);
    writeFileSync(target, old);
    const oldLink = path.join(dir, "old-link");
    linkSync(target, oldLink); // a second name for the old inode, as a reader's open file would be
    const before = statSync(target).ino;

    await writeFileAtomic(target, '{"new": true}\n');

    expect(readFileSync(target, "utf8")).toBe('{"new": true}\n');
    expect(statSync(target).ino).not.toBe(before);
    expect(readFileSync(oldLink, "utf8")).toBe(old); // written in place, this would read the new bytes (or a mix)
    expect(readdirSync(dir).sort()).toEqual(["manifest.json", "old-link"]); // no temp file left behind
  });

  test("creates a missing target, and a failed write leaves neither a temp file nor a partial target", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "facesets-atomic-"));
    const fresh = path.join(dir, "a.json");
    await writeFileAtomic(fresh, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(fresh)]).toEqual([1, 2, 3]);
    // The target is a directory: the rename fails after the temp file was written; the temp file is removed.
    const blocked = path.join(dir, "blocked");
    writeFileSync(path.join(dir, "keep"), "k");
    mkdirSync(path.join(blocked, "inside"), { recursive: true });
    await expect(writeFileAtomic(blocked, "data")).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(["a.json", "blocked", "keep"]);
    expect(existsSync(path.join(blocked, "inside"))).toBe(true);
  });
});
