/**
 * The write-up of a cluster-osrc run, in the owner's sections: Source, Coverage by existing identities, Pipeline,
 * Result (Phase 1: clustering and gates; Phase 2: export), Re-running. Every number comes from the run record
 * (and the sweep computed from the store); nothing is typed in by hand.
 */
import path from "node:path";
import type { SweepRow } from "../cluster/sweep";
import type { DiscoveryRunRecord } from "../workflows/cluster_osrc";
import { formatMarkdownCell, type MarkdownCell, markdownTable } from "./markdown";
import { nearestDistances } from "./run_data";
import { setLabel } from "../library/ledger";


export interface ReportFigure {
  /** Markdown-relative paths of the PNG and the interactive HTML. */
  png: string;
  html: string;
  caption: string;
}

export interface DiscoveryReportInput {
  record: DiscoveryRunRecord;
  recordFile: string;
  figures: { histogram: ReportFigure; sweep: ReportFigure; umap: ReportFigure };
  sweep: readonly SweepRow[];
  /** Contact sheets of the new sets, by set name (markdown-relative PNG paths). */
  contactSheets?: Map<string, string>;
  /** Set name -> person (the library's ledger now), so tables show `faceset_007 (NAME)`. */
  people?: ReadonlyMap<string, string>;
}

type Cell = MarkdownCell;

/** A table from a header and positional rows (the report's tables are small and fixed). */
function table(header: readonly string[], rows: readonly (readonly Cell[])[], precision = 3): string {
  return markdownTable(rows, header.map((h, k) => ({ header: h, value: (r: readonly Cell[]) => r[k] })), { precision });
}

const num = (v: number | null | undefined, digits: number) => formatMarkdownCell(v, digits);

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : "–");

function figure(f: ReportFigure): string {
  return `![${f.caption}](${f.png})\n\n*${f.caption}* ([interactive](${f.html}))`;
}

