/**
 * The leftovers of a discovery run read back from its record, the store and the library (planLeftovers does the
 * deciding), and a contact sheet of one leftover cluster rendered from the source photos. Used by the report, the
 * identity-discovery notebook and the review page.
 */
import path from "node:path";
import type { RunConfig } from "../config";
import { renderFaces } from "../export/faces";
import { FaceIndex, libraryIdentities } from "../identity/centroids";
import { type LeftoverCluster, type Leftovers, planLeftovers } from "../identity/leftovers";
import { cropPath, type Library, type LoadedFaceset } from "../library/read";
import type { FaceRow } from "../store/records";
import type { FaceStore } from "../store/store";
import type { DiscoveryRunRecord } from "../workflows/cluster_osrc";
import { contactSheet, type ContactSheetOptions, type SheetTile } from "./contact_sheet";

/**
 * The clusters of `record` that made no set (largest first: why, nearest set of `library` and its distance) and
 * its single faces by nearest set. The store gives the embeddings (faces re-scanned since the run are counted in
 * `missingFaces`); `library` is read as it is now, so sets made since the run (this run's too) count as nearest.
 */
export async function leftovers(record: Pick<DiscoveryRunRecord, "source" | "clusters" | "faces" | "config">, store: FaceStore, library: Library): Promise<Leftovers> {
  const all = await store.selectFaces({ includeRetired: true });
  const index = new FaceIndex(all.filter((r) => !r.retired));
  const dim = store.recognizer?.dim ?? all[0]?.embedding.length ?? 0;
  const wanted = new Set(record.faces.flatMap((d) => (d.cluster !== undefined && d.fate !== "exported" ? [d.faceId] : [])));
  const embeddings = new Map(all.filter((r) => wanted.has(r.faceId)).map((r) => [r.faceId, r.embedding]));
  return planLeftovers({
    clusters: record.clusters,
    faces: record.faces,
    config: record.config,
    embeddings,
    dim,
    identities: libraryIdentities(library, index, dim),
  });
}

/** Every face of the store (retired ones too) by face id, for drawing several leftover sheets. */
export async function storeRowsById(store: FaceStore): Promise<Map<string, FaceRow>> {
  return new Map((await store.selectFaces({ includeRetired: true })).map((r) => [r.faceId, r]));
}

/** Caption lines of a face on a sheet: its file name and its distance to the centroid it is judged against. */
export function faceCaption(file: string, centroidCosDist: number | null | undefined): string[] {
  return [path.basename(file), centroidCosDist === null || centroidCosDist === undefined ? "d –" : `d ${centroidCosDist.toFixed(3)}`];
}

/** The tiles of a set's contact sheet: its crops in manifest order, captioned with photo file and centroid distance. */
export function facesetTiles(set: LoadedFaceset, maxTiles = 48): SheetTile[] {
  return set.manifest.faces.slice(0, maxTiles).map((f) => ({ image: cropPath(set, f.crop), caption: faceCaption(f.source, f.centroidCosDist) }));
}

/**
 * A contact sheet of a leftover cluster: its faces cropped from their photos (nearest the centroid first), each
 * captioned with its file name and distance to the cluster's centroid.
 */
export async function leftoverContactSheet(
  store: FaceStore | ReadonlyMap<string, FaceRow>,
  cluster: LeftoverCluster,
  config: RunConfig,
  options: ContactSheetOptions = {},
): Promise<Uint8Array> {
  const maxTiles = options.maxTiles ?? 48;
  const members = cluster.members.slice(0, maxTiles);
  // A caller drawing many sheets passes the store's rows by face id once (storeRowsById) instead of the store.
  const rows = store instanceof Map ? store as ReadonlyMap<string, FaceRow> : await storeRowsById(store as FaceStore);
  const drawable = members.filter((m) => rows.get(m.faceId)?.kps);
  const crops = await renderFaces(drawable.map((m) => ({ row: rows.get(m.faceId)!, centroidCosDist: m.centroidCosDist })), config);
  const tiles: SheetTile[] = crops.map((c, i) => ({ image: c.png, caption: faceCaption(drawable[i]!.path, drawable[i]!.centroidCosDist) }));
  return await contactSheet(tiles, { ...options, maxTiles });
}

