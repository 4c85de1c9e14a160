/**
 * Ground-truth labels of a photo folder: `labels.csv` with header `file,identity,...` (more columns allowed).
 *
 * A row names one photo and who is in it. Only photos of exactly one known person can score a face clustering
 * ("this face is X"): a row with an empty identity (unlabelled, e.g. a group photo) or with several identities
 * separated by ';' (a group photo listing its people) is returned, so callers can count and show it, but flagged
 * `singleIdentity: false`.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { CsvError, parseCsv } from "./csv";

export class LabelsError extends Error {
  override name = "LabelsError";
}

export interface LabelRow {
  /** The `file` column as written (relative to the CSV's folder). */
  file: string;
  /** `file` resolved against the CSV's folder. */
  path: string;
  /** The identity when the photo shows exactly one labelled person, else null. */
  identity: string | null;
  /** Every identity listed (split on ';', trimmed); empty when unlabelled. */
  identities: string[];
  /** True when `identities` has exactly one entry: the row can serve as truth for its face. */
  singleIdentity: boolean;
  /** All columns by header name, verbatim (e.g. label_source, faces, note). */
  columns: Record<string, string>;
  /** 1-based line of the row in the CSV, for messages. */
  line: number;
  /** Whether `path` exists (set by `readLabels`; `parseLabels` leaves it undefined). */
  exists?: boolean;
}

export interface Labels {
  /** The CSV file read (or the name given to `parseLabels`). */
  source: string;
  /** The folder files resolve against. */
  dir: string;
  header: string[];
  rows: LabelRow[];
}

const REQUIRED = ["file", "identity"] as const;

/** Parse labels.csv text; `dir` is the folder that `file` entries are relative to. */
export function parseLabels(text: string, dir: string, source = "labels.csv"): Labels {
  let records;
  try {
    records = parseCsv(text, source);
  } catch (err) {
    if (err instanceof CsvError) throw new LabelsError(err.message);
    throw err;
  }
  const headerRecord = records.shift();
  if (!headerRecord) throw new LabelsError(`${source}: empty file; expected a header "file,identity,..."`);
  const header = headerRecord.fields.map((h) => h.trim());
  for (const name of REQUIRED) {
    if (!header.includes(name)) {
      throw new LabelsError(`${source}: header lacks the "${name}" column (found: ${header.join(", ")})`);
    }
  }
  const fileCol = header.indexOf("file");
  const identityCol = header.indexOf("identity");
  const seen = new Map<string, number>();
  const rows = records.map(({ line, fields }): LabelRow => {
    if (fields.length > header.length) {
      throw new LabelsError(`${source}:${line}: ${fields.length} fields but the header has ${header.length}; quote fields that contain commas`);
    }
    const file = (fields[fileCol] ?? "").trim();
    if (file === "") throw new LabelsError(`${source}:${line}: empty "file" field`);
    if (isAbsolute(file)) throw new LabelsError(`${source}:${line}: "file" must be relative to the CSV's folder, got ${file}`);
    const earlier = seen.get(file);
    if (earlier !== undefined) throw new LabelsError(`${source}:${line}: ${file} is listed twice (first on line ${earlier})`);
    seen.set(file, line);
    const identities = (fields[identityCol] ?? "").split(";").map((s) => s.trim()).filter((s) => s !== "");
    const columns: Record<string, string> = {};
    header.forEach((name, k) => (columns[name] = fields[k] ?? ""));
    return {
      file,
      path: resolve(dir, file),
      identity: identities.length === 1 ? identities[0]! : null,
      identities,
      singleIdentity: identities.length === 1,
      columns,
      line,
    };
  });
  return { source, dir, header, rows };
}

/** Read `csvPath` and resolve its files against its folder; each row records whether its file exists. */
export async function readLabels(csvPath: string): Promise<Labels> {
  let text: string;
  try {
    text = await readFile(csvPath, "utf8");
  } catch (err) {
    throw new LabelsError(`${csvPath}: cannot read labels (${(err as { code?: string }).code ?? String(err)})`);
  }
  const labels = parseLabels(text, dirname(resolve(csvPath)), csvPath);
  await Promise.all(
    labels.rows.map(async (row) => {
      row.exists = await stat(row.path).then((s) => s.isFile(), () => false);
    }),
  );
  return labels;
}

/** Identity per resolved path, for single-identity rows only (the truth a clustering is scored against). */
export function truthByPath(labels: Labels): Map<string, string> {
  const truth = new Map<string, string>();
  for (const row of labels.rows) if (row.identity !== null) truth.set(row.path, row.identity);
  return truth;
}

/**
 * The truth of each face: the identity its photo is labelled with under any of the face's paths (byte-identical
 * copies), or null (unlabelled, or a group photo). `truth` is truthByPath's map.
 */
export function faceTruth(
  faces: readonly { path: string; paths: readonly string[] }[],
  truth: ReadonlyMap<string, string>,
): (string | null)[] {
  return faces.map((f) => [f.path, ...f.paths].map((p) => truth.get(p)).find((t) => t !== undefined) ?? null);
}
