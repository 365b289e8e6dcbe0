/**
 * An in-memory Runtime for unit tests of the lifecycle above it: processes, their monitors and
 * exit files live in maps; directories are real (under a directory the test owns), mounts are
 * not. A process ends when a test says so (`exit`) or when a signal ends it (KILL always; TERM,
 * INT, QUIT and HUP unless the test made the process ignore them), and then — as conmon does —
 * the exit file is written and the exit command runs (`onExit`, which tests point at the
 * lifecycle's cleanup; `settled()` waits for every exit command started so far).
 * Never used outside tests: the engine always runs the real driver.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { notFound, notImplemented } from "../base/errors.js";
import type { AttachHandlers, AttachSession, ExecSession } from "../engine/types.js";
import type { Digest } from "../oci/digest.js";
import type { ProcessIdentity } from "../sys/process.js";
import { ContainerDirs } from "./container-dirs.js";
import { invocationError } from "./errors.js";
import type { ExecLaunchOptions } from "./exec-launch.js";
import type { CreateProcessOptions, ExitStatus, ProcessState, Runtime } from "./runtime.js";

interface FakeProcess {
  status: "created" | "running" | "paused" | "stopped";
  readonly pid: number;
  monitor: boolean;
  readonly spec: string;
  ignoresTerm: boolean;
  /** Created with an exit delay: at the exit the exit command is held back (`held`). */
  readonly delayed: boolean;
}

const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  KILL: 9,
  USR1: 10,
  USR2: 12,
  TERM: 15,
};
const ENDS_BY_DEFAULT = new Set([1, 2, 3, 9, 15]);

export class FakeRuntime extends ContainerDirs implements Runtime {
  private readonly procs = new Map<string, FakeProcess>();
  private readonly exits = new Map<string, ExitStatus>();
  private readonly mounted = new Set<string>();
  private readonly oom = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  /** Exit commands held back by an exit delay, by monitor PID → container ID. */
  private readonly held = new Map<number, string>();
  private nextPid = 1000;
  /** Every call, as `name id`, for tests that count what the lifecycle asked for. */
  readonly calls: string[] = [];
  /** conmon's exit command. */
  onExit: (id: string) => Promise<void> = async () => undefined;
  /** The next createProcess fails as runc would with this message. */
  failNextCreate: string | undefined;

  constructor(
    readonly root: string,
    private readonly now: () => number = Date.now,
  ) {
    super(join(root, "containers"));
  }

  get socketDir(): string {
    return join(this.root, "conmon");
  }

  async prepare(id: string): Promise<void> {
    this.calls.push(`prepare ${id}`);
    for (const d of ["upper", "work", "merged", "bundle"])
      await mkdir(join(this.dir(id), d), { recursive: true });
  }

  async mountRootfs(id: string, _layers: readonly Digest[]): Promise<string> {
    this.calls.push(`mount ${id}`);
    this.mounted.add(id);
    return this.rootfs(id);
  }

  async unmountRootfs(id: string): Promise<void> {
    this.mounted.delete(id);
  }

  isMounted(id: string): boolean {
    return this.mounted.has(id);
  }

  async createProcess(id: string, specJson: string, o: CreateProcessOptions): Promise<number> {
    this.calls.push(`create ${id}`);
    const failure = this.failNextCreate;
    this.failNextCreate = undefined;
    if (failure !== undefined) throw invocationError(failure);
    this.exits.delete(id);
    this.oom.delete(id);
    const pid = this.nextPid++;
    this.procs.set(id, {
      status: "created",
      pid,
      monitor: true,
      spec: specJson,
      ignoresTerm: false,
      delayed: (o.exitDelay ?? 0) > 0,
    });
    return pid;
  }

  async startProcess(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    const p = this.known_(id);
    if (p.status !== "created") throw notFound(`container ${id} is not created`);
    p.status = "running";
  }

  attach(_id: string, _handlers: AttachHandlers): Promise<AttachSession> {
    return Promise.reject(notImplemented("the fake runtime has no attach socket"));
  }

  async resize(): Promise<void> {}
  async reopenLog(): Promise<boolean> {
    return false;
  }

  async state(id: string): Promise<ProcessState | undefined> {
    const p = this.procs.get(id);
    return p ? { id, pid: p.pid, status: p.status, bundle: this.bundle(id) } : undefined;
  }

