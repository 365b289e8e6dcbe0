/**
 * The command shapes Docker's object commands share, one factory each, so that `container`,
 * `image`, `volume`, `network` and `builder` commands of one shape are one piece of code with
 * their differences as data:
 *
 * - `perName`: act on each named object in turn and print its name (rm, stop, kill, pause, …);
 *   a failure is printed as the daemon's answer and the rest still run (each.ts).
 * - `makeInspectCommand`: look each name up and render them all, then report misses
 *   (inspect-each.ts).
 * - `makePruneCommand`: `--filter`, the confirmation prompt unless `--force`, then the engine's prune
 *   and its report (`Deleted …:` and `Total reclaimed space:`).
 * - `makeListCommand`: `-f/--filter`, `--format`, `-q/--quiet` (and `--no-trunc` where the object
 *   has it) read, then the object's rows rendered.
 *
 * Owns the flags, argument counts and prompts these shapes have in common; what each object's
 * command does with the engine stays in its own file.
 */
import type { BerthError } from "../../base/errors.js";
import type { Engine } from "../../engine/engine.js";
import type { ImageDeleteResponseItem } from "../../engine/types.js";
import {
  type ArgCount,
  atLeast,
  type Command,
  type CommandContext,
  FORMAT_FLAG,
  filterFlag,
  INSPECT_FORMAT_FLAG,
  none,
} from "../command.js";
import { type FlagSpec, type Flags, parseFilterFlags } from "../flags.js";
import { humanSize } from "../format/units.js";
import { readAnswer } from "../io-helpers.js";
import { forEachName } from "./each.js";
import { inspectEach } from "./inspect-each.js";

/**
 * A command that acts on each named object in turn and prints each name, as Docker's stop, kill,
 * rm, pause, volume rm, network rm and friends do, or what `report` makes of the act's result
 * (rmi's `Untagged:`/`Deleted:` lines). Errors are printed per name; the status is 1 if any failed.
 */
export function perName<T>(
  spec: Omit<Command, "run" | "args"> & {
    act: (engine: Engine, name: string, flags: Flags) => Promise<T>;
    /** What stdout shows for a name acted on (default: the name). */
    report?: (name: string, result: T) => string;
    /** Measures before the act; what it returns runs (on stderr) after the act succeeded. */
    hint?: (
      ctx: CommandContext,
      engine: Engine,
      name: string,
      flags: Flags,
    ) => Promise<(result: T) => Promise<void>>;
    /** Runs after a failure's error line (on stderr): what the user can do about it. */
    failed?: (ctx: CommandContext, engine: Engine, name: string, err: BerthError) => Promise<void>;
    /** Whether a missing object is skipped silently (`rm -f`). */
    missingOk?: (flags: Flags) => boolean;
  },
): Command {
  const { act, report, hint, failed, missingOk, ...command } = spec;
  return {
    ...command,
    args: atLeast(1),
    async run(ctx, flags, args) {
      const engine = await ctx.engine();
      return forEachName(
        ctx,
        args,
        async (name) => {
          const after = hint ? await hint(ctx, engine, name, flags) : undefined;
          const result = await act(engine, name, flags);
          ctx.io.stdout.write(report ? report(name, result) : `${name}\n`);
          await after?.(result);
        },
        {
          missingOk: missingOk?.(flags) ?? false,
          ...(failed ? { failed: (name, err) => failed(ctx, engine, name, err) } : {}),
        },
      );
    },
  };
}

/** `<object> inspect`: `-f/--format` and the object's own flags; each name looked up by `lookup`. */
export function makeInspectCommand(spec: {
  readonly path: string;
  readonly usage: string;
  readonly description: string;
  /** Flags besides `-f/--format`. */
  readonly flags?: readonly FlagSpec[];
  readonly lookup: (engine: Engine, name: string, flags: Flags) => Promise<unknown>;
  /** The message for a name not found (default: the engine's NotFound message). */
  readonly missing?: (name: string) => string;
}): Command {
  return {
    path: spec.path,
    usage: spec.usage,
    description: spec.description,
    args: atLeast(1),
    flags: [INSPECT_FORMAT_FLAG, ...(spec.flags ?? [])],
    async run(ctx, flags, args) {
      const engine = await ctx.engine();
      return inspectEach(ctx, args, {
        format: flags.string("format"),
        lookup: (name) => spec.lookup(engine, name, flags),
        ...(spec.missing ? { missing: spec.missing } : {}),
      });
    },
  };
}

/** `Deleted <What>:`, one line each, then a blank line, as Docker prints it; "" when none was deleted. */
export function deletedList(what: string, lines: readonly string[]): string {
  return lines.length > 0 ? `Deleted ${what}:\n${lines.map((l) => `${l}\n`).join("")}\n` : "";
}

/** Writes `deletedList` to stdout. */
export function writeDeleted(ctx: CommandContext, what: string, lines: readonly string[]): void {
  ctx.io.stdout.write(deletedList(what, lines));
}

