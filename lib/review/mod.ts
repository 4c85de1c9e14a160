/**
 * The browser review page (`deno task review`): a loopback server over the library, the store and the run records,
 * whose decisions go through lib/curation. Not re-exported from lib/mod.ts: only the review script and its tests
 * load it (its assets are found through import.meta, which notebooks cannot use).
 */
export * from "./safety";
export * from "./view";
export * from "./leftovers";
export * from "./decisions";
export * from "./thumbs";
export * from "./server";
export * from "./curation_api";
export * from "./browser";
