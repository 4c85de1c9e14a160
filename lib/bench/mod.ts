/** `deno task bench`: each bench measures ratios within one run (never timed tests). */
export * from "./engine_bench";
export * from "./cluster_bench";
export * from "./scan_bench";
export * from "./labelled_bench";
export * from "./review_bench";
export * from "./parity_bench";
export * from "./large_bench";
export * from "./sharpness_bench";
