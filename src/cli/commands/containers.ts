/** Container commands: run, create, start, stop, restart, kill, rm, ps, logs, wait, pause, rename, prune, inspect. */
import { existsSync, writeFileSync } from "node:fs";
import { sleep } from "../../base/async.js";
import { BerthError, errorMessage, invalidArgument, isBerthError } from "../../base/errors.js";
import { bestEffort, debug } from "../../base/log.js";

import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../../engine/detach-keys.js";
import type { Engine } from "../../engine/engine.js";
import { measureRemoval, measureStopped, prunedLosses } from "../../engine/removal.js";
import type {
  AttachHandlers,
  AttachSession,
  ContainerCreateRequest,
  ContainerInspect,
  ContainerStatsResponse,
  ContainerSummary,
} from "../../engine/types.js";
import { atLeast, type Command, type CommandContext, exactly, FORMAT_FLAG } from "../command.js";
import { type FlagSpec, type Flags, UsageError } from "../flags.js";
import { displayablePorts } from "../format/ports.js";
import { renderList } from "../format/render.js";
import { bytesSize, humanSizeWithPrecision } from "../format/units.js";
import { proxySignals, type SignalProxy } from "../signal-proxy.js";
import { forEachName } from "./each.js";
import { hintsEnabled, pruneSummary, removalHint } from "./hints.js";
import { createdSince, ellipsis, goTime } from "./images.js";
import { pullMissingImage } from "./registry.js";
import { CREATE_FLAGS, createRequest, RUN_ONLY_FLAGS } from "./run-flags.js";
import {
  makeInspectCommand,
  makeListCommand,
  makePruneCommand,
  perName,
  writeDeleted,
  writeReclaimed,
} from "./shapes.js";

/** Exit status of `run` when berth itself fails (Docker's 125). */
const RUN_FAILED = 125;

/** Docker's `run`/`create` error exit: the invocation codes 126/127, otherwise 125. */
function runFailure(ctx: CommandContext, err: unknown): number {
  const code =
    err instanceof BerthError && "exitCode" in err && (err.exitCode === 126 || err.exitCode === 127)
      ? err.exitCode
      : RUN_FAILED;
  ctx.io.stderr.write(`berth: Error: ${errorMessage(err)}\n`);
  return code;
}

/** `--cidfile` names a file that exists (the CLI's own check, not the engine's). */
class CidfileError extends BerthError {
  constructor(message: string) {
    super("FailedPrecondition", message);
    this.name = "CidfileError";
  }
}

/** What the flags ask for, checked before anything is created (Docker's CLI-side parse). */
interface ParsedCreate {
  readonly image: string;
  readonly req: ContainerCreateRequest;
  readonly policy: string;
}

function parseCreate(ctx: CommandContext, flags: Flags, args: readonly string[]): ParsedCreate {
  const [image, ...command] = args as [string, ...string[]];
  const req = createRequest(flags, image, command, ctx.io.env, ctx.io.cwd);
  // --pull missing (the default) pulls an image that is not here; always pulls; never does not.
  const policy = flags.string("pull") ?? "missing";
  if (!["always", "missing", "never"].includes(policy)) {
    throw new UsageError(`invalid pull option: '${policy}': must be one of "always", "missing" or "never"`);
  }
  return { image, req, policy };
}

async function createFrom(
  ctx: CommandContext,
  flags: Flags,
  parsed: ParsedCreate,
): Promise<{ engine: Engine; id: string }> {
  const { image, req, policy } = parsed;
  const cidfile = flags.string("cidfile");
  // As Docker's CLI: an existing ID file is refused before anything is created.
  if (cidfile && existsSync(cidfile))
    throw new CidfileError(
      `container ID file found, make sure the other container isn't running or delete ${cidfile}`,
    );
  const engine = await ctx.engine();
  const platform = flags.string("platform");
  const pullOpts = { ...(platform ? { platform } : {}), quiet: flags.bool("quiet") };
  if (policy === "always") await pullMissingImage(ctx, image, pullOpts, { announce: false });
  else if (policy === "missing") {
    const present = await engine.imageInspect(image).then(
      () => true,
      (err: unknown) => {
        if (isBerthError(err, "NotFound")) return false;
        throw err;
      },
    );
    if (!present) await pullMissingImage(ctx, image, pullOpts);
  }
  const name = flags.string("name");
  const res = await engine.containerCreate(req, name !== undefined ? { name } : {});
  for (const w of res.Warnings) ctx.io.stderr.write(`WARNING: ${w}\n`);
  if (cidfile) writeFileSync(cidfile, res.Id, { flag: "wx" });
  return { engine, id: res.Id };
}

