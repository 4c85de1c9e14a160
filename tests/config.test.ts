import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  applyConfigSettings,
  ConfigError,
  configKeys,
  DEFAULT_CONFIG,
  nearConfigKeys,
  parseConfigSetting,
  readConfigFile,
  resolveConfig,
} from "../lib/mod";

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
    [{ identity: { minUniqueSource: 4 } }, /unknown key "identity.minUniqueSource" \(near: identity.minUniqueSources/],
    [{ identity: { routeMaxCosDist: "0.4" } }, /"identity.routeMaxCosDist" must be a number, got "0.4"/],
    [{ identity: { linkage: "avg" } }, /"identity.linkage" must be one of average, single, complete, dbscan, got "avg"/],
    [{ identity: [] }, /section "identity" must be an object/],
    [[1, 2], /expected a JSON object/],
  ])("refuses %j", (overrides, message) => {
    expect(() => resolveConfig(overrides, "my.json")).toThrow(ConfigError);
    expect(() => resolveConfig(overrides, "my.json")).toThrow(message);
  });
});

/**
 * Every setting with the values at the edges of its range (accepted) and values just outside and of the wrong type
 * (refused). The ranges are the issue's: cosine distances in [0, 2], counts integers >= 1, pixel sizes > 0 with an
 * upper bound, detector inputs multiples of 32 in [128, 1280], crops in [112, 2048].
 */
const KEY_TABLE: Record<string, { ok: unknown[]; bad: unknown[] }> = {
  "detection.detSizePx": { ok: [128, 640, 1280], bad: [100, 96, 650, 1312, 640.5, "640", null] },
  "detection.detMinScore": { ok: [0, 1], bad: [-0.01, 1.01, "0.5"] },
  "detection.nmsMaxIou": { ok: [0, 1], bad: [-0.01, 1.01] },
  "detection.secondPass": { ok: [true, false], bad: ["yes", 1, null] },
  "detection.secondPassSizePx": { ok: [128, 1280], bad: [96, 130, 1312, 0] },
  "image.maxPixels": { ok: [1, 1_000_000_000], bad: [-5, 0, 1.5, 1_000_000_001, Number.NaN] },
  "identity.routeMaxCosDist": { ok: [0, 2], bad: [-0.1, 2.01, "0.45"] },
  "identity.clusterMaxCosDist": { ok: [0, 2], bad: [-0.01, 2.01] },
  "identity.linkage": { ok: ["average", "single", "complete", "dbscan"], bad: ["avg", "", 1] },
  "identity.minFaceShortPx": { ok: [0.01, 20_000], bad: [0, -1, 20_000.5] },
  "identity.minBlur": { ok: [0, 1_100_000], bad: [-1, 1_100_001] },
  "identity.minDetScore": { ok: [0, 1], bad: [-0.1, 1.5] },
  "identity.outlierMaxCosDist": { ok: [0, 2], bad: [-1, 2.1] },
  "identity.outlierMinClusterSize": { ok: [1, 1000], bad: [0, 2.5, -4] },
  "identity.minUniqueSources": { ok: [1, 6], bad: [0, 1.5, -3] },
  "identity.samePhotoMaxCosDist": { ok: [0, 1], bad: [-0.01, 1.01] },
  "export.cropSizePx": { ok: [112, 2048], bad: [111, 2049, 51_200, 256.5, 0] },
  "export.exportMinFaceShortPx": { ok: [0.01, 20_000], bad: [0, -100, 20_001] },
  "export.exportMaxCosDist": { ok: [0, 2], bad: [-0.01, 2.01] },
  "eras.eraMaxCosDist": { ok: [0, 2], bad: [-0.1, 3] },
  "eras.eraMinYearGap": { ok: [0, 200], bad: [-1, 201] },
  "eras.minEraFaces": { ok: [1, 6], bad: [0, 2.5] },
};

function overridesOf(key: string, value: unknown): unknown {
  const [section, name] = key.split(".");
  return { [section!]: { [name!]: value } };
}

