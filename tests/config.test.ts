import { describe, expect, test } from "vitest";
import { ConfigError, DEFAULT_CONFIG, resolveConfig } from "../lib/mod";

describe("resolveConfig", () => {
  test("the owner's defaults", () => {
    const c = resolveConfig();
    expect(c.identity.routeMaxCosDist).toBe(0.45);
    expect(c.identity.clusterMaxCosDist).toBe(0.55);
    expect([c.identity.minFaceShortPx, c.identity.minBlur, c.identity.minDetScore]).toEqual([90, 40, 0.6]);
    expect([c.identity.minUniqueSources, c.identity.samePhotoMaxCosDist]).toEqual([6, 0.08]);
    expect([c.detection.detSizePx, c.detection.secondPassSizePx, c.image.maxPixels]).toEqual([640, 128, 100_000_000]);
  });

  test("overrides replace single fields and leave the defaults untouched", () => {
    const c = resolveConfig({ identity: { routeMaxCosDist: 0.4 }, detection: { secondPass: false } });
    expect(c.identity.routeMaxCosDist).toBe(0.4);
    expect(c.identity.clusterMaxCosDist).toBe(0.55);
    expect(c.detection.secondPass).toBe(false);
    expect(resolveConfig({ identity: { samePhotoMaxCosDist: 0 } }).identity.samePhotoMaxCosDist).toBe(0);
    expect(DEFAULT_CONFIG.identity.routeMaxCosDist).toBe(0.45);
  });

  test.each<[unknown, RegExp]>([
    [{ nope: {} }, /unknown section "nope"/],
    [{ identity: { threshold2: 1 } }, /unknown key "identity.threshold2"/],
    [{ identity: { routeMaxCosDist: "0.4" } }, /"identity.routeMaxCosDist" must be a number, got "0.4"/],
    [{ identity: { linkage: "avg" } }, /invalid linkage "avg"/],
    [{ identity: { samePhotoMaxCosDist: 1.5 } }, /"identity.samePhotoMaxCosDist" must be in \[0, 1\], got 1.5/],
    [{ identity: { samePhotoMaxCosDist: -0.01 } }, /"identity.samePhotoMaxCosDist" must be in \[0, 1\], got -0.01/],
    [[1, 2], /expected a JSON object/],
  ])("refuses %j", (overrides, message) => {
    expect(() => resolveConfig(overrides, "my.json")).toThrow(ConfigError);
    expect(() => resolveConfig(overrides, "my.json")).toThrow(message);
  });
});