const createCommand: Command = {
  path: "container create",
  aliases: ["create"],
  usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  description: "Create a new container",
  args: atLeast(1),
  interspersed: false,
  flags: CREATE_FLAGS,
  async run(ctx, flags, args) {
    // As Docker's CLI: a flag that does not parse is 125; what the engine refuses is 1.
    let parsed: ParsedCreate;
    try {
      parsed = parseCreate(ctx, flags, args);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      return runFailure(ctx, err);
    }
    try {
      const { id } = await createFrom(ctx, flags, parsed);
      ctx.io.stdout.write(`${id}\n`);
      return 0;
    } catch (err) {
      if (!isBerthError(err) || err.kind === "Internal") throw err;
      const from = err instanceof CidfileError ? "" : "Error response from daemon: ";
      ctx.io.stderr.write(`${from}${err.message}\n`);
      return 1;
    }
  },
};

/** Starts a container attached to our stdio; resolves when its output ends or we detach. */
/**
 * `--detach-keys` of run, start and attach: undefined for Docker's default, the daemon's own
 * refusal for bad notation (checked before anything is created or started).
 */
export function detachKeysFlag(flags: Flags): number[] | undefined {
  const text = flags.string("detach-keys");
  if (!text) return undefined;
  const keys = parseDetachKeys(text);
  if (!keys) throw invalidArgument(`Invalid detach keys (${text}) provided`);
  return keys;
}

function attachAndWait(
  ctx: CommandContext,
  engine: Engine,
  id: string,
  opts: { stdin: boolean; tty: boolean; detachKeys: number[] | undefined; proxy?: SignalProxy | undefined },
): Promise<{ detached: boolean }> {
  const { proxy, detachKeys, ...session } = opts;
  return streamSession(ctx, {
    ...session,
    ...(detachKeys ? { detachKeys } : {}),
    open: async (attach) => {
      // The caller waits for the exit and does the exit work (containerForegroundExit).
      const s = await engine.containerStart(id, { attach, foreground: true });
      proxy?.started();
      return s;
    },
  });
}

/**
 * Connects an attached session (run, start -a, attach, exec) to our stdio: output to stdout and
 * stderr, stdin to the container (raw on a terminal, Ctrl-P Ctrl-Q detaches), window size kept
 * in sync. Resolves when the container's output ends or we detach.
 */
export async function streamSession(
  ctx: CommandContext,
  opts: {
    stdin: boolean;
    tty: boolean;
    open: (handlers: AttachHandlers) => Promise<AttachSession | undefined>;
    /** The detach sequence (`--detach-keys`); default Ctrl-P Ctrl-Q. */
    detachKeys?: readonly number[];
  },
): Promise<{ detached: boolean }> {
  let finish: (detached: boolean) => void = () => undefined;
  const ended = new Promise<boolean>((resolve) => {
    finish = resolve;
  });
  const stdin = ctx.io.stdin as NodeJS.ReadStream;
  const rawTty = opts.tty && opts.stdin && stdin.isTTY === true;
  const cleanups: Array<() => void> = [];
  // Raw mode before the container's first byte, so the terminal does not translate its output.
  if (rawTty) {
    stdin.setRawMode(true);
    cleanups.push(() => stdin.setRawMode(false));
  }
  let session: AttachSession | undefined;
  try {
    session = await opts.open({
      onStdout: (d) => ctx.io.stdout.write(d),
      onStderr: (d) => (opts.tty ? ctx.io.stdout : ctx.io.stderr).write(d),
      onEnd: () => finish(false),
    });
  } catch (err) {
    for (const c of cleanups) c();
    throw err;
  }
  if (session && opts.stdin) {
    const s = session;
    // Ctrl-P Ctrl-Q detaches, as Docker's default detach keys (or the --detach-keys sequence).
    const keys = opts.detachKeys ?? DEFAULT_DETACH_KEYS;
    let matched = 0;
    const onData = (chunk: Buffer) => {
      if (rawTty && keys.length > 0) {
        for (const byte of chunk) {
          if (byte === keys[matched]) matched++;
          else matched = byte === keys[0] ? 1 : 0;
          if (matched === keys.length) {
            ctx.io.stdout.write("\r\nread escape sequence\r\n");
            finish(true);
            return;
          }
        }
      }
      // One chunk in flight at a time: stdin is read no faster than the container takes it.
      stdin.pause();
      void s.writeStdin(chunk).then(() => {
        if (!stopped) stdin.resume();
      });
    };
    let stopped = false;
    stdin.on("data", onData);
    const onEnd = () => s.endStdin();
    stdin.on("end", onEnd);
    cleanups.push(() => {
      stopped = true;
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.pause();
    });
    stdin.resume();
  }
  if (session && opts.tty && (ctx.io.stdout as NodeJS.WriteStream).isTTY) {
    const out = ctx.io.stdout as NodeJS.WriteStream;
    const s = session;
    const resize = () =>
      void bestEffort("resizing the terminal of the session", s.resize(out.rows, out.columns));
    resize();
    out.on("resize", resize);
    cleanups.push(() => out.off("resize", resize));
  }
  const detached = await ended;
  for (const c of cleanups) c();
  session?.detach();
  return { detached };
}

