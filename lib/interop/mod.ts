/** Exchange with Python and other tools: .npy/.npz read and write, store export and import. */
export * from "./npy";
export * from "./npz";
export * from "./export";
export * from "./import";
