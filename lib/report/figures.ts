/**
 * Plotly figure specs ({data, layout}) for run reports. Pure: numbers in, JSON out; rendering is render.ts's job,
 * so these can be unit-tested and also handed to a notebook's own Plotly display.
 *
 * Every figure has a title saying what a point or bar is, axis titles with units, and thresholds drawn as labelled
 * vertical lines, because a reader of a report has no notebook to ask.
 */
import type { SweepRow } from "../cluster/sweep";
import { mulberry32 } from "../cluster/synthetic";

export type PlotTrace = Record<string, unknown>;
export type PlotLayout = Record<string, unknown>;
export interface PlotFigure {
  data: PlotTrace[];
  layout: PlotLayout;
}

/** Category colours fixed by name, so "new set" is the same colour in every figure of a report. */
export const CATEGORY_COLOURS: Readonly<Record<string, string>> = Object.freeze({
  "existing identity": "#4C78A8",
  "new set": "#F58518",
  dropped: "#B0B0B0",
});
/** Colours for other categories (eras, clusters), in order; Tableau 10 minus the fixed ones above. */
const PALETTE = ["#54A24B", "#E45756", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D", "#FF9DA6", "#4C78A8", "#F58518"];

const FONT = { family: "DejaVu Sans, Arial, sans-serif", size: 14, color: "#222" };

function baseLayout(title: string, subtitle?: string): PlotLayout {
  return {
    title: { text: subtitle ? `${title}<br><sup>${subtitle}</sup>` : title, x: 0.02, xanchor: "left" },
    font: FONT,
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    margin: { l: 80, r: 30, t: 90, b: 70 },
    legend: { bgcolor: "rgba(255,255,255,0.8)" },
  };
}

function axis(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: { text: title }, showgrid: true, gridcolor: "#e5e5e5", zeroline: false, showline: true, linecolor: "#888", ...extra };
}

/** A vertical dashed line at x across the plot area with a label at the top: how thresholds are drawn. */
export function verticalMarker(x: number, label: string, colour = "#C0392B"): { shape: PlotLayout; annotation: PlotLayout } {
  return {
    shape: { type: "line", xref: "x", yref: "paper", x0: x, x1: x, y0: 0, y1: 1, line: { color: colour, width: 2, dash: "dash" } },
    annotation: {
      xref: "x", yref: "paper", x, y: 1, yanchor: "bottom", xanchor: "left", showarrow: false,
      text: label, font: { color: colour, size: 13 },
    },
  };
}

const fmt = (x: number) => (Math.round(x * 1000) / 1000).toString();

export interface RoutingHistogramInput {
  /** Per face: cosine distance to the nearest existing identity's centroid. */
  distances: ArrayLike<number>;
  /** The routing threshold (IdentityConfig.routeMaxCosDist): at or below it a face joins that identity. */
  routeMaxCosDist: number;
  /** Bin width in cosine distance. Default 0.02. */
  binCosDist?: number;
  title?: string;
}

/** (a) Histogram of distance to the nearest identity centroid, split at the routing threshold. */
export function routingHistogram({ distances, routeMaxCosDist, binCosDist = 0.02, title }: RoutingHistogramInput): PlotFigure {
  const routed: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < distances.length; i++) {
    const d = distances[i]!;
    if (!Number.isFinite(d)) continue;
    (d <= routeMaxCosDist ? routed : rest).push(d);
  }
  const max = Math.max(routeMaxCosDist + binCosDist, ...routed, ...rest);
  // Bins aligned so the threshold is a bin edge: no bar straddles the line.
  const start = routeMaxCosDist - Math.ceil(routeMaxCosDist / binCosDist) * binCosDist;
  const xbins = { start, end: max + binCosDist, size: binCosDist };
  const marker = verticalMarker(routeMaxCosDist, `route threshold ${fmt(routeMaxCosDist)}`);
  const layout = baseLayout(
    title ?? "Distance of each face to the nearest existing identity",
    `${routed.length} faces within the threshold (routed), ${rest.length} beyond it (left for discovery)`,
  );
  return {
    data: [
      { type: "histogram", x: routed, xbins, name: `routed (≤ ${fmt(routeMaxCosDist)})`, marker: { color: CATEGORY_COLOURS["existing identity"] } },
      { type: "histogram", x: rest, xbins, name: `not routed (> ${fmt(routeMaxCosDist)})`, marker: { color: CATEGORY_COLOURS["new set"] } },
    ],
    layout: {
      ...layout,
      barmode: "stack",
      bargap: 0.05,
      xaxis: axis("cosine distance to nearest identity centroid (1 − cos)", { rangemode: "tozero" }),
      yaxis: axis("faces (count per bin)"),
      shapes: [marker.shape],
      annotations: [marker.annotation],
    },
  };
}