/**
 * The exit work of a container started in the foreground, once its exit is known: true when the
 * engine did it (a local one), false when conmon's exit command does (a remote engine's).
 */
async function foregroundExit(engine: Engine, id: string): Promise<boolean> {
  if (!engine.containerForegroundExit) return false;
  return (await bestEffort(`the exit work of container ${id}`, engine.containerForegroundExit(id))) ?? false;
}

const runCommand: Command = {
  path: "container run",
  aliases: ["run"],
  usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  description: "Create and run a new container from an image",
  args: atLeast(1),
  interspersed: false,
  flags: [...CREATE_FLAGS, ...RUN_ONLY_FLAGS],
  async run(ctx, flags, args) {
    let engine: Engine;
    let id: string;
    let detachKeys: number[] | undefined;
    try {
      detachKeys = detachKeysFlag(flags);
      ({ engine, id } = await createFrom(ctx, flags, parseCreate(ctx, flags, args)));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      return runFailure(ctx, err);
    }
    if (flags.bool("detach")) {
      try {
        await engine.containerStart(id);
      } catch (err) {
        return runFailure(ctx, err);
      }
      ctx.io.stdout.write(`${id}\n`);
      return 0;
    }
    // From here until the container exits, signals go to it (Docker 20.10+ does so with -t too:
    // Ctrl-C on a terminal in raw mode is a byte for the container, not a signal for berth).
    const proxy = proxySignals(ctx.io.signals, engine, id, { forward: flags.bool("sig-proxy", true) });
    let detached: boolean;
    let StatusCode: number;
    try {
      try {
        ({ detached } = await attachAndWait(ctx, engine, id, {
          stdin: flags.bool("interactive"),
          tty: flags.bool("tty"),
          detachKeys,
          proxy,
        }));
      } catch (err) {
        if (flags.bool("rm"))
          await bestEffort(
            `removing container ${id} (--rm)`,
            engine.containerRemove(id, { force: true, volumes: true }),
          );
        return runFailure(ctx, err);
      }
      if (detached) return 0;
      ({ StatusCode } = await engine.containerWait(id));
    } finally {
      await proxy.stop();
    }
    // As Docker's CLI, `run --rm` returns once the container is gone, not merely exited. A local
    // engine does the exit work (--rm included) here, for the exit command it held back; a
    // remote one's exit command does it, and the removal here makes sure it is done (either way
    // one removal wins).
    if (await foregroundExit(engine, id)) return StatusCode;
    if (flags.bool("rm"))
      await bestEffort(
        `removing container ${id} (--rm)`,
        engine.containerRemove(id, { force: true, volumes: true }),
      );
    return StatusCode;
  },
};

