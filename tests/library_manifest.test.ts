/**
 * lib/library: the owner's face-set library on disk. Real files in temp folders: manifests round-trip unknown
 * fields, malformed or hostile manifests fail with one-line errors naming file and JSON path, and writing never
 * disturbs existing sets (every file hashed before and after).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  addFacesets,
  appendToFaceset,
  claimedFacesetNumber,
  commitJournal,
  facesetManifestJson,
  facesetName,
  facesetNumber,
  LibraryError,
  libraryManifestJson,
  LOCK_FILE,
  type NewFace,
  type NewFaceset,
  nextFacesetNumber,
  parseFacesetManifest,
  parseLibraryManifest,
  PENDING_FILE,
  readLibrary,
  recoverJournal,
  withLibraryLock,
} from "../lib/library/mod";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "facesets-library-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const write = async (file: string, data: string | Uint8Array) => {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
};
const writeJson = (file: string, json: unknown) => write(file, JSON.stringify(json, null, 1));
const readJson = async (file: string) => JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
const bytes = (label: string) => new TextEncoder().encode(`not really a png: ${label}`);
const sha = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

/** relative path -> sha256 (or "-> target" for symlinks) of everything under `dir`. */
async function hashTree(dir: string, prefix = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    const full = path.join(dir, name);
    const rel = prefix + name;
    const info = await lstat(full);
    if (info.isSymbolicLink()) out.set(rel, `-> ${await readlink(full)}`);
    else if (info.isDirectory()) { for (const [k, v] of await hashTree(full, rel + "/")) out.set(k, v); }
    else out.set(rel, sha(await readFile(full)));
  }
  return out;
}

/** Raw face JSON as the owner's tools write it, with a field this version does not know. */
const rawFace = (crop: string, i: number) => ({
  source: `/photos/${crop}.jpg`,
  bbox: [10 + i, 20, 110 + i, 140.5],
  det_score: 0.91,
  face_short: 100,
  blur: 120.25,
  crop,
  centroid_cos_dist: 0.21,
  face_id: `id-${crop}`,
  source_sha256: sha(crop),
  pose: { yaw: -3.5 }, // unknown: must survive
});

const RAW_LIBRARY = {
  format: "facesets-library/0", // unknown top-level field
  facesets: [
    { name: "faceset_001", count: 2, origin: "hand-sorted", provenance: "sorted by hand, 2019", note: "Mum" },
    {
      name: "faceset_003",
      count: 1,
      origin: "auto-cluster",
      provenance: { tool: "cluster_osrc.py", threshold: 0.55 },
      tags: ["kids"],
    },
  ],
  thin_eras: ["faceset_007", { name: "faceset_005", count: 3, era: "1990s" }],
};

/** A library as the owner has it: two sets, two thin eras, unknown fields everywhere. */
async function makeLibrary(dir: string) {
  await writeJson(path.join(dir, "manifest.json"), RAW_LIBRARY);
  const sets = { "faceset_001": ["a.png", "b.png"], "faceset_003": ["c.png"] };
  for (const [name, crops] of Object.entries(sets)) {
    await writeJson(path.join(dir, name, "manifest.json"), {
      name,
      created: "2021-03-04", // unknown
      faces: crops.map(rawFace),
    });
    for (const crop of crops) await write(path.join(dir, name, crop), bytes(crop));
  }
  for (const thin of ["faceset_005", "faceset_007"]) {
    await writeJson(path.join(dir, "_thin", thin, "manifest.json"), { faces: [rawFace("t.png", 0)] });
    await write(path.join(dir, "_thin", thin, "t.png"), bytes(thin));
  }
}

/** The error thrown by `run` (sync or async), which must be a LibraryError. */
async function libraryError(run: () => unknown): Promise<LibraryError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(LibraryError);
    return err as LibraryError;
  }
  throw new Error("expected a LibraryError, nothing was thrown");
}

let faceCounter = 0;
const newFace = (crop: string, id = `new-${++faceCounter}`): NewFace => ({
  source: `/photos/new/${id}.jpg`,
  bbox: [1, 2, 101, 122],
  detScore: 0.88,
  faceShortPx: 100,
  blur: 55.5,
  crop,
  centroidCosDist: 0.3,
  faceId: id,
  png: bytes(id),
});
const newSet = (faces: NewFace[], origin: NewFaceset["origin"] = "discovered"): NewFaceset => ({
  origin,
  provenance: { command: "test", pipelineVersion: 1 },
  faces,
});