export interface SweepFigureInput {
  rows: readonly Pick<SweepRow, "thresholdCosDist" | "clusters" | "keptClusters" | "metrics">[];
  /** The configured threshold (IdentityConfig.clusterMaxCosDist), marked on the plot. */
  currentCosDist: number;
  /** What a kept cluster is, for the legend. Default "kept clusters". */
  keptLabel?: string;
  title?: string;
}

/**
 * (b) Threshold sweep: cluster counts on top; where truth exists, pairwise and BCubed F below (0..1), on a shared
 * x axis so the trade-off reads straight down from a threshold.
 */
export function sweepFigure({ rows, currentCosDist, keptLabel = "kept clusters", title }: SweepFigureInput): PlotFigure {
  const x = rows.map((r) => r.thresholdCosDist);
  const scored = rows.some((r) => r.metrics);
  const line = (name: string, y: (number | null)[], colour: string, yaxis: string, dash = "solid"): PlotTrace => ({
    type: "scatter", mode: "lines+markers", x, y, name, yaxis, line: { color: colour, width: 2, dash }, marker: { size: 7 },
  });
  const data: PlotTrace[] = [
    line("clusters (singletons too)", rows.map((r) => r.clusters), "#4C78A8", "y"),
    line(keptLabel, rows.map((r) => r.keptClusters), "#F58518", "y"),
  ];
  const identities = rows.find((r) => r.metrics)?.metrics?.identities;
  if (identities !== undefined) {
    // The count to aim at: with perfect clustering "clusters (singletons too)" lands here.
    data.push({ ...line(`labelled identities (${identities})`, rows.map(() => identities), "#888888", "y", "dashdot"), mode: "lines" });
  }
  if (scored) {
    data.push(
      line("pairwise F", rows.map((r) => r.metrics?.pairwiseF ?? null), "#54A24B", "y2"),
      line("BCubed F", rows.map((r) => r.metrics?.bcubedF ?? null), "#B279A2", "y2", "dot"),
    );
  }
  const marker = verticalMarker(currentCosDist, `current ${fmt(currentCosDist)}`);
  const layout: PlotLayout = {
    ...baseLayout(title ?? "Clustering threshold sweep", scored ? "top: how many clusters; bottom: agreement with the labelled identities" : "how many clusters each threshold gives"),
    xaxis: axis("clustering threshold (cosine distance, 1 − cos)", { anchor: scored ? "y2" : "y" }),
    yaxis: axis("clusters (count)", { domain: scored ? [0.55, 1] : [0, 1], rangemode: "tozero" }),
    shapes: [marker.shape],
    annotations: [marker.annotation],
    legend: { orientation: "h", y: -0.18, x: 0 },
    margin: { l: 80, r: 30, t: 90, b: 110 },
  };
  if (scored) layout.yaxis2 = axis("F score (0–1)", { domain: [0, 0.45], range: [0, 1.05], anchor: "x" });
  return { data, layout };
}

export interface CategoryScatterInput {
  /** 2-D layout, n points: xy[2 i], xy[2 i + 1] (umap2d's output). */
  xy: ArrayLike<number>;
  /** Category per point: "existing identity", "new set", "dropped" get fixed colours; others take the palette. */
  categories: readonly string[];
  /** Hover text per point (e.g. file and identity), for the interactive HTML. */
  hover?: readonly string[];
  title?: string;
}

function categoryColours(names: readonly string[]): Map<string, string> {
  const colours = new Map<string, string>();
  let k = 0;
  for (const name of names) colours.set(name, CATEGORY_COLOURS[name] ?? PALETTE[k++ % PALETTE.length]!);
  return colours;
}

