/**
 * Command-line arguments of the `deno task` commands: node:util's parseArgs with every mistake turned into a
 * UsageError (exit 2 through runMain), `--help` handled once, the option specs the commands share, and the checks
 * whose messages the commands share word for word. Imports nothing heavy, so light commands stay light.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors";

type OptionSpecs = NonNullable<ParseArgsConfig["options"]>;

/** The face store every command reads or writes unless `--store` names another. */
export const DEFAULT_STORE_PATH = "data/facesets.duckdb";

export const STORE_OPTION = { store: { type: "string", default: DEFAULT_STORE_PATH } } as const;
/** `--config FILE` and the repeatable `--set KEY=VALUE` (any config key, validated like the file): every command that takes one takes both. */
export const CONFIG_OPTION = { config: { type: "string" }, set: { type: "string", multiple: true } } as const;
export const DRY_RUN_OPTION = { "dry-run": { type: "boolean", default: false } } as const;
export const JSON_OPTION = { json: { type: "boolean", default: false } } as const;
const HELP_OPTION = { help: { type: "boolean", default: false } } as const;

/** The options every library command (build-folders, cluster-osrc, extend, refine, split-eras) takes. */
export const LIBRARY_COMMAND_OPTIONS = { ...STORE_OPTION, ...CONFIG_OPTION, ...DRY_RUN_OPTION, ...JSON_OPTION } as const;

/** parseCommandArgs' answer when `--help` was given: the usage is printed, the command exits 0. */
export const HELP_PRINTED = Symbol("help printed");

export interface ParseCommandOptions {
  /** Whether the command takes positional arguments (files); default false: a stray word is a usage error. */
  allowPositionals?: boolean;
}

type ParsedCommand<O extends OptionSpecs> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP_OPTION; allowPositionals: boolean }>
>;

/**
 * Parse `args` against `options` (plus `--help`, which prints `usage` on stdout). A malformed call (unknown
 * option, missing value, stray positional) throws a UsageError with parseArgs' own message.
 */
export function parseCommandArgs<const O extends OptionSpecs>(
  args: string[],
  options: O,
  usage: string,
  { allowPositionals = false }: ParseCommandOptions = {},
): ParsedCommand<O> | typeof HELP_PRINTED {
  let parsed: ParsedCommand<O>;
  try {
    parsed = parseArgs({ args, options: { ...options, ...HELP_OPTION }, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return HELP_PRINTED;
  }
  return parsed;
}

/** The value of a required option: `--source DIR is required` when absent (`valueName` is the usage's "DIR"). */
export function requireOption<K extends string>(
  values: { readonly [key in K]?: string },
  name: K,
  valueName: string,
): string {
  const value = values[name];
  if (!value) throw new UsageError(`--${name} ${valueName} is required`);
  return value;
}

/** `value` resolved to an absolute path, when it is an existing folder; else `--source X is not a folder`. */
export function requireFolder(flag: string, value: string): string {
  const folder = path.resolve(value);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new UsageError(`${flag} ${value} is not a folder`);
  return folder;
}

/** Refuse a path that does not exist: `--store X does not exist: run deno task scan first` (`hint` after the colon). */
export function requireExistingPath(flag: string, value: string, hint?: string): void {
  if (!existsSync(value)) throw new UsageError(`${flag} ${value} does not exist${hint === undefined ? "" : `: ${hint}`}`);
}

/** The one positional argument of a command (`name` as in its usage, e.g. "OUT"). */
export function requireOnePositional(positionals: readonly string[], name: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? `${name} is required` : `one ${name} expected, got ${positionals.length}`);
  }
  return positionals[0]!;
}