describe("names and numbers", () => {
  test.each(
    [
      [1, "faceset_001"],
      [42, "faceset_042"],
      [999, "faceset_999"],
      [1000, "faceset_1000"],
      [12345, "faceset_12345"],
    ] as const,
  )("facesetName(%d) = %s and back", (n, name) => {
    expect(facesetName(n)).toBe(name);
    expect(facesetNumber(name)).toBe(n);
  });

  test.each([["faceset_01"], ["faceset_0001"], ["faceset_001x"], ["Faceset_001"], ["faceset_"]])(
    "%s is not a canonical set name",
    (name) => expect(facesetNumber(name)).toBeUndefined(),
  );

  test("non-canonical names still reserve their number", () => {
    expect(claimedFacesetNumber("faceset_07")).toBe(7);
    expect(claimedFacesetNumber("faceset_012_1990s")).toBe(12);
    expect(claimedFacesetNumber(".faceset_012.tmp-5")).toBeUndefined();
  });

  test("facesetName refuses negative and fractional numbers", () => {
    expect(() => facesetName(-1)).toThrow(RangeError);
    expect(() => facesetName(1.5)).toThrow(RangeError);
  });

  test("nextFacesetNumber takes the max over manifest entries, thin eras and folders (also _thin, also files)", async () => {
    expect(nextFacesetNumber(await readLibrary(path.join(root, "does-not-exist")))).toBe(1);
    await makeLibrary(root);
    expect(nextFacesetNumber(await readLibrary(root))).toBe(8); // _thin/faceset_007
    await mkdir(path.join(root, "_thin", "faceset_011_2000s"));
    expect(nextFacesetNumber(await readLibrary(root))).toBe(12);
    await write(path.join(root, "faceset_020"), "a stray file"); // not a folder, still reserves 20
    expect(nextFacesetNumber(await readLibrary(root))).toBe(21);
  });
});

describe("reading", () => {
  test("a read -> write round trip keeps unknown fields at every level", async () => {
    await makeLibrary(root);
    const library = await readLibrary(root);
    expect(library.warnings).toEqual([]);
    expect(libraryManifestJson(library.manifest)).toEqual(RAW_LIBRARY);
    expect(library.manifest.facesets[0]!.extra).toEqual({ note: "Mum" });
    expect([...library.sets.keys()]).toEqual([1, 3]);
    expect([...library.thin.keys()]).toEqual([5, 7]);
    for (const set of library.sets.values()) {
      expect(facesetManifestJson(set.manifest)).toEqual(await readJson(path.join(set.dir, "manifest.json")));
    }
    const face = library.sets.get(1)!.manifest.faces[0]!;
    expect(face).toMatchObject({ detScore: 0.91, faceShortPx: 100, crop: "a.png", extra: { pose: { yaw: -3.5 } } });
  });

  test("an empty or missing library reads as empty", async () => {
    for (const dir of [root, path.join(root, "new")]) {
      const library = await readLibrary(dir);
      expect(library.hasManifest).toBe(false);
      expect(library.manifest).toEqual({ facesets: [], thinEras: [] });
      expect(library.sets.size).toBe(0);
    }
  });

  test("without a top-level manifest, the set folders' own manifests are read", async () => {
    await makeLibrary(root);
    await unlink(path.join(root, "manifest.json"));
    const library = await readLibrary(root);
    expect(library.hasManifest).toBe(false);
    expect([...library.sets.keys()]).toEqual([1, 3]);
    expect(library.sets.get(1)!.manifest.faces.map((f) => f.crop)).toEqual(["a.png", "b.png"]);
  });

  test("inconsistencies are warnings, not failures", async () => {
    await makeLibrary(root);
    const raw = structuredClone(RAW_LIBRARY);
    raw.facesets[0]!.count = 5;
    raw.facesets.push({ name: "faceset_004", count: 1, origin: "discovered", provenance: "x", note: "" });
    await writeJson(path.join(root, "manifest.json"), raw);
    await unlink(path.join(root, "faceset_001", "b.png"));
    await mkdir(path.join(root, "faceset_009")); // no manifest
    const { warnings } = await readLibrary(root);
    expect(warnings).toHaveLength(4);
    expect(warnings.join("\n")).toMatch(/facesets\[0\]\.count: 5, but faceset_001\/manifest.json lists 2 faces/);
    expect(warnings.join("\n")).toMatch(/facesets\[2\]: "faceset_004" has no set folder/);
    expect(warnings.join("\n")).toMatch(/faces\[1\]\.crop: "b.png" does not exist/);
    expect(warnings.join("\n")).toMatch(/faceset_009\/manifest.json: missing/);
  });
});

