/** Accumulates wall time per named stage; passed into pipelines that want to be measured (bench, reports). */
export class Stopwatch {
  readonly totalsMs = new Map<string, number>();

  add(stage: string, ms: number): void {
    this.totalsMs.set(stage, (this.totalsMs.get(stage) ?? 0) + ms);
  }

  /** Time a sync or async step under `stage`. */
  async time<T>(stage: string, step: () => T | Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await step();
    } finally {
      this.add(stage, performance.now() - start);
    }
  }

  timeSync<T>(stage: string, step: () => T): T {
    const start = performance.now();
    try {
      return step();
    } finally {
      this.add(stage, performance.now() - start);
    }
  }
}
