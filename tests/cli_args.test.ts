import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, test, vi } from "vitest";
import {
  DEFAULT_STORE_PATH,
  HELP_PRINTED,
  LIBRARY_COMMAND_OPTIONS,
  parseCommandArgs,
  requireExistingPath,
  requireFolder,
  requireOnePositional,
  requireOption,
  UsageError,
} from "../lib/cli/mod";

const OPTIONS = { source: { type: "string" }, ...LIBRARY_COMMAND_OPTIONS } as const;
const USAGE = "usage: deno task demo --source DIR";

describe("parseCommandArgs", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test("fills the shared defaults: the default store, no dry run, no json", () => {
    const parsed = parseCommandArgs(["--source", "photos"], OPTIONS, USAGE);
    expect(parsed).not.toBe(HELP_PRINTED);
    if (parsed === HELP_PRINTED) return;
    expect(parsed.values).toMatchObject({ source: "photos", store: DEFAULT_STORE_PATH, "dry-run": false, json: false });
    expect(parsed.values.config).toBeUndefined();
  });

  test("--help prints the usage on stdout and answers HELP_PRINTED", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    expect(parseCommandArgs(["--help"], OPTIONS, USAGE)).toBe(HELP_PRINTED);
    expect(log).toHaveBeenCalledWith(USAGE);
  });

  test("positionals are passed through only when the command takes them", () => {
    const parsed = parseCommandArgs(["out.npz"], OPTIONS, USAGE, { allowPositionals: true });
    expect(parsed !== HELP_PRINTED && parsed.positionals).toEqual(["out.npz"]);
    expect(() => parseCommandArgs(["out.npz"], OPTIONS, USAGE)).toThrow(UsageError);
  });

  test.each<[string[], RegExp]>([
    [["--frob"], /Unknown option '--frob'/],
    [["--source"], /--source/],
    [["--frob", "--help"], /Unknown option '--frob'/],
  ])("%j is a usage error with parseArgs' message", (args, message) => {
    expect(() => parseCommandArgs(args, OPTIONS, USAGE)).toThrow(UsageError);
    expect(() => parseCommandArgs(args, OPTIONS, USAGE)).toThrow(message);
  });
});

describe("the argument checks", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "facesets-cli-args-"));
  const file = path.join(dir, "a.txt");
  writeFileSync(file, "");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("requireOption returns the value, and names the option and its value when absent or empty", () => {
    expect(requireOption({ source: "photos" }, "source", "DIR")).toBe("photos");
    expect(() => requireOption({}, "source", "DIR")).toThrow(new UsageError("--source DIR is required"));
    expect(() => requireOption({ faceset: "" }, "faceset", "NNN")).toThrow(new UsageError("--faceset NNN is required"));
  });

  test("requireFolder resolves a folder and refuses a file or a missing path by the value as given", () => {
    expect(requireFolder("--source", dir)).toBe(path.resolve(dir));
    expect(() => requireFolder("--source", file)).toThrow(new UsageError(`--source ${file} is not a folder`));
    expect(() => requireFolder("--folders", "no/such")).toThrow(new UsageError("--folders no/such is not a folder"));
  });

  test("requireExistingPath adds the hint after a colon, when there is one", () => {
    expect(() => requireExistingPath("--store", file, "run deno task scan first")).not.toThrow();
    expect(() => requireExistingPath("--store", "no.duckdb", "run deno task scan first")).toThrow(
      new UsageError("--store no.duckdb does not exist: run deno task scan first"),
    );
    expect(() => requireExistingPath("--library", "no/lib")).toThrow(new UsageError("--library no/lib does not exist"));
  });

  test.each<[string[], string | UsageError]>([
    [["out.npz"], "out.npz"],
    [[], new UsageError("OUT is required")],
    [["a", "b"], new UsageError("one OUT expected, got 2")],
  ])("requireOnePositional(%j)", (positionals, expected) => {
    if (typeof expected === "string") expect(requireOnePositional(positionals, "OUT")).toBe(expected);
    else expect(() => requireOnePositional(positionals, "OUT")).toThrow(expected);
  });
});
