/**
 * `deno task report`: a cluster-osrc run record -> `docs/analysis/<date>-<source-name>.md` with its figures (PNG,
 * plus an interactive HTML beside each) in `docs/analysis/<date>-<source-name>/`. Reads the store and the library
 * the record names; writes only under the output folder (the markdown atomically).
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { FaceDecision } from "../identity/discover";
import { qualityGateFailures } from "../identity/gates";
import { photoGroups } from "../cluster/same_photo";
import { type SweepRow, sweepThresholds, thresholdRange } from "../cluster/sweep";
import type { DiscoveryRunRecord } from "../workflows/cluster_osrc";
import { faceTruth, readLabels, truthByPath } from "../labels/mod";
import type { Leftovers } from "../identity/leftovers";
import { FaceStore } from "../store/store";
import { writeFileAtomic } from "../util/atomic";
import { setPeople } from "../library/ledger";
import { readLibrary } from "../library/read";
import { contactSheet } from "./contact_sheet";
import { discoveryReportMarkdown, REPORT_MARKER, type ReportFigure, type SetSheet } from "./discovery_report";
import { type PlotFigure, routingHistogram, sweepFigure, umapScatter } from "./figures";
import { facesetTiles, leftoverContactSheet, leftovers as readLeftovers, storeRowsById } from "./leftovers";
import { FigureRenderer, PLOTLY_FILE, type RendererOptions } from "./render";
import { faceGroup, nearestDistances, readRunRecord, runFaces } from "./run_data";
import { umap2d } from "./umap";

export interface WriteReportOptions extends AnalyseRunOptions {
  recordFile: string;
  /** Default docs/analysis. */
  outDir?: string;
  renderer?: RendererOptions;
}

export interface WrittenReport {
  markdown: string;
  figures: { histogram: string; sweep: string; umap: string };
  /** Contact sheets of the new sets, then of the leftover clusters. */
  contactSheets: string[];
  /** Files of an earlier write of this same report that this one no longer has (removed). */
  removedStale: string[];
}

/** At most this many leftover clusters get a contact sheet (largest first); the rest are listed in the table only. */
export const MAX_LEFTOVER_SHEETS = 24;

/** `2026-11-28-bucket`: the run's start date and the source folder's name (file-name safe). */
export function reportName(startedAt: string, source: string): string {
  const name = path.basename(source).replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "source";
  return `${startedAt.slice(0, 10)}-${name}`;
}

