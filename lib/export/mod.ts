/** Exports of face data: aligned crops. */
export * from "./crops";
export * from "./faces";
