/** `berth exec` / `container exec`: run a command in a running container, as `docker exec`. */
import { BerthError, isBerthError } from "../../base/errors.js";
import { parseDetachKeys } from "../../engine/detach-keys.js";
import type { ExecConfig, ExecSession } from "../../engine/types.js";
import { atLeast, type Command } from "../command.js";
import type { Flags } from "../flags.js";
import { UsageError } from "../flags.js";
import { streamSession } from "./containers.js";
import { parseEnv } from "./run-flags.js";

/** docker's `ValidateEnv`: `KEY=VALUE` as is; `KEY` from our environment, or bare (unsets it). */
function execEnvFlags(flags: Flags, env: Readonly<Record<string, string | undefined>>): string[] {
  const out = parseEnv([], flags.list("env-file"), env);
  for (const v of flags.list("env")) {
    const eq = v.indexOf("=");
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key === "")
      throw new UsageError(
        `invalid argument "${v}" for "-e, --env" flag: invalid environment variable: ${v}`,
      );
    out.push(eq >= 0 || env[key] === undefined ? v : `${key}=${env[key]}`);
  }
  return out;
}

export const execCommand: Command = {
  path: "container exec",
  aliases: ["exec"],
  usage: "[OPTIONS] CONTAINER COMMAND [ARG...]",
  description: "Execute a command in a running container",
  args: atLeast(2),
  interspersed: false,
  flags: [
    { name: "detach", short: "d", type: "bool", description: "Detached mode: run command in the background" },
    {
      name: "detach-keys",
      type: "string",
      valueName: "string",
      description: "Override the key sequence for detaching a container",
    },
    { name: "env", short: "e", type: "list", valueName: "list", description: "Set environment variables" },
    {
      name: "env-file",
      type: "list",
      valueName: "list",
      description: "Read in a file of environment variables",
    },
    { name: "interactive", short: "i", type: "bool", description: "Keep STDIN open even if not attached" },
    { name: "privileged", type: "bool", description: "Give extended privileges to the command" },
    { name: "tty", short: "t", type: "bool", description: "Allocate a pseudo-TTY" },
    {
      name: "user",
      short: "u",
      type: "string",
      valueName: "string",
      description: 'Username or UID (format: "<name|uid>[:<group|gid>]")',
    },
    {
      name: "workdir",
      short: "w",
      type: "string",
      valueName: "string",
      description: "Working directory inside the container",
    },
  ],
  async run(ctx, flags, args) {
    const [container, ...cmd] = args as [string, ...string[]];
    const detach = flags.bool("detach");
    const interactive = flags.bool("interactive");
    const tty = flags.bool("tty");
    const env = execEnvFlags(flags, ctx.io.env);
    if (tty && interactive && !detach && ctx.io.stdin.isTTY !== true) {
      ctx.io.stderr.write("the input device is not a TTY\n");
      return 1;
    }
    const keysText = flags.string("detach-keys");
    const detachKeys = keysText ? parseDetachKeys(keysText) : undefined;
    const daemonError = (message: string) => {
      ctx.io.stderr.write(`Error response from daemon: ${message}\n`);
      return 1;
    };
    if (keysText && !detachKeys) return daemonError(`Invalid escape keys (${keysText}) provided`);
    const user = flags.string("user");
    const workdir = flags.string("workdir");
    const out = ctx.io.stdout as NodeJS.WriteStream;
    const config: ExecConfig = {
      Cmd: cmd,
      Env: env,
      Tty: tty,
      AttachStdin: interactive && !detach,
      AttachStdout: !detach,
      AttachStderr: !detach,
      Detach: detach,
      Privileged: flags.bool("privileged"),
      ...(user ? { User: user } : {}),
      ...(workdir ? { WorkingDir: workdir } : {}),
      ...(tty && out.isTTY === true && out.rows > 0 ? { ConsoleSize: [out.rows, out.columns] } : {}),
    };
    const engine = await ctx.engine();
    if (detach) {
      try {
        await engine.containerExec(container, config);
        return 0;
      } catch (err) {
        if (!isBerthError(err) || err.kind === "Internal") throw err;
        return daemonError(err.message);
      }
    }
    let session: ExecSession | undefined;
    let detached: boolean;
    try {
      ({ detached } = await streamSession(ctx, {
        stdin: interactive,
        tty,
        ...(detachKeys ? { detachKeys } : {}),
        open: async (handlers) => {
          session = await engine.containerExec(container, config, { attach: handlers });
          return session;
        },
      }));
    } catch (err) {
      // Docker writes a start failure into the output stream, and exits 126/127 as the exec did.
      if (err instanceof BerthError && "exitCode" in err && typeof err.exitCode === "number") {
        ctx.io.stdout.write(`${err.message}\r\n`);
        return err.exitCode;
      }
      if (!isBerthError(err) || err.kind === "Internal") throw err;
      return daemonError(err.message);
    }
    if (detached || !session) return 0;
    const { ExitCode } = await session.wait();
    return ExitCode ?? 0;
  },
};
