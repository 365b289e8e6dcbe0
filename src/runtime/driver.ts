/**
 * The runtime driver: everything berth does to run a container's process on the host — the
 * overlay root filesystem, the bundle, conmon (which runs `runc create`), `runc start`, signals,
 * the attach socket, the exit file conmon writes. It holds no state of its own: the truth is in
 * runc's state root, the mount table and conmon's files, so any berth process can pick up where
 * another left off.
 * It never reads or writes the store's records (the container service does).
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, mkdir, open, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "../base/errors.js";
import type { AttachHandlers, AttachSession, ExecSession } from "../engine/types.js";
import type { Digest } from "../oci/digest.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import { readdirIfExists, readTextIfExists, statIfExists, writeFileReplace } from "../sys/fs.js";
import { isMountPoint, mount, unmount } from "../sys/mount.js";
import { type ProcessIdentity, pidExists, processStartTime } from "../sys/process.js";
import { attachSocketPath, connectAttach } from "./attach.js";
import { cancelHeldExitCommand, launchConmon, RuntimeCreateError } from "./conmon.js";
import { ContainerDirs } from "./container-dirs.js";
import { invocationError } from "./errors.js";
import { type ExecLaunchOptions, launchExec } from "./exec-launch.js";
import { Runc } from "./runc.js";
import type { CreateProcessOptions, ExitStatus, ProcessState, Runtime } from "./runtime.js";

export type { CreateProcessOptions, ExitStatus } from "./runtime.js";

export interface RuntimeDriverOptions {
  /** `<root>/containers`: one directory per container. */
  readonly containersDir: string;
  /** `<runroot>/runc`. */
  readonly runcRoot: string;
  /** `<runroot>/exits`. */
  readonly exitDir: string;
  /** `<runroot>/conmon`: attach socket directories and pid files. */
  readonly conmonDir: string;
  readonly snapshots: Snapshotter;
  /** The program conmon runs when the container exits, with its arguments. */
  readonly exitCommand: (id: string) => { path: string; args: string[] };
  /** Environment for conmon and, through it, runc and the exit command. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly runcBinary?: string;
}

/**
 * How long cancelling a held exit command waits for conmon to fork the child that holds it, when
 * the container has exited and conmon lives without one yet (it forks right after the exit file).
 */
const HELD_EXIT_WAIT_MS = 1000;

export class RuntimeDriver extends ContainerDirs implements Runtime {
  readonly runc: Runc;

  constructor(readonly opts: RuntimeDriverOptions) {
    super(opts.containersDir);
    this.runc = new Runc(opts.runcRoot, opts.runcBinary);
  }
  private exitFile(id: string): string {
    return join(this.opts.exitDir, id);
  }
  private attachId(id: string): string {
    return id.slice(0, 12);
  }
  private conmonPidFile(id: string): string {
    return join(this.opts.conmonDir, `${id}.pid`);
  }

  /** Makes the container's directories (writable layer, overlay work dir, mount point, bundle). */
  async prepare(id: string): Promise<void> {
    for (const d of ["upper", "work", "merged", "bundle"])
      await mkdir(join(this.dir(id), d), { recursive: true, mode: 0o700 });
    // The writable layer's root is the container's `/` (overlayfs takes the merged root's owner and
    // mode from the upper directory): 0755 as containerd's and Docker's, so non-root users can
    // reach the filesystem. The container directory itself stays 0700.
    await chmod(this.upper(id), 0o755);
    await writeFile(this.logPath(id), "", { flag: "a", mode: 0o600 });
    await this.writeInitLayer(id);
  }

  /**
   * Docker's init layer: `/.dockerenv`, `/etc/mtab` → `/proc/mounts`, and the mount points runc
   * binds over (`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`, `/dev/console`, `/dev/pts`,
   * `/dev/shm`, `/proc`, `/sys`). Below the writable layer, so none of it shows in `diff` or a
   * commit. Built in a staging directory and renamed, so a crash never leaves half of one.
   */
  private async writeInitLayer(id: string): Promise<void> {
    const target = this.initLayer(id);
    if (await statIfExists(target)) return;

    const tmp = `${target}.tmp-${randomBytes(4).toString("hex")}`;
    try {
      for (const d of ["etc", "dev/pts", "dev/shm", "proc", "sys"])
        await mkdir(join(tmp, d), { recursive: true, mode: 0o755 });
      await chmod(tmp, 0o755);
      for (const f of [".dockerenv", "etc/hosts", "etc/hostname", "etc/resolv.conf", "dev/console"])
        await writeFile(join(tmp, f), "", { mode: f === ".dockerenv" ? 0o755 : 0o644 });
      await chmod(join(tmp, ".dockerenv"), 0o755);
      await symlink("/proc/mounts", join(tmp, "etc/mtab"));
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (errnoCode(err) === "EEXIST" || errnoCode(err) === "ENOTEMPTY") return;
      throw err;
    }
  }