export function discoveryReportMarkdown(input: DiscoveryReportInput): string {
  const { record: r, figures } = input;
  const label = (name: string) => setLabel(name, input.people?.get(name));
  const c = r.counts;
  const id = r.config.identity;
  const ex = r.config.export;
  const cov = r.coverage;
  const out: string[] = [];
  const date = r.startedAt.slice(0, 10);

  out.push(`# Identity discovery: ${path.basename(r.source)} (${date})`);
  out.push(
    `Run \`${r.runId}\` of \`cluster-osrc\`${r.dryRun ? " (dry run: nothing was written)" : ""}, ` +
      `from the run record \`${input.recordFile}\`.`,
  );

  out.push(`## Source`);
  out.push(
    `\`${r.source}\`: ${cov.files} image files, ${cov.byStatus.ok + cov.byStatus.noface} analysed ` +
      `(${cov.byStatus.ok} with faces, ${cov.byStatus.noface} without), ${cov.byStatus.error} unreadable, ` +
      `${cov.byteDuplicates} byte-identical duplicates (recorded, not analysed twice), ${cov.psdFiles} PSD files, ` +
      `${cov.byStatus.missing} missing since an earlier scan.`,
  );
  out.push(table(
    ["extension", "files", "analysed", "with faces", "unreadable", "duplicates", "missing"],
    cov.byExtension.map((e) => [e.extension || "(none)", e.files, e.analysed, e.withFaces, e.errors, e.aliases, e.missing]),
  ));
  if (cov.errorReasons.length > 0) {
    out.push(`Unreadable files by reason:`);
    out.push(table(["reason", "files"], cov.errorReasons.map((e) => [e.reason, e.files])));
  }
  out.push(
    `${cov.faces} faces; median face_short ${num(cov.median.faceShortPx, 0)} px, median det_score ` +
      `${num(cov.median.detScore, 3)}, median blur ${num(cov.median.blur, 0)}.`,
  );
  out.push(table(["faces in the photo", "photos"], cov.facesPerImage.map((f) => [f.faces, f.images])));

  out.push(`## Coverage by existing identities`);
  const withCentroid = r.identities.filter((i) => i.matched > 0);
  out.push(
    `The library held ${r.identities.length} face sets before the run; ${withCentroid.length} of them have faces ` +
      `in the store (their centroid is the normalised mean of those faces' embeddings).` +
      (r.identitiesWithoutCentroid.length > 0
        ? ` Without any scanned face, so nothing could be routed to them: ${r.identitiesWithoutCentroid.join(", ")}.`
        : ""),
  );
  const dists = nearestDistances(r);
  const within = dists.filter((d) => d <= id.routeMaxCosDist).length;
  out.push(
    `${c.inLibrary} faces of the source were already in a set and ${c.claimed} were claimed by an earlier ` +
      `discovery. Of the other ${c.faces - c.inLibrary - c.claimed}, ${c.routed} lay within cosine distance ` +
      `${id.routeMaxCosDist} of an existing identity and were routed to it ` +
      `(${pct(c.routed, c.faces - c.inLibrary - c.claimed)}).` +
      (dists.length > 0 ? ` ${within} of ${dists.length} faces measured are within the routing threshold.` : ""),
  );
  const routed = r.routed.filter((x) => x.faces > 0);
  if (routed.length > 0) out.push(table(["identity", "faces routed"], routed.map((x) => [label(x.identity), x.faces])));
  if (dists.length > 0) out.push(figure(figures.histogram));

  out.push(`## Pipeline`);
  out.push(table(["step", "setting", "value"], [
    ["route to an existing identity", "routeMaxCosDist", String(id.routeMaxCosDist)],
    ["cluster the rest", "clusterMaxCosDist / linkage", `${id.clusterMaxCosDist} / ${id.linkage}`],
    ["quality gate", "minFaceShortPx / minBlur / minDetScore", `${id.minFaceShortPx} / ${id.minBlur} / ${id.minDetScore}`],
    ["outlier rejection", "outlierMaxCosDist (clusters >= outlierMinClusterSize)", `${id.outlierMaxCosDist} (>= ${id.outlierMinClusterSize})`],
    [
      "keep a cluster (distinct photos; faces of different files this close are one photo)",
      "minUniqueSources / samePhotoMaxCosDist",
      // Records written before samePhotoMaxCosDist existed counted files (0).
      `${id.minUniqueSources} / ${id.samePhotoMaxCosDist ?? 0}`,
    ],
    ["export gate", "exportMinFaceShortPx / exportMaxCosDist", `${ex.exportMinFaceShortPx} / ${ex.exportMaxCosDist}`],
    ["crops", "cropSizePx", String(ex.cropSizePx)],
  ]));
  out.push(
    `Two faces of one photo never share a cluster. Models: detector \`${r.detectorSha256?.slice(0, 12) ?? "unknown"}\`, ` +
      `recogniser \`${r.recognizerSha256?.slice(0, 12) ?? "unknown"}\` (sha256 prefixes).`,
  );

  out.push(`## Result`);
  out.push(`### Phase 1: clustering and gates`);
  out.push(table(["", "faces"], [
    ["faces under the source", c.faces],
    ["already in a set", c.inLibrary],
    ["claimed by an earlier discovery", c.claimed],
    ["routed to an existing identity", c.routed],
    ["clustered", c.clustered],
    ["dropped by a quality gate", c.gated],
    ["dropped as outliers", c.outliers],
    [`in clusters with < ${id.minUniqueSources} photos`, c.smallCluster],
  ]));
  out.push(
    `${c.clusters} clusters at ${id.clusterMaxCosDist} (${id.linkage} linkage), ${c.keptClusters} kept. ` +
      `Clusters of two or more faces:`,
  );
  const multi = r.clusters.filter((k) => k.faces >= 2 || k.kept);
  out.push(table(
    ["cluster", "faces", "gated", "outliers", "photos", "kept", "set / reason"],
    multi.map((k) => [k.index, k.faces, k.gated, k.outliers, k.uniqueSources, k.kept ? "yes" : "no", k.setName ? label(k.setName) : k.dropReason ?? ""]),
  ));
  out.push(figure(figures.sweep));
  const scored = input.sweep.some((s) => s.metrics);
  out.push(
    `The sweep re-clusters the ${input.sweep[0]?.facesClustered ?? 0} faces of the run's clustering that pass the quality ` +
      `gates (the run gates after clustering, so its own cluster count above also holds clusters of gated faces).` +
      (scored ? " Scores compare all of its clusters (singletons too) with the identities of the labelled faces." : ""),
  );
  out.push(table(
    [
      "cluster threshold", "clusters of gated faces", "kept clusters", "faces in kept clusters",
      ...(scored ? ["pairwise F", "BCubed F", "clusters / identities"] : []),
    ],
    input.sweep.map((s) => [
      s.thresholdCosDist.toFixed(2), s.clusters, s.keptClusters, s.facesKept,
      ...(s.metrics ? [s.metrics.pairwiseF, s.metrics.bcubedF, s.metrics.clustersPerIdentity] : []),
    ]),
  ));
  out.push(figure(figures.umap));

  out.push(`### Phase 2: export`);
  const kept = r.clusters.filter((k) => k.kept);
  out.push(table(
    ["set", "cluster", "input faces", "outlier drop", "export-gated", "exported"],
    kept.map((k) => [k.setName ? label(k.setName) : "(skipped: empty)", k.index, k.faces - k.gated, k.outliers, k.exportGated, k.exported]),
  ));
  out.push(
    `${c.newSets} new sets with ${c.exported} faces` +
      (c.emptySets > 0 ? `; ${c.emptySets} kept clusters lost every face to the export gate and were skipped` : "") +
      `. Crops are ${ex.cropSizePx} px, aligned with the ArcFace template scaled as InsightFace's estimate_norm does.`,
  );
  for (const [name, sheet] of input.contactSheets ?? []) out.push(`**${label(name)}**\n\n![${name} crops](${sheet})`);

  out.push(`## Re-running`);
  out.push(
    `Re-running the same command makes no new set: faces now in a set are left alone, and every member of a ` +
      `kept cluster (exported or not) is claimed in its set's \`provenance.json\`. To try other thresholds without ` +
      `writing anything, pass a config and \`--dry-run\`:`,
  );
  out.push("```sh\n" +
    `npx deno task cluster-osrc --source ${r.source} --library ${r.library} --store ${r.store} --config thresholds.json --dry-run\n` +
    "```");
  out.push(`The command of this run: \`${r.command}\`.`);
  return out.join("\n\n") + "\n";
}