const startCommand: Command = {
  path: "container start",
  aliases: ["start"],
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  description: "Start one or more stopped containers",
  args: atLeast(1),
  flags: [
    { name: "attach", short: "a", type: "bool", description: "Attach STDOUT/STDERR and forward signals" },
    { name: "interactive", short: "i", type: "bool", description: "Attach container's STDIN" },
    {
      name: "detach-keys",
      type: "string",
      valueName: "string",
      description: "Override the key sequence for detaching a container",
    },
  ],
  async run(ctx, flags, args) {
    const engine = await ctx.engine();
    if (flags.bool("attach") || flags.bool("interactive")) {
      if (args.length > 1) throw new UsageError("you cannot start and attach multiple containers at once");
      const detachKeys = detachKeysFlag(flags);
      const info = await engine.containerInspect(args[0] as string);
      // As Docker's CLI: signals go to the container unless it has a terminal.
      const proxy = proxySignals(ctx.io.signals, engine, info.Id, { forward: !info.Config.Tty });
      try {
        const { detached } = await attachAndWait(ctx, engine, info.Id, {
          stdin: flags.bool("interactive"),
          tty: !!info.Config.Tty,
          detachKeys,
          proxy,
        });
        if (detached) return 0;
        const { StatusCode } = await engine.containerWait(info.Id);
        await foregroundExit(engine, info.Id);
        return StatusCode;
      } finally {
        await proxy.stop();
      }
    }
    return forEachName(ctx, args, async (name) => {
      await engine.containerStart(name);
      ctx.io.stdout.write(`${name}\n`);
    });
  },
};

const TIME_FLAGS: readonly FlagSpec[] = [
  {
    name: "signal",
    short: "s",
    type: "string",
    valueName: "string",
    description: "Signal to send to the container",
  },
  {
    name: "time",
    short: "t",
    type: "string",
    valueName: "int",
    description: "Seconds to wait before killing the container",
  },
  {
    name: "timeout",
    type: "string",
    description: "Seconds to wait before killing the container",
    hidden: true,
  },
];

function stopOptions(flags: Flags): { timeout?: number; signal?: string } {
  const t = flags.string("time") ?? flags.string("timeout");
  if (t !== undefined && !/^-?\d+$/.test(t))
    throw new UsageError(
      `invalid argument "${t}" for "-t, --time" flag: strconv.ParseInt: parsing "${t}": invalid syntax`,
    );
  const signal = flags.string("signal");
  return { ...(t !== undefined ? { timeout: Number(t) } : {}), ...(signal ? { signal } : {}) };
}

const stopCommand = perName({
  path: "container stop",
  aliases: ["stop"],
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  description: "Stop one or more running containers",
  flags: TIME_FLAGS,
  act: (engine, name, flags) => engine.containerStop(name, stopOptions(flags)),
});

const restartCommand = perName({
  path: "container restart",
  aliases: ["restart"],
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  description: "Restart one or more containers",
  flags: TIME_FLAGS,
  act: (engine, name, flags) => engine.containerRestart(name, stopOptions(flags)),
});

const killCommand = perName({
  path: "container kill",
  aliases: ["kill"],
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  description: "Kill one or more running containers",
  flags: [
    {
      name: "signal",
      short: "s",
      type: "string",
      valueName: "string",
      description: "Signal to send to the container",
    },
  ],
  act: (engine, name, flags) => engine.containerKill(name, flags.string("signal") ?? "KILL"),
});

const rmCommand = perName({
  path: "container rm",
  aliases: ["rm", "container remove"],
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  description: "Remove one or more containers",
  flags: [
    {
      name: "force",
      short: "f",
      type: "bool",
      description: "Force the removal of a running container (uses SIGKILL)",
    },
    { name: "link", short: "l", type: "bool", description: "Remove the specified link" },
    {
      name: "volumes",
      short: "v",
      type: "bool",
      description: "Remove anonymous volumes associated with the container",
    },
  ],
  act: (engine, name, flags) => {
    if (flags.bool("link"))
      throw invalidArgument("--link is not supported: berth has no legacy container links");
    return engine.containerRemove(name, { force: flags.bool("force"), volumes: flags.bool("volumes") });
  },
  missingOk: (flags) => flags.bool("force"),
  hint: async (ctx, engine, name, flags) => {
    if (!hintsEnabled(ctx.io.env)) return async () => undefined;
    const loss = await measureRemoval(engine, name);
    return async () => {
      if (loss)
        ctx.io.stderr.write(
          removalHint(loss, { program: ctx.program, volumesRemoved: flags.bool("volumes") }),
        );
    };
  },
});

