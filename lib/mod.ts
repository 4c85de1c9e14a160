/**
 * facesets: the one import surface for scripts, notebooks and tests.
 * Data flows one way: files -> face records -> identities -> exports -> reports.
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
export * from "./util/pause";
export * from "./util/process";
export * from "./util/shell";
export * from "./util/shorten";

export * from "./cli/errors";
export * from "./cli/progress";
export * from "./cli/engine";
export * from "./cli/table";
export * from "./cli/args";
export * from "./cli/library_command";
export * from "./cli/discovery_print";
export * from "./cli/scan_command";
export * from "./cli/curate_command";
export * from "./util/prefetch";
export * from "./bench/engine_bench";

export * from "./scan/walk";
export * from "./scan/scan";
export * from "./scan/coverage";
export * from "./store/mod";
export * from "./interop/mod";
export * from "./cluster/mod";
export * from "./identity/mod";
export * from "./bench/cluster_bench";
export * from "./bench/scan_bench";
export * from "./bench/large_bench";
export * from "./bench/sharpness_bench";
export * from "./library/mod";
export * from "./export/mod";
export * from "./curation/mod";
export * from "./workflows/mod";
export * from "./labels/mod";
export * from "./report/mod";
export * from "./bench/labelled_bench";
export * from "./bench/parity_bench";
