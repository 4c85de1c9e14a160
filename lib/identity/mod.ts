/** Identities: plans over store faces and the library (discovery, extend, hand-sorted folders, eras) and their gates. */
export * from "./centroids";
export * from "./face_decision";
export * from "./gates";
export * from "./discover";
export * from "./extend";
export * from "./folders";
export * from "./set_faces";
export * from "./eras";
export * from "./why";
export * from "./leftovers";
