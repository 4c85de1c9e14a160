/**
 * The plans of the commands that route faces to identities or cluster them into new sets (cluster-osrc, refine,
 * extend), as their scripts print them on stdout.
 */
import { clusterFiles, clusterMissReason, discoveryWhy, extendWhy } from "../identity/why";
import { shortenPath } from "../util/shorten";
import type { DiscoveryWorkflowResult } from "../workflows/cluster_osrc";
import type { ExtendResult } from "../workflows/extend";
import type { ExtendPlan } from "../identity/extend";
import { setLabel } from "../library/ledger";
import { textTable } from "./table";

type People = ReadonlyMap<string, string>;
const label = (people: People | undefined, name: string) => setLabel(name, people?.get(name));

/** Photo paths in plan tables are cut to this many characters (the file name kept whole when it fits). */
const PHOTO_NAME_CHARS = 32;

function printSourceFaces(source: string, faces: number): void {
  console.log(`\nfaces under ${source}: ${faces}`);
}

/**
 * A cluster-osrc or refine plan: counts, clusters, new sets. Only cluster-osrc routes, so only its plan shows the
 * routing (in the counts, the routed and unmatched tables), a `kept` column and the number of single-face
 * clusters left out of the table.
 */
export function printDiscoveryPlan({ plan, record, extension, people }: DiscoveryWorkflowResult): void {
  const routes = record.kind === "cluster-osrc";
  const c = plan.counts;
  const id = record.config.identity;
  printSourceFaces(record.source, c.faces);
  const routing = routes ? `routed to existing identities (<= ${id.routeMaxCosDist}) ${c.routed}, ` : "";
  console.log(`  already in the library ${c.inLibrary}, claimed by earlier discoveries ${c.claimed}, ${routing}clustered ${c.clustered}`);
  if (routes) {
    const routed = plan.routed.filter((r) => r.faces > 0);
    if (routed.length > 0) {
      console.log("\nrouted to existing identities");
      console.log(textTable(["identity", "faces"], routed.map((r) => [label(people, r.identity), r.faces])));
    }
    if (plan.unmatchedLibraryFaces.length > 0) {
      console.log("\nset faces with no store face (not in their centroid; scan their sources to include them)");
      console.log(textTable(["identity", "faces"], plan.unmatchedLibraryFaces.map((u) => [label(people, u.identity), u.faces])));
    }
  }
  console.log(
    `${routes ? "\n" : ""}clusters at ${id.clusterMaxCosDist} (${id.linkage}): ${c.clusters}; gated faces ${c.gated}, ` +
      `outliers ${c.outliers}, faces in clusters with < ${id.minUniqueSources} photos ${c.smallCluster}; kept clusters ${c.keptClusters}`,
  );
  const shown = plan.clusters.filter((k) => k.faces >= 2 || k.kept);
  if (shown.length > 0) {
    console.log(textTable(
      ["cluster", "faces", "gated", "outliers", "photos", ...(routes ? ["kept"] : []), "export-gated", "exported", "set / reason"],
      shown.map((k) => [
        k.index,
        k.faces,
        k.gated,
        k.outliers,
        k.uniqueSources,
        ...(routes ? [k.kept ? "yes" : "no"] : []),
        k.exportGated,
        k.exported,
        k.setName ?? clusterMissReason(k, plan.faces.filter((d) => d.cluster === k.index), record.config) ?? "",
      ]),
    ));
    const singles = plan.clusters.length - shown.length;
    if (routes && singles > 0) console.log(`(${singles} single-face clusters not shown)`);
    // The photos of each cluster in the table, so a person can open them (names cut in the middle).
    const files = clusterFiles(plan.faces, record.source);
    console.log("\nphotos per cluster");
    for (const k of shown) {
      const list = files.get(k.index) ?? [];
      console.log(`  ${k.index}: ${list.map((f) => shortenPath(f, PHOTO_NAME_CHARS)).join(", ")}`);
    }
  }
  const why = discoveryWhy(plan, record.config, record.source, routes);
  console.log(
    `\nnew sets: ${c.newSets}${c.emptySets > 0 ? ` (${c.emptySets} kept clusters left empty by the export gate, skipped)` : ""}` +
      (why ? `: ${why}` : ""),
  );
  if (plan.newSets.length > 0) {
    console.log(textTable(
      ["set", "cluster", "exported faces", "claimed faces"],
      plan.newSets.map((s) => [s.name, s.cluster, s.faces.length, s.claimedFaceIds.length]),
    ));
  }
  if (extension) {
    console.log(`\n--extend: faces of known people ${record.dryRun ? "to append" : "appended"} to their sets (extend's rules)`);
    printExtensionTable(extension, people);
    console.log(`faces ${record.dryRun ? "to append" : "appended"}: ${extension.counts.added} to ${extension.additions.length} sets`);
  }
}

function printExtensionTable(plan: ExtendPlan, people: People | undefined): void {
  const rows = plan.sets.filter((s) => s.routed > 0);
  if (rows.length === 0) return;
  console.log(textTable(
    ["set", "routed", "gated", "export-gated", "rejected", "same photo", "added"],
    rows.map((s) => [label(people, s.identity), s.routed, s.gated, s.exportGated, s.rejected, s.samePhoto, s.added]),
  ));
}

/** An extend plan: counts, faces routed per set and what became of them. */
export function printExtendPlan({ plan, record, people }: ExtendResult): void {
  const c = plan.counts;
  printSourceFaces(record.source, c.faces);
  console.log(
    `  already in a set ${c.inLibrary}, claimed by discoveries ${c.claimed}, ` +
      `not within ${record.config.identity.routeMaxCosDist} of any set ${c.notRouted}, routed ${c.routed}`,
  );
  if (plan.identitiesWithoutCentroid.length > 0) {
    console.log(`sets without a single scanned face (nothing can be routed to them): ${plan.identitiesWithoutCentroid.join(", ")}`);
  }
  printExtensionTable(plan, people);
  const why = extendWhy(plan, record.config, record.source, plan.sets.length);
  console.log(`\nfaces ${record.dryRun ? "to add" : "added"}: ${c.added} to ${plan.additions.length} sets${why ? `: ${why}` : ""}`);
}
