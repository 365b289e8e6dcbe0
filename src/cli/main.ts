/**
 * The CLI's entry: global flags, command dispatch, help, and the one place that turns errors
 * into messages and exit codes (Docker's: 125 for usage errors, 1 for failed requests).
 */
import { BerthError, errorMessage, exitCodeByKind } from "../base/errors.js";
import { configureLog, type LogLevel, parseLogLevel } from "../base/log.js";
import type { Engine } from "../engine/engine.js";
import type { CliIo, Command, CommandContext } from "./command.js";
import { commands } from "./commands/index.js";
import type { ServeRequest } from "./commands/serve.js";
import { type FlagSpec, Flags, formatFlagHelp, parseFlags, UsageError } from "./flags.js";

export interface GlobalOptions {
  readonly root?: string;
  readonly runroot?: string;
  /** `-H`: the engine to use over the Docker API instead of the local store. */
  readonly host?: string;
  /** `--tls`/`--tlsverify` and the PEM files for a tcp:// host. */
  readonly tls?: {
    readonly verify: boolean;
    readonly ca?: string;
    readonly cert?: string;
    readonly key?: string;
  };
  readonly debug: boolean;
  /** Open only an existing store (see CommandContext.engine). */
  readonly existingStore?: boolean;
}

export interface CliDeps {
  readonly io: CliIo;
  readonly openEngine: (global: GlobalOptions) => Promise<Engine>;
  readonly version: string;
  readonly program?: string;
  /** `berth serve`: runs the API server on the engine the global options name. */
  readonly serve?: (req: ServeRequest, global: GlobalOptions) => Promise<number>;
}

const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    name: "root",
    type: "string",
    valueName: "string",
    description: "Root directory of persistent state",
    defaultText: '"/var/lib/berth"',
  },
  {
    name: "runroot",
    type: "string",
    valueName: "string",
    description: "Root directory of runtime state",
    defaultText: '"/run/berth"',
  },
  { name: "host", short: "H", type: "list", valueName: "list", description: "Daemon socket to connect to" },
  { name: "tls", type: "bool", description: "Use TLS; implied by --tlsverify" },
  {
    name: "tlscacert",
    type: "string",
    valueName: "string",
    description: "Trust certs signed only by this CA",
    defaultText: '"~/.docker/ca.pem"',
  },
  {
    name: "tlscert",
    type: "string",
    valueName: "string",
    description: "Path to TLS certificate file",
    defaultText: '"~/.docker/cert.pem"',
  },
  {
    name: "tlskey",
    type: "string",
    valueName: "string",
    description: "Path to TLS key file",
    defaultText: '"~/.docker/key.pem"',
  },
  { name: "tlsverify", type: "bool", description: "Use TLS and verify the remote" },
  { name: "debug", short: "D", type: "bool", description: "Enable debug mode" },
  {
    name: "log-level",
    short: "l",
    type: "string",
    valueName: "string",
    description: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
    defaultText: '"info"',
  },
  { name: "version", short: "v", type: "bool", description: "Print version information and quit" },
  { name: "help", type: "bool", description: "Print usage", hidden: true },
];

const HELP_FLAG: FlagSpec = { name: "help", type: "bool", description: "Print usage", hidden: true };

function commandTable(): Map<string, Command> {
  const table = new Map<string, Command>();
  for (const c of commands) {
    table.set(c.path, c);
    for (const a of c.aliases ?? []) table.set(a, c);
  }
  return table;
}

function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text);
}

