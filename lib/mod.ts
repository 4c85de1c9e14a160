/**
 * facesets: the pipeline, the import surface for scripts, notebooks and tests. The command line's pieces are in
 * lib/cli/mod.ts and the benches in lib/bench/mod.ts (scripts import those themselves); the review page in
 * lib/review/mod.ts. Data flows one way: photos -> face records -> clusters -> identities -> library -> reports
 * (README "Layout").
 */
export * from "./types";
export * from "./config";

export * from "./image/errors";
export * from "./image/load";
export * from "./image/truncation";
export * from "./image/resize";
export * from "./image/psd";
export * from "./image/draw";
export * from "./image/save";
export * from "./image/exif";
export * from "./image/formats";
export * from "./image/bmp";
export * from "./image/heif";
export * from "./image/orient";
export * from "./image/raw";
export * from "./util/source_names";

export * from "./face/session";
export * from "./face/detect";
export * from "./face/align";
export * from "./face/embed";
export * from "./face/quality";
export * from "./face/engine";
export * from "./face/json";

export * from "./models/pack";
export * from "./util/zip";
export * from "./models/install";

export * from "./util/hash";
export * from "./util/atomic";
export * from "./util/stopwatch";
export * from "./util/round";
export * from "./util/text";
export * from "./util/json";
export * from "./util/pause";
export * from "./util/process";
export * from "./util/shell";
export * from "./util/shorten";

export * from "./util/prefetch";

export * from "./scan/walk";
export * from "./scan/scan";
export * from "./scan/coverage";
export * from "./store/mod";
export * from "./interop/mod";
export * from "./cluster/mod";
export * from "./identity/mod";
export * from "./library/mod";
export * from "./export/mod";
export * from "./curation/mod";
export * from "./workflows/mod";
export * from "./labels/mod";
export * from "./report/mod";
