/**
 * The curation functions the review page calls. TODO(review): lib/curation is not on main yet; each verb is wired
 * here as its function lands (import from "../curation/mod"), so the page's decisions are curate's, never a copy.
 */
import type { CurationApi } from "./decisions";

export const curationApi: Partial<CurationApi> = {};
