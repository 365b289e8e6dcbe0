/**
 * conmon, the per-container monitor (Podman's design): it runs `runc create`, owns the
 * container's stdio (log file, attach socket, terminal), waits for the process, writes the exit
 * code to `<exit-dir>/<id>` and runs the exit command — so containers keep running, logging and
 * being cleaned up after the berth process that started them is gone.
 *
 * Start protocol: conmon is given a socket as fd 3 (`_OCI_SYNCPIPE=3`) and writes one JSON line
 * `{"data": PID}` once `runc create` succeeded, or `{"data": -1, "message": "…"}` with runc's
 * error. conmon double-forks, so the process we spawn exits at once; the monitor lives on.
 * It never reads the container's output itself (runtime/logs.ts and the attach socket do) and
 * never records an exit (the exit command does).
 */
import { sleep } from "../base/async.js";
import { BerthError, canceled, internal, isBerthError } from "../base/errors.js";
import { launchProgram } from "../sys/exec.js";
import {
  childPids,
  type ProcessIdentity,
  processAlive,
  processCmdline,
  signalIfExists,
} from "../sys/process.js";
import { runcMessage } from "./runc.js";

export const CONMON = "conmon";

export interface ConmonOptions {
  /** Container ID (runc's ID too). */
  readonly id: string;
  /** A short unique ID naming the attach socket directory (keeps the socket path under 108 bytes). */
  readonly attachId: string;
  readonly name: string;
  readonly bundle: string;
  readonly runcRoot: string;
  readonly runc?: string;
  /** The k8s-file log; undefined for no log (an exec session's output goes to its attach socket). */
  readonly logPath: string | undefined;
  /** Bytes at which conmon starts the log file afresh (--log-size-max). */
  readonly logSizeMax?: number;
  readonly exitDir: string;
  readonly socketDir: string;
  readonly containerPidFile: string;
  readonly conmonPidFile: string;
  readonly terminal: boolean;
  readonly stdin: boolean;
  readonly leaveStdinOpen?: boolean;
  /** Runs when the container exits: the program and its arguments. */
  readonly exitCommand?: { readonly path: string; readonly args: readonly string[] };
  /**
   * Seconds conmon holds the exit command back after the exit (`--exit-delay`), for a caller that
   * does the exit work itself and then cancels it (`cancelHeldExitCommand`).
   */
  readonly exitDelay?: number;
  /** An exec session into the running container `id`: its process spec file, and whether to attach. */
  readonly exec?: { readonly processSpec: string; readonly attach: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
}

/**
 * The OCI runtime refused to create the container (FailedPrecondition: the container's
 * configuration cannot run here); `runtimeMessage` is runc's own.
 */
export class RuntimeCreateError extends BerthError {
  constructor(readonly runtimeMessage: string) {
    super("FailedPrecondition", runtimeMessage);
    this.name = "RuntimeCreateError";
  }
}

export function conmonArgs(o: ConmonOptions): string[] {
  const args = [
    "--api-version",
    "1",
    "-c",
    o.id,
    "-u",
    o.attachId,
    "-n",
    o.name,
    "-r",
    o.runc ?? "/usr/sbin/runc",
    "-b",
    o.bundle,
    "-p",
    o.containerPidFile,
    "-P",
    o.conmonPidFile,
    "-l",
    o.logPath === undefined ? "none" : `k8s-file:${o.logPath}`,
    "--exit-dir",
    o.exitDir,
    "--socket-dir-path",
    o.socketDir,
    "--runtime-arg",
    "--root",
    "--runtime-arg",
    o.runcRoot,
    "--log-level",
    "error",
    // conmon records an OOM kill as a file named `oom` here (and in its working directory).
    "--persist-dir",
    o.bundle,
  ];
  if (o.logPath !== undefined && o.logSizeMax !== undefined)
    args.push("--log-size-max", String(o.logSizeMax));
  if (o.exec) args.push("-e", "--exec-process-spec", o.exec.processSpec);
  if (o.terminal) args.push("-t");
  if (o.stdin) args.push("-i");
  if (o.leaveStdinOpen) args.push("--leave-stdin-open");
  if (o.exec?.attach) args.push("--exec-attach");
  if (o.exitCommand) {
    args.push("--exit-command", o.exitCommand.path);
    for (const a of o.exitCommand.args) args.push("--exit-command-arg", a);
    if (o.exitDelay !== undefined && o.exitDelay > 0) args.push("--exit-delay", String(o.exitDelay));
  }
  return args;
}

/**
 * Starts conmon (which runs `runc create`) and resolves with the container's PID once the
 * container exists, paused before its process runs (`runc start` releases it).
 */
export function launchConmon(o: ConmonOptions): Promise<{ pid: number }> {
  return new Promise((resolve, reject) => {
    const { child, failed } = launchProgram(CONMON, conmonArgs(o), {
      stdio: ["ignore", "ignore", "pipe", "pipe"],
      env: { ...o.env, _OCI_SYNCPIPE: "3" },
      // Never the caller's directory: conmon writes files (`oom`) into its working directory.
      cwd: o.bundle,
      detached: true,
      pkg: "conmon",
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const sync = child.stdio[3];
    const stderr: Buffer[] = [];
    child.stderr?.on("data", (c: Buffer) => stderr.push(c));
    let buf = "";
    let settled = false;
    const finish = (err: Error | undefined, pid?: number) => {
      if (settled) return;
      settled = true;
      sync?.destroy();
      child.unref();
      if (err) reject(err);
      else resolve({ pid: pid ?? 0 });
    };
    failed.catch((err: unknown) =>
      finish(isBerthError(err, "Canceled") ? canceled("container creation canceled") : (err as Error)),
    );
    sync?.on("data", (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
        const msg = decodeSyncLine(line);
        if (!msg) continue;
        if (msg.data < 0) finish(new RuntimeCreateError(runcMessage(msg.message ?? "")));
        else finish(undefined, msg.data);
      }
    });
    sync?.on("error", () => undefined);
    sync?.on("close", () => {
      // conmon went away without reporting: it failed before forking (bad arguments and such).
      const text = Buffer.concat(stderr).toString("utf8").trim();
      finish(internal(`conmon failed${text ? `: ${text.split("\n").pop()}` : " without a message"}`));
    });
  });
}

/** One JSON line conmon writes on its sync pipe: `{"data": N}` or `{"data": -1, "message": "…"}`. */
export interface SyncMessage {
  readonly data: number;
  readonly message?: string;
}

export function decodeSyncLine(line: string): SyncMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.data !== "number") return undefined;
  return { data: o.data, ...(typeof o.message === "string" ? { message: o.message } : {}) };
}