describe("malformed manifests fail with one line naming the file and the JSON path", () => {
  const entry = (fields: Record<string, unknown>) => ({
    facesets: [{ name: "faceset_001", count: 1, origin: "auto-cluster" }, {
      name: "faceset_002",
      count: 1,
      origin: "discovered",
      ...fields,
    }],
    thin_eras: [],
  });
  test.each(
    [
      ["top level not an object", [], "lib/manifest.json: (top level): expected an object, got an array"],
      ["no facesets", { thin_eras: [] }, "lib/manifest.json: facesets: expected an array, got nothing (missing)"],
      [
        "bad origin",
        entry({ origin: "foo" }),
        'lib/manifest.json: facesets[1].origin: expected one of auto-cluster|hand-sorted|era-split|discovered, got "foo"',
      ],
      [
        "count as a string",
        entry({ count: "3" }),
        'lib/manifest.json: facesets[1].count: expected a whole number >= 0, got "3"',
      ],
      [
        "negative count",
        entry({ count: -1 }),
        "lib/manifest.json: facesets[1].count: expected a whole number >= 0, got -1",
      ],
      [
        "provenance a number",
        entry({ provenance: 3 }),
        "lib/manifest.json: facesets[1].provenance: expected a string or an object, got 3",
      ],
      [
        "name not a set folder",
        entry({ name: "../etc" }),
        'lib/manifest.json: facesets[1].name: expected a set folder name like "faceset_001" (3+ digits, no extra zeros), got "../etc"',
      ],
      [
        "duplicate name",
        entry({ name: "faceset_001" }),
        'lib/manifest.json: facesets[1].name: "faceset_001" is already listed at facesets[0]',
      ],
      [
        "thin era escaping _thin",
        { facesets: [], thin_eras: ["ok", { name: "../../x" }] },
        'lib/manifest.json: thin_eras[1].name: expected a plain folder name under _thin/, got "../../x"',
      ],
    ] as const,
  )("library manifest: %s", async (_case, json, message) => {
    const err = await libraryError(() => parseLibraryManifest(json, "lib/manifest.json"));
    expect(err.message).toBe(message);
    expect(err.file).toBe("lib/manifest.json");
  });

  const setWith = (fields: Record<string, unknown>) => ({
    faces: [rawFace("ok.png", 0), { ...rawFace("x.png", 1), ...fields }],
  });
  const file = "lib/faceset_001/manifest.json";
  test.each(
    [
      ["bbox of 3", { bbox: [1, 2, 3] }, `${file}: faces[1].bbox: expected [x1, y1, x2, y2], got 3 values`],
      ["bbox with a string", { bbox: [1, 2, "3", 4] }, `${file}: faces[1].bbox[2]: expected a finite number, got "3"`],
      ["det_score null", { det_score: null }, `${file}: faces[1].det_score: expected a finite number, got null`],
      [
        "no source",
        { source: undefined },
        `${file}: faces[1].source: expected a non-empty string, got nothing (missing)`,
      ],
      [
        "bad sha256",
        { source_sha256: "XYZ" },
        `${file}: faces[1].source_sha256: expected 64 lowercase hex digits, got "XYZ"`,
      ],
      ["kps of 4", { kps: [[0, 0], [1, 1], [2, 2], [3, 3]] }, `${file}: faces[1].kps: expected 5 landmarks, got 4`],
      [
        "crop ..",
        { crop: "../faceset_002/a.png" },
        `${file}: faces[1].crop: crop path "../faceset_002/a.png" has a '..' segment and could leave the set folder`,
      ],
      [
        "crop a/../../x",
        { crop: "a/../../x.png" },
        `${file}: faces[1].crop: crop path "a/../../x.png" has a '..' segment and could leave the set folder`,
      ],
      [
        "crop absolute",
        { crop: "/etc/passwd" },
        `${file}: faces[1].crop: crop path "/etc/passwd" is absolute; crop paths are relative to the set folder`,
      ],
      [
        "crop drive letter",
        { crop: "C:x.png" },
        `${file}: faces[1].crop: crop path "C:x.png" is absolute; crop paths are relative to the set folder`,
      ],
      [
        "crop backslashes",
        { crop: "a\\..\\..\\x.png" },
        `${file}: faces[1].crop: crop path "a\\\\..\\\\..\\\\x.png" contains a backslash (use / and stay inside the set folder)`,
      ],
      [
        "crop ./",
        { crop: "./x.png" },
        `${file}: faces[1].crop: crop path "./x.png" has an empty or '.' segment; write it normalised`,
      ],
      [
        "crop the manifest",
        { crop: "manifest.json" },
        `${file}: faces[1].crop: crop path "manifest.json" is the set's own manifest`,
      ],
      [
        "crop used twice (any case)",
        { crop: "OK.png" },
        `${file}: faces[1].crop: "OK.png" is already used by faces[0]`,
      ],
    ] as const,
  )("set manifest: %s", async (_case, fields, message) => {
    const err = await libraryError(() => parseFacesetManifest(setWith(fields), file));
    expect(err.message).toBe(message);
    expect(err.jsonPath).toMatch(/^faces\[1\]\./);
  });

  test("bad JSON on disk names the file", async () => {
    await write(path.join(root, "manifest.json"), "{ facesets: [");
    await expect(readLibrary(root)).rejects.toThrow(
      new RegExp(`^${path.join(root, "manifest.json").replace(/[.]/g, "\\.")}: not valid JSON \\(`),
    );
  });

  test("a bad set manifest on disk names its file and path", async () => {
    await makeLibrary(root);
    const file = path.join(root, "faceset_003", "manifest.json");
    await writeJson(file, { faces: [{ ...rawFace("c.png", 0), crop: "a/../../x.png" }] });
    await expect(readLibrary(root)).rejects.toThrow(
      `${file}: faces[0].crop: crop path "a/../../x.png" has a '..' segment`,
    );
  });

  test("a crop that is a symlink out of the set folder is refused", async () => {
    await makeLibrary(root);
    const outside = path.join(root, "outside.png");
    await write(outside, "secret");
    await unlink(path.join(root, "faceset_001", "b.png"));
    await symlink(outside, path.join(root, "faceset_001", "b.png"));
    const file = path.join(root, "faceset_001", "manifest.json");
    expect((await libraryError(() => readLibrary(root))).message).toBe(
      `${file}: faces[1].crop: "b.png" resolves outside the set folder (symlink); crops must be files inside it`,
    );
  });
});

