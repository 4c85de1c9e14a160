/**
 * Pure clustering of unit face embeddings (row-major Float32Array): neighbour graphs, agglomerative and DBSCAN
 * clustering, same-photo grouping, scoring against labels, threshold sweeps and synthetic embeddings for tests
 * and benches. Imports no project types but the config's linkage names.
 */
export * from "./options";
export * from "./cluster";
export * from "./metrics";
export * from "./synthetic";
export * from "./same_photo";
export * from "./sweep";
export { cosDist, unitMean } from "./vectors";
export { condensedCosineDistances, condensedIndex } from "./agglomerative";
export { exactNeighbourGraph, type GraphStats, type NeighbourGraph } from "./knn";