describe("every config key is range-checked", () => {
  test("the table covers every key of the config", () => {
    expect(Object.keys(KEY_TABLE).sort()).toEqual(configKeys().sort());
  });

  const cases = Object.entries(KEY_TABLE).flatMap(([key, { ok, bad }]) => [
    ...ok.map((v) => [key, v, true] as const),
    ...bad.map((v) => [key, v, false] as const),
  ]);
  test.each(cases)("%s = %j accepted: %s", (key, value, accepted) => {
    const overrides = overridesOf(key, value);
    if (accepted) {
      const c = resolveConfig(overrides, "cfg.json") as unknown as Record<string, Record<string, unknown>>;
      const [section, name] = key.split(".");
      expect(c[section!]![name!]).toBe(value);
      return;
    }
    let error: unknown;
    try {
      resolveConfig(overrides, "cfg.json");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    // The message names the file and the key, and says what is allowed.
    expect((error as Error).message).toMatch(new RegExp(`^cfg\\.json: "${key.replace(".", "\\.")}" must be `));
  });

  test("the messages say what is allowed", () => {
    expect(() => resolveConfig({ identity: { routeMaxCosDist: -0.1 } }, "c.json")).toThrow(
      'c.json: "identity.routeMaxCosDist" must be in [0, 2], got -0.1',
    );
    expect(() => resolveConfig({ identity: { minUniqueSources: 0 } }, "c.json")).toThrow(
      'c.json: "identity.minUniqueSources" must be an integer at least 1, got 0',
    );
    expect(() => resolveConfig({ detection: { detSizePx: 100 } }, "c.json")).toThrow(
      'c.json: "detection.detSizePx" must be a multiple of 32 in [128, 1280], got 100',
    );
    expect(() => resolveConfig({ export: { cropSizePx: 51200 } }, "c.json")).toThrow(
      'c.json: "export.cropSizePx" must be an integer in [112, 2048], got 51200',
    );
    expect(() => resolveConfig({ identity: { minFaceShortPx: 0 } }, "c.json")).toThrow(
      'c.json: "identity.minFaceShortPx" must be greater than 0 and at most 20000, got 0',
    );
  });
});

describe("readConfigFile", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "facesets-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  test("a file's out-of-range value is refused naming the file and the key", async () => {
    const file = write("bad.json", JSON.stringify({ image: { maxPixels: -5 } }));
    await expect(readConfigFile(file)).rejects.toThrow(`${file}: "image.maxPixels" must be an integer in [1, 1000000000], got -5`);
  });

  test("unreadable and malformed files are ConfigErrors naming the file", async () => {
    await expect(readConfigFile(path.join(dir, "none.json"))).rejects.toThrow(ConfigError);
    await expect(readConfigFile(path.join(dir, "none.json"))).rejects.toThrow(/none\.json: cannot read config \(ENOENT\)/);
    const broken = write("broken.json", "{");
    await expect(readConfigFile(broken)).rejects.toThrow(/broken\.json: not valid JSON/);
  });

  test("--set settings apply after the file, in order", async () => {
    const file = write("ok.json", JSON.stringify({ identity: { minUniqueSources: 3, routeMaxCosDist: 0.4 } }));
    const c = await readConfigFile(file, ["identity.minUniqueSources=4", "identity.linkage=single", "identity.minUniqueSources=5"]);
    expect(c.identity.minUniqueSources).toBe(5);
    expect(c.identity.routeMaxCosDist).toBe(0.4);
    expect(c.identity.linkage).toBe("single");
    expect((await readConfigFile(undefined, ["detection.secondPass=false"])).detection.secondPass).toBe(false);
  });
});

describe("--set KEY=VALUE", () => {
  test("values are parsed by the key's type", () => {
    expect(parseConfigSetting("identity.minUniqueSources=4")).toEqual({ identity: { minUniqueSources: 4 } });
    expect(parseConfigSetting("identity.routeMaxCosDist=0.4")).toEqual({ identity: { routeMaxCosDist: 0.4 } });
    expect(parseConfigSetting("image.maxPixels=1e8")).toEqual({ image: { maxPixels: 100_000_000 } });
    expect(parseConfigSetting("detection.secondPass=false")).toEqual({ detection: { secondPass: false } });
    expect(parseConfigSetting("identity.linkage=complete")).toEqual({ identity: { linkage: "complete" } });
    expect(applyConfigSettings(DEFAULT_CONFIG, ["eras.eraMinYearGap=0"]).eras.eraMinYearGap).toBe(0);
  });

  test.each<[string, string]>([
    ["identity.minUniqueSources=0", '--set identity.minUniqueSources=0: "identity.minUniqueSources" must be an integer at least 1, got 0'],
    ["identity.routeMaxCosDist=-0.1", '--set identity.routeMaxCosDist=-0.1: "identity.routeMaxCosDist" must be in [0, 2], got -0.1'],
    ["identity.minUniqueSources=four", '--set identity.minUniqueSources=four: "identity.minUniqueSources" must be a number, got "four"'],
    ["identity.minUniqueSources=", '--set identity.minUniqueSources=: "identity.minUniqueSources" must be a number, got ""'],
    ["image.maxPixels=0x10", '--set image.maxPixels=0x10: "image.maxPixels" must be a number, got "0x10"'],
    ["detection.secondPass=1", '--set detection.secondPass=1: "detection.secondPass" must be a boolean, got "1"'],
    ["identity.linkage=avg", '--set identity.linkage=avg: "identity.linkage" must be one of average, single, complete, dbscan, got "avg"'],
    ["identity.minUniqueSources", "--set identity.minUniqueSources: expected KEY=VALUE, e.g. identity.minUniqueSources=4"],
    ["=4", "--set =4: expected KEY=VALUE, e.g. identity.minUniqueSources=4"],
  ])("%s is refused", (setting, message) => {
    expect(() => parseConfigSetting(setting)).toThrow(ConfigError);
    expect(() => parseConfigSetting(setting)).toThrow(message);
  });

  test("an unknown key is refused with the keys near it", () => {
    expect(() => parseConfigSetting("identity.minUniqueSource=4")).toThrow(
      '--set identity.minUniqueSource=4: unknown key "identity.minUniqueSource" (near: identity.minUniqueSources)',
    );
    // A bare key finds its section; a misspelled section still finds the key.
    expect(nearConfigKeys("minUniqueSources")).toEqual(["identity.minUniqueSources"]);
    expect(nearConfigKeys("identiy.routeMaxCosDist")[0]).toBe("identity.routeMaxCosDist");
    expect(nearConfigKeys("export.frobnicate")).toEqual(["export.cropSizePx", "export.exportMinFaceShortPx", "export.exportMaxCosDist"]);
    expect(nearConfigKeys("zzz")).toEqual(configKeys());
    expect(() => parseConfigSetting("identity.minUniqueSources.x=4")).toThrow(/unknown key "identity.minUniqueSources.x"/);
  });
});
