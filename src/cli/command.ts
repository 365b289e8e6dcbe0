/** What a CLI command is: its usage, flags, argument count and handler. */
import type { Engine } from "../engine/engine.js";
import type { ServeRequest } from "./commands/serve.js";
import type { FlagSpec, Flags } from "./flags.js";

/** The process's streams and environment, injected so that tests and the API can drive the CLI. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The signals this process receives (absent: none are proxied, as in tests run in process). */
  readonly signals?: SignalSource;
}

/** Where the CLI learns of signals sent to its process. */
export interface SignalSource {
  /** Calls `handler` for each of `signals` received instead of their default action; returns the undo. */
  subscribe(signals: readonly NodeJS.Signals[], handler: (signal: NodeJS.Signals) => void): () => void;
  /** Sends this process a signal (to take its usual effect once nothing is subscribed to it). */
  raise(signal: NodeJS.Signals): void;
}

export interface CommandContext {
  readonly io: CliIo;
  /** Opens the engine on first use (commands that need none, like `version`, never open it). */
  engine(opts?: { readonly existingStore?: boolean }): Promise<Engine>;
  /** `berth` or whatever the program is called in messages. */
  readonly program: string;
  readonly version: string;
  /** Runs the API server until it is told to stop (`berth serve`); absent where no server is wired. */
  readonly serve?: (req: ServeRequest) => Promise<number>;
}

export interface ArgCount {
  readonly min: number;
  readonly max: number;
}

export interface Command {
  /** Full path, e.g. "image ls". */
  readonly path: string;
  /** Other paths that run this command, e.g. ["images", "image list"]. */
  readonly aliases?: readonly string[];
  readonly usage: string;
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  readonly args: ArgCount;
  /** false for commands that pass the rest of the line to a container (`run`, `exec`). */
  readonly interspersed?: boolean;
  readonly hidden?: boolean;
  run(ctx: CommandContext, flags: Flags, args: readonly string[]): Promise<number>;
}

export const exactly = (n: number): ArgCount => ({ min: n, max: n });
export const atLeast = (n: number): ArgCount => ({ min: n, max: Number.POSITIVE_INFINITY });
export const atMost = (n: number): ArgCount => ({ min: 0, max: n });
export const none: ArgCount = { min: 0, max: 0 };

/** The `--format` flag as Docker describes it for list commands. */
export const FORMAT_FLAG: FlagSpec = {
  name: "format",
  type: "string",
  valueName: "string",
  description:
    "Format output using a custom template:\n" +
    "                        'table':            Print output in table format with column headers (default)\n" +
    "                        'table TEMPLATE':   Print output in table format using the given Go template\n" +
    "                        'json':             Print in JSON format\n" +
    "                        'TEMPLATE':         Print output using the given Go template",
};

/** `--format` where only JSON or a template make sense (inspect, events): no table. */
export const TEMPLATE_FORMAT_FLAG: FlagSpec = {
  name: "format",
  type: "string",
  valueName: "string",
  description:
    "Format output using a custom template:\n" +
    "                        'json':             Print in JSON format\n" +
    "                        'TEMPLATE':         Print output using the given Go template",
};

/** The `-f/--format` flag of inspect commands. */
export const INSPECT_FORMAT_FLAG: FlagSpec = { ...TEMPLATE_FORMAT_FLAG, short: "f" };

/**
 * `-f/--filter` of list commands and events: with an example (`driver=bridge`) as `ls` commands
 * describe it, or without as `ps`, `images` and `events` do.
 */
export function filterFlag(example?: string): FlagSpec {
  return {
    name: "filter",
    short: "f",
    type: "list",
    valueName: "filter",
    description: example
      ? `Provide filter values (e.g. "${example}")`
      : "Filter output based on conditions provided",
  };
}
