/** First line of an error's message, for one-line reports. */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0]!.trim();
}

/** A byte count in megabytes, as progress lines and logs show it ("12.5 MB"). */
export function megabytes(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}
