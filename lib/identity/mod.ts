/** Identities: clustering unit face embeddings, scoring clusterings, synthetic embeddings for tests and benches. */
export * from "./options";
export * from "./cluster";
export * from "./metrics";
export * from "./synthetic";
export { condensedCosineDistances, condensedIndex } from "./agglomerative";
export { exactNeighbourGraph, type GraphStats, type NeighbourGraph } from "./knn";
export * from "./centroids";
export * from "./face_decision";
export * from "./same_photo";
export * from "./discover";
export * from "./extend";
export * from "./folders";
export * from "./set_faces";
