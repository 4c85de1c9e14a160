/** OpenCV's cvRound / saturate_cast<int>(double): round half to even, as lrint does in the default FP mode. */
export function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
