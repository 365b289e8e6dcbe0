/**
 * Running host programs: a fixed argv, no shell, only stdin/stdout/stderr inherited (Node opens
 * every other descriptor close-on-exec, so runc and conmon get no stray fds).
 * It never parses a program's output beyond its exit code and text (callers do).
 */
import { type ChildProcess, type StdioOptions, spawn, spawnSync } from "node:child_process";
import {
  BerthError,
  canceled,
  errnoCode,
  errorMessage,
  failedPrecondition,
  internal,
} from "../base/errors.js";

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly input?: string | Uint8Array;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  /** Name of the Debian package that provides the program, for the "not installed" error. */
  readonly pkg?: string;
  /** Working directory of the program. */
  readonly cwd?: string;
}

/** What a program printed, as bytes (for output that is not text, such as getfattr's). */
export interface ExecRawResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

function notInstalled(cmd: string, pkg: string | undefined, cause: unknown): BerthError {
  return failedPrecondition(`${cmd} not found${pkg ? `: install the Debian package ${pkg}` : ""}`, cause);
}

/** Runs `cmd args…` to completion and returns its exit code and output (never throws on a non-zero exit). */
export async function execProgram(
  cmd: string,
  args: readonly string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const r = await execProgramRaw(cmd, args, opts);
  return { code: r.code, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}

/** execProgram with the output as bytes. */
export function execProgramRaw(
  cmd: string,
  args: readonly string[],
  opts: ExecOptions = {},
): Promise<ExecRawResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["pipe", "pipe", "pipe"],
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.stdin.on("error", () => undefined);
    child.on("error", (e) => {
      if (errnoCode(e) === "ENOENT") reject(notInstalled(cmd, opts.pkg, e));
      else reject(e);
    });
    child.on("close", (code, sig) => {
      resolve({ code: code ?? (sig ? 128 : 1), stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
    child.stdin.end(opts.input ?? "");
  });
}

export interface ExecSyncOptions {
  readonly input?: string | Uint8Array;
  /** Killed (SIGTERM) after this long; the result then has code 128. */
  readonly timeoutMs?: number;
  /** Name of the Debian package that provides the program, for the "not installed" error. */
  readonly pkg?: string;
}

/**
 * execProgram for the few callers that must not yield to the event loop (a step inside a
 * synchronous lock, or one that forks a daemon and returns). Stdout is not collected (ignored).
 */
export function execProgramSync(
  cmd: string,
  args: readonly string[],
  opts: ExecSyncOptions = {},
): ExecResult {
  const r = spawnSync(cmd, args, {
    stdio: ["pipe", "ignore", "pipe"],
    input: opts.input ?? "",
    ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
  });
  if (r.error) {
    if (errnoCode(r.error) === "ENOENT") throw notInstalled(cmd, opts.pkg, r.error);
    if (errnoCode(r.error) !== "ETIMEDOUT")
      throw internal(`cannot run ${cmd}: ${errorMessage(r.error)}`, r.error);
  }
  return { code: r.status ?? (r.signal ? 128 : 1), stdout: "", stderr: r.stderr?.toString("utf8") ?? "" };
}

/** Like execProgram, but a non-zero exit is an error carrying the program's last stderr line. */
export async function execChecked(
  cmd: string,
  args: readonly string[],
  opts: ExecOptions = {},
): Promise<string> {
  const r = await execProgram(cmd, args, opts);
  if (r.code !== 0) {
    const line = r.stderr.trim().split("\n").pop() ?? "";
    throw new ExecError(`${cmd} ${args[0] ?? ""} failed (exit ${r.code}): ${line}`, r);
  }
  return r.stdout;
}

/** A host program berth relies on failed: Internal (the host, not the request, is at fault). */
export class ExecError extends BerthError {
  constructor(
    message: string,
    readonly result: ExecResult,
  ) {
    super("Internal", message);
    this.name = "ExecError";
  }
}

export interface LaunchOptions {
  readonly stdio: StdioOptions;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Its own process group, so it outlives this process (conmon double-forks anyway). */
  readonly detached?: boolean;
  readonly signal?: AbortSignal;
  /** Name of the Debian package that provides the program, for the "not installed" error. */
  readonly pkg?: string;
}

/**
 * Starts a program that talks to us over pipes while it runs (conmon's sync pipes, `runc run`).
 * `failed` rejects when it could not be started: FailedPrecondition when the program is missing
 * (as execProgram's), Canceled on abort, Internal otherwise; it never resolves.
 */
export function launchProgram(
  cmd: string,
  args: readonly string[],
  opts: LaunchOptions,
): { child: ChildProcess; failed: Promise<never> } {
  const child = spawn(cmd, args, {
    stdio: opts.stdio,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.detached ? { detached: true } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const failed = new Promise<never>((_, reject) => {
    child.on("error", (err) => {
      const code = errnoCode(err);
      if (code === "ENOENT") reject(notInstalled(cmd, opts.pkg, err));
      else if (code === "ABORT_ERR") reject(canceled(`${cmd} canceled`, err));
      else reject(internal(`cannot start ${cmd}: ${errorMessage(err)}`, err));
    });
  });
  // A caller that settles otherwise (the program reported, or exited) need not listen.
  failed.catch(() => undefined);
  return { child, failed };
}