/** The run a report in `mdFile` explains (its marker line, or the run line of reports written before the marker). */
async function reportRunId(mdFile: string): Promise<string | undefined> {
  const text = await readFile(mdFile, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  return new RegExp(`^${REPORT_MARKER} run=(\\S+) -->`, "m").exec(text)?.[1] ?? /^Run `([^`]+)` of/m.exec(text)?.[1] ?? "";
}

/**
 * The report's name in `outDir`: `<date>-<source>` unless a report of another run already has it (same source,
 * same day), then `<date>-<source>-<run id>`. A report of the same run keeps its name, so writing it again
 * replaces it (and only it).
 */
export async function reportFileName(outDir: string, record: Pick<DiscoveryRunRecord, "startedAt" | "source" | "runId">): Promise<string> {
  const base = reportName(record.startedAt, record.source);
  const owner = await reportRunId(path.join(outDir, `${base}.md`));
  return owner === undefined || owner === record.runId ? base : `${base}-${record.runId}`;
}

/** What the report and the notebooks plot of a run, computed from its record and the store. */
export interface RunAnalysis {
  /** The threshold sweep over the faces the run clustered (gated as the run gated them). */
  sweep: SweepRow[];
  /** Every face of the record still in the store, with its 2-D UMAP position (xy[2i], xy[2i+1]). */
  decisions: FaceDecision[];
  umapXy: Float32Array;
  /** Record faces the store no longer holds (re-scanned since the run). */
  missingFaces: number;
}

export interface AnalyseRunOptions {
  /** A labels.csv (file, identity) for the photos: adds pairwise / BCubed scores to the sweep. */
  labelsFile?: string;
  /** Sweep range, cosine distance. Default 0.30 to 0.80 by 0.05. */
  sweepCosDist?: { from: number; to: number; step: number };
  log?: (line: string) => void;
}

export async function analyseRun(store: FaceStore, record: DiscoveryRunRecord, options: AnalyseRunOptions = {}): Promise<RunAnalysis> {
  const log = options.log ?? (() => {});
  const config = record.config;
  // The sweep covers the faces this run clustered: neither in a set already, claimed, nor routed.
  const clustered = await runFaces(store, record, (d) => d.cluster !== undefined);
  const cannotLink = photoGroups(clustered.rows);
  let truth: (string | null)[] | undefined;
  if (options.labelsFile) {
    truth = faceTruth(clustered.rows, truthByPath(await readLabels(options.labelsFile)));
  }
  const range = options.sweepCosDist ?? { from: 0.3, to: 0.8, step: 0.05 };
  log(`sweeping ${clustered.rows.length} faces over ${range.from}..${range.to}`);
  const sweep = clustered.rows.length === 0 ? [] : sweepThresholds(clustered.embeddings, clustered.dim, {
    thresholdsCosDist: thresholdRange(range.from, range.to, range.step),
    linkage: config.identity.linkage,
    cannotLink,
    truth,
    gate: clustered.rows.map((r) => qualityGateFailures(r, config).length === 0),
    sourceIds: clustered.rows.map((r) => r.fileSha256),
    minUniqueSources: config.identity.minUniqueSources,
    // Records written before samePhotoMaxCosDist existed counted files: 0 sweeps them as they ran.
    samePhotoMaxCosDist: config.identity.samePhotoMaxCosDist ?? 0,
  }).rows;

  const all = await runFaces(store, record);
  log(`UMAP of ${all.rows.length} faces`);
  const umapXy = all.rows.length >= 3 ? umap2d(all.embeddings, all.dim, { seed: 1 }) : new Float32Array(all.rows.length * 2);
  return { sweep, decisions: all.decisions, umapXy, missingFaces: all.missing.length };
}

/** The three figures of a run: routing histogram, threshold sweep, UMAP map. */
export function runFigures(record: DiscoveryRunRecord, analysis: RunAnalysis): Record<"histogram" | "sweep" | "umap", PlotFigure> {
  const id = record.config.identity;
  return {
    histogram: routingHistogram({
      distances: nearestDistances(record),
      routeMaxCosDist: id.routeMaxCosDist,
      title: "Distance of each face to its nearest existing identity",
    }),
    sweep: sweepFigure({ rows: analysis.sweep, currentCosDist: id.clusterMaxCosDist }),
    umap: umapScatter({
      xy: analysis.umapXy,
      categories: analysis.decisions.map(faceGroup),
      hover: analysis.decisions.map((d) => `${path.basename(d.path)}: ${d.fate}${d.set ?? d.identity ? ` (${d.set ?? d.identity})` : ""}`),
      title: "Faces of the run in 2-D (UMAP of the embeddings, seed 1)",
    }),
  };
}

export async function writeDiscoveryReport(options: WriteReportOptions): Promise<WrittenReport> {
  const log = options.log ?? (() => {});
  const record = await readRunRecord(options.recordFile);
  const outDir = path.resolve(options.outDir ?? "docs/analysis");
  const name = await reportFileName(outDir, record);
  const figDir = path.join(outDir, name);
  await mkdir(figDir, { recursive: true });
  const config = record.config;
  /** Every file this write puts into figDir; anything else there is left from an earlier write and removed. */
  const written = new Set<string>([PLOTLY_FILE]);

  const library = await readLibrary(record.library, { checkCrops: false });
  const store = await FaceStore.open(record.store, { readOnly: true });
  let analysis: RunAnalysis;
  let left: Leftovers;
  const leftoverSheets = new Map<number, string>();
  try {
    analysis = await analyseRun(store, record, options);
    left = await readLeftovers(record, store, library);
    const rows = await storeRowsById(store);
    for (const k of left.clusters.slice(0, MAX_LEFTOVER_SHEETS)) {
      const file = path.join(figDir, `leftover-cluster-${k.cluster}.png`);
      log(`contact sheet of leftover cluster ${k.cluster} (${k.faces} faces)`);
      try {
        await writeFileAtomic(file, await leftoverContactSheet(rows, k, config));
      } catch (err) {
        log(`leftover cluster ${k.cluster}: no contact sheet (${(err as Error).message})`);
        continue;
      }
      written.add(path.basename(file));
      leftoverSheets.set(k.cluster, path.relative(outDir, file));
    }
  } finally {
    await store.close();
  }
  if (analysis.missingFaces > 0) log(`${analysis.missingFaces} faces of the record are no longer in the store`);
  const figures = runFigures(record, analysis);
  const renderer = await FigureRenderer.open(options.renderer);
  const rendered: Record<string, ReportFigure> = {};
  const captions = {
    histogram: `Cosine distance to the nearest existing identity centroid; faces at or left of ${config.identity.routeMaxCosDist} were routed.`,
    sweep: `Clusters and kept clusters (>= ${config.identity.minUniqueSources} photos) as the clustering threshold moves; this run used ${config.identity.clusterMaxCosDist}.`,
    umap: "Each face of the run, placed by UMAP so that similar embeddings lie close; colour = how the run decided.",
  };
  try {
    for (const key of ["histogram", "sweep", "umap"] as const) {
      const out = await renderer.render(figures[key], path.join(figDir, key));
      written.add(path.basename(out.png));
      if (out.html) written.add(path.basename(out.html));
      rendered[key] = {
        png: path.relative(outDir, out.png),
        html: path.relative(outDir, out.html ?? out.png),
        caption: captions[key],
      };
    }
  } finally {
    await renderer.close();
  }

  // Each new set's crops, in manifest order, captioned with the source file and the distance to the centroid;
  // the table under the sheet maps each tile number to the crop file and its photo.
  const contactSheets = new Map<string, SetSheet>();
  for (const entry of record.newSets) {
    const set = library.sets.get(entry.number);
    if (set === undefined || set.name !== entry.name) continue; // curated away since the run
    const faces = set.manifest.faces.slice(0, 48);
    if (faces.length === 0) continue;
    const file = path.join(figDir, `${set.name}-crops.png`);
    await writeFileAtomic(file, await contactSheet(facesetTiles(set, faces.length)));
    written.add(path.basename(file));
    contactSheets.set(set.name, {
      png: path.relative(outDir, file),
      faces: faces.map((f) => ({ crop: `${set.name}/${f.crop}`, source: f.source, centroidCosDist: f.centroidCosDist })),
      total: set.manifest.faces.length,
    });
  }

  const markdown = discoveryReportMarkdown({
    record,
    recordFile: options.recordFile,
    figures: { histogram: rendered.histogram!, sweep: rendered.sweep!, umap: rendered.umap! },
    sweep: analysis.sweep,
    contactSheets,
    leftovers: { data: left, sheets: leftoverSheets },
    // Set name -> person as the library's ledger has them now (names given after the run count too).
    people: setPeople(library.ledger, library.manifest.facesets),
  });
  const mdFile = path.join(outDir, `${name}.md`);
  await writeFileAtomic(mdFile, markdown);
  const removedStale: string[] = [];
  for (const f of await readdir(figDir)) {
    if (written.has(f)) continue;
    await rm(path.join(figDir, f), { recursive: true, force: true });
    removedStale.push(path.join(figDir, f));
  }
  return {
    markdown: mdFile,
    figures: {
      histogram: path.join(outDir, rendered.histogram!.png),
      sweep: path.join(outDir, rendered.sweep!.png),
      umap: path.join(outDir, rendered.umap!.png),
    },
    contactSheets: [...[...contactSheets.values()].map((s) => s.png), ...leftoverSheets.values()].map((p) => path.join(outDir, p)),
    removedStale,
  };
}
