/** Identifiers of the face store: deterministic face ids, time-sortable run ids. */
import { randomBytes } from "node:crypto";
import { sha256Bytes } from "../util/hash";

/** Hex characters kept of the sha256 in a face id (96 bits: collisions are out of reach for any collection). */
export const FACE_ID_HEX_CHARS = 24;

/**
 * The id of a face: sha256 of `${fileSha256}:${detIndex}`, first 24 hex chars. Deterministic from the file's bytes
 * and the detector's output order, so two runs over the same photos (or a rerun after a crash) name faces alike.
 */
export function faceId(fileSha256: string, detIndex: number): string {
  if (!Number.isInteger(detIndex) || detIndex < 0) throw new RangeError(`faceId: detIndex must be an integer >= 0, got ${detIndex}`);
  return sha256Bytes(new TextEncoder().encode(`${fileSha256}:${detIndex}`)).slice(0, FACE_ID_HEX_CHARS);
}

let lastRunMs = 0;
let sameMsCounter = 0;

/**
 * A new run id, e.g. `20251128T120501123Z-00-5f3a9c`: UTC time to the millisecond, a counter for ids made in the
 * same millisecond by this process, and random hex so that ids from two processes never collide. Ids sort by time.
 */
export function newRunId(now: Date = new Date()): string {
  const ms = now.getTime();
  if (ms === lastRunMs) sameMsCounter++;
  else {
    lastRunMs = ms;
    sameMsCounter = 0;
  }
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(".", ""); // 20251128T120501123Z
  return `${stamp}-${String(sameMsCounter).padStart(2, "0")}-${randomBytes(3).toString("hex")}`;
}
