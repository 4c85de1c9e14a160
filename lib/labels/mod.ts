/** Ground-truth labels (labels.csv) for scoring identity discovery. */
export * from "./csv";
export * from "./labels";
