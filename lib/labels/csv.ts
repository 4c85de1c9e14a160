/**
 * RFC 4180 CSV parsing for the small hand-written files facesets reads (labels.csv): quoted fields may hold commas,
 * newlines and doubled quotes. Written here rather than taken from a package because the whole grammar is a dozen
 * lines and the errors must name the file and line.
 */

export class CsvError extends Error {
  override name = "CsvError";
}

/** One parsed record with the 1-based line it starts on (quoted newlines make lines and records differ). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Split CSV text into records. A UTF-8 BOM is dropped; CRLF and LF both end records; blank lines are skipped.
 * `source` names the file in errors.
 */
export function parseCsv(text: string, source = "csv"): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = "";
  let recordLine = 1;
  let quoted = false; // inside a quoted field
  let wasQuoted = false; // the current field was quoted (so "" is an empty field, not a blank line)
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "" && !wasQuoted)) records.push({ line: recordLine, fields });
    fields = [];
    field = "";
    wasQuoted = false;
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          const next = text[i + 1];
          if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") {
            throw new CsvError(`${source}:${line}: text after a closing quote (${JSON.stringify(next)}); quote the whole field`);
          }
        }
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"') {
      if (field !== "") throw new CsvError(`${source}:${line}: a quote inside an unquoted field; quote the whole field and double inner quotes`);
      quoted = true;
      wasQuoted = true;
    } else if (ch === ",") {
      fields.push(field);
      field = "";
      wasQuoted = false;
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += ch;
    }
  }
  if (quoted) throw new CsvError(`${source}:${recordLine}: unterminated quoted field (a missing closing quote)`);
  if (field !== "" || fields.length > 0 || wasQuoted) endRecord();
  return records;
}