const pauseCommand = perName({
  path: "container pause",
  aliases: ["pause"],
  usage: "CONTAINER [CONTAINER...]",
  description: "Pause all processes within one or more containers",
  flags: [],
  act: (engine, name) => engine.containerPause(name),
});

const unpauseCommand = perName({
  path: "container unpause",
  aliases: ["unpause"],
  usage: "CONTAINER [CONTAINER...]",
  description: "Unpause all processes within one or more containers",
  flags: [],
  act: (engine, name) => engine.containerUnpause(name),
});

const renameCommand: Command = {
  path: "container rename",
  aliases: ["rename"],
  usage: "CONTAINER NEW_NAME",
  description: "Rename a container",
  args: exactly(2),
  flags: [],
  async run(ctx, _flags, args) {
    await (await ctx.engine()).containerRename(args[0] as string, args[1] as string);
    return 0;
  },
};

const waitCommand: Command = {
  path: "container wait",
  aliases: ["wait"],
  usage: "CONTAINER [CONTAINER...]",
  description: "Block until one or more containers stop, then print their exit codes",
  args: atLeast(1),
  flags: [],
  async run(ctx, _flags, args) {
    const engine = await ctx.engine();
    return forEachName(ctx, args, async (name) => {
      const r = await engine.containerWait(name);
      ctx.io.stdout.write(`${r.StatusCode}\n`);
    });
  },
};