/**
 * From the arguments to an exit code, in the docker CLI's order: global flags and the log level,
 * the command's path, its flags and argument count, the engine, the run, then the failure's
 * message and exit code. Long because each step fails with its own exit code (125 for usage,
 * 1 for the daemon's refusals) and message; split, the pieces would pass the half-parsed state
 * and the usage line between them.
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const program = deps.program ?? "berth";
  const { io } = deps;
  let global: ReturnType<typeof parseFlags>;
  try {
    global = parseFlags(argv, GLOBAL_FLAGS, { interspersed: false });
  } catch (err) {
    write(io.stderr, `${errorMessage(err)}\n\nRun '${program} --help' for more information\n`);
    return 125;
  }
  const gflags = new Flags(global.flags);
  // Diagnostics (bestEffort's record of failed cleanups, …): -D or --log-level, else
  // BERTH_LOG_LEVEL, else info.
  let level: LogLevel;
  try {
    const text = gflags.string("log-level") ?? io.env.BERTH_LOG_LEVEL;
    level = gflags.bool("debug") ? "debug" : text ? parseLogLevel(text) : "info";
  } catch (err) {
    write(
      io.stderr,
      `${errorMessage(err)}
`,
    );
    return 125;
  }
  configureLog({
    level,
    sink: (l, message) =>
      write(
        io.stderr,
        `level=${l} msg=${JSON.stringify(message)}
`,
      ),
  });
  if (gflags.list("host").length > 1) {
    write(io.stderr, "Specify only one -H\n");
    return 125;
  }
  if (gflags.bool("version")) {
    write(io.stdout, `${program} version ${deps.version}\n`);
    return 0;
  }
  const table = commandTable();
  const rest = global.args;
  // The longest known command path at the start of the arguments.
  let command: Command | undefined;
  let used = 0;
  for (let n = Math.min(2, rest.length); n >= 1; n--) {
    const c = table.get(rest.slice(0, n).join(" "));
    if (c) {
      command = c;
      used = n;
      break;
    }
  }
  if (!command) {
    const group = rest[0];
    if (group === undefined || group === "help" || gflags.bool("help")) {
      write(io.stdout, mainHelp(program));
      return 0;
    }
    const sub = [...table.keys()].filter((k) => k.startsWith(`${group} `));
    if (sub.length > 0) {
      const unknown = rest[1];
      if (unknown !== undefined && unknown !== "--help") {
        write(
          io.stderr,
          `${program}: unknown command: ${program} ${group} ${unknown}\n\nRun '${program} ${group} --help' for more information\n`,
        );
        return 1;
      }
      write(unknown === undefined ? io.stderr : io.stdout, groupHelp(program, group));
      return unknown === undefined ? 1 : 0;
    }
    write(
      io.stderr,
      `${program}: unknown command: ${program} ${group}\n\nRun '${program} --help' for more information\n`,
    );
    return 1;
  }
  const invoked = rest.slice(0, used).join(" ");
  const usageLine = `Usage:  ${program} ${invoked} ${command.usage}`.trimEnd();
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(rest.slice(used), [...command.flags, HELP_FLAG], {
      interspersed: command.interspersed ?? true,
    });
  } catch (err) {
    write(
      io.stderr,
      `${errorMessage(err)}\n\n${usageLine}\n\nRun '${program} ${invoked} --help' for more information\n`,
    );
    return 125;
  }
  const flags = new Flags(parsed.flags);
  if (flags.bool("help")) {
    write(io.stdout, commandHelp(program, command, invoked));
    return 0;
  }
  const n = parsed.args.length;
  if (n < command.args.min || n > command.args.max) {
    write(
      io.stderr,
      `${program}: '${program} ${invoked}' ${argCountMessage(command)}\n\n${usageLine}\n\nRun '${program} ${invoked} --help' for more information\n`,
    );
    return 1;
  }
  let engine: Engine | undefined;
  const tlsVerify = gflags.bool("tlsverify");
  const tlsFiles = {
    ca: gflags.string("tlscacert"),
    cert: gflags.string("tlscert"),
    key: gflags.string("tlskey"),
  };
  const tls =
    tlsVerify || gflags.bool("tls") || Object.values(tlsFiles).some((f) => f !== undefined)
      ? { verify: tlsVerify, ...tlsFiles }
      : undefined;
  const globalOptions = (): GlobalOptions => ({
    root: gflags.string("root"),
    runroot: gflags.string("runroot"),
    host: gflags.list("host")[0],
    ...(tls ? { tls } : {}),
    debug: gflags.bool("debug"),
  });
  const { serve } = deps;
  const ctx: CommandContext = {
    ...(serve ? { serve: (req: ServeRequest) => serve(req, globalOptions()) } : {}),
    io,
    program,
    version: deps.version,
    engine: async (opts = {}) => {
      engine ??= await deps.openEngine({
        ...globalOptions(),
        ...(opts.existingStore ? { existingStore: true } : {}),
      });
      return engine;
    },
  };
  try {
    return await command.run(ctx, flags, parsed.args);
  } catch (err) {
    if (err instanceof UsageError) {
      write(
        io.stderr,
        `${err.message}\n\n${usageLine}\n\nRun '${program} ${invoked} --help' for more information\n`,
      );
      return 125;
    }
    if (err instanceof BerthError) {
      write(io.stderr, `Error: ${err.message}\n`);
      if (gflags.bool("debug") && err.cause) write(io.stderr, `cause: ${errorMessage(err.cause)}\n`);
      return exitCodeByKind[err.kind];
    }
    write(io.stderr, `Error: ${errorMessage(err)}\n`);
    if (gflags.bool("debug") && err instanceof Error && err.stack) write(io.stderr, `${err.stack}\n`);
    return 1;
  } finally {
    await engine?.close();
  }
}

function argCountMessage(c: Command): string {
  const { min, max } = c.args;
  const plural = (k: number) => `${k} argument${k === 1 ? "" : "s"}`;
  if (max === 0) return "accepts no arguments";
  if (min === max) return `requires ${plural(min)}`;
  if (max === Number.POSITIVE_INFINITY) return `requires at least ${plural(min)}`;
  if (min === 0) return `accepts at most ${plural(max)}`;
  return `requires at least ${plural(min)} and at most ${plural(max)}`;
}

function commandHelp(program: string, c: Command, invoked: string): string {
  const aliases = [c.path, ...(c.aliases ?? [])].filter((a) => a !== invoked || (c.aliases ?? []).length > 0);
  let out = `Usage:  ${program} ${invoked} ${c.usage}`.trimEnd();
  out += `\n\n${c.description}\n`;
  if ((c.aliases ?? []).length > 0) {
    out += `\nAliases:\n  ${[...new Set(aliases)].map((a) => `${program} ${a}`).join(", ")}\n`;
  }
  const flagHelp = formatFlagHelp(c.flags);
  if (flagHelp) out += `\nOptions:\n${flagHelp}\n`;
  return out;
}

function groupHelp(program: string, group: string): string {
  const subs = commands
    .flatMap((c) => [c.path, ...(c.aliases ?? [])].map((p) => ({ p, c })))
    .filter(({ p, c }) => p.startsWith(`${group} `) && !c.hidden && p === c.path);
  const width = Math.max(...subs.map(({ p }) => p.length - group.length - 1)) + 2;
  const lines = subs.map(({ p, c }) => `  ${p.slice(group.length + 1).padEnd(width)}${c.description}`);
  return `\nUsage:  ${program} ${group} COMMAND\n\nCommands:\n${lines.join("\n")}\n\nRun '${program} ${group} COMMAND --help' for more information on a command.\n`;
}

function mainHelp(program: string): string {
  const top = commands
    .flatMap((c) => [c.path, ...(c.aliases ?? [])].map((p) => ({ p, c })))
    .filter(({ p, c }) => !p.includes(" ") && !c.hidden);
  const groups = [
    ...new Set(
      commands
        .map((c) => c.path.split(" ")[0] as string)
        .filter((g) => commands.some((c) => c.path.startsWith(`${g} `))),
    ),
  ];
  const width = 12;
  const lines = top
    .sort((a, b) => a.p.localeCompare(b.p))
    .map(({ p, c }) => `  ${p.padEnd(width)}${c.description}`);
  const glines = groups.sort().map((g) => `  ${g.padEnd(width)}Manage ${g}s`);
  return (
    `\nUsage:  ${program} [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n\n` +
    `Management Commands:\n${glines.join("\n")}\n\nCommands:\n${lines.join("\n")}\n\n` +
    `Global Options:\n${formatFlagHelp(GLOBAL_FLAGS)}\n\nRun '${program} COMMAND --help' for more information on a command.\n`
  );
}