/** (c) UMAP scatter of faces coloured by category. UMAP axes have no units; only neighbourhoods mean something. */
export function umapScatter({ xy, categories, hover, title }: CategoryScatterInput): PlotFigure {
  const n = categories.length;
  if (xy.length !== 2 * n) throw new RangeError(`umapScatter: xy has ${xy.length} values for ${n} categories; expected 2 per point`);
  const order = [...new Set(categories)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const colours = categoryColours(order);
  const data = order.map((name): PlotTrace => {
    const idx = categories.flatMap((c, i) => (c === name ? [i] : []));
    return {
      type: "scatter", mode: "markers", name: `${name} (${idx.length})`,
      x: idx.map((i) => xy[2 * i]), y: idx.map((i) => xy[2 * i + 1]),
      ...(hover ? { text: idx.map((i) => hover[i]), hoverinfo: "text" } : {}),
      // Dropped faces are context, not the subject: drawn small and faint.
      marker: { color: colours.get(name), size: name === "dropped" ? 5 : 7, opacity: name === "dropped" ? 0.5 : 0.85 },
    };
  });
  return {
    data,
    layout: {
      ...baseLayout(title ?? "Faces in 2-D (UMAP of embeddings, cosine)", "nearby points are similar faces; distances between far-apart groups mean little"),
      xaxis: axis("UMAP 1 (no unit)", { showticklabels: false }),
      yaxis: axis("UMAP 2 (no unit)", { showticklabels: false }),
    },
  };
}
const rank = (name: string) => ["existing identity", "new set", "dropped"].indexOf(name) >>> 0;

export interface EraScatterInput {
  /** Capture year per face (null when unknown: those faces are left out and counted in the subtitle). */
  years: readonly (number | null)[];
  /** Cosine distance of each face to its identity's centroid. */
  distances: ArrayLike<number>;
  /** Era name per face (e.g. "1998–2004"). */
  eras: readonly string[];
  /** The identity shown, for the title. */
  identity: string;
  /** Optional distance threshold to draw as a horizontal line (e.g. outlierMaxCosDist). */
  thresholdCosDist?: number;
  thresholdLabel?: string;
  title?: string;
  /** Appended to the subtitle, e.g. how the eras were made and what their names mean. */
  detail?: string;
  /** Title of the legend (one entry per era, with its face count). Default "era (faces)". */
  legendTitle?: string;
}

/**
 * (d) Era view of one identity: capture year against distance to the identity's centroid, coloured by era. Years are
 * integers, so points get a small seeded horizontal jitter (±0.3 year) to keep a year's faces from stacking on one x.
 */
export function eraScatter(input: EraScatterInput): PlotFigure {
  const { years, distances, eras, identity, thresholdCosDist, thresholdLabel } = input;
  const n = years.length;
  if (distances.length !== n || eras.length !== n) {
    throw new RangeError(`eraScatter: ${n} years, ${distances.length} distances and ${eras.length} eras; give one of each per face`);
  }
  const jitter = mulberry32(7);
  const known = years.flatMap((y, i) => (y === null ? [] : [i]));
  const knownYears = known.map((i) => years[i]!);
  const span = knownYears.length > 0 ? Math.max(...knownYears) - Math.min(...knownYears) : 0;
  const order = [...new Set(known.map((i) => eras[i]!))].sort();
  const colours = categoryColours(order);
  const data = order.map((era): PlotTrace => {
    const idx = known.filter((i) => eras[i] === era);
    return {
      type: "scatter", mode: "markers", name: `${era} (${idx.length})`,
      x: idx.map((i) => years[i]! + (jitter() - 0.5) * 0.6), y: idx.map((i) => distances[i]),
      text: idx.map((i) => `${years[i]}: ${fmt(distances[i]!)}`), hoverinfo: "text+name",
      marker: { color: colours.get(era), size: 8, opacity: 0.85 },
    };
  });
  const layout: PlotLayout = {
    ...baseLayout(
      input.title ?? `Eras of ${identity}: capture year vs distance to the identity centroid`,
      `${known.length} faces with a capture year${n > known.length ? `, ${n - known.length} without (not shown)` : ""}` +
        (input.detail ? `; ${input.detail}` : ""),
    ),
    legend: { bgcolor: "rgba(255,255,255,0.8)", title: { text: input.legendTitle ?? "era (faces)" } },
    // One tick per year while that stays legible; longer spans get Plotly's choice (whole years either way).
    xaxis: axis("capture year", { tickformat: "d", ...(span <= 12 ? { dtick: 1 } : { nticks: 12 }) }),
    yaxis: axis("cosine distance to identity centroid (1 − cos)", { rangemode: "tozero" }),
  };
  if (thresholdCosDist !== undefined) {
    const colour = "#C0392B";
    layout.shapes = [{ type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: thresholdCosDist, y1: thresholdCosDist, line: { color: colour, width: 2, dash: "dash" } }];
    layout.annotations = [{
      xref: "paper", yref: "y", x: 0, y: thresholdCosDist, xanchor: "left", yanchor: "bottom", showarrow: false,
      text: `${thresholdLabel ?? "threshold"} ${fmt(thresholdCosDist)}`, font: { color: colour, size: 13 },
    }];
  }
  return { data, layout };
}