/** The `ps` row, with Docker's field names (formatter.ContainerContext). */
export function containerRow(c: ContainerSummary, opts: { noTrunc: boolean; now?: number }) {
  const now = opts.now ?? Date.now();
  const command = opts.noTrunc ? c.Command : ellipsis(c.Command, 20);
  return {
    Command: `"${command}"`,
    CreatedAt: goTime(c.Created),
    ID: opts.noTrunc ? c.Id : c.Id.slice(0, 12),
    Image: opts.noTrunc || !/^sha256:/.test(c.Image) ? c.Image : c.Image.slice(7, 19),
    Labels: Object.entries(c.Labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
    LocalVolumes: String(c.Mounts.filter((m) => m.Type === "volume").length),
    Mounts: c.Mounts.map((m) => (m.Type === "volume" ? (m.Name ?? "") : m.Source))
      .map((n) => (opts.noTrunc ? n : ellipsis(n, 15)))
      .join(","),
    Names: c.Names.map((n) => n.replace(/^\//, "")).join(","),
    Networks: Object.keys(c.NetworkSettings.Networks).join(","),
    Ports: displayablePorts(c.Ports),
    RunningFor: createdSince(c.Created, now),
    Size:
      c.SizeRw === undefined
        ? "0B"
        : `${humanSizeWithPrecision(c.SizeRw, 3)} (virtual ${humanSizeWithPrecision(c.SizeRootFs ?? c.SizeRw, 3)})`,
    State: c.State,
    Status: c.Status,
    Label: (name: string) => c.Labels[name] ?? "",
  };
}

const PS_HEADERS = {
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  ID: "CONTAINER ID",
  Image: "IMAGE",
  Labels: "LABELS",
  LocalVolumes: "LOCAL VOLUMES",
  Mounts: "MOUNTS",
  Names: "NAMES",
  Networks: "NETWORKS",
  Ports: "PORTS",
  RunningFor: "CREATED",
  Size: "SIZE",
  State: "STATE",
  Status: "STATUS",
};

const psCommand = makeListCommand({
  path: "container ls",
  aliases: ["ps", "container list", "container ps"],
  description: "List containers",
  quiet: "Only display container IDs",
  noTrunc: "Don't truncate output",
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Show all containers (default shows just running)",
    },
    {
      name: "last",
      short: "n",
      type: "int",
      valueName: "int",
      description: "Show n last created containers (includes all states)",
      defaultText: "-1",
    },
    {
      name: "latest",
      short: "l",
      type: "bool",
      description: "Show the latest created container (includes all states)",
    },
    { name: "size", short: "s", type: "bool", description: "Display total file sizes" },
  ],
  list: async ({ engine, filters, flags }) => {
    const format = flags.string("format");
    const size = flags.bool("size") || !!format?.includes(".Size");
    const limit = flags.bool("latest") ? 1 : (flags.int("last") ?? -1);
    const list = await engine.containerList({
      all: flags.bool("all"),
      filters,
      size,
      ...(limit > 0 ? { limit } : {}),
    });
    const noTrunc = flags.bool("no-trunc");
    const now = Date.now();
    const rows = list.map((c) => containerRow(c, { noTrunc, now }));
    let table =
      "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
    if (flags.bool("size")) table += "\t{{.Size}}";
    return renderList(rows, {
      format: flags.bool("quiet") ? "{{.ID}}" : format,
      defaultTableFormat: table,
      headers: PS_HEADERS,
    });
  },
});

function parseTime(value: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const dur = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (dur) {
    const mult: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
    return now / 1000 - Number(dur[1]) * (mult[dur[2] as string] ?? 1);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new UsageError(`invalid value for "since": failed to parse value as time or duration: "${value}"`);
  return t / 1000;
}

const logsCommand: Command = {
  path: "container logs",
  aliases: ["logs"],
  usage: "[OPTIONS] CONTAINER",
  description: "Fetch the logs of a container",
  args: exactly(1),
  flags: [
    { name: "details", type: "bool", description: "Show extra details provided to logs" },
    { name: "follow", short: "f", type: "bool", description: "Follow log output" },
    {
      name: "since",
      type: "string",
      valueName: "string",
      description:
        'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
    {
      name: "tail",
      short: "n",
      type: "string",
      valueName: "string",
      description: "Number of lines to show from the end of the logs",
      defaultText: '"all"',
    },
    { name: "timestamps", short: "t", type: "bool", description: "Show timestamps" },
    {
      name: "until",
      type: "string",
      valueName: "string",
      description:
        'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
  ],
  async run(ctx, flags, args) {
    const now = Date.now();
    const tailText = flags.string("tail") ?? "all";
    if (tailText !== "all" && !/^-?\d+$/.test(tailText))
      throw new UsageError(`invalid value for "tail": ${tailText}`);
    const tail = tailText === "all" ? undefined : Number(tailText);
    const since = flags.string("since");
    const until = flags.string("until");
    const engine = await ctx.engine();
    const abort = new AbortController();
    for await (const entry of engine.containerLogs(args[0] as string, {
      follow: flags.bool("follow"),
      ...(tail !== undefined && tail >= 0 ? { tail } : {}),
      ...(since ? { since: parseTime(since, now) } : {}),
      ...(until ? { until: parseTime(until, now) } : {}),
      signal: abort.signal,
    })) {
      const out = entry.stream === "stderr" ? ctx.io.stderr : ctx.io.stdout;
      if (flags.bool("timestamps") && entry.time) out.write(`${entry.time.replace("+00:00", "Z")} `);
      out.write(entry.data);
    }
    return 0;
  },
};

const pruneCommand = makePruneCommand({
  path: "container prune",
  description: "Remove all stopped containers",
  filterExample: "until=<timestamp>",
  question: () => "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?",
  prune: async (ctx, engine, filters) => {
    const before = hintsEnabled(ctx.io.env) ? await measureStopped(engine) : new Map();
    const r = await engine.containerPrune({ filters });
    writeDeleted(ctx, "Containers", r.ContainersDeleted);
    writeReclaimed(ctx, r.SpaceReclaimed);
    ctx.io.stderr.write(pruneSummary(prunedLosses(before, r.ContainersDeleted), ctx.program));
  },
});

const containerInspectCommand = makeInspectCommand({
  path: "container inspect",
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  description: "Display detailed information on one or more containers",
  flags: [{ name: "size", short: "s", type: "bool", description: "Display total file sizes" }],
  lookup: (engine, name, flags) => engine.containerInspect(name, { size: flags.bool("size") }),
  missing: (name) => `No such container: ${name}`,
});

const attachCommand: Command = {
  path: "container attach",
  aliases: ["attach"],
  usage: "[OPTIONS] CONTAINER",
  description: "Attach local standard input, output, and error streams to a running container",
  args: exactly(1),
  flags: [
    {
      name: "detach-keys",
      type: "string",
      valueName: "string",
      description: "Override the key sequence for detaching a container",
    },
    { name: "no-stdin", type: "bool", description: "Do not attach STDIN" },
    {
      name: "sig-proxy",
      type: "bool",
      description: "Proxy all received signals to the process",
      defaultText: "true",
    },
  ],
  async run(ctx, flags, args) {
    const detachKeys = detachKeysFlag(flags);
    const engine = await ctx.engine();
    const info = await engine.containerInspect(args[0] as string);
    const proxy = proxySignals(ctx.io.signals, engine, info.Id, {
      forward: flags.bool("sig-proxy", true) && !info.Config.Tty,
    });
    proxy.started();
    try {
      const { detached } = await streamSession(ctx, {
        open: (handlers) => engine.containerAttach(info.Id, handlers),
        stdin: !flags.bool("no-stdin") && !!info.Config.OpenStdin,
        tty: !!info.Config.Tty,
        ...(detachKeys ? { detachKeys } : {}),
      });
      if (detached) return 0;
      return (await engine.containerWait(info.Id)).StatusCode;
    } finally {
      await proxy.stop();
    }
  },
};

const topCommand: Command = {
  path: "container top",
  aliases: ["top"],
  usage: "CONTAINER [ps OPTIONS]",
  description: "Display the running processes of a container",
  args: atLeast(1),
  interspersed: false,
  flags: [],
  async run(ctx, _flags, args) {
    const [name, ...psArgs] = args as [string, ...string[]];
    const top = await (await ctx.engine()).containerTop(name, psArgs);
    const rows = top.Processes.map((p) => Object.fromEntries(top.Titles.map((t, i) => [t, p[i] ?? ""])));
    const format = `table ${top.Titles.map((_, i) => `{{index . ${JSON.stringify(top.Titles[i])}}}`).join("\t")}`;
    ctx.io.stdout.write(
      renderList(rows, {
        format,
        defaultTableFormat: format,
        headers: Object.fromEntries(top.Titles.map((t) => [t, t])),
        strictFields: false,
      }),
    );
    return 0;
  },
};

/** One `stats` row (Docker's formatter.StatsEntry fields) from a reading, or zeros without one. */
function statsRow(info: ContainerInspect, s: ContainerStatsResponse | undefined, noTrunc: boolean) {
  const cpuDelta = s ? s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage : 0;
  const sysDelta = s ? s.cpu_stats.system_cpu_usage - s.precpu_stats.system_cpu_usage : 0;
  const cpu = s && sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * s.cpu_stats.online_cpus * 100 : 0;
  const mem = s?.memory_stats.usage ?? 0;
  const limit = s?.memory_stats.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s?.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let read = 0;
  let written = 0;
  for (const e of s?.blkio_stats?.io_service_bytes_recursive ?? []) {
    if (e.op === "read") read += e.value;
    else if (e.op === "write") written += e.value;
  }
  const id = noTrunc ? info.Id : info.Id.slice(0, 12);
  return {
    Container: id,
    ID: id,
    Name: info.Name.replace(/^\//, ""),
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    MemPerc: `${limit > 0 ? ((mem / limit) * 100).toFixed(2) : "0.00"}%`,
    NetIO: `${humanSizeWithPrecision(rx, 3)} / ${humanSizeWithPrecision(tx, 3)}`,
    BlockIO: `${humanSizeWithPrecision(read, 3)} / ${humanSizeWithPrecision(written, 3)}`,
    PIDs: String(s?.pids_stats.current ?? 0),
  };
}

const STATS_TABLE = {
  defaultTableFormat:
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
  headers: {
    ID: "CONTAINER ID",
    Container: "CONTAINER",
    Name: "NAME",
    CPUPerc: "CPU %",
    MemUsage: "MEM USAGE / LIMIT",
    MemPerc: "MEM %",
    NetIO: "NET I/O",
    BlockIO: "BLOCK I/O",
    PIDs: "PIDS",
  },
};

const statsCommand: Command = {
  path: "container stats",
  aliases: ["stats"],
  usage: "[OPTIONS] [CONTAINER...]",
  description: "Display a live stream of container(s) resource usage statistics",
  args: { min: 0, max: Number.POSITIVE_INFINITY },
  flags: [
    {
      name: "all",
      short: "a",
      type: "bool",
      description: "Show all containers (default shows just running)",
    },
    FORMAT_FLAG,
    {
      name: "no-stream",
      type: "bool",
      description: "Disable streaming stats and only pull the first result",
    },
    { name: "no-trunc", type: "bool", description: "Do not truncate output" },
  ],
  async run(ctx, flags, args) {
    const engine = await ctx.engine();
    const noTrunc = flags.bool("no-trunc");
    const format = flags.string("format");
    const render = (rows: unknown[]) => renderList(rows, { ...STATS_TABLE, format });
    // Named containers must all exist (Docker's answer otherwise); without names, the running
    // ones (every one with --all), looked up again on each refresh.
    const named = await Promise.all(args.map((a) => engine.containerInspect(a)));
    const targets = async () =>
      args.length > 0
        ? named
        : await Promise.all(
            (await engine.containerList({ all: flags.bool("all") })).map((c) =>
              // Removed since it was listed: no row.
              engine.containerInspect(c.Id).catch((err: unknown) => {
                if (isBerthError(err, "NotFound")) return undefined;
                throw err;
              }),
            ),
          ).then((l) => l.filter((i): i is ContainerInspect => i !== undefined));
    if (flags.bool("no-stream")) {
      const rows = [];
      for (const info of await targets()) {
        const s = info.State.Running
          ? await bestEffort(`reading the stats of container ${info.Id}`, engine.containerStats(info.Id))
          : undefined;
        rows.push(statsRow(info, s, noTrunc));
      }
      ctx.io.stdout.write(render(rows));
      return 0;
    }
    // The live table: a stream of readings per container (the API's stream=true), redrawn every
    // second until Ctrl-C, as Docker's CLI draws it.
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    const latest = new Map<string, ContainerStatsResponse>();
    const watched = new Set<string>();
    const watch = (info: ContainerInspect) => {
      if (watched.has(info.Id) || !info.State.Running) return;
      watched.add(info.Id);
      void (async () => {
        try {
          for await (const r of engine.containerStatsStream(info.Id, { signal: abort.signal }))
            latest.set(info.Id, r);
        } catch (err) {
          // The container went away: its row shows zeros from now on.
          debug(`stats of container ${info.Id} end: ${errorMessage(err)}`);
        }
        watched.delete(info.Id);
        latest.delete(info.Id);
      })();
    };
    try {
      let first = true;
      while (!abort.signal.aborted) {
        const list = await targets();
        for (const info of list) watch(info);
        if (!first) {
          const rows = list.map((info) => statsRow(info, latest.get(info.Id), noTrunc));
          ctx.io.stdout.write(`\x1b[2J\x1b[H${render(rows)}`);
        }
        first = false;
        await sleep(1000, abort.signal, { resolveOnAbort: true });
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      abort.abort();
    }
    return 0;
  },
};

/**
 * The engine of the store for the hidden commands conmon and berth start; undefined when the store
 * was deleted since (a test's temporary root): then there is nothing to do, and the store must not
 * be created again.
 */
async function existingStoreEngine(ctx: CommandContext): Promise<Engine | undefined> {
  try {
    return await ctx.engine({ existingStore: true });
  } catch (err) {
    if (isBerthError(err, "NotFound")) return undefined;
    throw err;
  }
}

/** Hidden: what conmon runs when a container exits. */
const cleanupCommand: Command = {
  path: "container cleanup",
  usage: "CONTAINER",
  description: "Record a container's exit and apply --rm and restart policies (run by conmon)",
  args: exactly(1),
  hidden: true,
  flags: [],
  async run(ctx, _flags, args) {
    const engine = await existingStoreEngine(ctx);
    if (!engine) return 0;
    await engine.containerCleanup(args[0] as string);
    return 0;
  },
};

/** Hidden: the store's healthcheck supervisor, started detached by whoever needs it. */
const healthSupervisorCommand: Command = {
  path: "container health-supervisor",
  usage: "",
  description: "Run containers' healthchecks until none is left to run (started by berth)",
  args: exactly(0),
  hidden: true,
  flags: [],
  async run(ctx) {
    const engine = await existingStoreEngine(ctx);
    if (!engine) return 0;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    try {
      await engine.superviseHealth?.({ signal: stop.signal });
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
    return 0;
  },
};

export const containerCommands: readonly Command[] = [
  runCommand,
  createCommand,
  startCommand,
  stopCommand,
  restartCommand,
  killCommand,
  rmCommand,
  pauseCommand,
  unpauseCommand,
  renameCommand,
  waitCommand,
  psCommand,
  logsCommand,
  pruneCommand,
  containerInspectCommand,
  attachCommand,
  topCommand,
  statsCommand,
  cleanupCommand,
  healthSupervisorCommand,
];
