/**
 * `refine`: cluster a folder's faces into fresh sets (origin `auto-cluster`) *without* routing them to existing
 * identities: the same pipeline as cluster-osrc (clusters, gates, outliers, minimum distinct photos, export gate,
 * numbering after the library's maximum, provenance and run record), minus step 2. Faces already in a set or
 * claimed by an earlier discovery are left alone (a re-run adds nothing), but new photos of a person the library
 * already holds may cluster into a second set of that person: routing is what cluster-osrc and extend add.
 * Existing sets are never touched. See lib/identity/discover.ts for the decisions.
 */
import { type ClusterOsrcOptions, type DiscoveryWorkflowResult, runDiscovery } from "./cluster_osrc";

export type RefineOptions = ClusterOsrcOptions;
export type RefineResult = DiscoveryWorkflowResult;

export async function refine(options: RefineOptions): Promise<RefineResult> {
  return await runDiscovery(options, { kind: "refine", route: false, origin: "auto-cluster" });
}
