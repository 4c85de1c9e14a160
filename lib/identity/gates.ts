/**
 * The quality and export gates: which faces may be clustered into an identity, and which may be written to a set.
 * One definition for discovery, hand-sorted folders and extend, so a face joins an existing set only if discovery
 * would have exported it there.
 */
import type { RunConfig } from "../config";
import type { FaceRow } from "../store/records";

/**
 * Failed quality gates of a face (empty: passes). A missing measure (imported face) fails its gate. `minBlur`
 * gates on the size-independent `sharpness` (docs/sharpness.md); a face stored without it (imported, or scanned
 * before facesets measured it) is gated on the InsightFace-era `blur`, and the failure says so.
 */
export function qualityGateFailures(row: FaceRow, config: RunConfig): string[] {
  const { minFaceShortPx, minBlur, minDetScore } = config.identity;
  const out: string[] = [];
  if (!(row.faceShortPx >= minFaceShortPx)) out.push(`face_short ${row.faceShortPx.toFixed(0)} < ${minFaceShortPx}`);
  if (row.sharpness !== null && row.sharpness !== undefined) {
    if (!(row.sharpness >= minBlur)) out.push(`sharpness ${row.sharpness.toFixed(1)} < ${minBlur}`);
  } else if (!(row.blur !== null && row.blur >= minBlur)) {
    out.push(`blur ${row.blur?.toFixed(1) ?? "unknown"} < ${minBlur} (no sharpness stored)`);
  }
  if (!(row.detScore !== null && row.detScore >= minDetScore)) {
    out.push(`det_score ${row.detScore?.toFixed(3) ?? "unknown"} < ${minDetScore}`);
  }
  return out;
}

/**
 * Failed export gates of a face `centroidCosDist` from the centroid of the set it would join (empty: passes).
 * Shared with extend, so a face joins an existing set only if discovery would have exported it there.
 */
export function exportGateFailures(row: FaceRow, centroidCosDist: number, config: RunConfig): string[] {
  const { exportMinFaceShortPx, exportMaxCosDist } = config.export;
  const out: string[] = [];
  if (!(row.faceShortPx >= exportMinFaceShortPx)) out.push(`face_short ${row.faceShortPx.toFixed(0)} < ${exportMinFaceShortPx}`);
  if (!(centroidCosDist <= exportMaxCosDist)) out.push(`centroid distance ${centroidCosDist.toFixed(3)} > ${exportMaxCosDist}`);
  return out;
}
