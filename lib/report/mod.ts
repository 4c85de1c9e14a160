/** Reports: figure specs, UMAP layouts, PNG/HTML rendering through headless Chromium, markdown tables. */
export * from "./figures";
export * from "./umap";
export * from "./render";
export * from "./markdown";
export * from "./contact_sheet";
export * from "./run_data";
export * from "./discovery_report";
export * from "./write_report";
export * from "./era_view";
export * from "./leftovers";
export * from "./notebook_table";
export * from "./notebook_inputs";
