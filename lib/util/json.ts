/**
 * Reading JSON files with one-line errors that name the file: every module that reads its own JSON (library
 * manifests, provenance, run records, the ledger, the config, the model manifest) reads it here and gets its own
 * typed error back (`error`), so a command can tell a bad library from a bad config by type.
 */
import { readFile } from "node:fs/promises";

export interface ReadJsonOptions {
  /** What the file is, for "cannot read <what>" (e.g. "config"); default none. */
  what?: string;
  /** A file that does not exist reads as undefined instead of an error. Default false. */
  missingOk?: boolean;
}

/** Parse `text` read from `file`; invalid JSON is `error("<file>: not valid JSON (<first line of the reason>)")`. */
export function parseJsonText(text: string, file: string, error: (message: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = String((err as Error).message ?? err).split("\n")[0];
    throw error(`${file}: not valid JSON (${reason})`);
  }
}

/**
 * The parsed JSON of `file`. Unreadable: `error("<file>: cannot read[ <what>] (<code>)")`, or undefined for a
 * missing file with `missingOk`; invalid JSON: as parseJsonText.
 */
export async function readJsonFile(
  file: string,
  error: (message: string) => Error,
  { what, missingOk = false }: ReadJsonOptions = {},
): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (missingOk && code === "ENOENT") return undefined;
    throw error(`${file}: cannot read${what ? ` ${what}` : ""} (${code ?? err})`);
  }
  return parseJsonText(text, file, error);
}
