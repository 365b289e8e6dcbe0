/**
 * `berth serve`: the Docker Engine API on sockets, with dockerd's flags. This command parses and
 * checks the flags; the server itself is wired in bin/ (the CLI does not import the API).
 */
import { type Command, none } from "../command.js";
import { UsageError } from "../flags.js";

const LOG_LEVELS = ["debug", "info", "warn", "error", "fatal"] as const;
export type ServeLogLevel = (typeof LOG_LEVELS)[number];

/** Where to listen, parsed from one `-H`. */
export type ServeAddress =
  | { readonly kind: "unix"; readonly path: string }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number };

export interface ServeRequest {
  /** Empty: the default socket, `<runroot>/berth.sock`. */
  readonly addresses: readonly ServeAddress[];
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly logLevel: ServeLogLevel;
  /** Group of unix sockets; "" leaves the socket to root's group. */
  readonly group: string;
  /** `--ui`: the web view (and the API for it) on http://HOST:PORT, loopback only; port 0 is chosen. */
  readonly ui?: { readonly host: string; readonly port: number };
}

/** Plain TCP is only served on loopback; anything else needs TLS with client certificates. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Parses one `-H` value as dockerd does: `unix://PATH`, `tcp://HOST:PORT`, `fd://` refused. */
export function parseServeAddress(raw: string): ServeAddress {
  const m = /^([a-z]+):\/\/(.*)$/.exec(raw);
  if (!m)
    throw new UsageError(`invalid -H value ${JSON.stringify(raw)}: want unix://PATH or tcp://HOST:PORT`);
  const [, scheme, rest = ""] = m;
  if (scheme === "unix") {
    if (!rest.startsWith("/"))
      throw new UsageError(`invalid -H value ${JSON.stringify(raw)}: the socket path must be absolute`);
    return { kind: "unix", path: rest };
  }
  if (scheme === "tcp") {
    const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/[\]]*)):(\d{1,5})\/?$/.exec(rest);
    const port = hp ? Number(hp[3]) : Number.NaN;
    if (!hp || port > 65535)
      throw new UsageError(`invalid -H value ${JSON.stringify(raw)}: want tcp://HOST:PORT`);
    const host = hp[1] ?? (hp[2] || "0.0.0.0");
    return { kind: "tcp", host, port };
  }
  throw new UsageError(
    `invalid -H value ${JSON.stringify(raw)}: the ${scheme}:// scheme is not supported (unix:// and tcp:// are)`,
  );
}

const DEFAULT_UI = { host: "127.0.0.1", port: 0 } as const;

/**
 * `--ui-addr HOST:PORT` (or `:PORT`, `PORT`): the web view's listener. Plain HTTP on loopback
 * only, as the API's TCP rule; port 0 lets the kernel choose.
 */
export function parseUiAddress(raw: string): { host: string; port: number } {
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:/[\]]*)):)?(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new UsageError(`invalid --ui-addr ${JSON.stringify(raw)}: want HOST:PORT`);
  const host = m[1] ?? (m[2] || "127.0.0.1");
  if (!isLoopback(host)) {
    throw new UsageError(
      `refusing to serve the web view on ${host}: it is served only on loopback (127.0.0.1, ::1, localhost)`,
    );
  }
  return { host, port };
}

export const serveCommand: Command = {
  path: "serve",
  usage: "[OPTIONS]",
  description: "Serve the Docker Engine API on a socket",
  args: none,
  flags: [
    {
      name: "host",
      short: "H",
      type: "list",
      valueName: "list",
      description: "Daemon socket(s) to listen on (unix://PATH, tcp://127.0.0.1:PORT)",
      defaultText: "unix://<runroot>/berth.sock",
    },
    {
      name: "log-level",
      short: "l",
      type: "string",
      valueName: "string",
      description: 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")',
      defaultText: '"info"',
    },
    { name: "debug", short: "D", type: "bool", description: "Enable debug mode" },
    {
      name: "group",
      short: "G",
      type: "string",
      valueName: "string",
      description: "Group for the unix socket",
      defaultText: '"berth"',
    },
    { name: "ui", type: "bool", description: "Also serve the web view on http://127.0.0.1 (a free port)" },
    {
      name: "ui-addr",
      type: "string",
      valueName: "string",
      description: "Serve the web view on this loopback HOST:PORT (implies --ui)",
      defaultText: '"127.0.0.1:0"',
    },
    { name: "tls", type: "bool", description: "Use TLS; implied by --tlsverify" },
    { name: "tlsverify", type: "bool", description: "Use TLS and verify the remote" },
    {
      name: "tlscacert",
      type: "string",
      valueName: "string",
      description: "Trust certs signed only by this CA",
    },
    { name: "tlscert", type: "string", valueName: "string", description: "Path to TLS certificate file" },
    { name: "tlskey", type: "string", valueName: "string", description: "Path to TLS key file" },
  ],
  async run(ctx, flags) {
    const addresses = flags.list("host").map(parseServeAddress);
    const level = flags.bool("debug") ? "debug" : (flags.string("log-level") ?? "info");
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new UsageError(`unable to parse logging level: ${level}`);
    }
    const logLevel = LOG_LEVELS.find((l) => l === level) ?? "info";
    const ca = flags.string("tlscacert");
    const cert = flags.string("tlscert");
    const key = flags.string("tlskey");
    const verify = flags.bool("tlsverify");
    if (flags.bool("tls") && !verify) {
      throw new UsageError(
        "--tls without --tlsverify is not supported: berth serves TLS only with client certificates",
      );
    }
    if (!verify && (ca || cert || key)) {
      throw new UsageError("--tlscacert, --tlscert and --tlskey need --tlsverify");
    }
    if (verify && (!ca || !cert || !key)) {
      throw new UsageError("--tlsverify needs --tlscacert, --tlscert and --tlskey");
    }
    for (const a of addresses) {
      if (a.kind === "tcp" && !verify && !isLoopback(a.host)) {
        throw new UsageError(
          `refusing to serve tcp://${a.host}:${a.port} without TLS: plain TCP is only served on loopback (use --tlsverify --tlscacert --tlscert --tlskey)`,
        );
      }
    }
    const uiAddr = flags.string("ui-addr");
    const ui = uiAddr !== undefined ? parseUiAddress(uiAddr) : flags.bool("ui") ? DEFAULT_UI : undefined;
    if (!ctx.serve) throw new UsageError("serve is not available in this build");
    return ctx.serve({
      addresses,
      ...(verify && ca && cert && key ? { tls: { ca, cert, key } } : {}),
      logLevel,
      group: flags.string("group") ?? "berth",
      ...(ui ? { ui } : {}),
    });
  },
};
