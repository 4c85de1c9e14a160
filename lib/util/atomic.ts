import { rename, rm, writeFile } from "node:fs/promises";
import { pauseAt } from "./pause";

/** Write a file atomically: a temp file beside the target, then rename, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, data);
    await pauseAt("atomic:temp-written");
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
