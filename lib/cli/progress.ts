/**
 * Progress on stderr for long work: a redrawn bar on a terminal, one plain line per `stepPercent` otherwise
 * (logs and CI stay readable). Units are pluggable so downloads show MB and scans show files.
 */
import type { DownloadProgress } from "../models/install";
import { megabytes } from "../util/text";

export interface ProgressUnit {
  /** Format an amount of work done ("12.5 MB", "340 files"). */
  amount(n: number): string;
  /** Format a rate per second ("3.1 MB/s", "4.2 files/s"). */
  rate(perSecond: number): string;
}

export const BYTES: ProgressUnit = {
  amount: megabytes,
  rate: (r) => `${(r / 1e6).toFixed(1)} MB/s`,
};

export const FILES: ProgressUnit = {
  amount: (n) => `${n} files`,
  rate: (r) => `${r.toFixed(1)} files/s`,
};

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export interface ProgressOptions {
  label: string;
  /** Total work, when known. */
  total?: number;
  unit?: ProgressUnit;
  /** Redraw one line in place (a terminal) or print lines. Default: whether stderr is a TTY. */
  tty?: boolean;
  /** Non-TTY: print a line every this many percent of the total. */
  stepPercent?: number;
  /** Non-TTY without a total: print a line every this much work. */
  stepAmount?: number;
  write?: (text: string) => void;
}

export class Progress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private nextStep = 1;
  private drawn = false;
  private readonly label: string;
  private total: number | undefined;
  private readonly unit: ProgressUnit;
  private readonly tty: boolean;
  private readonly stepPercent: number;
  private readonly stepAmount: number;
  private readonly write: (text: string) => void;

  constructor({
    label,
    total,
    unit = FILES,
    tty = Boolean(process.stderr.isTTY),
    stepPercent = 10,
    stepAmount = 25e6,
    write = (text) => void process.stderr.write(text),
  }: ProgressOptions) {
    this.label = label;
    this.total = total && total > 0 ? total : undefined;
    this.unit = unit;
    this.tty = tty;
    this.stepPercent = stepPercent;
    this.stepAmount = stepAmount;
    this.write = write;
  }

  /** Report work done so far; `total` may arrive late (e.g. once a folder walk has finished). */
  update(done: number, total?: number): void {
    if (total !== undefined && total > 0) this.total = total;
    const now = performance.now();
    const elapsed = (now - this.start) / 1000;
    const speed = elapsed > 0 ? done / elapsed : 0;
    total = this.total;
    const eta = total && speed > 0 ? (total - done) / speed : Number.NaN;
    if (this.tty) {
      if (now - this.lastDraw < 100 && done !== total) return;
      this.lastDraw = now;
      let line: string;
      if (total) {
        const frac = Math.min(1, done / total);
        const width = 24;
        const filled = Math.round(frac * width);
        line = `${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}%  ` +
          `${this.unit.amount(done)}/${this.unit.amount(total)}  ${this.unit.rate(speed)}  ETA ${formatDuration(eta)}`;
      } else {
        line = `${this.label} ${this.unit.amount(done)}  ${this.unit.rate(speed)}`;
      }
      this.write(`\r${line}\x1b[K`);
      this.drawn = true;
      return;
    }
    if (total) {
      const pct = Math.floor((done / total) * 100);
      if (pct < this.nextStep * this.stepPercent) return;
      while (this.nextStep * this.stepPercent <= pct) this.nextStep++;
      this.write(
        `${this.label}: ${Math.min(100, pct)}% (${this.unit.amount(done)}/${this.unit.amount(total)}, ` +
          `${this.unit.rate(speed)}, ETA ${formatDuration(eta)})\n`,
      );
    } else if (done >= this.nextStep * this.stepAmount) {
      while (done >= this.nextStep * this.stepAmount) this.nextStep++;
      this.write(`${this.label}: ${this.unit.amount(done)} (${this.unit.rate(speed)})\n`);
    }
  }

  finish(): void {
    if (this.tty && this.drawn) this.write("\n");
  }
}

/** A byte progress bar for a model download (lib/models/install.ts reports; the command line draws). */
export function downloadProgress(options: Omit<ProgressOptions, "label" | "total" | "unit"> = {}): DownloadProgress {
  let bar: Progress | undefined;
  return ({ label, received, total, done }) => {
    bar ??= new Progress({ ...options, label, total, unit: BYTES });
    if (done) bar.finish();
    else if (received > 0) bar.update(received);
  };
}