  /** Mounts the image's layers plus the writable layer at `merged` (no-op when mounted). */
  async mountRootfs(id: string, layers: readonly Digest[]): Promise<string> {
    const target = this.rootfs(id);
    if (await isMountPoint(target)) return target;
    // Containers created before the init layer existed get one now.
    await this.writeInitLayer(id);
    const [m] = this.opts.snapshots.mounts(
      layers,
      this.upper(id),
      join(this.dir(id), "work"),
      this.initLayer(id),
    );
    if (!m) return target;
    if (m.type === "overlay") await this.opts.snapshots.ensureLinks(layers);
    await mount(target, {
      type: m.type === "bind" ? "none" : m.type,
      source: m.source,
      options: m.type === "bind" ? ["bind"] : m.options,
      ...(m.cwd ? { cwd: m.cwd } : {}),
    });
    return target;
  }

  async unmountRootfs(id: string): Promise<void> {
    await unmount(this.rootfs(id));
  }

  /**
   * Writes the bundle and has conmon run `runc create`: the container exists, its process not yet
   * started. Returns the process's PID. Errors from runc come as RuntimeCreateError.
   */
  async createProcess(id: string, specJson: string, o: CreateProcessOptions): Promise<number> {
    await mkdir(this.opts.exitDir, { recursive: true });
    await mkdir(this.opts.conmonDir, { recursive: true });
    await this.runc.delete(id, { force: true });
    await rm(this.exitFile(id), { force: true });
    await rm(this.oomFile(id), { force: true });
    // Written again at every start: replaced, not made durable (a crash leaves no process to use it).
    await writeFileReplace(join(this.bundle(id), "config.json"), specJson, 0o600);
    const { path, args } = this.opts.exitCommand(id);
    const launched = launchConmon({
      id,
      attachId: this.attachId(id),
      name: o.name,
      bundle: this.bundle(id),
      runcRoot: this.opts.runcRoot,
      ...(this.opts.runcBinary ? { runc: this.opts.runcBinary } : {}),
      logPath: o.log === false ? undefined : this.logPath(id),
      ...(o.logSizeMax !== undefined ? { logSizeMax: o.logSizeMax } : {}),
      exitDir: this.opts.exitDir,
      socketDir: this.opts.conmonDir,
      containerPidFile: join(this.bundle(id), "pidfile"),
      conmonPidFile: this.conmonPidFile(id),
      terminal: o.terminal,
      stdin: o.stdin,
      ...(o.leaveStdinOpen ? { leaveStdinOpen: true } : {}),
      exitCommand: { path, args },
      ...(o.exitDelay ? { exitDelay: o.exitDelay } : {}),
      env: this.opts.env,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    try {
      return (await launched).pid;
    } catch (err) {
      // A conmon whose runc failed exits at once, and would hold its exit command back for
      // nothing: the caller undoes the start itself.
      if (o.exitDelay) {
        const monitor = await this.monitorOf(id);
        if (monitor) await cancelHeldExitCommand(id, monitor, { waitMs: HELD_EXIT_WAIT_MS });
      }
      // runc's refusal in Docker's terms (126/127), here at the boundary.
      if (err instanceof RuntimeCreateError) throw invocationError(err.runtimeMessage);
      throw err;
    }
  }

  /** Releases a created container's process (`runc start`). */
  async startProcess(id: string): Promise<void> {
    await this.runc.start(id);
  }

  attach(id: string, handlers: AttachHandlers): Promise<AttachSession> {
    return connectAttach(attachSocketPath(this.opts.conmonDir, this.attachId(id)), handlers, (h, w) =>
      this.resize(id, h, w),
    );
  }

  /** Resizes the container's terminal through conmon's control FIFO. */
  async resize(id: string, height: number, width: number): Promise<void> {
    // Non-blocking: with no conmon reading the FIFO any more, opening it fails (ENXIO) instead
    // of waiting forever.
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(join(this.bundle(id), "ctl"), constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if (errnoCode(err) === "ENXIO" || errnoCode(err) === "ENOENT") return;
      throw err;
    }
    try {
      await fh.write(`1 ${height} ${width}\n`);
    } finally {
      await fh.close();
    }
  }

  async reopenLog(id: string): Promise<boolean> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(join(this.bundle(id), "ctl"), constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if (errnoCode(err) === "ENXIO" || errnoCode(err) === "ENOENT") return false;
      throw err;
    }
    try {
      // conmon's REOPEN_LOGS_EVENT (2); the two numbers are a resize's, unused here.
      await fh.write("2 0 0\n");
      return true;
    } finally {
      await fh.close();
    }
  }

  state(id: string): Promise<ProcessState | undefined> {
    return this.runc.state(id);
  }

  kill(id: string, signal: string, all = false): Promise<void> {
    return this.runc.kill(id, signal, { all });
  }

  pause(id: string): Promise<void> {
    return this.runc.pause(id);
  }

  resume(id: string): Promise<void> {
    return this.runc.resume(id);
  }

  update(id: string, flags: readonly string[]): Promise<void> {
    return this.runc.update(id, flags);
  }

  pids(id: string): Promise<number[]> {
    return this.runc.pids(id);
  }

  get socketDir(): string {
    return this.opts.conmonDir;
  }

  launchExec(o: ExecLaunchOptions): Promise<ExecSession | undefined> {
    return launchExec(
      {
        conmonDir: this.opts.conmonDir,
        runcRoot: this.opts.runcRoot,
        ...(this.opts.runcBinary ? { runcBinary: this.opts.runcBinary } : {}),
        env: this.opts.env,
      },
      o,
    );
  }

  /** IDs of every container in runc's state root (one directory each). */
  async known(): Promise<string[]> {
    return (await readdirIfExists(this.opts.runcRoot)).filter((n) => !n.startsWith("."));
  }

  /** The exit code conmon recorded, if the process has exited. */
  async exitStatus(id: string): Promise<ExitStatus | undefined> {
    try {
      const [text, st] = await Promise.all([readFile(this.exitFile(id), "utf8"), stat(this.exitFile(id))]);
      const code = Number.parseInt(text.trim(), 10);
      return { code: Number.isNaN(code) ? -1 : code, at: st.mtimeMs };
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    }
  }

  private oomFile(id: string): string {
    return join(this.bundle(id), "oom");
  }

  /** Whether the kernel's OOM killer struck the container's cgroup during its last run (conmon's record). */
  async oomKilled(id: string): Promise<boolean> {
    return (await statIfExists(this.oomFile(id))) !== undefined;
  }

  /** Deletes exit files of containers not in `keep` that are older than `olderThanMs`. */
  async removeExitFiles(opts: { keep: ReadonlySet<string>; olderThanMs: number }): Promise<void> {
    const names = await readdirIfExists(this.opts.exitDir);
    const cutoff = Date.now() - opts.olderThanMs;
    for (const n of names) {
      if (opts.keep.has(n)) continue;
      const st = await statIfExists(join(this.opts.exitDir, n));
      if (st && st.mtimeMs < cutoff) await rm(join(this.opts.exitDir, n), { force: true });
    }
  }

  async clearExit(id: string): Promise<void> {
    await rm(this.exitFile(id), { force: true });
  }

  /** Whether the container's conmon is still alive. */
  async monitorAlive(id: string): Promise<boolean> {
    const text = await readTextIfExists(this.conmonPidFile(id));
    return text !== undefined && pidExists(Number.parseInt(text, 10));
  }

  async monitorOf(id: string): Promise<ProcessIdentity | undefined> {
    const pid = Number.parseInt((await readTextIfExists(this.conmonPidFile(id))) ?? "", 10);
    if (!(pid > 0)) return undefined;
    const start = processStartTime(pid);
    return start === undefined ? undefined : { pid, start };
  }

  async cancelExitCommand(id: string, monitor: ProcessIdentity): Promise<void> {
    await cancelHeldExitCommand(id, monitor, { waitMs: HELD_EXIT_WAIT_MS });
  }

  /** Forgets the process (runc state, pid files); the exit file stays for whoever waits. */
  async release(id: string): Promise<void> {
    await this.runc.delete(id, { force: true });
    await this.unmountRootfs(id);
    await rm(this.conmonPidFile(id), { force: true });
  }

  /** Deletes everything of the container on disk (after release). */
  async destroy(id: string, opts: { readonly keepExitFile?: boolean } = {}): Promise<void> {
    // A removed container's exit command has nothing left to do: one its conmon holds back (a
    // foreground client's container removed by someone else, or after that client died) goes.
    const monitor = await this.monitorOf(id);
    const exited = (await statIfExists(this.exitFile(id))) !== undefined;
    await this.release(id);
    if (monitor) await cancelHeldExitCommand(id, monitor, { waitMs: exited ? HELD_EXIT_WAIT_MS : 0 });
    if (!opts.keepExitFile) await rm(this.exitFile(id), { force: true });
    // conmon's link to the bundle that holds the attach socket (it makes one at every start, and
    // removes it when it ends normally, but not when its held exit command was cancelled).
    await rm(join(this.opts.conmonDir, this.attachId(id)), { force: true });
    const aside = `${this.dir(id)}.del-${randomBytes(4).toString("hex")}`;
    try {
      await rename(this.dir(id), aside);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    await rm(aside, { recursive: true, force: true });
  }
}
