/**
 * Short file names for tables and captions: the middle goes, so the start (camera prefix, date) and the end
 * (number, extension) that tell photos apart both stay.
 */

/** `text` cut to at most `maxChars` characters with "…" in the middle (unchanged when it fits). */
export function shortenMiddle(text: string, maxChars: number): string {
  if (!(maxChars >= 3)) throw new RangeError(`shortenMiddle: maxChars must be >= 3, got ${maxChars}`);
  const chars = [...text]; // code points, so a name is never cut inside a character
  if (chars.length <= maxChars) return text;
  const keep = maxChars - 1;
  const head = Math.ceil(keep / 2);
  return chars.slice(0, head).join("") + "…" + chars.slice(chars.length - (keep - head)).join("");
}

/**
 * A relative path cut to at most `maxChars`, keeping its file name whole when it fits: the folders give way first
 * ("face_recognition/knn/test/two_people.jpg" -> "face_recognition/…/two_people.jpg").
 */
export function shortenPath(file: string, maxChars: number): string {
  const chars = [...file];
  if (chars.length <= maxChars) return file;
  const slash = file.lastIndexOf("/");
  const base = file.slice(slash + 1);
  const baseChars = [...base].length;
  // Room for at least one folder character, "…" and "/" before the name; else cut the name itself.
  if (slash < 0 || baseChars + 3 > maxChars) return shortenMiddle(slash < 0 ? file : base, maxChars);
  const head = [...file.slice(0, slash)].slice(0, maxChars - baseChars - 2).join("");
  return `${head}…/${base}`;
}
