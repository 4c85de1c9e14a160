/** The command line's side of the scripts: argument parsing, errors and exit codes, progress, tables, printing. */
export * from "./errors";
export * from "./progress";
export * from "./engine";
export * from "./table";
export * from "./args";
export * from "./library_command";
export * from "./discovery_print";
export * from "./scan_command";
export * from "./curate_command";