describe("addFacesets", () => {
  test("numbers after the max, leaves every existing file identical and every existing entry deep-equal", async () => {
    await makeLibrary(root);
    const before = await hashTree(root);
    const added = await addFacesets(root, [
      newSet([newFace("face_x.png"), newFace("face_y.png")]),
      newSet([newFace("face_z.png"), newFace("face_z.png")], "era-split"), // same wanted name twice: -2
    ]);
    expect(added.map((s) => s.name)).toEqual(["faceset_008", "faceset_009"]);
    expect(added[1]!.manifest.faces.map((f) => f.crop)).toEqual(["face_z.png", "face_z-2.png"]);

    const after = await hashTree(root);
    for (const [file, hash] of before) {
      if (file !== "manifest.json") expect([file, after.get(file)]).toEqual([file, hash]);
    }
    const newFiles = [...after.keys()].filter((f) => !before.has(f)).sort();
    expect(newFiles).toEqual([
      "faceset_008/face_x.png",
      "faceset_008/face_y.png",
      "faceset_008/manifest.json",
      "faceset_009/face_z-2.png",
      "faceset_009/face_z.png",
      "faceset_009/manifest.json",
    ]); // no temp folder, no lock left behind

    const top = await readJson(path.join(root, "manifest.json"));
    expect(top.facesets).toEqual([
      ...RAW_LIBRARY.facesets,
      { name: "faceset_008", count: 2, origin: "discovered", provenance: { command: "test", pipelineVersion: 1 } },
      { name: "faceset_009", count: 2, origin: "era-split", provenance: { command: "test", pipelineVersion: 1 } },
    ]);
    expect({ ...top, facesets: undefined }).toEqual({ ...RAW_LIBRARY, facesets: undefined });

    const reread = await readLibrary(root);
    expect(reread.warnings).toEqual([]);
    expect(reread.sets.get(9)!.manifest).toEqual(added[1]!.manifest);
    expect(await readFile(path.join(root, "faceset_008", "face_y.png"))).toEqual(
      Buffer.from(bytes(added[0]!.manifest.faces[1]!.faceId!)),
    );
  });

  test("a new library folder gets its first set and a manifest", async () => {
    const dir = path.join(root, "library");
    const [set] = await addFacesets(dir, [newSet([newFace("a.png")], "hand-sorted")]);
    expect(set!.name).toBe("faceset_001");
    expect(await readJson(path.join(dir, "manifest.json"))).toEqual({
      facesets: [{
        name: "faceset_001",
        count: 1,
        origin: "hand-sorted",
        provenance: { command: "test", pipelineVersion: 1 },
      }],
      thin_eras: [],
    });
  });

  test("a second addFacesets of an already-added set is refused and writes nothing", async () => {
    await makeLibrary(root);
    const faces = [newFace("p.png", "p"), newFace("q.png", "q")];
    await addFacesets(root, [newSet(faces)]);
    const before = await hashTree(root);
    await expect(addFacesets(root, [newSet([newFace("r.png", "r")]), newSet([...faces].reverse())])).rejects.toThrow(
      "addFacesets newSets[1]: holds exactly the faces of faceset_008; it was already added (nothing written)",
    );
    expect(await hashTree(root)).toEqual(before);
  });

  test("refuses to overwrite: an explicit number that exists or is listed anywhere", async () => {
    await makeLibrary(root);
    const before = await hashTree(root);
    for (const number of [1, 3, 5, 7]) {
      await expect(addFacesets(root, [{ ...newSet([newFace("a.png")]), number }])).rejects.toThrow(
        `addFacesets newSets[0]: number: ${facesetName(number)} already exists or is listed; refusing to overwrite`,
      );
    }
    expect(await hashTree(root)).toEqual(before);
    const [set] = await addFacesets(root, [{ ...newSet([newFace("a.png")]), number: 2 }]);
    expect(set!.name).toBe("faceset_002");
  });

  test("refuses bad records, empty sets and unsafe crop names before writing anything", async () => {
    await makeLibrary(root);
    const before = await hashTree(root);
    const cases: [NewFaceset, string][] = [
      [newSet([]), "addFacesets newSets[0]: faces: a new set needs at least one face"],
      [newSet([newFace("../x.png")]), `addFacesets newSets[0].faces[0].crop: "../x.png" has a '..' segment`],
      [newSet([newFace("sub/x.png")]), `addFacesets newSets[0].faces[0].crop: "sub/x.png" has a folder`],
      [newSet([newFace(".x.png")]), `addFacesets newSets[0].faces[0].crop: ".x.png" starts with a dot`],
      [
        newSet([{ ...newFace("x.png"), detScore: Number.NaN }]),
        "addFacesets newSets[0]: faces[0].det_score: expected a finite number, got NaN",
      ],
    ];
    for (const [set, message] of cases) await expect(addFacesets(root, [set])).rejects.toThrow(message);
    expect(await hashTree(root)).toEqual(before);
  });

  test("refuses a library with set folders but no top-level manifest", async () => {
    await makeLibrary(root);
    await unlink(path.join(root, "manifest.json"));
    await expect(addFacesets(root, [newSet([newFace("a.png")])])).rejects.toThrow(
      /manifest\.json: missing while set folders exist/,
    );
  });

  test("refuses while another writer holds the lock, and leaves its lock alone", async () => {
    await makeLibrary(root);
    // pid 1 runs, and a lock of an earlier version records no start time: it must be taken as held.
    await write(path.join(root, LOCK_FILE), "pid 1 since then\n");
    await expect(addFacesets(root, [newSet([newFace("a.png")])])).rejects.toThrow(
      /\.facesets\.lock: another facesets process is writing this library \(pid 1 since then\); wait for it to finish$/,
    );
    expect(await readFile(path.join(root, LOCK_FILE), "utf8")).toBe("pid 1 since then\n");
    expect(existsSync(path.join(root, "faceset_008"))).toBe(false);
  });
});

