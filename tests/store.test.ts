import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FaceRow,
  FaceStore,
  faceId,
  type FileOutcome,
  folderPrefixes,
  newRunId,
  SCHEMA_VERSION,
  StoreError,
  StoreInUseError,
  StoreModelMismatchError,
} from "../lib/store/mod";
import { readFloatArrays } from "../lib/store/vectors";
import { MIGRATIONS } from "../lib/store/schema";
import { DETECTOR, DIM, fileOutcome, facesOfFile, OTHER_RECOGNIZER, RECOGNIZER, syntheticFace, unitVector } from "./support/store_fixtures";

const TMP = mkdtempSync(path.join(tmpdir(), "facesets-store-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

let n = 0;
let storePath = "";
beforeEach(() => {
  storePath = path.join(TMP, `case${++n}`, "sub", "facesets.duckdb");
});

const RUN = { command: "test", config: { detection: { detSizePx: 640 } }, detectorSha256: DETECTOR, recognizerSha256: RECOGNIZER };

/** Open, run `fn` with a running run, finish and close. */
async function withRun<T>(p: string, fn: (store: FaceStore, runId: string) => Promise<T>): Promise<T> {
  const store = await FaceStore.open(p);
  try {
    const runId = await store.beginRun(RUN);
    const out = await fn(store, runId);
    await store.finishRun(runId, { files: 0 });
    return out;
  } finally {
    await store.close();
  }
}

/** Raw SQL on a closed store file (checks what FaceStore does not expose). */
async function sql(p: string, query: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(p);
  try {
    const con = await instance.connect();
    const rows = (await con.runAndReadAll(query)).getRowObjectsJS();
    con.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

function expectFaceMatches(row: FaceRow, outcome: FileOutcome, detIndex: number): void {
  const face = outcome.faces![detIndex]!;
  expect(row.faceId).toBe(faceId(outcome.sha256, detIndex));
  expect(row.fileSha256).toBe(outcome.sha256);
  expect(row.detIndex).toBe(detIndex);
  expect(row.bbox).toEqual(face.bbox.map(Math.fround));
  expect(row.kps).toEqual(face.kps!.map(([x, y]) => [Math.fround(x), Math.fround(y)]));
  expect(row.detScore).toBe(face.detScore);
  expect(row.faceShortPx).toBe(face.faceShortPx);
  expect(row.blur).toBe(face.blur);
  expect(row.detSizePx).toBe(face.detSizePx);
  expect(Array.from(row.embedding)).toEqual(Array.from(face.embedding));
  expect(row.retired).toBe(false);
}

describe("ids", () => {
  it("faceId is sha256(`${sha}:${index}`) cut to 24 hex chars", () => {
    const sha = "ab".repeat(32);
    const expected = createHash("sha256").update(`${sha}:3`).digest("hex").slice(0, 24);
    expect(faceId(sha, 3)).toBe(expected);
    expect(faceId(sha, 3)).toBe(faceId(sha, 3));
    expect(faceId(sha, 4)).not.toBe(expected);
    expect(() => faceId(sha, -1)).toThrow(RangeError);
  });

  it("run ids sort by time and never repeat", () => {
    const t = new Date("2025-11-28T12:05:01.123Z");
    const ids = [newRunId(t), newRunId(t), newRunId(new Date(t.getTime() + 1)), newRunId(new Date(t.getTime() + 1000))];
    expect(ids[0]).toMatch(/^20251128T120501123Z-00-[0-9a-f]{6}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("folder prefixes end on a separator boundary", () => {
    expect(folderPrefixes("/a/b")).toEqual(["/a/b/"]);
    expect(folderPrefixes("/a/b/")).toEqual(["/a/b/"]);
    expect(folderPrefixes("/a/./b//")).toEqual(["/a/b/"]);
    expect(folderPrefixes("/")).toEqual(["/"]);
  });
});

describe("FaceStore.open", () => {
  it("creates the parent folder and the file, records the schema version, and reopens", async () => {
    const store = await FaceStore.open(storePath);
    expect(existsSync(storePath)).toBe(true);
    expect(store.recognizer).toBeUndefined();
    expect(await store.counts()).toEqual({ files: { ok: 0, noface: 0, error: 0, alias: 0, missing: 0 }, faces: 0, retiredFaces: 0 });
    await store.close();
    await store.close(); // idempotent
    const rows = await sql(storePath, "SELECT value FROM meta WHERE key = 'schema_version'");
    expect(rows).toEqual([{ value: String(SCHEMA_VERSION) }]);
    const again = await FaceStore.open(storePath, { readOnly: true });
    expect(await again.selectFaces()).toEqual([]);
    await again.close();
  });

  it("migrations are ordered, contiguous and end at SCHEMA_VERSION", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it("a read-only open of a file that needs migrating asks for a writable open", async () => {
    const instance = await DuckDBInstance.create((mkdirSync(path.dirname(storePath), { recursive: true }), storePath));
    instance.closeSync(); // an empty DuckDB file: schema version 0
    await expect(FaceStore.open(storePath, { readOnly: true })).rejects.toThrow(/schema version 0 .*open it once for writing to migrate it/);
    await (await FaceStore.open(storePath)).close();
    await (await FaceStore.open(storePath, { readOnly: true })).close();
  });

  it("a version-2 store (before TIFF pages and decode notes) is migrated in place; its faces read page 0", async () => {
    const old = fileOutcome(1); // 2 faces
    await withRun(storePath, (store, runId) => store.commitBatch(runId, [old]));
    // Turn the file back into what facesets wrote at schema version 2.
    await sql(storePath, "ALTER TABLE faces DROP COLUMN page");
    await sql(storePath, "ALTER TABLE files DROP COLUMN decode_note");
    await sql(storePath, "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    await expect(FaceStore.open(storePath, { readOnly: true })).rejects.toThrow(/schema version 2 \(current 3\)/);

    const paged: FileOutcome = {
      ...fileOutcome(2),
      decodeNote: "pages: 3 analysed; faces carry their page",
      faces: fileOutcome(2).faces!.map((f, i) => ({ ...f, page: i + 1 })),
    };
    await withRun(storePath, (store, runId) => store.commitBatch(runId, [paged]));
    expect(await sql(storePath, "SELECT value FROM meta WHERE key = 'schema_version'")).toEqual([{ value: "3" }]);
    const store = await FaceStore.open(storePath, { readOnly: true });
    try {
      const faces = await store.selectFaces();
      expect(faces.filter((f) => f.path === old.path).map((f) => [f.detIndex, f.page])).toEqual([[0, 0], [1, 0]]);
      expect(faces.filter((f) => f.path === paged.path).map((f) => [f.detIndex, f.page])).toEqual(paged.faces!.map((_, i) => [i, i + 1]));
      const known = await store.knownFiles();
      expect(known.get(old.path)!.decodeNote).toBeNull();
      expect(known.get(paged.path)!.decodeNote).toBe("pages: 3 analysed; faces carry their page");
    } finally {
      await store.close();
    }
  });

  it("refuses a read-only open of a missing file without creating it", async () => {
    await expect(FaceStore.open(storePath, { readOnly: true })).rejects.toThrow(/does not exist/);
    expect(existsSync(path.dirname(storePath))).toBe(false);
  });

  it("refuses a file written by a newer schema", async () => {
    await (await FaceStore.open(storePath)).close();
    await sql(storePath, `UPDATE meta SET value = '${SCHEMA_VERSION + 1}' WHERE key = 'schema_version'`);
    await expect(FaceStore.open(storePath)).rejects.toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer`));
  });

  it("refuses a file that is not a DuckDB database in one line", async () => {
    const { writeFileSync, mkdirSync } = await import("node:fs");
    mkdirSync(path.dirname(storePath), { recursive: true });
    writeFileSync(storePath, "not a database, just text\n".repeat(200));
    const err = await FaceStore.open(storePath).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(new RegExp(`^store ${storePath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot open`));
    expect((err as Error).message).not.toContain("\n");
  });

  it("shares one instance between handles of one process; a read-only handle blocks a writer", async () => {
    const a = await FaceStore.open(storePath);
    const b = await FaceStore.open(storePath);
    const runId = await a.beginRun(RUN);
    await a.commitBatch(runId, [fileOutcome(1)]);
    expect((await b.selectFaces()).length).toBe(facesOfFile(1)); // b sees a's committed faces
    await a.close();
    expect((await b.counts()).faces).toBe(facesOfFile(1)); // closing a leaves b working
    await b.close();

    const reader = await FaceStore.open(storePath, { readOnly: true });
    const err = await FaceStore.open(storePath).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreInUseError);
    expect((err as Error).message).toContain(`PID ${process.pid}`);
    await expect(reader.beginRun(RUN)).rejects.toThrow(/read-only/);
    await reader.close();
    await (await FaceStore.open(storePath)).close(); // released
  });
});

describe("runs", () => {
  it("records begin/finish with config and counts; a run left running is marked interrupted on the next open", async () => {
    const store = await FaceStore.open(storePath);
    const done = await store.beginRun(RUN);
    await store.finishRun(done, { seen: 3, faces: 5 });
    const left = await store.beginRun({ ...RUN, command: "killed" });
    await expect(store.finishRun("nope", {})).rejects.toThrow(/unknown run "nope"/);
    await store.close();
    const again = await FaceStore.open(storePath);
    const runs = await again.runs();
    await again.close();
    expect(runs.map((r) => [r.runId, r.status])).toEqual([[done, "done"], [left, "interrupted"]]);
    expect(runs[0]!.config).toEqual(RUN.config);
    expect(runs[0]!.counts).toEqual({ seen: 3, faces: 5 });
    expect(runs[0]!.recognizerSha256).toBe(RECOGNIZER);
    expect(runs[0]!.finishedAt!.getTime()).toBeGreaterThanOrEqual(runs[0]!.startedAt.getTime());
    expect(runs[1]!.finishedAt).toBeNull();
  });
});

describe("recognizer", () => {
  it("is recorded on first use and a different one is refused, naming both", async () => {
    const store = await FaceStore.open(storePath);
    await store.assertRecognizer(RECOGNIZER, DIM);
    await store.assertRecognizer(RECOGNIZER, DIM);
    expect(store.recognizer).toEqual({ sha256: RECOGNIZER, dim: DIM });
    const err = await store.assertRecognizer(OTHER_RECOGNIZER, DIM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreModelMismatchError);
    expect((err as Error).message).toBe(
      `store ${storePath} holds embeddings of recognizer ${RECOGNIZER.slice(0, 8)}… (512-d); ` +
        `this run uses ${OTHER_RECOGNIZER.slice(0, 8)}… (512-d) — use another --store`,
    );
    await expect(store.assertRecognizer(RECOGNIZER, 128)).rejects.toThrow(/\(512-d\); this run uses .* \(128-d\)/);
    await store.close();
    const again = await FaceStore.open(storePath, { readOnly: true });
    await expect(again.assertRecognizer(OTHER_RECOGNIZER, DIM)).rejects.toBeInstanceOf(StoreModelMismatchError);
    await again.close();
  });

  it("commitBatch refuses faces of another recognizer or dimension, writing nothing", async () => {
    await withRun(storePath, async (store, runId) => {
      await store.commitBatch(runId, [fileOutcome(0)]);
      const other = { ...fileOutcome(1), recognizerSha256: OTHER_RECOGNIZER };
      await expect(store.commitBatch(runId, [fileOutcome(2), other])).rejects.toBeInstanceOf(StoreModelMismatchError);
      const small = fileOutcome(4, { dim: 128 });
      await expect(store.commitBatch(runId, [small])).rejects.toThrow(/128-d/);
      expect((await store.knownFiles()).size).toBe(1);
    });
  });
});

describe("commitBatch and selectFaces", () => {
  it("round-trips files and faces, ordered by (path, detIndex)", async () => {
    const outcomes = Array.from({ length: 12 }, (_, i) => fileOutcome(i));
    const rows = await withRun(storePath, async (store, runId) => {
      await store.commitBatch(runId, outcomes.slice(0, 5));
      await store.commitBatch(runId, outcomes.slice(5));
      return store.selectFaces();
    });
    const expected = outcomes
      .flatMap((o) => (o.faces ?? []).map((_, k) => ({ o, k })))
      .sort((a, b) => (a.o.path < b.o.path ? -1 : a.o.path > b.o.path ? 1 : a.k - b.k));
    expect(rows.length).toBe(expected.length);
    rows.forEach((row, i) => {
      const { o, k } = expected[i]!;
      expect(row.path).toBe(o.path);
      expect(row.paths).toEqual([o.path]);
      expectFaceMatches(row, o, k);
    });

    const store = await FaceStore.open(storePath, { readOnly: true });
    const known = await store.knownFiles();
    const f5 = known.get(outcomes[5]!.path)!;
    expect(f5).toMatchObject({ sha256: outcomes[5]!.sha256, size: 1005, mtimeMs: outcomes[5]!.mtimeMs, status: "ok", width: 1024, height: 768, aliasOf: null, reason: null, captureTime: null });
    expect(f5.firstSeenRun).toBe(f5.lastSeenRun);
    expect(known.get(outcomes[3]!.path)!.status).toBe("noface");
    const counts = await store.counts();
    expect(counts.files).toEqual({ ok: 9, noface: 3, error: 0, alias: 0, missing: 0 });
    expect(counts.faces).toBe(rows.length);
    const m = store.embeddingMatrix(rows);
    expect(m.dim).toBe(DIM);
    expect(m.data.length).toBe(rows.length * DIM);
    rows.forEach((r, i) => expect(Array.from(m.data.subarray(i * DIM, (i + 1) * DIM))).toEqual(Array.from(r.embedding)));
    await store.close();
  });

  it("aliases share the canonical's faces; `paths` lists every live path; `under` matches on a separator boundary", async () => {
    const canonical = fileOutcome(1, { root: "/a/b" });
    const alias: FileOutcome = { path: "/a/bc/copy.jpg", sha256: canonical.sha256, size: canonical.size, mtimeMs: 1, status: "alias", aliasOf: canonical.path };
    const other = fileOutcome(2, { root: "/a/bc" });
    const err: FileOutcome = { path: "/a/b/broken.jpg", sha256: "", size: 0, mtimeMs: 2, status: "error", reason: "unreadable: cannot read (EACCES)" };
    await withRun(storePath, async (store, runId) => {
      await store.commitBatch(runId, [canonical, alias, other, err]);
      const all = await store.selectFaces();
      expect(all.length).toBe(facesOfFile(1) + facesOfFile(2));
      const shared = all.filter((r) => r.fileSha256 === canonical.sha256);
      expect(shared.map((r) => r.path)).toEqual(canonical.faces!.map(() => canonical.path));
      expect(shared[0]!.paths).toEqual([canonical.path, alias.path]);

      const underB = await store.selectFaces({ under: "/a/b" });
      expect(underB.map((r) => r.fileSha256)).toEqual(canonical.faces!.map(() => canonical.sha256));
      const underBc = await store.selectFaces({ under: "/a/bc/" });
      // the alias /a/bc/copy.jpg lies under /a/bc, so its content's faces come along (path = canonical)
      expect(new Set(underBc.map((r) => r.fileSha256))).toEqual(new Set([canonical.sha256, other.sha256]));
      expect(await store.selectFaces({ under: "/a/b/d1/img" })).toEqual([]);
      expect(await store.selectFaces({ under: "/a/bc/copy.jpg" })).toEqual([]);
      expect((await store.selectFaces({ under: "/" })).length).toBe(all.length);

      const known = await store.knownFiles();
      expect(known.get(alias.path)).toMatchObject({ status: "alias", aliasOf: canonical.path, width: null });
      expect(known.get(err.path)).toMatchObject({ status: "error", reason: "unreadable: cannot read (EACCES)", sha256: "" });
      expect(await store.knownContent()).toEqual(new Map([[canonical.sha256, canonical.path], [other.sha256, other.path]]));
    });
  });

  it("is idempotent: committing the same outcomes again leaves identical rows, no duplicates", async () => {
    const outcomes = [fileOutcome(0), fileOutcome(1), fileOutcome(2)];
    const first = await withRun(storePath, async (store, runId) => {
      await store.commitBatch(runId, outcomes);
      return store.selectFaces();
    });
    const second = await withRun(storePath, async (store, runId) => {
      await store.commitBatch(runId, outcomes);
      return { rows: await store.selectFaces(), counts: await store.counts() };
    });
    expect(second.rows).toEqual(first);
    expect(second.counts.faces).toBe(first.length);
    expect(second.counts.retiredFaces).toBe(0);
    const known = await FaceStore.open(storePath, { readOnly: true }).then(async (s) => {
      const k = await s.knownFiles();
      await s.close();
      return k;
    });
    const f0 = known.get(outcomes[0]!.path)!;
    expect(f0.firstSeenRun < f0.lastSeenRun).toBe(true);
  });

  it("a file whose bytes changed gets new faces; the old content's faces are retired, not deleted", async () => {
    const before = fileOutcome(1);
    const after = { ...fileOutcome(2), path: before.path };
    await withRun(storePath, (store, runId) => store.commitBatch(runId, [before]));
    await sql(storePath, `UPDATE files SET capture_time = TIMESTAMP '2001-02-03 04:05:06'`);
    await withRun(storePath, async (store, runId) => {
      await store.commitBatch(runId, [after]);
      const live = await store.selectFaces();
      expect(live.map((r) => r.fileSha256)).toEqual(after.faces!.map(() => after.sha256));
      const all = await store.selectFaces({ includeRetired: true });
      const retired = all.filter((r) => r.retired);
      expect(retired.map((r) => r.faceId).sort()).toEqual(before.faces!.map((_, k) => faceId(before.sha256, k)).sort());
      expect(retired.every((r) => r.path === before.path && r.paths.length === 0)).toBe(true);
      expect(await store.counts()).toMatchObject({ faces: facesOfFile(2), retiredFaces: facesOfFile(1) });
      expect((await store.knownFiles()).get(before.path)!.captureTime).toBeNull(); // EXIF time belongs to the old bytes
    });
  });

  it("keeps capture_time while the bytes stay the same", async () => {
    const o = fileOutcome(1);
    await withRun(storePath, (store, runId) => store.commitBatch(runId, [o]));
    await sql(storePath, `UPDATE files SET capture_time = TIMESTAMP '2001-02-03 04:05:06'`);
    await withRun(storePath, async (store, runId) => {
      await store.commitBatch(runId, [{ ...o, mtimeMs: o.mtimeMs + 5 }]);
      expect((await store.knownFiles()).get(o.path)!.captureTime).toEqual(new Date("2001-02-03T04:05:06Z"));
    });
  });

  it("re-analysis defines the content's face set: extra old faces are retired, returning ones un-retired", async () => {
    const three = { ...fileOutcome(2), faces: [syntheticFace(1), syntheticFace(2), syntheticFace(3)] };
    const one = { ...three, faces: [three.faces[0]!] };
    const noface: FileOutcome = { ...three, status: "noface", faces: [] };
    await withRun(storePath, async (store, runId) => {
      await store.commitBatch(runId, [three]);
      await store.commitBatch(runId, [one]);
      expect((await store.selectFaces()).map((r) => r.detIndex)).toEqual([0]);
      expect(await store.counts()).toMatchObject({ faces: 1, retiredFaces: 2 });
      await store.commitBatch(runId, [noface]);
      expect(await store.counts()).toMatchObject({ faces: 0, retiredFaces: 3 });
      await store.commitBatch(runId, [three]);
      expect(await store.counts()).toMatchObject({ faces: 3, retiredFaces: 0 });
    });
  });

  it("markMissing keeps the faces; a live alias of a missing canonical becomes canonical", async () => {
    const canonical = fileOutcome(1);
    const alias: FileOutcome = { path: "/photos/z/copy.jpg", sha256: canonical.sha256, size: 1, mtimeMs: 1, status: "alias", aliasOf: canonical.path };
    const alias2: FileOutcome = { ...alias, path: "/photos/z/copy2.jpg" };
    await withRun(storePath, async (store, runId) => {
      await store.commitBatch(runId, [canonical, alias, alias2]);
      await store.markMissing(runId, [canonical.path, "/never/seen.jpg"]);
      const known = await store.knownFiles();
      expect(known.get(canonical.path)!.status).toBe("missing");
      expect(known.get(alias.path)).toMatchObject({ status: "ok", aliasOf: null, width: 1024, height: 768 });
      expect(known.get(alias2.path)).toMatchObject({ status: "alias", aliasOf: alias.path });
      expect(await store.knownContent()).toEqual(new Map([[canonical.sha256, alias.path]]));
      const rows = await store.selectFaces();
      expect(rows.length).toBe(facesOfFile(1));
      expect(rows.every((r) => r.path === alias.path && r.paths.join() === [alias.path, alias2.path].join())).toBe(true);
      expect((await store.counts()).files).toMatchObject({ ok: 1, alias: 1, missing: 1 });

      await store.markMissing(runId, [alias.path, alias2.path]);
      expect(await store.selectFaces()).toEqual([]); // no live path left...
      expect(await store.counts()).toMatchObject({ faces: facesOfFile(1), retiredFaces: 0 }); // ...but the faces stay
      const dormant = await store.selectFaces({ includeRetired: true, under: "/photos/d1" });
      expect(dormant.length).toBe(facesOfFile(1));
      expect(dormant[0]!.paths).toEqual([]);
    });
  });

  it("refuses invalid outcomes before writing anything", async () => {
    const good = fileOutcome(1);
    const cases: [string, FileOutcome, RegExp][] = [
      ["ok without faces", { ...good, faces: [] }, /status ok without faces/],
      ["noface with faces", { ...good, status: "noface" }, /status noface cannot carry faces/],
      ["alias without target", { ...good, status: "alias", faces: undefined }, /needs aliasOf/],
      ["error without reason", { ...good, status: "error", faces: undefined }, /needs a reason/],
      ["bad sha", { ...good, sha256: "XYZ" }, /sha256 must be 64 lowercase hex/],
      ["bad status", { ...good, status: "missing" as never }, /invalid status "missing"/],
      ["not unit length", { ...good, faces: [{ ...syntheticFace(1), embedding: new Float32Array(DIM).fill(0.5) }] }, /not unit length/],
      ["NaN bbox", { ...good, faces: [{ ...syntheticFace(1), bbox: [0, 0, Number.NaN, 1] }] }, /bbox must be 4 finite/],
    ];
    await withRun(storePath, async (store, runId) => {
      for (const [name, bad, message] of cases) {
        await expect(store.commitBatch(runId, [fileOutcome(0), bad]), name).rejects.toThrow(message);
      }
      await expect(store.commitBatch(runId, [good, good])).rejects.toThrow(/appears twice/);
      await expect(store.commitBatch("no-such-run", [good])).rejects.toThrow(/unknown run "no-such-run"/);
      expect((await store.knownFiles()).size).toBe(0);
      expect((await store.counts()).faces).toBe(0);
    });
    const store = await FaceStore.open(storePath);
    const [run] = await store.runs();
    await expect(store.commitBatch(run!.runId, [good])).rejects.toThrow(/is done, not running/);
    await store.close();
  });
});

describe("embedding column", () => {
  it("keeps array_cosine_distance usable in SQL", async () => {
    await withRun(storePath, (store, runId) => store.commitBatch(runId, [fileOutcome(1), fileOutcome(2)]));
    const q = fileOutcome(1).faces![0]!.embedding;
    const rows = await sql(
      storePath,
      `SELECT face_id, array_cosine_distance(embedding, [${Array.from(q).join(",")}]::FLOAT[${DIM}]) AS d
       FROM faces ORDER BY d LIMIT 1`,
    );
    expect(rows[0]!.face_id).toBe(faceId(fileOutcome(1).sha256, 0));
    expect(rows[0]!.d as number).toBeCloseTo(0, 5);
  });

  it("the fast child-vector read equals the public per-row read", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const con = await instance.connect();
    const rows = 5000; // more than two 2048-row chunks
    await con.run(`CREATE TABLE t AS SELECT i, list_transform(range(${DIM}), k -> ((i * 31 + k * 7) % 101 / 100.0 - 0.5)::FLOAT)::FLOAT[${DIM}] AS e FROM range(${rows}) r(i)`);
    const read = async (publicOnly: boolean) => {
      const out = new Float32Array(rows * DIM);
      const result = await con.stream("SELECT e FROM t ORDER BY i");
      let at = 0;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        readFloatArrays(chunk.getColumnVector(0), chunk.rowCount, DIM, out, at * DIM, { publicOnly });
        at += chunk.rowCount;
      }
      expect(at).toBe(rows);
      return out;
    };
    const fast = await read(false);
    const slow = await read(true);
    expect(Buffer.from(fast.buffer).equals(Buffer.from(slow.buffer))).toBe(true);
    expect(fast[DIM * 4999 + 3]).toBe(Math.fround(((4999 * 31 + 3 * 7) % 101) / 100 - 0.5));
    // a NULL row falls back to the public path, which names it
    const withNull = await (await con.stream(`SELECT * FROM (VALUES (NULL::FLOAT[4]), ([1, 2, 3, 4]::FLOAT[4])) v(e)`)).fetchChunk();
    expect(() => readFloatArrays(withNull!.getColumnVector(0), 2, 4, new Float32Array(8))).toThrow(/row 0 is NULL/);
    con.closeSync();
    instance.closeSync();
  });
});

describe("unit vectors", () => {
  it("fixtures are unit length", () => {
    const v = unitVector(7);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  });
});
