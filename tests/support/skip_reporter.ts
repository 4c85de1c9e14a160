/**
 * Ends every `npm test` with one line saying how many tests were skipped and why, so a green run on a checkout
 * without ../shared does not pass for a full one. Fixture skips come from `needs(...)` (tests/support/fixtures.ts),
 * which records what is missing in the test's meta; other skips are counted by their note, or as "no reason given".
 */
import type { Reporter, TestModule, Vitest } from "vitest/node";
import { FIXTURE_LOCATION } from "./fixtures";

export function skipLine(fixtureSkips: Map<string, number>, otherSkips: Map<string, number>): string {
  const nFixture = [...fixtureSkips.values()].reduce((a, b) => a + b, 0);
  const nOther = [...otherSkips.values()].reduce((a, b) => a + b, 0);
  const where = `fixtures: ${FIXTURE_LOCATION.source} = ${FIXTURE_LOCATION.dir}`;
  if (nFixture === 0 && nOther === 0) return `skipped: none (${where})`;
  const parts: string[] = [];
  if (nFixture > 0) {
    const top = [...fixtureSkips].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([what, n]) => `${what} x${n}`).join(", ");
    parts.push(
      `${nFixture} ${nFixture === 1 ? "test needs" : "tests need"} the shared fixtures (../shared or FACESETS_FIXTURES): ` +
        `skipped (${where}; missing ${top}${fixtureSkips.size > 4 ? ", ..." : ""})`,
    );
  }
  if (nOther > 0) parts.push(`${nOther} other ${nOther === 1 ? "test" : "tests"} skipped (${[...otherSkips].map(([why, n]) => `${why} x${n}`).join(", ")})`);
  return `skipped: ${parts.join("; ")}`;
}

export default class SkipReporter implements Reporter {
  private vitest?: Vitest;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const fixtureSkips = new Map<string, number>();
    const otherSkips = new Map<string, number>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state !== "skipped") continue;
        const missing = test.meta().fixtureSkip;
        if (missing !== undefined) fixtureSkips.set(missing, (fixtureSkips.get(missing) ?? 0) + 1);
        else {
          const why = test.meta().skipReason ?? result.note ?? (test.options.mode === "todo" ? "todo" : "no reason given");
          otherSkips.set(why, (otherSkips.get(why) ?? 0) + 1);
        }
      }
    }
    const line = skipLine(fixtureSkips, otherSkips);
    if (this.vitest) this.vitest.logger.log(line);
    else console.log(line);
  }
}