/** The lines of `Deleted Images:`: `untagged: …` and `deleted: …` for each item of a prune. */
export function deletedImageLines(items: readonly ImageDeleteResponseItem[]): string[] {
  return items.flatMap((i) => [
    ...(i.Untagged ? [`untagged: ${i.Untagged}`] : []),
    ...(i.Deleted ? [`deleted: ${i.Deleted}`] : []),
  ]);
}

/** `Total reclaimed space: …`, as Docker's prune commands end (go-units HumanSize). */
export function writeReclaimed(ctx: CommandContext, bytes: number): void {
  ctx.io.stdout.write(`Total reclaimed space: ${humanSize(bytes)}\n`);
}

/**
 * `<object> prune`: the object's own flags, `--filter` (described with `filterExample`) and
 * `-f/--force`. The filters are read (and `filters` may complete them from the flags, or end the
 * command with a status) before the user is asked `question(flags)`; a decline changes nothing.
 */
export function makePruneCommand(spec: {
  readonly path: string;
  readonly description: string;
  /** Flags before `--filter` and `--force` (`-a/--all`). */
  readonly flags?: readonly FlagSpec[];
  /** The `--filter` example of the help text, e.g. `until=<timestamp>`. */
  readonly filterExample: string;
  /** Completes the filters from the flags; a number ends the command with that status. */
  readonly filters?: (
    ctx: CommandContext,
    filters: Record<string, string[]>,
    flags: Flags,
  ) => number | undefined;
  /** The prompt, without its ` [y/N] `. */
  readonly question: (flags: Flags) => string;
  /** Whether a decline ends the prompt's line (image and builder prune do, as Docker's CLI). */
  readonly declineEndsLine?: boolean;
  readonly prune: (
    ctx: CommandContext,
    engine: Engine,
    filters: Record<string, string[]>,
    flags: Flags,
  ) => Promise<void>;
}): Command {
  return {
    path: spec.path,
    usage: "[OPTIONS]",
    description: spec.description,
    args: none,
    flags: [
      ...(spec.flags ?? []),
      {
        name: "filter",
        type: "list",
        valueName: "filter",
        description: `Provide filter values (e.g. "${spec.filterExample}")`,
      },
      { name: "force", short: "f", type: "bool", description: "Do not prompt for confirmation" },
    ],
    async run(ctx, flags) {
      const filters = parseFilterFlags(flags.list("filter"), "--filter");
      const early = spec.filters?.(ctx, filters, flags);
      if (early !== undefined) return early;
      if (!flags.bool("force")) {
        ctx.io.stdout.write(`${spec.question(flags)} [y/N] `);
        if (!/^y(es)?$/i.test(await readAnswer(ctx.io.stdin))) {
          if (spec.declineEndsLine) ctx.io.stdout.write("\n");
          return 0;
        }
      }
      await spec.prune(ctx, await ctx.engine(), filters, flags);
      return 0;
    },
  };
}

/** What `makeListCommand`'s `list` is given. */
export interface ListRequest {
  readonly ctx: CommandContext;
  readonly engine: Engine;
  readonly filters: Record<string, string[]>;
  readonly flags: Flags;
  readonly args: readonly string[];
}

/**
 * `<object> ls`: `-f/--filter`, `--format`, `-q/--quiet`, `--no-trunc` when `noTrunc` describes it,
 * and the object's own flags, listed by name as Docker's help lists them. The filters are read
 * before the engine is opened; `list` returns what stdout shows.
 */
export function makeListCommand(spec: {
  readonly path: string;
  readonly aliases: readonly string[];
  /** Default `[OPTIONS]`. */
  readonly usage?: string;
  readonly description: string;
  /** Default none. */
  readonly args?: ArgCount;
  /** The `--filter` example of the help text; absent: Docker's generic description. */
  readonly filterExample?: string;
  /** The help of `-q/--quiet`, e.g. `Only display volume names`. */
  readonly quiet: string;
  /** The help of `--no-trunc`, for objects that truncate IDs. */
  readonly noTrunc?: string;
  /** Flags besides those above. */
  readonly flags?: readonly FlagSpec[];
  readonly list: (req: ListRequest) => Promise<string>;
}): Command {
  const flags: FlagSpec[] = [
    ...(spec.flags ?? []),
    filterFlag(spec.filterExample),
    FORMAT_FLAG,
    ...(spec.noTrunc ? [{ name: "no-trunc", type: "bool", description: spec.noTrunc } as const] : []),
    { name: "quiet", short: "q", type: "bool", description: spec.quiet },
  ];
  return {
    path: spec.path,
    aliases: spec.aliases,
    usage: spec.usage ?? "[OPTIONS]",
    description: spec.description,
    args: spec.args ?? none,
    flags: flags.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    async run(ctx, flags, args) {
      const filters = parseFilterFlags(flags.list("filter"), "-f, --filter");
      ctx.io.stdout.write(await spec.list({ ctx, engine: await ctx.engine(), filters, flags, args }));
      return 0;
    },
  };
}