describe("the library lock", () => {
  const lockOf = (holder: Record<string, unknown>) => JSON.stringify({ host: os.hostname(), command: "extend --x", since: "t0", ...holder }) + "\n";

  test("records pid, start time, host and command while held; removed afterwards", async () => {
    let seen: Record<string, unknown> = {};
    await withLibraryLock(root, async () => {
      seen = await readJson(path.join(root, LOCK_FILE));
    }, { command: "test-writer" });
    expect(seen).toMatchObject({ pid: process.pid, host: os.hostname(), command: "test-writer" });
    expect(seen.start).toMatch(/^\d+$/); // Linux: /proc/<pid>/stat field 22
    expect(existsSync(path.join(root, LOCK_FILE))).toBe(false);
  });

  test("a lock whose process is gone, or whose pid was reused, is taken over with one warning", async () => {
    await makeLibrary(root);
    const warnings: string[] = [];
    const dead = 2 ** 22 + 17; // above Linux's pid_max default: no such process
    await write(path.join(root, LOCK_FILE), lockOf({ pid: dead, start: "5" }));
    await withLibraryLock(root, async () => {}, { warn: (l) => warnings.push(l) });
    expect(warnings).toEqual([
      `${path.join(root, LOCK_FILE)}: took over the lock of pid ${dead} "extend --x" since t0: process ${dead} is gone (killed during a write?)`,
    ]);
    // Our own pid, but a start time it never had: the pid now belongs to another process.
    warnings.length = 0;
    await write(path.join(root, LOCK_FILE), lockOf({ pid: process.pid, start: "1" }));
    await withLibraryLock(root, async () => {}, { warn: (l) => warnings.push(l) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`pid ${process.pid} now belongs to another process (its start time differs)`);
    expect(existsSync(path.join(root, LOCK_FILE))).toBe(false);
  });

  test("a live holder is refused by name; on another host it cannot be checked and is refused too", async () => {
    await write(path.join(root, LOCK_FILE), lockOf({ pid: process.ppid, start: null }));
    await expect(withLibraryLock(root, async () => {})).rejects.toThrow(
      `another facesets process is writing this library (pid ${process.ppid} "extend --x" since t0); wait for it to finish`,
    );
    await write(path.join(root, LOCK_FILE), lockOf({ pid: 2 ** 22 + 17, host: "elsewhere" }));
    await expect(withLibraryLock(root, async () => {})).rejects.toThrow(/on host elsewhere\); it cannot be checked from here/);
    await write(path.join(root, LOCK_FILE), "");
    await expect(withLibraryLock(root, async () => {})).rejects.toThrow(/held by an unknown writer \(""\)/);
  });

  test("re-entrant inside one call chain, refused to a second concurrent writer of the same process", async () => {
    await makeLibrary(root);
    const result = await withLibraryLock(root, async () => {
      const added = await addFacesets(root, [newSet([newFace("in.png")])]); // takes the held lock again
      await expect(withLibraryLock(root, async () => {}).then(() => "ran")).resolves.toBe("ran");
      return added.map((s) => s.name);
    });
    expect(result).toEqual(["faceset_008"]);
    let release!: () => void;
    const holding = withLibraryLock(root, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 50));
    await expect(addFacesets(root, [newSet([newFace("out.png")])])).rejects.toThrow(/this same process already writes it/);
    release();
    await holding;
  });

  test("temps of dead processes are removed (and named) before the write; a live process's temps are left", async () => {
    await makeLibrary(root);
    const dead = 2 ** 22 + 17;
    await write(path.join(root, `.faceset_008.tmp-${dead}`, "x.png"), "half a set");
    await write(path.join(root, "faceset_001", `.c.png.tmp-${dead}`), "half a crop");
    await write(path.join(root, `manifest.json.${dead}.tmp`), "half a manifest");
    await write(path.join(root, "_runs", `r.json.${dead}.tmp`), "half a record");
    await write(path.join(root, "faceset_001", `.d.png.tmp-${process.ppid}`), "a live process's");
    await write(path.join(root, "faceset_001", "holiday.tmp-2019"), "the owner's file");
    const warnings: string[] = [];
    await withLibraryLock(root, async () => {}, { warn: (l) => warnings.push(l) });
    expect(warnings.sort()).toEqual([
      `${path.join(root, "faceset_001", `.d.png.tmp-${process.ppid}`)}: left in place: process ${process.ppid} that made it is running (not holding this library's lock)`,
      `removed .faceset_008.tmp-${dead}, a temp folder of process ${dead}, which is gone (killed during a write)`,
      `removed _runs/r.json.${dead}.tmp, a temp file of process ${dead}, which is gone (killed during a write)`,
      `removed faceset_001/.c.png.tmp-${dead}, a temp file of process ${dead}, which is gone (killed during a write)`,
      `removed manifest.json.${dead}.tmp, a temp file of process ${dead}, which is gone (killed during a write)`,
    ]);
    expect(existsSync(path.join(root, "faceset_001", "holiday.tmp-2019"))).toBe(true);
    expect(existsSync(path.join(root, `.faceset_008.tmp-${dead}`))).toBe(false);
  });
});

