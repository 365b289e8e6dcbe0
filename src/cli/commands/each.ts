/** The shape of Docker's multi-argument commands (rm, rmi, stop, volume rm, network rm, …). */
import { type BerthError, isBerthError } from "../../base/errors.js";
import type { CommandContext } from "../command.js";

/**
 * Runs `fn` for each name in turn. A failure is printed as Docker's CLI prints the daemon's
 * answer (`Error response from daemon: …`) and the rest still run; the status is 1 if any
 * failed. Internal errors (bugs) and non-berth errors end the command. With `missingOk`, a name
 * that does not exist is skipped silently. `failed` runs after a failure's error line was printed
 * (to say what the user can do about it).
 */
export async function forEachName(
  ctx: CommandContext,
  names: readonly string[],
  fn: (name: string) => Promise<void>,
  opts: {
    readonly missingOk?: boolean;
    readonly failed?: (name: string, err: BerthError) => Promise<void>;
  } = {},
): Promise<number> {
  let failed = false;
  for (const name of names) {
    try {
      await fn(name);
    } catch (err) {
      if (!isBerthError(err) || err.kind === "Internal") throw err;
      // `rm -f`/`rmi -f` of what is not there: nothing to do, as Docker's CLI (scripts under
      // `set -e` rely on it).
      if (opts.missingOk && err.kind === "NotFound") continue;
      failed = true;
      ctx.io.stderr.write(`Error response from daemon: ${err.message}\n`);
      await opts.failed?.(name, err);
    }
  }
  return failed ? 1 : 0;
}
