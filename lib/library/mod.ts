/** The owner's face-set library on disk: typed manifests, reading with validation, non-destructive writing. */
export * from "./errors";
export * from "./manifest";
export * from "./read";
export * from "./lock";
export * from "./interrupt";
export * from "./temp";
export * from "./write";
export * from "./pending";
export * from "./provenance";
export * from "./runs";
export * from "./ledger";
export * from "./ledger_journal";
export * from "./reconcile";