/**
 * Cancels the exit command that a conmon started with `--exit-delay` holds back; true when it
 * did. At the container's exit conmon writes the exit file, then forks a child that sleeps the
 * delay and only then executes the exit command: until it does, the child is a copy of conmon
 * (the same command line). SIGKILL ends that child, and conmon, which waits for it, exits too.
 * Never SIGTERM: conmon's handler (inherited by the child) interrupts the sleep, and the child
 * then goes on to run the exit command at once. A child that has already become the exit
 * command is left alone, and so is a conmon without the delay or of another container. `waitMs`
 * is how long to wait for the child while conmon lives without one yet (it forks right after
 * writing the exit file).
 */
export async function cancelHeldExitCommand(
  id: string,
  monitor: ProcessIdentity,
  opts: { readonly waitMs: number },
): Promise<boolean> {
  const deadline = Date.now() + opts.waitMs;
  for (;;) {
    if (!processAlive(monitor)) return false;
    const cmdline = processCmdline(monitor.pid);
    if (cmdline === undefined) return false;
    const args = cmdline.split("\0");
    // The container's own conmon (a PID file outliving it could name another process by now).
    if (args[args.indexOf("-c") + 1] !== id || !args.includes("--exit-delay")) return false;
    const children = childPids(monitor.pid);
    for (const child of children) {
      if (processCmdline(child) === cmdline) return signalIfExists(child, "SIGKILL");
    }
    // A child that is no copy of conmon: the exit command runs already (the caller may be it).
    if (children.length > 0) return false;
    if (Date.now() >= deadline) return false;
    await sleep(5);
  }
}
