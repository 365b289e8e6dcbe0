/**
 * The OCI runtime, runc, driven through its command line with a state root of berth's own
 * (`<runroot>/runc`). Every call is one runc process; runc's JSON output is decoded with checks.
 * It never decides what a container's state means (the driver does) and never uses a state
 * root it was not given.
 */
import { join } from "node:path";
import { errorMessage, internal, notFound } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { execProgram, launchProgram } from "../sys/exec.js";
import { statIfExists } from "../sys/fs.js";
import { RuncCommandError } from "./errors.js";

export { RuncCommandError } from "./errors.js";

export const RUNC = "runc";

/** `runc state` as runc prints it (the fields berth reads). */
export interface RuncState {
  readonly id: string;
  readonly pid: number;
  /** "creating" | "created" | "running" | "paused" | "stopped" */
  readonly status: string;
  readonly bundle: string;
}

function decodeState(text: string): RuncState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw internal(`runc state printed invalid JSON: ${errorMessage(err)}`, err);
  }
  if (typeof v !== "object" || v === null) throw internal("runc state printed no object");
  const o = v as Record<string, unknown>;
  if (typeof o.id !== "string" || typeof o.pid !== "number" || typeof o.status !== "string") {
    throw internal("runc state printed an unexpected document");
  }
  return { id: o.id, pid: o.pid, status: o.status, bundle: typeof o.bundle === "string" ? o.bundle : "" };
}

export class Runc {
  constructor(
    readonly root: string,
    readonly binary: string = RUNC,
  ) {}

  private run(args: readonly string[]) {
    return execProgram(this.binary, ["--root", this.root, ...args], { pkg: "runc" });
  }

  /**
   * Whether runc holds state for the container (its directory under `--root`). When it does not,
   * `state` and `delete` answer without running runc: a fresh container's create and a cleanup
   * that already released it cost no runc process (each is a Go start-up, ~10-20 ms).
   */
  private async known(id: string): Promise<boolean> {
    return (await statIfExists(join(this.root, id))) !== undefined;
  }

  /** The container's runc state, or undefined when runc does not know it. */
  async state(id: string): Promise<RuncState | undefined> {
    if (!(await this.known(id))) return undefined;
    const r = await this.run(["state", id]);
    if (r.code !== 0) {
      if (/does not exist|not found|no such/i.test(r.stderr)) return undefined;
      throw internal(`runc state ${id} failed: ${runcMessage(r.stderr)}`);
    }
    return decodeState(r.stdout);
  }

  async start(id: string): Promise<void> {
    await this.checked(["start", id], id);
  }

  /** Sends a signal to the container's init (or with `all`, every process). */
  async kill(id: string, signal: string, opts: { all?: boolean } = {}): Promise<void> {
    await this.checked(["kill", ...(opts.all ? ["--all"] : []), id, signal], id);
  }

  /**
   * `runc update`: changes a running container's cgroup limits. `flags` are runc's own
   * (`--memory`, `--cpu-quota`, …, with their values); only the limits named change.
   */
  async update(id: string, flags: readonly string[]): Promise<void> {
    await this.checked(["update", ...flags, id], id);
  }

  async pause(id: string): Promise<void> {
    await this.checked(["pause", id], id);
  }

  async resume(id: string): Promise<void> {
    await this.checked(["resume", id], id);
  }

  /** Forgets a container (killing it first when `force`); a container runc does not know is fine. */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    if (!(await this.known(id))) return;
    const r = await this.run(["delete", ...(opts.force ? ["--force"] : []), id]);
    if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) {
      throw internal(`runc delete ${id} failed: ${runcMessage(r.stderr)}`);
    }
  }

  /** PIDs of the container's processes (host PID namespace). */
  async pids(id: string): Promise<number[]> {
    const r = await this.run(["ps", "--format", "json", id]);
    if (r.code !== 0) throw internal(`runc ps ${id} failed: ${runcMessage(r.stderr)}`);
    const v: unknown = JSON.parse(r.stdout || "[]");
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === "number") : [];
  }

  /**
   * `runc run` in the foreground with piped stdio (no terminal, no stdin): creates, starts and
   * waits for the container, then deletes it. Returns the process's exit code (runc's own when
   * it failed to start it). For short-lived processes that belong to this berth process (build
   * steps); an abort kills the container. runc's own error lines reach `onStderr` too.
   */
  runForeground(id: string, o: RuncRunOptions): Promise<number> {
    return new Promise((resolve, reject) => {
      const { child, failed } = launchProgram(
        this.binary,
        ["--root", this.root, "run", "--bundle", o.bundle, id],
        {
          stdio: ["ignore", "pipe", "pipe"],
          pkg: "runc",
        },
      );
      const onAbort = (): void => {
        void bestEffort(`killing build container ${id}`, this.kill(id, "KILL", { all: true }));
      };
      o.signal?.addEventListener("abort", onAbort, { once: true });
      child.stdout?.on("data", (c: Buffer) => o.onStdout(c));
      child.stderr?.on("data", (c: Buffer) => o.onStderr(c));
      failed.catch((err: unknown) => {
        o.signal?.removeEventListener("abort", onAbort);
        reject(err);
      });
      child.on("close", (code, sig) => {
        o.signal?.removeEventListener("abort", onAbort);
        resolve(code ?? (sig ? 128 + 9 : 1));
      });
    });
  }

  private async checked(args: readonly string[], id: string): Promise<void> {
    const r = await this.run(args);
    if (r.code === 0) return;
    // runc's own message, without its log decoration (time=… level=error msg="…").
    const msg = runcMessage(r.stderr);
    if (/does not exist|not found/i.test(msg)) throw notFound(`container ${id} is not known to runc`);
    throw new RuncCommandError(`runc ${args[0]} ${id} failed: ${msg}`, msg);
  }
}

/** Options for `Runc.runForeground`: the bundle, and where the process's output goes. */
export interface RuncRunOptions {
  readonly bundle: string;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
  readonly signal?: AbortSignal;
}

/** runc logs `time=… level=error msg="…"`; keep the message. */
export function runcMessage(stderr: string): string {
  const line = lastLine(stderr);
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  return m ? (m[1] as string).replace(/\\"/g, '"').replace(/\\\\/g, "\\") : line;
}

function lastLine(s: string): string {
  return s.trim().split("\n").filter(Boolean).pop() ?? "";
}
