/**
 * The DuckDB instances of this process, one per store file (see [Note: one writer] in store.ts): handles on the
 * same file share one instance, each with its own connection; the instance closes with its last handle.
 */
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { StoreError } from "./errors";
import { storeOpenError } from "./lock";

export interface SharedInstance {
  instance: DuckDBInstance;
  readOnly: boolean;
  refs: number;
}

/** Open DuckDB instances of this process, by absolute store path. */
const instances = new Map<string, Promise<SharedInstance>>();

/**
 * The shared instance of the store at `storePath`, created (and opened read-only when `readOnly`) when this process
 * has none; `fresh` when this call created it. The caller takes a reference (`refs++`) and gives it back with
 * releaseInstance.
 */
export async function acquireInstance(
  storePath: string,
  readOnly: boolean,
): Promise<{ key: string; shared: SharedInstance; fresh: boolean }> {
  const key = instanceKey(storePath);
  let pending: Promise<SharedInstance> | undefined;
  let shared: SharedInstance;
  let fresh: boolean;
  for (;;) {
    pending = instances.get(key);
    fresh = pending === undefined;
    if (!pending) {
      pending = createInstance(storePath, key, readOnly);
      instances.set(key, pending);
      const mine = pending;
      pending.catch(() => {
        if (instances.get(key) === mine) instances.delete(key);
      });
    }
    shared = await pending;
    if (instances.get(key) === pending) break; // else its last handle closed while we waited: open anew
  }
  return { key, shared, fresh };
}

async function createInstance(storePath: string, key: string, readOnly: boolean): Promise<SharedInstance> {
  if (readOnly && !existsSync(key)) {
    throw new StoreError(`store ${storePath} does not exist (nothing scanned into it yet?)`);
  }
  try {
    const instance = await DuckDBInstance.create(key, readOnly ? { access_mode: "READ_ONLY" } : {});
    return { instance, readOnly, refs: 0 };
  } catch (err) {
    throw storeOpenError(err, storePath);
  }
}

/** One key per file, however it is named (relative, via a symlinked folder): the real folder plus the name. */
function instanceKey(storePath: string): string {
  const abs = path.resolve(storePath);
  try {
    return path.join(realpathSync(path.dirname(abs)), path.basename(abs));
  } catch {
    return abs; // the folder does not exist yet
  }
}

export function releaseInstance(key: string, shared: SharedInstance): void {
  shared.refs--;
  if (shared.refs > 0) return;
  instances.delete(key);
  shared.instance.closeSync();
}