describe("appendToFaceset", () => {
  test("adds crops under never-used names; existing crops are never renamed or overwritten", async () => {
    await makeLibrary(root);
    // A stray file the owner dropped in, and a listed crop whose file is gone: neither name may be reused.
    await write(path.join(root, "faceset_001", "stray.png"), "owner's file");
    await unlink(path.join(root, "faceset_001", "b.png"));
    const before = await hashTree(root);
    const oldManifest = await readJson(path.join(root, "faceset_001", "manifest.json"));

    const result = await appendToFaceset(root, 1, [
      newFace("a.png"),
      newFace("B.png"),
      newFace("stray.png"),
      newFace("fresh.png"),
    ]);
    expect(result.added.map((f) => f.crop)).toEqual(["a-2.png", "B-2.png", "stray-2.png", "fresh.png"]);
    expect(result.warnings).toEqual([]);

    const after = await hashTree(root);
    for (const [file, hash] of before) {
      if (file !== "manifest.json" && file !== "faceset_001/manifest.json") {
        expect([file, after.get(file)]).toEqual([file, hash]);
      }
    }
    const manifest = await readJson(path.join(root, "faceset_001", "manifest.json"));
    const faces = manifest.faces as unknown[];
    expect(faces.slice(0, 2)).toEqual(oldManifest.faces);
    expect(faces).toHaveLength(6);
    expect({ ...manifest, faces: undefined }).toEqual({ ...oldManifest, faces: undefined });

    const top = await readJson(path.join(root, "manifest.json"));
    expect(top).toEqual({
      ...RAW_LIBRARY,
      facesets: [{ ...RAW_LIBRARY.facesets[0], count: 6 }, RAW_LIBRARY.facesets[1]],
    });
    expect((await readdir(path.join(root, "faceset_001"))).filter((f) => f.startsWith("."))).toEqual([]);
  });

  test("faces already in the set are skipped, so re-running extend adds nothing", async () => {
    await makeLibrary(root);
    const first = await appendToFaceset(root, 3, [newFace("n.png", "same")]);
    expect(first.added).toHaveLength(1);
    const before = await hashTree(root);
    const again = await appendToFaceset(root, 3, [newFace("n.png", "same"), newFace("m.png", "id-c.png")]);
    expect(again.added).toEqual([]);
    expect(again.skipped.map((s) => s.reason)).toEqual([
      "already in faceset_003 (face key same)",
      "already in faceset_003 (face key id-c.png)",
    ]);
    expect(await hashTree(root)).toEqual(before);
  });

  test("refuses a set that does not exist or is a thin era", async () => {
    await makeLibrary(root);
    await expect(appendToFaceset(root, 2, [newFace("a.png")])).rejects.toThrow(
      /faceset_002: no such set with a manifest$/,
    );
    await expect(appendToFaceset(root, 7, [newFace("a.png")])).rejects.toThrow(/it is a thin era under _thin\//);
  });
});

describe("a write killed half-way is completed by the next one (pending.ts journal)", () => {
  test("a journal is redone step by step, and redoing it again changes nothing (idempotent)", async () => {
    await makeLibrary(root);
    await write(path.join(root, "faceset_001", ".n.png.tmp-99"), "new crop");
    await write(path.join(root, ".faceset_008.tmp-99", "manifest.json"), JSON.stringify({ faces: [] }));
    const steps = [
      { op: "rename", from: "faceset_001/.n.png.tmp-99", to: "faceset_001/n.png" },
      { op: "rename", from: ".faceset_008.tmp-99", to: "faceset_008" },
      { op: "write", path: "faceset_003/note.txt", data: "replaced" },
      { op: "remove", path: "faceset_003/id-c.png" },
    ] as const;
    const journal = JSON.stringify({ kind: "test", pid: 99, startedAt: "t", steps });
    await write(path.join(root, PENDING_FILE), journal);
    expect(await readLibrary(root).then((l) => l.warnings.join("\n"))).toContain(`${PENDING_FILE}: a write was interrupted`);
    expect(await recoverJournal(root)).toEqual(["completed the interrupted test of process 99 (4 journaled steps)"]);
    const done = await hashTree(root);
    expect(done.get("faceset_001/n.png")).toBe(sha("new crop"));
    expect(done.has("faceset_008/manifest.json") && !done.has("faceset_003/id-c.png")).toBe(true);
    expect(done.has(PENDING_FILE)).toBe(false);
    // Killed after the last step but before the journal was removed: redoing it all is harmless.
    await write(path.join(root, PENDING_FILE), journal);
    await recoverJournal(root);
    expect(await hashTree(root)).toEqual(done);
    // Killed between link and unlink of a crop: both names are one file; the temp goes.
    await rm(path.join(root, "faceset_001", "n.png"));
    await write(path.join(root, "faceset_001", ".n.png.tmp-99"), "new crop");
    await import("node:fs/promises").then((fs) => fs.link(path.join(root, "faceset_001", ".n.png.tmp-99"), path.join(root, "faceset_001", "n.png")));
    await write(path.join(root, PENDING_FILE), journal);
    await recoverJournal(root);
    expect(await hashTree(root)).toEqual(done);
  });

  test("a rename never replaces a file that is not its own; step paths never leave the library", async () => {
    await makeLibrary(root);
    const temp = `faceset_001/.a.png.tmp-${process.pid}`;
    await write(path.join(root, temp), "other bytes");
    await expect(withLibraryLock(root, () =>
      commitJournal(root, "test", [{ op: "rename", from: temp, to: "faceset_001/a.png" }])
    )).rejects.toThrow(/faceset_001\/a\.png: already exists; refusing to overwrite it/);
    expect(await readFile(path.join(root, "faceset_001", "a.png"), "utf8")).toBe("not really a png: a.png");
    await expect(commitJournal(root, "test", [{ op: "remove", path: "../elsewhere" }])).rejects.toThrow(
      /remove step path "\.\.\/elsewhere" is not inside the library/,
    );
  });

  test("an older version's journal: sets whose folders arrived are listed, the others left out", async () => {
    await makeLibrary(root);
    const manifestFile = path.join(root, "manifest.json");
    const oldManifest = await readFile(manifestFile);
    const added = await addFacesets(root, [newSet([newFace("p.png")]), newSet([newFace("q.png")])]);
    const journaled = await readJson(manifestFile);
    await writeFile(manifestFile, oldManifest);
    await rm(added[1]!.dir, { recursive: true });
    await writeJson(path.join(root, PENDING_FILE), { manifest: journaled, placed: added.map((s) => ({ name: s.name, dir: s.name })) });

    const warnings: string[] = [];
    const next = await withLibraryLock(root, () => addFacesets(root, [newSet([newFace("r.png")])]), { warn: (l) => warnings.push(l) });
    expect(warnings).toEqual([`${path.join(root, PENDING_FILE)}: completed an interrupted write (listed faceset_008)`]);
    expect(next.map((s) => s.name)).toEqual(["faceset_009"]); // 008 is in use again, 009 was never placed
    const library = await readLibrary(root);
    expect(library.manifest.facesets.map((e) => [e.name, e.count])).toEqual([
      ["faceset_001", 2], ["faceset_003", 1], ["faceset_008", 1], ["faceset_009", 1],
    ]);
    expect(library.warnings).toEqual([]);
    expect(existsSync(path.join(root, PENDING_FILE))).toBe(false);
  });

  test("an older version's extend journal: dropped when its set manifest was never replaced", async () => {
    await makeLibrary(root);
    await writeJson(path.join(root, PENDING_FILE), { manifest: { facesets: [] }, placed: [], setManifest: { dir: "faceset_001", faces: 4 } });
    expect(await recoverJournal(root)).toEqual([
      `${path.join(root, PENDING_FILE)}: an interrupted write had not replaced faceset_001/manifest.json; dropped it`,
    ]);
    expect((await readLibrary(root)).manifest.facesets.map((e) => e.name)).toEqual(["faceset_001", "faceset_003"]);
    expect(existsSync(path.join(root, PENDING_FILE))).toBe(false);
  });
});
