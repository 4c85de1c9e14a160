/**
 * Why a plan made nothing: one line with the numbers and the setting to change, computed from the plan (pure), so
 * every library command's summary can print it and a person knows what to do next without reading the code.
 * Settings are named by their config path (`identity.minUniqueSources`), as `--set KEY=VALUE` and `--config` files take them.
 *
 * Also why one cluster missed (`clusterMissReason`): the same words in the dry-run table, the report's Leftovers
 * section and the notebook.
 */
import path from "node:path";
import type { RunConfig } from "../config";
import type { ClusterOutcome, DiscoveryCounts, FaceDecision } from "./discover";
import type { ExtendPlan } from "./extend";

/** The config path of each quality / export gate, by the first word of its failure ("face_short 71 < 90"). */
const QUALITY_GATE_SETTINGS: Record<string, string> = {
  face_short: "identity.minFaceShortPx",
  blur: "identity.minBlur",
  det_score: "identity.minDetScore",
};
const EXPORT_GATE_SETTINGS: Record<string, string> = {
  face_short: "export.exportMinFaceShortPx",
  centroid: "export.exportMaxCosDist",
};

/** "3 face_short, 1 blur" and the settings behind them, from the failure lists of the faces a gate took. */
function gateSummary(failures: readonly (readonly string[])[], settings: Record<string, string>): { counts: string; settings: string[] } {
  const byGate = new Map<string, number>();
  for (const list of failures) for (const f of list) {
    const gate = f.split(" ")[0]!;
    byGate.set(gate, (byGate.get(gate) ?? 0) + 1);
  }
  const gates = [...byGate].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    counts: gates.map(([g, n]) => `${n} ${g === "centroid" ? "centroid distance" : g}`).join(", "),
    settings: gates.map(([g]) => settings[g] ?? g),
  };
}

/**
 * Why a cluster made no set, in one phrase naming the setting: "4 distinct photos < identity.minUniqueSources 6
 * (after 1 gated)". `members` are the run's decisions of the cluster's faces. Undefined for a cluster that made a set.
 */
export function clusterMissReason(outcome: ClusterOutcome, members: readonly FaceDecision[], config: RunConfig): string | undefined {
  if (outcome.setName !== undefined) return undefined;
  const id = config.identity;
  if (outcome.gated === outcome.faces) {
    const g = gateSummary(members.filter((d) => d.fate === "gated").map((d) => d.reasons ?? []), QUALITY_GATE_SETTINGS);
    return `every face failed a quality gate (${g.counts}: ${g.settings.join(", ")})`;
  }
  if (!outcome.kept) {
    const after = [
      ...(outcome.gated > 0 ? [`${outcome.gated} gated`] : []),
      ...(outcome.outliers > 0 ? [`${outcome.outliers} outliers`] : []),
    ];
    return `${outcome.uniqueSources} distinct photo${outcome.uniqueSources === 1 ? "" : "s"} < identity.minUniqueSources ${id.minUniqueSources}` +
      (after.length > 0 ? ` (after ${after.join(", ")})` : "");
  }
  const g = gateSummary(members.filter((d) => d.fate === "export-gated").map((d) => d.reasons ?? []), EXPORT_GATE_SETTINGS);
  return `kept, but every face failed the export gate (${g.counts}: ${g.settings.join(", ")})`;
}

/** What discoveryWhy needs of a plan or run record. */
export interface DiscoveryOutcome {
  counts: DiscoveryCounts;
  clusters: readonly ClusterOutcome[];
  faces: readonly FaceDecision[];
}

/**
 * Why a cluster-osrc or refine plan makes no new set, or undefined when it makes one. `route`: the plan routed to
 * existing identities (cluster-osrc).
 */
