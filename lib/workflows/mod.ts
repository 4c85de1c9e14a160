/** Command-level workflows: each reads the store and the library, plans with lib/identity, writes with lib/library. */
export * from "./context";
export * from "./cluster_osrc";
export * from "./extend";
export * from "./build_folders";
export * from "./refine";
export * from "./split_eras";