  async kill(id: string, signal: string, _all = false): Promise<void> {
    this.calls.push(`kill ${id} ${signal}`);
    const p = this.known_(id);
    if (p.status === "stopped") throw notFound(`container ${id} is not running`);
    const n = /^\d+$/.test(signal) ? Number(signal) : (SIGNALS[signal] ?? 0);
    if (n === 9 || (ENDS_BY_DEFAULT.has(n) && !p.ignoresTerm)) this.exit(id, 128 + n);
  }

  async pause(id: string): Promise<void> {
    this.calls.push(`pause ${id}`);
    this.known_(id).status = "paused";
  }

  async update(id: string, flags: readonly string[]): Promise<void> {
    this.calls.push(`update ${id} ${flags.join(" ")}`);
    this.known_(id);
  }

  async resume(id: string): Promise<void> {
    this.calls.push(`resume ${id}`);
    this.known_(id).status = "running";
  }

  async pids(id: string): Promise<number[]> {
    return [this.known_(id).pid];
  }

  launchExec(_o: ExecLaunchOptions): Promise<ExecSession | undefined> {
    return Promise.reject(notImplemented("the fake runtime runs no exec sessions"));
  }

  async exitStatus(id: string): Promise<ExitStatus | undefined> {
    return this.exits.get(id);
  }

  async removeExitFiles(opts: { keep: ReadonlySet<string>; olderThanMs: number }): Promise<void> {
    const cutoff = this.now() - opts.olderThanMs;
    for (const [id, e] of this.exits) if (!opts.keep.has(id) && e.at < cutoff) this.exits.delete(id);
  }

  async clearExit(id: string): Promise<void> {
    this.exits.delete(id);
  }

  async oomKilled(id: string): Promise<boolean> {
    return this.oom.has(id);
  }

  /** The next exit of the container is an OOM kill. */
  markOomKilled(id: string): void {
    this.oom.add(id);
  }

  async monitorAlive(id: string): Promise<boolean> {
    return this.procs.get(id)?.monitor ?? false;
  }

  /** The monitor's PID is the process's own here; its start time is fixed. */
  async monitorOf(id: string): Promise<ProcessIdentity | undefined> {
    const p = this.procs.get(id);
    return p?.monitor || (p && this.held.has(p.pid)) ? { pid: p.pid, start: "fake" } : undefined;
  }

  async cancelExitCommand(id: string, monitor: ProcessIdentity): Promise<void> {
    this.calls.push(`cancel exit command ${id}`);
    if (this.held.get(monitor.pid) === id) this.held.delete(monitor.pid);
  }

  /** Exit commands held back now (their containers' IDs). */
  heldExitCommands(): string[] {
    return [...this.held.values()];
  }

  /** The exit delay passes (its holder died): the held exit commands run. */
  releaseHeldExitCommands(): void {
    const ids = [...this.held.values()];
    this.held.clear();
    for (const id of ids) this.runExitCommand(id);
  }

  async known(): Promise<string[]> {
    return [...this.procs.keys()];
  }

  async release(id: string): Promise<void> {
    this.calls.push(`release ${id}`);
    this.procs.delete(id);
    this.mounted.delete(id);
  }

  async destroy(id: string, opts: { readonly keepExitFile?: boolean } = {}): Promise<void> {
    this.calls.push(`destroy ${id}`);
    // As the real driver: a removed container's held exit command has nothing left to do.
    for (const [pid, held] of this.held) if (held === id) this.held.delete(pid);
    await this.release(id);
    if (!opts.keepExitFile) this.exits.delete(id);
    await rm(this.dir(id), { recursive: true, force: true });
  }

  // --- what tests do to the processes ----------------------------------------------------------

  /** The process ends with `code`: the exit file is written and the exit command runs. */
  exit(id: string, code: number): void {
    const p = this.known_(id);
    p.status = "stopped";
    p.monitor = false;
    this.exits.set(id, { code, at: this.now() });
    if (p.delayed) this.held.set(p.pid, id);
    else this.runExitCommand(id);
  }

  private runExitCommand(id: string): void {
    const run = this.onExit(id).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** The monitor dies without writing an exit file (conmon killed), and the process with it. */
  killMonitor(id: string): void {
    const p = this.known_(id);
    p.status = "stopped";
    p.monitor = false;
  }

  /** The process ignores TERM (and INT, QUIT, HUP), as a PID 1 without handlers does. */
  ignoreTerm(id: string): void {
    this.known_(id).ignoresTerm = true;
  }

  /** Waits for every exit command started so far (and those they lead to). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private known_(id: string): FakeProcess {
    const p = this.procs.get(id);
    if (!p) throw notFound(`container ${id} is not known to runc`);
    return p;
  }
}