export function discoveryWhy({ counts: c, clusters, faces }: DiscoveryOutcome, config: RunConfig, source: string, route = true): string | undefined {
  if (c.newSets > 0) return undefined;
  const id = config.identity;
  if (c.faces === 0) return `no faces in the store under ${source}: scan it first (deno task scan --source ${source}), or add --scan`;
  if (c.clustered === 0) {
    const parts = [
      ...(c.inLibrary > 0 ? [`${c.inLibrary} already in sets`] : []),
      ...(c.claimed > 0 ? [`${c.claimed} claimed by earlier discoveries`] : []),
      ...(c.routed > 0 ? [`${c.routed} routed to existing identities (within identity.routeMaxCosDist ${id.routeMaxCosDist})`] : []),
    ];
    return `all ${c.faces} faces are accounted for: ${parts.join(", ")}; nothing left to cluster` +
      (route && c.routed > 0 ? " (deno task extend adds routed faces to their sets)" : "");
  }
  const small = clusters.filter((k) => !k.kept && k.gated < k.faces);
  const gatedOut = clusters.filter((k) => k.gated === k.faces);
  const exportOut = clusters.filter((k) => k.kept && k.setName === undefined);
  const largest = Math.max(0, ...small.map((k) => k.uniqueSources));
  const parts = [
    ...(small.length > 0
      ? [`${small.length} ${small.length === 1 ? "has" : "have"} fewer than ${id.minUniqueSources} distinct photos (largest ${largest})`]
      : []),
    ...(gatedOut.length > 0 ? [`${gatedOut.length} lost every face to the quality gates`] : []),
    ...(exportOut.length > 0 ? [`${exportOut.length} kept but lost every face to the export gate`] : []),
  ];
  // The fix for the largest group of misses (by faces), so the hint names the setting that matters most.
  const weight = (ks: readonly ClusterOutcome[]) => ks.reduce((n, k) => n + k.faces, 0);
  const fixes: [number, string][] = [];
  if (small.length > 0) {
    fixes.push([
      weight(small),
      largest >= 2
        ? `lower identity.minUniqueSources to keep smaller groups (--set identity.minUniqueSources=${largest} keeps the largest)`
        : `no two photos share a person at identity.clusterMaxCosDist ${id.clusterMaxCosDist}; add photos, or raise it to cluster looser`,
    ]);
  }
  if (gatedOut.length > 0) {
    const g = gateSummary(faces.filter((d) => d.fate === "gated" && gatedOut.some((k) => k.index === d.cluster)).map((d) => d.reasons ?? []), QUALITY_GATE_SETTINGS);
    fixes.push([weight(gatedOut), `lower ${g.settings.join(" / ")} to let smaller or softer faces in (${g.counts})`]);
  }
  if (exportOut.length > 0) {
    const g = gateSummary(faces.filter((d) => d.fate === "export-gated").map((d) => d.reasons ?? []), EXPORT_GATE_SETTINGS);
    fixes.push([weight(exportOut), `relax ${g.settings.join(" / ")} (${g.counts})`]);
  }
  fixes.sort((a, b) => b[0] - a[0]);
  return `${c.clusters} cluster${c.clusters === 1 ? "" : "s"}, 0 kept: ${parts.join(", ")}; ${fixes[0]![1]}`;
}

/** What extendWhy needs of an extend plan. */
export type ExtendOutcome = Pick<ExtendPlan, "counts" | "identitiesWithoutCentroid" | "faces">;

/** Why an extend plan adds no face, or undefined when it adds one. */
export function extendWhy({ counts: c, identitiesWithoutCentroid, faces }: ExtendOutcome, config: RunConfig, source: string, sets: number): string | undefined {
  if (c.added > 0) return undefined;
  const route = config.identity.routeMaxCosDist;
  if (c.faces === 0) return `no faces in the store under ${source}: scan it first (deno task scan --source ${source}), or add --scan`;
  if (sets === 0) return "the library has no sets to extend; make some first (build-folders, cluster-osrc)";
  if (sets === identitiesWithoutCentroid.length) {
    return `none of the library's ${sets} sets has a face in the store, so nothing can be routed to them; scan their sources`;
  }
  const parts = [
    ...(c.inLibrary > 0 ? [`${c.inLibrary} already in sets`] : []),
    ...(c.claimed > 0 ? [`${c.claimed} claimed by discoveries`] : []),
    ...(c.notRouted > 0 ? [`${c.notRouted} farther than identity.routeMaxCosDist ${route} from every set`] : []),
    ...(c.gated > 0 ? [`${c.gated} failed a quality gate`] : []),
    ...(c.exportGated > 0 ? [`${c.exportGated} failed the export gate`] : []),
    ...(c.rejected > 0 ? [`${c.rejected} were rejected from that set by its owner`] : []),
    ...(c.samePhoto > 0 ? [`${c.samePhoto} are photos the set already holds`] : []),
    ...(c.noLandmarks > 0 ? [`${c.noLandmarks} have no landmarks`] : []),
  ];
  let fix = "";
  const open = c.notRouted;
  if (open > 0 && open >= c.gated + c.exportGated) {
    const nearest = faces.filter((d) => d.fate === "not-routed" && d.nearestCosDist !== null).map((d) => d.nearestCosDist!);
    const closest = nearest.length > 0 ? Math.min(...nearest) : undefined;
    fix = closest === undefined
      ? ""
      : `; the closest is ${closest.toFixed(3)} from a set: raise identity.routeMaxCosDist only if those are the same people` +
        " (cluster-osrc makes new sets of new people)";
  } else if (c.gated > 0 || c.exportGated > 0) {
    const g = gateSummary(faces.filter((d) => d.fate === "gated").map((d) => d.reasons ?? []), QUALITY_GATE_SETTINGS);
    const e = gateSummary(faces.filter((d) => d.fate === "export-gated").map((d) => d.reasons ?? []), EXPORT_GATE_SETTINGS);
    fix = `; relax ${[...g.settings, ...e.settings].join(" / ")} to let them in`;
  }
  return `${c.faces} faces, 0 added: ${parts.join(", ")}${fix}`;
}

/**
 * The photo files of each cluster (cluster index -> distinct file paths relative to `source`, sorted), so a plan
 * table can name the photos a person would look at or move.
 */
export function clusterFiles(faces: readonly FaceDecision[], source: string): Map<number, string[]> {
  const out = new Map<number, Set<string>>();
  for (const d of faces) {
    if (d.cluster === undefined) continue;
    const rel = path.relative(source, d.path);
    const shown = rel.startsWith("..") || path.isAbsolute(rel) ? d.path : rel;
    const files = out.get(d.cluster);
    if (files) files.add(shown);
    else out.set(d.cluster, new Set([shown]));
  }
  return new Map([...out].map(([k, files]) => [k, [...files].sort()]));
}
