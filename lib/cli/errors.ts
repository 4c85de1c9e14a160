import { ConfigError } from "../config";
import { WriteInterrupted } from "../library/interrupt";
import { oneLine } from "../util/text";

/** A mistake in how a command was called: reported with the usage line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Run a command's main function: exit code from its result, usage and config errors as exit 2, a library write
 * stopped by SIGINT / SIGTERM as 130 / 143, any other error as one line on stderr and exit 1 (stack traces only
 * with FACESETS_DEBUG=1).
 */
export async function runMain(main: () => Promise<number>, usage: string): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (err) {
    if (err instanceof WriteInterrupted) {
      process.stderr.write(`error: ${err.message}; lock released\n`);
      code = err.exitCode;
    } else if (err instanceof UsageError || err instanceof ConfigError) {
      // A config value the config refuses (file or --set) is a bad argument, like a bad option.
      process.stderr.write(`error: ${err.message}\n${usage.split("\n")[0]}\n(see --help)\n`);
      code = 2;
    } else {
      process.stderr.write(`error: ${oneLine(err)}\n`);
      if (process.env.FACESETS_DEBUG) console.error(err);
      code = 1;
    }
  }
  process.exit(code);
}
