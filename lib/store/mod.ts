/** The face-record store: one DuckDB file of files, faces and runs (see store.ts). */
export * from "./errors";
export * from "./ids";
export * from "./records";
export { SCHEMA_VERSION } from "./schema";
export * from "./store";
export * from "./analysis";
