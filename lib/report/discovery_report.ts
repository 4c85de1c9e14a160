/**
 * The write-up of a cluster-osrc run, in the owner's sections: Source, Coverage by existing identities, Pipeline,
 * Result (Phase 1: clustering and gates; Phase 2: export), Re-running. Every number comes from the run record
 * (and the sweep computed from the store); nothing is typed in by hand.
 */
import path from "node:path";
import type { SweepRow } from "../cluster/sweep";
import type { Leftovers } from "../identity/leftovers";
import { clusterMissReason } from "../identity/why";
import { shellCommand } from "../util/shell";
import { shortenMiddle } from "../util/shorten";
import type { DiscoveryRunRecord } from "../workflows/cluster_osrc";
import { formatMarkdownCell, type MarkdownCell, markdownTable } from "./markdown";
import { nearestDistances } from "./run_data";
import { setLabel } from "../library/ledger";

/** First line of every report: names the run it explains, so a second run's report never takes its file. */
export const REPORT_MARKER = "<!-- facesets report";

/** A new set's contact sheet and, per tile in order, the crop (set-relative to the library) and its photo. */
export interface SetSheet {
  png: string;
  faces: { crop: string; source: string; centroidCosDist: number }[];
  /** Faces in the set (the sheet shows the first 48). */
  total: number;
}

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
  /** Contact sheets of the new sets, by set name. */
  contactSheets?: Map<string, SetSheet>;
  /** The clusters that made no set and the single faces (see planLeftovers), with contact sheets by cluster index. */
  leftovers?: { data: Leftovers; sheets: Map<number, string> };
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
  // Records written before --set existed have no configSettings.
  const settings = r.configSettings ?? [];

  out.push(`${REPORT_MARKER} run=${r.runId} -->\n# Identity discovery: ${path.basename(r.source)} (${date})`);
  out.push(
    `Run \`${r.runId}\` of \`${r.kind}\`${r.dryRun ? " (dry run: nothing was written)" : ""}, ` +
      `from the run record \`${input.recordFile}\`.` +
      (settings.length > 0 ? ` Settings given on the command line (\`--set\`): ${settings.map((x) => `\`${x}\``).join(", ")}.` : ""),
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
  if (cov.disk) {
    // The scan's buckets, as on disk when the run was made: every file under the source is in exactly one.
    const d = cov.disk;
    const rows: (string | number)[][] = [
      ["photos (the extensions above)", d.photos],
      ...Object.entries(d.unsupported).map(([ext, n]) => [`unsupported ${ext || "(no extension)"}`, n]),
      ...Object.entries(d.ignored).filter(([, n]) => n > 0).map(([why, n]) => [`ignored: ${why}`, n]),
    ];
    out.push(`Files on disk under the source: ${d.files}, each in one bucket` +
      (d.unreadableFolders.length > 0 ? `; ${d.unreadableFolders.length} folder(s) could not be read: ${d.unreadableFolders.map((f) => `\`${f}\``).join(", ")}` : "") + `.`);
    out.push(table(["bucket", "files"], rows));
  }
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
  // The same reason, naming the setting, as the command's plan table and the Leftovers section give.
  const missReason = (k: (typeof multi)[number]) =>
    clusterMissReason(k, r.faces.filter((d) => d.cluster === k.index), r.config) ?? k.dropReason ?? "";
  out.push(table(
    ["cluster", "faces", "gated", "outliers", "photos", "kept", "set / reason"],
    multi.map((k) => [k.index, k.faces, k.gated, k.outliers, k.uniqueSources, k.kept ? "yes" : "no", k.setName ? label(k.setName) : missReason(k)]),
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
  for (const [name, sheet] of input.contactSheets ?? []) {
    out.push(`**${label(name)}**${sheet.total > sheet.faces.length ? ` (the first ${sheet.faces.length} of ${sheet.total} faces)` : ""}\n\n![${name} crops](${sheet.png})`);
    out.push(`<details><summary>${name}: each tile's crop and photo</summary>\n\n` + table(
      ["tile", "crop", "photo", "distance to centroid"],
      sheet.faces.map((f, i) => [i + 1, f.crop, relativeTo(r.source, f.source), f.centroidCosDist]),
    ) + "\n</details>");
  }
  if (input.leftovers) out.push(...leftoversSection(r, input.leftovers, label));

  out.push(`## Re-running`);
  out.push(
    `Re-running the same command makes no new set: faces now in a set are left alone, and every member of a ` +
      `kept cluster (exported or not) is claimed in its set's \`provenance.json\`. To try other thresholds without ` +
      `writing anything, change settings with \`--set KEY=VALUE\` (or a \`--config\` file) and add \`--dry-run\`:`,
  );
  out.push("```sh\n" +
    shellCommand([
      "npx", "deno", "task", r.kind, "--source", r.source, "--library", r.library, "--store", r.store,
      ...settings.flatMap((x) => ["--set", x]), "--set", `identity.clusterMaxCosDist=${id.clusterMaxCosDist}`, "--dry-run",
    ]) +
    "\n```");
  // Records name the command as its deno task (`cluster-osrc --source ...`), shell-quoted since the quoting existed.
  out.push(`The command of this run:\n\n\`\`\`sh\nnpx deno task ${r.command}\n\`\`\``);
  return out.join("\n\n") + "\n";
}

