/** The shape of Docker's multi-argument commands (rm, rmi, stop, volume rm, network rm, …). */
import { isBerthError } from "../../base/errors.js";
import type { CommandContext } from "../command.js";

/**
 * Runs `fn` for each name in turn. A failure is printed as Docker's CLI prints the daemon's
 * answer (`Error response from daemon: …`) and the rest still run; the status is 1 if any
 * failed. Internal errors (bugs) and non-berth errors end the command.
 */
export async function forEachName(
  ctx: CommandContext,
  names: readonly string[],
  fn: (name: string) => Promise<void>,
): Promise<number> {
  let failed = false;
  for (const name of names) {
    try {
      await fn(name);
    } catch (err) {
      if (!isBerthError(err) || err.kind === "Internal") throw err;
      failed = true;
      ctx.io.stderr.write(`Error response from daemon: ${err.message}\n`);
    }
  }
  return failed ? 1 : 0;
}
