/**
 * Curation: the owner's decisions about their library (name, merge, move, reject, split, dismiss, restore,
 * not-same, undo, a new set from store faces) and its status. Each verb records a decision in the ledger
 * (lib/library/ledger.ts) and changes only the folders it names; `deno task curate` and the review page call these.
 */
export * from "./errors";
export * from "./refs";
export * from "./run";
export * from "./set_verbs";
export * from "./face_verbs";
export * from "./undo";
export * from "./status";
