/**
 * Benchmark of `cluster()` on synthetic ArcFace-like embeddings: wall time, peak RSS and quality of the scalable
 * path at each size, and at the sizes where it is affordable the exact path too, with the agreement between them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { DEFAULT_CONFIG, type Linkage } from "../config";
import { type Clustering, cluster, type ScalableStats } from "../cluster/cluster";
import { clusterMetrics } from "../cluster/metrics";
import type { ScalableOptions } from "../cluster/options";
import { syntheticIdentities } from "../cluster/synthetic";

export interface ClusterBenchOptions {
  /** Numbers of faces to cluster. Default [10_000, 100_000]. */
  sizes?: readonly number[];
  /** Faces per synthetic identity (identities = n / perIdentity, rounded up). Default 50. */
  perIdentity?: number;
  /** Embedding size. Default 512 (ArcFace). */
  dim?: number;
  /** Default: the owner's `identity.linkage` ("average"). */
  linkage?: Linkage;
  /** Default: the owner's `identity.clusterMaxCosDist` (0.55). */
  maxCosDist?: number;
  /** Seed of the synthetic data. Default 1. */
  seed?: number;
  /** Sizes up to this also run the exact path (O(n^2) memory: 200 MB at 10k). Default 10_000. */
  exactMaxN?: number;
  /** Tuning of the scalable path (defaults of `cluster()` otherwise). */
  scalable?: ScalableOptions;
  /** One line per finished step, for scripts. */
  onProgress?: (message: string) => void;
}

export interface PathRun {
  ms: number;
  /** Peak resident set size during the run, MB (includes the input embeddings held by the process). */
  peakRssMb: number;
  clusters: number;
  /** Against the synthetic truth. */
  clustersPerIdentity: number;
  singletonRatio: number;
  bcubedF: number;
  pairwiseF: number;
}

export interface ClusterBenchRow {
  n: number;
  identities: number;
  dim: number;
  scalable: PathRun & { stats: ScalableStats };
  exact?: PathRun;
  /** BCubed F of the scalable clustering with the exact one as truth (sizes <= exactMaxN). */
  bcubedFScalableVsExact?: number;
  pairwiseFScalableVsExact?: number;
}

export interface ClusterBench {
  /** The resolved options, as every report carries them. */
  options: Required<Omit<ClusterBenchOptions, "onProgress" | "scalable">> & { scalable: ScalableOptions };
  /** Where peak RSS came from: Linux VmHWM reset before each run, or the process-lifetime maximum. */
  rssSource: "VmHWM" | "maxRSS";
  rows: ClusterBenchRow[];
}

const STATUS = "/proc/self/status";
const CLEAR_REFS = "/proc/self/clear_refs";
/** Writing this to clear_refs resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0). */
const RESET_PEAK_RSS = "5";

/** Reset the peak-RSS counter when the OS allows; returns whether it did. */
function resetPeakRss(): boolean {
  try {
    writeFileSync(CLEAR_REFS, RESET_PEAK_RSS);
    return /VmHWM:\s+\d+/.test(readFileSync(STATUS, "utf8"));
  } catch {
    return false;
  }
}

/** Peak RSS in MB: VmHWM when it was reset, else the process-lifetime maximum (an upper bound). */
function peakRssMb(fromVmHwm: boolean): number {
  if (fromVmHwm) {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(STATUS, "utf8"))?.[1];
    if (kb !== undefined) return Number(kb) / 1024;
  }
  return process.resourceUsage().maxRSS / 1024;
}

function measure(run: () => Clustering): { result: Clustering; ms: number; peakRssMb: number; vmHwm: boolean } {
  const vmHwm = resetPeakRss();
  const start = performance.now();
  const result = run();
  const ms = performance.now() - start;
  return { result, ms, peakRssMb: peakRssMb(vmHwm), vmHwm };
}

function pathRun(result: Clustering, ms: number, peak: number, truth: Int32Array): PathRun {
  const m = clusterMetrics(result.labels, truth);
  return {
    ms,
    peakRssMb: peak,
    clusters: m.clusters,
    clustersPerIdentity: m.clustersPerIdentity,
    singletonRatio: m.singletonRatio,
    bcubedF: m.bcubedF,
    pairwiseF: m.pairwiseF,
  };
}

/** Run the benchmark (synchronous work; minutes at 100k). */
export function benchClustering({
  sizes = [10_000, 100_000],
  perIdentity = 50,
  dim = 512,
  linkage = DEFAULT_CONFIG.identity.linkage,
  maxCosDist = DEFAULT_CONFIG.identity.clusterMaxCosDist,
  seed = 1,
  exactMaxN = 10_000,
  scalable = {},
  onProgress = () => {},
}: ClusterBenchOptions = {}): ClusterBench {
  const rows: ClusterBenchRow[] = [];
  let allVmHwm = true;
  for (const n of sizes) {
    const identities = Math.ceil(n / perIdentity);
    const data = syntheticIdentities({ identities, perIdentity, dim, seed });
    // Exactly n rows (the last identity may be short).
    const embeddings = data.embeddings.subarray(0, n * dim);
    const truth = data.labels.subarray(0, n);
    const s = measure(() => cluster(embeddings, dim, { linkage, maxCosDist, exactMaxN: 0, scalable }));
    allVmHwm &&= s.vmHwm;
    const row: ClusterBenchRow = {
      n,
      identities: new Set(truth).size,
      dim,
      scalable: { ...pathRun(s.result, s.ms, s.peakRssMb, truth), stats: s.result.stats! },
    };
    onProgress(`n=${n}: scalable ${(s.ms / 1000).toFixed(1)} s, peak RSS ${s.peakRssMb.toFixed(0)} MB`);
    if (n <= exactMaxN) {
      const e = measure(() => cluster(embeddings, dim, { linkage, maxCosDist, exactMaxN: Infinity }));
      allVmHwm &&= e.vmHwm;
      row.exact = pathRun(e.result, e.ms, e.peakRssMb, truth);
      const agreement = clusterMetrics(s.result.labels, e.result.labels);
      row.bcubedFScalableVsExact = agreement.bcubedF;
      row.pairwiseFScalableVsExact = agreement.pairwiseF;
      onProgress(`n=${n}: exact ${(e.ms / 1000).toFixed(1)} s, agreement BCubed F ${agreement.bcubedF.toFixed(4)}`);
    }
    rows.push(row);
  }
  return {
    options: { sizes, perIdentity, dim, linkage, maxCosDist, seed, exactMaxN, scalable },
    rssSource: allVmHwm ? "VmHWM" : "maxRSS",
    rows,
  };
}
