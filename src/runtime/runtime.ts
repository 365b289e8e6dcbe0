/**
 * The runtime boundary: everything berth asks of the host to run a container's process — its
 * directories and overlay root filesystem, conmon (which runs `runc create`, or `runc exec` for an
 * exec session), `runc start`, signals, pause, the attach socket and the exit file conmon writes.
 * `RuntimeDriver` is the real one (runc + conmon through sys/); `FakeRuntime` keeps processes in
 * memory so the lifecycle above it can be tested without them. Failures come out as error kinds:
 * a program that is missing is FailedPrecondition, runc refusing a container's process is
 * `CommandInvocationError` (Docker's 126/127), a container runc does not know is NotFound.
 *
 * The runtime holds no state of its own that another process could not read back: the truth is
 * in runc's state root, the mount table and conmon's files. It decides nothing about containers'
 * states either; that is the lifecycle's job (containers/), under the container's lock.
 */
import type { AttachHandlers, AttachSession, ExecSession } from "../engine/types.js";
import type { Digest } from "../oci/digest.js";
import type { ProcessIdentity } from "../sys/process.js";
import type { ExecLaunchOptions } from "./exec-launch.js";

export interface ExitStatus {
  readonly code: number;
  /** When conmon wrote the exit file (ms since the epoch). */
  readonly at: number;
}

/** `runc state` as runc prints it (the fields berth reads). */
export interface ProcessState {
  readonly id: string;
  readonly pid: number;
  /** "creating" | "created" | "running" | "paused" | "stopped" */
  readonly status: string;
  readonly bundle: string;
}

export interface CreateProcessOptions {
  readonly name: string;
  readonly terminal: boolean;
  readonly stdin: boolean;
  /** Keep the container's stdin open when an attached client goes away (Docker: a TTY, or no StdinOnce). */
  readonly leaveStdinOpen?: boolean;
  /** Whether conmon writes the container's log (false for the `none` driver). */
  readonly log?: boolean;
  /** conmon starts the log afresh when a write would take it past this many bytes. */
  readonly logSizeMax?: number;
  /**
   * Seconds the exit command waits after the process ended, for a caller that does the exit work
   * itself (a foreground client) and then cancels it with `cancelExitCommand`; the exit command
   * only runs if that caller died first. None by default.
   */
  readonly exitDelay?: number;
  readonly signal?: AbortSignal;
}

export interface Runtime {
  /** `<root>/containers/<id>`: the container's directory. */
  dir(id: string): string;
  bundle(id: string): string;
  /** The overlay mount point of the root filesystem. */
  rootfs(id: string): string;
  /** The writable layer. */
  upper(id: string): string;
  logPath(id: string): string;

  /** Makes the container's directories (writable layer, overlay work dir, mount point, bundle). */
  prepare(id: string): Promise<void>;
  /** Mounts the image's layers (bottom first) plus the writable layer; no-op when mounted. */
  mountRootfs(id: string, layers: readonly Digest[]): Promise<string>;
  unmountRootfs(id: string): Promise<void>;

  /** Writes the bundle and creates the process (paused before it runs); resolves with its PID. */
  createProcess(id: string, specJson: string, o: CreateProcessOptions): Promise<number>;
  /** Releases a created process. */
  startProcess(id: string): Promise<void>;
  /** Connects to the container's output and stdin; the session resizes its terminal too. */
  attach(id: string, handlers: AttachHandlers): Promise<AttachSession>;
  resize(id: string, height: number, width: number): Promise<void>;
  /**
   * Asks the container's conmon to reopen its log file (its control FIFO's "reopen logs"
   * message): after the file was renamed away, conmon starts a new one at the log path. False
   * when no conmon listens (the container does not run).
   */
  reopenLog(id: string): Promise<boolean>;
  /** The process's state, or undefined when the runtime does not know the container. */
  state(id: string): Promise<ProcessState | undefined>;
  /** Sends a signal to the container's init (with `all`, to every process in it). */
  kill(id: string, signal: string, all?: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  /** Changes a running container's resources (`runc update` flags: --memory, --cpu-shares, …). */
  update(id: string, flags: readonly string[]): Promise<void>;
  resume(id: string): Promise<void>;
  /** PIDs of the container's processes (host PID namespace). */
  pids(id: string): Promise<number[]>;
  /** Starts an exec session's process in a running container (undefined when detached). */
  launchExec(o: ExecLaunchOptions): Promise<ExecSession | undefined>;
  /** The directory of conmon's attach sockets (exec sessions link theirs there). */
  readonly socketDir: string;

  /** The exit code conmon recorded, if the process has exited. */
  exitStatus(id: string): Promise<ExitStatus | undefined>;
  /** Deletes exit files of containers not in `keep` that are older than `olderThanMs`. */
  removeExitFiles(opts: { keep: ReadonlySet<string>; olderThanMs: number }): Promise<void>;
  clearExit(id: string): Promise<void>;
  /** Whether the kernel's OOM killer struck the container's cgroup during its last run. */
  oomKilled(id: string): Promise<boolean>;
  /** Whether the container's monitor (conmon) still lives. */
  monitorAlive(id: string): Promise<boolean>;
  /** The container's monitor as it is now (to recognise it later), or undefined when there is none. */
  monitorOf(id: string): Promise<ProcessIdentity | undefined>;
  /**
   * Cancels the exit command that `monitor`, the container's, holds back (`exitDelay`) once the exit work is done;
   * a no-op when it holds none back (started without a delay, already running it, or gone).
   */
  cancelExitCommand(id: string, monitor: ProcessIdentity): Promise<void>;
  /** IDs of every container the runtime holds state for (runc's state root). */
  known(): Promise<string[]>;

  /** Forgets the process (runc state, pid files, the mount); the exit file stays for whoever waits. */
  release(id: string): Promise<void>;
  /**
   * Deletes everything of the container on disk (after release); with `keepExitFile`, all but
   * the exit file (a foreground client waiting on a `--rm` container reads its code there).
   */
  destroy(id: string, opts?: { readonly keepExitFile?: boolean }): Promise<void>;
}
