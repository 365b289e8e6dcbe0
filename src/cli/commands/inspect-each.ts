/** The shape every `inspect` command shares: look each name up, then render, then report misses. */
import { isBerthError } from "../../base/errors.js";
import type { CommandContext } from "../command.js";
import { renderInspect } from "../format/render.js";

export interface InspectEachOptions {
  /** The Go template of `--format`, or undefined for Docker's indented JSON array. */
  readonly format: string | undefined;
  /** Finds one object; a NotFound error counts as a miss, any other error ends the command. */
  readonly lookup: (name: string) => Promise<unknown>;
  /** The message for a miss (default: the NotFound error's own message). */
  readonly missing?: (name: string, message: string) => string;
}

/**
 * Looks up every name, renders what was found before printing anything (so a template error
 * prints no partial output), then writes one `Error: …` line per name not found; exit status 1
 * when any was missing, as Docker's inspect commands.
 */
export async function inspectEach(
  ctx: CommandContext,
  names: readonly string[],
  opts: InspectEachOptions,
): Promise<number> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of names) {
    try {
      found.push(await opts.lookup(name));
    } catch (err) {
      if (!isBerthError(err, "NotFound")) throw err;
      errors.push(opts.missing ? opts.missing(name, err.message) : err.message);
    }
  }
  const text = renderInspect(found, opts.format);
  ctx.io.stdout.write(text);
  for (const e of errors) ctx.io.stderr.write(`Error: ${e}\n`);
  return errors.length > 0 ? 1 : 0;
}
