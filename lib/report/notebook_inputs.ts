/**
 * Notebook inputs come from environment variables (notebooks/README.md). A missing or wrong one fails at the first
 * cell with a message naming the variable and what to set it to, not later with ENOENT on some derived path.
 */
import { stat } from "node:fs/promises";
import { latestDiscoveryRecord } from "./run_data";

export class NotebookInputError extends Error {
  override name = "NotebookInputError";
}

export type NotebookEnv = Readonly<Record<string, string | undefined>>;

/**
 * The value of `name` in `env`, checked to be an existing file or folder. Undefined when unset and not required;
 * `what` says what it should point at ("a labels.csv (file, identity)").
 */
export async function notebookPath(
  env: NotebookEnv,
  name: string,
  { kind, what, required = true }: { kind: "file" | "folder"; what: string; required?: boolean },
): Promise<string | undefined> {
  const value = env[name];
  if (value === undefined || value === "") {
    if (!required) return undefined;
    throw new NotebookInputError(`${name} is not set: set it to ${what}`);
  }
  const st = await stat(value).catch(() => undefined);
  if (st === undefined) throw new NotebookInputError(`${name}=${value}: no such ${kind}; set it to ${what}`);
  if (kind === "folder" ? !st.isDirectory() : !st.isFile()) throw new NotebookInputError(`${name}=${value}: not a ${kind}; set it to ${what}`);
  return value;
}

/**
 * The run record identity-discovery explains: `FACESETS_RUN_RECORD` when set, else the newest cluster-osrc or
 * refine record of `FACESETS_LIBRARY` (as `deno task report --library` picks it).
 */
export async function notebookRunRecord(env: NotebookEnv): Promise<string> {
  const record = await notebookPath(env, "FACESETS_RUN_RECORD", {
    kind: "file",
    what: "a cluster-osrc or refine run record (<library>/_runs/<run id>.json), or unset it to use FACESETS_LIBRARY's newest",
    required: false,
  });
  if (record !== undefined) return record;
  const library = (await notebookPath(env, "FACESETS_LIBRARY", {
    kind: "folder",
    what: "the face-set library whose newest cluster-osrc or refine run to explain (or set FACESETS_RUN_RECORD)",
  }))!;
  const latest = await latestDiscoveryRecord(library);
  if (latest === undefined) {
    throw new NotebookInputError(`FACESETS_LIBRARY=${library}: no cluster-osrc or refine run record in its _runs/; run deno task cluster-osrc first`);
  }
  return latest;
}