/** `file` relative to `dir` when inside it (shorter, and the same on every machine), else as it is. */
function relativeTo(dir: string, file: string): string {
  const rel = path.relative(dir, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

/** The Leftovers section: clusters that made no set (largest first) with sheet and reason; singletons by nearest set. */
function leftoversSection(
  r: DiscoveryRunRecord,
  { data, sheets }: { data: Leftovers; sheets: Map<number, string> },
  label: (name: string) => string,
): string[] {
  const out: string[] = [`## Leftovers`];
  const nearest = (set: string | null, d: number | null) => (set === null ? "–" : `${label(set)} (${num(d, 3)})`);
  out.push(
    `Faces the run clustered that are in no new set: ${data.clusters.length} clusters of two or more faces ` +
      `(largest first, each with why it missed and the library's nearest set to its centroid, cosine distance in ` +
      `brackets; the library as it is now, so sets this run made count) and ${data.singletons.faces} single face${data.singletons.faces === 1 ? "" : "s"}.` +
      (data.missingFaces > 0 ? ` ${data.missingFaces} faces are no longer in the store and are left out.` : ""),
  );
  if (data.clusters.length > 0) {
    out.push(table(
      ["cluster", "faces", "photos", "why it missed", "nearest set (distance)"],
      data.clusters.map((k) => [k.cluster, k.faces, k.uniqueSources, k.why, nearest(k.nearestSet, k.nearestCosDist)]),
    ));
  }
  for (const k of data.clusters) {
    const sheet = sheets.get(k.cluster);
    if (sheet === undefined) continue;
    const files = k.members.map((m) => shortenMiddle(path.basename(m.path), 40));
    out.push(
      `**cluster ${k.cluster}**: ${k.faces} faces, ${k.why}; nearest ${nearest(k.nearestSet, k.nearestCosDist)}\n\n` +
        `![cluster ${k.cluster}](${sheet})\n\n` + `Photos (tile order): ${files.map((f) => `\`${f}\``).join(", ")}`,
    );
  }
  const unsheeted = data.clusters.filter((k) => !sheets.has(k.cluster)).length;
  if (unsheeted > 0) out.push(`${unsheeted} smaller clusters are listed above without a contact sheet.`);
  if (data.singletons.faces > 0) {
    out.push(`Single faces by nearest set (cosine distance of each face to that set's centroid):`);
    out.push(table(
      ["nearest set", "faces", "closest", "median"],
      data.singletons.bySet.map((s) => [s.set === null ? "(no set to compare)" : label(s.set), s.faces, s.minCosDist, s.medianCosDist]),
    ));
  }
  return out;
}
