/**
 * `docker exec`: a process started in a running container through conmon's exec mode, one conmon
 * per session (`conmon -e --exec-process-spec FILE`, which runs `runc exec --detach`).
 *
 * Session lifecycle:
 * 1. The container must be running (Docker's errors otherwise). The process spec is the
 *    container's own process from `<bundle>/config.json` (capabilities, rlimits,
 *    noNewPrivileges, oomScoreAdj, apparmor) with the exec's args, env (Docker's
 *    `CreateDaemonEnvironment` + the container's Env + the exec's), user (-u, else the
 *    container's User, resolved in the container's /etc/passwd) and cwd (-w, else WorkingDir).
 * 2. State lives in `<runroot>/exec/<execId>/`: process.json, conmon's pid files, the attach
 *    socket and ctl FIFO (conmon's "bundle" for the session), its exit file under exits/. The
 *    attach socket is reached through `<runroot>/conmon/<attachId>`, an attach ID of the session's
 *    own ("x" + 11 hex digits: never a container's, which are 12 hex digits).
 * 3. Attached: conmon reports on `_OCI_ATTACHPIPE` once its attach socket listens; we connect,
 *    then release it through `_OCI_STARTPIPE`, so no output is lost. The sync pipe
 *    (`_OCI_SYNCPIPE`) carries the process's PID (or runc's error), later its exit code.
 *    `wait()` returns that code and deletes the session's state.
 * 4. Detached: the same without attaching; the state is swept once its conmon is gone (at the
 *    next exec), as is that of sessions whose berth process was killed.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { conflict, errorMessage, failedPrecondition, internal, invalidArgument } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import type { ContainerConfig, ExecConfig, ExecInspect, ExecSession } from "../engine/types.js";
import type { AttachConnection, AttachHandlers } from "../runtime/attach.js";
import { attachSocketPath, connectAttach } from "../runtime/attach.js";
import { CONMON, conmonArgs, decodeSyncLine, type SyncMessage } from "../runtime/conmon.js";
import type { RuntimeDriver } from "../runtime/driver.js";
import { runcMessage } from "../runtime/runc.js";
import { DEFAULT_PATH_ENV } from "../runtime/spec/build.js";
import { orderedAvailable } from "../runtime/spec/capabilities.js";
import type { RlimitValue, SpecCapabilities, SpecProcess, SpecRlimit } from "../runtime/spec/types.js";
import { type ResolvedUser, resolveUser } from "../runtime/spec/user.js";
import { readFileInRoot } from "../sys/root-path.js";
import { CommandInvocationError, type ContainerService } from "./service.js";

// ---------------------------------------------------------------------------------------------
// The process spec (pure)

/** An OCI process as `runc exec --process` reads it. */
export interface ExecProcess extends SpecProcess {
  consoleSize?: { height: number; width: number };
  apparmorProfile?: string;
}

/** What an exec inherits from the container's own process (config.json). */
export interface ContainerProcessFacts {
  capabilities: SpecCapabilities;
  rlimits?: SpecRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj: number;
  apparmorProfile?: string;
}

function envKey(entry: string): string {
  const i = entry.indexOf("=");
  return i < 0 ? entry : entry.slice(0, i);
}

/**
 * moby `ReplaceOrAppendEnvValues`: each override replaces the entry of the same name or is
 * appended; a bare `NAME` removes it.
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: Array<string | undefined> = [...defaults];
  for (const value of overrides) {
    const key = envKey(value);
    const at = out.findIndex((e) => e !== undefined && envKey(e) === key);
    if (!value.includes("=")) {
      if (at >= 0) out[at] = undefined;
      continue;
    }
    if (at >= 0) out[at] = value;
    else out.push(value);
  }
  return out.filter((e): e is string => e !== undefined);
}

/**
 * The exec's environment as Docker's daemon makes it: PATH, HOSTNAME, TERM=xterm with a TTY, the
 * container's Env over those, the exec's Env over that; then HOME of the exec's user when unset
 * (what runc would add).
 */
export function execEnv(container: ContainerConfig, exec: ExecConfig, home: string): string[] {
  const base = [
    DEFAULT_PATH_ENV,
    `HOSTNAME=${container.Hostname ?? ""}`,
    ...(exec.Tty ? ["TERM=xterm"] : []),
  ];
  const env = replaceOrAppendEnv(replaceOrAppendEnv(base, container.Env ?? []), exec.Env ?? []);
  if (!env.some((e) => envKey(e) === "HOME")) env.push(`HOME=${home}`);
  return env;
}

/** Builds the exec's process from the container's (moby `ContainerExecStart` + `execSetPlatformOpt`). */
export function execProcessSpec(opts: {
  container: ContainerProcessFacts;
  containerConfig: ContainerConfig;
  exec: ExecConfig;
  user: ResolvedUser;
  /** Every capability the host has (for Privileged). */
  allCapabilities: readonly string[];
}): ExecProcess {
  const { exec, user } = opts;
  const caps = exec.Privileged
    ? {
        bounding: [...opts.allCapabilities],
        effective: [...opts.allCapabilities],
        permitted: [...opts.allCapabilities],
      }
    : opts.container.capabilities;
  const size = exec.Tty && exec.ConsoleSize ? exec.ConsoleSize : undefined;
  return {
    ...(exec.Tty ? { terminal: true } : {}),
    ...(size && size[0] > 0 && size[1] > 0 ? { consoleSize: { height: size[0], width: size[1] } } : {}),
    user: {
      uid: user.uid,
      gid: user.gid,
      ...(user.additionalGids.length > 0 ? { additionalGids: [...user.additionalGids] } : {}),
    },
    args: [...exec.Cmd],
    env: execEnv(opts.containerConfig, exec, user.home),
    cwd: exec.WorkingDir || opts.containerConfig.WorkingDir || "/",
    capabilities: caps,
    ...(opts.container.rlimits && opts.container.rlimits.length > 0
      ? { rlimits: opts.container.rlimits }
      : {}),
    ...(opts.container.noNewPrivileges ? { noNewPrivileges: true } : {}),
    ...(opts.container.apparmorProfile ? { apparmorProfile: opts.container.apparmorProfile } : {}),
    oomScoreAdj: opts.container.oomScoreAdj,
  };
}

const U64_MARK = "\u0000u64:";

/** JSON.parse that keeps integers beyond 2^53 (RLIM_INFINITY) exact, as marked strings. */
function parseJsonExact(text: string): unknown {
  const marked = text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (tok) => {
    if (tok.startsWith('"') || !/^-?\d+$/.test(tok) || Number.isSafeInteger(Number(tok))) return tok;
    return `"\\u0000u64:${tok}"`;
  });
  return JSON.parse(marked);
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw internal(`config.json: ${what} is not an object`);
  return v as Record<string, unknown>;
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === "string"))
    throw internal(`config.json: ${what} is not a list of strings`);
  return v;
}

function rlimitValue(v: unknown): RlimitValue {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && v.startsWith(U64_MARK)) return BigInt(v.slice(U64_MARK.length));
  throw internal("config.json: an rlimit value is not an integer");
}

/** Decodes the container's process from its config.json (with checks). */
export function decodeContainerProcess(text: string): ContainerProcessFacts {
  let doc: unknown;
  try {
    doc = parseJsonExact(text);
  } catch (err) {
    throw internal(`the container's config.json is not JSON: ${errorMessage(err)}`, err);
  }
  const p = record(record(doc, "the document").process, "process");
  const c = p.capabilities === undefined ? {} : record(p.capabilities, "process.capabilities");
  const capabilities: SpecCapabilities = {};
  for (const k of ["bounding", "effective", "inheritable", "permitted", "ambient"] as const) {
    if (c[k] !== undefined) capabilities[k] = strings(c[k], `process.capabilities.${k}`);
  }
  const out: ContainerProcessFacts = {
    capabilities,
    oomScoreAdj: typeof p.oomScoreAdj === "number" ? p.oomScoreAdj : 0,
  };
  if (p.rlimits !== undefined) {
    if (!Array.isArray(p.rlimits)) throw internal("config.json: process.rlimits is not a list");
    out.rlimits = p.rlimits.map((r: unknown) => {
      const o = record(r, "an rlimit");
      if (typeof o.type !== "string") throw internal("config.json: an rlimit has no type");
      return { type: o.type, hard: rlimitValue(o.hard), soft: rlimitValue(o.soft) };
    });
  }
  if (p.noNewPrivileges === true) out.noNewPrivileges = true;
  if (typeof p.apparmorProfile === "string" && p.apparmorProfile) out.apparmorProfile = p.apparmorProfile;
  return out;
}

/** The process as JSON for runc, rlimits of RLIM_INFINITY printed exactly. */
export function serializeExecProcess(p: ExecProcess): string {
  const text = JSON.stringify(p, (_k, v: unknown) => (typeof v === "bigint" ? `${U64_MARK}${v}` : v), 2);
  return `${text.replace(/"\\u0000u64:(\d+)"/g, "$1")}\n`;
}

/**
 * runc's exec failure as Docker reports it (containerd's wording), with Docker's exit code:
 * 127 when the command is not found, 126 for any other failure to start it.
 */
export function execInvocationError(runcText: string): CommandInvocationError {
  const msg = `OCI runtime exec failed: ${runcText}: unknown`;
  const notFound = /executable file not found|no such file or directory/i.test(runcText);
  return new CommandInvocationError(msg, notFound ? 127 : 126);
}

// ---------------------------------------------------------------------------------------------
// conmon's pipes

/** Reads JSON lines from one of conmon's pipes as a queue; `undefined` once it closed. */
class SyncReader {
  private buf = "";
  private readonly queue: SyncMessage[] = [];
  private waiting: ((m: SyncMessage | undefined) => void) | undefined;
  private closed = false;

  constructor(readonly stream: Readable) {
    stream.on("data", (chunk: Buffer) => {
      this.buf += chunk.toString("utf8");
      for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
        const m = decodeSyncLine(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
        if (m) this.push(m);
      }
    });
    const close = () => {
      this.closed = true;
      const w = this.waiting;
      this.waiting = undefined;
      w?.(undefined);
    };
    stream.on("error", close);
    stream.on("close", close);
    stream.on("end", close);
  }

  private push(m: SyncMessage): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w(m);
    } else this.queue.push(m);
  }

  next(): Promise<SyncMessage | undefined> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  destroy(): void {
    this.stream.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The service

export interface ExecServiceDeps {
  readonly containers: ContainerService;
  readonly driver: RuntimeDriver;
  /** `<runroot>/exec`: one directory per exec session. */
  readonly execDir: string;
  /** The host's capabilities (for Privileged). */
  readonly hostCapabilities: () => Promise<readonly string[]>;
  /** Environment for conmon and runc. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface ExecOptions {
  readonly attach?: AttachHandlers;
  readonly signal?: AbortSignal;
}

/** A session whose state directory is older than this and whose conmon is gone is swept. */
const STALE_MS = 10_000;

export class ExecService {
  constructor(readonly deps: ExecServiceDeps) {}

  private get driver(): RuntimeDriver {
    return this.deps.driver;
  }

  /** Starts `config.Cmd` in the container; see the module comment for the lifecycle. */
  async exec(ref: string, config: ExecConfig, opts: ExecOptions = {}): Promise<ExecSession | undefined> {
    if (!Array.isArray(config.Cmd) || config.Cmd.length === 0 || config.Cmd[0] === "")
      throw invalidArgument("No exec command specified");
    // Under the container's lock until the process runs: a racing stop or rm waits for it.
    const target = this.deps.containers.resolve(ref);
    return this.deps.containers.withContainerLock(target.id, () => this.execLocked(ref, config, opts));
  }

  private async execLocked(
    ref: string,
    config: ExecConfig,
    opts: ExecOptions,
  ): Promise<ExecSession | undefined> {
    const info = await this.deps.containers.inspect(ref);
    const id = info.Id;
    const status = info.State.Status;
    if (status === "paused") throw conflict(`Container ${ref} is paused, unpause the container before exec`);
    if (status === "restarting")
      throw conflict(`Container ${id} is restarting, wait until the container is running`);
    if (status !== "running") throw conflict(`container ${id} is not running`);
    await bestEffort("removing exec sessions of dead processes", this.sweep());

    const rec = this.deps.containers.resolve(id);
    const rootfs = this.driver.rootfs(id);
    const [passwd, group, specText] = await Promise.all([
      readFileInRoot(rootfs, "/etc/passwd"),
      readFileInRoot(rootfs, "/etc/group"),
      readFile(join(this.driver.bundle(id), "config.json"), "utf8"),
    ]);
    const user = resolveUser(
      config.User || rec.config.User || "",
      { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) },
      rec.hostConfig.GroupAdd,
    );
    const proc = execProcessSpec({
      container: decodeContainerProcess(specText),
      containerConfig: rec.config,
      exec: config,
      user,
      allCapabilities: config.Privileged ? orderedAvailable(await this.deps.hostCapabilities()) : [],
    });

    const execId = randomBytes(32).toString("hex");
    const dir = join(this.deps.execDir, execId);
    await mkdir(join(dir, "exits"), { recursive: true, mode: 0o700 });
    await writeFile(join(dir, "process.json"), serializeExecProcess(proc), { mode: 0o600 });
    const attachId = `x${execId.slice(0, 11)}`;
    const cleanup = () => this.removeSession(execId);
    const attach = !config.Detach && opts.attach ? opts.attach : undefined;
    try {
      // Docker's actions name the command: `exec_start: sh -c true`.
      const command = config.Cmd.join(" ");
      const started = () => {
        this.deps.containers.emit(rec, `exec_create: ${command}`, { execID: execId });
        this.deps.containers.emit(rec, `exec_start: ${command}`, { execID: execId });
      };
      const died = (code: number | null) =>
        this.deps.containers.emit(rec, "exec_die", { execID: execId, exitCode: String(code ?? -1) });
      return await this.launch({
        id,
        name: rec.name,
        execId,
        dir,
        attachId,
        config,
        attach,
        cleanup,
        opts,
        started,
        died,
      });
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  private async launch(o: {
    id: string;
    name: string;
    execId: string;
    dir: string;
    attachId: string;
    config: ExecConfig;
    attach: AttachHandlers | undefined;
    cleanup: () => Promise<void>;
    opts: ExecOptions;
    /** The process runs (exec_create, exec_start events). */
    started: () => void;
    /** The attached process ended with this code (exec_die event). */
    died: (code: number | null) => void;
  }): Promise<ExecSession | undefined> {
    const { dir, attach, config } = o;
    await mkdir(this.driver.opts.conmonDir, { recursive: true });
    const args = conmonArgs({
      id: o.id,
      attachId: o.attachId,
      name: o.name,
      bundle: dir,
      runcRoot: this.driver.opts.runcRoot,
      ...(this.driver.opts.runcBinary ? { runc: this.driver.opts.runcBinary } : {}),
      logPath: undefined,
      exitDir: join(dir, "exits"),
      socketDir: this.driver.opts.conmonDir,
      containerPidFile: join(dir, "pid"),
      conmonPidFile: join(dir, "conmon.pid"),
      terminal: !!config.Tty,
      stdin: !!attach && !!config.AttachStdin,
      exec: { processSpec: join(dir, "process.json"), attach: !!attach },
      env: this.deps.env,
    });
    // fd 3: sync (PID, then exit code); fd 4: start (released twice when attaching); fd 5: attach ready.
    const child = spawn(CONMON, args, {
      stdio: attach
        ? ["ignore", "ignore", "pipe", "pipe", "pipe", "pipe"]
        : ["ignore", "ignore", "pipe", "pipe"],
      env: {
        ...this.deps.env,
        _OCI_SYNCPIPE: "3",
        ...(attach ? { _OCI_STARTPIPE: "4", _OCI_ATTACHPIPE: "5" } : {}),
      },
      detached: true,
    });
    const stderr: Buffer[] = [];
    child.stderr?.on("data", (c: Buffer) => stderr.push(c));
    const spawnError = new Promise<never>((_, reject) => {
      child.on("error", (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        reject(
          code === "ENOENT"
            ? failedPrecondition("conmon not found: install the Debian package conmon", err)
            : internal(`cannot start conmon: ${errorMessage(err)}`, err),
        );
      });
    });
    spawnError.catch(() => undefined);
    child.unref();
    const stdio: ReadonlyArray<unknown> = child.stdio;
    const pipe = (i: number): Socket => {
      const s = stdio[i];
      if (!(s instanceof Socket)) throw internal(`conmon's pipe ${i} is missing`);
      return s;
    };
    const sync = new SyncReader(pipe(3));
    const start = attach ? pipe(4) : undefined;
    const ready = attach ? new SyncReader(pipe(5)) : undefined;
    start?.on("error", () => undefined);
    const conmonFailed = () => {
      const text = Buffer.concat(stderr).toString("utf8").trim();
      return internal(`conmon failed${text ? `: ${text.split("\n").pop()}` : " without a message"}`);
    };
    const closePipes = () => {
      sync.destroy();
      ready?.destroy();
      start?.destroy();
      child.stderr?.destroy();
    };

    let conn: AttachConnection | undefined;
    let outputEnded = false;
    try {
      if (attach && start && ready) {
        start.write("0");
        const msg = await Promise.race([ready.next(), spawnError]);
        if (!msg) {
          const failed = await sync.next();
          if (failed && failed.data < 0) throw execInvocationError(runcMessage(failed.message ?? ""));
          throw conmonFailed();
        }
        conn = await connectAttach(attachSocketPath(this.driver.opts.conmonDir, o.attachId), {
          onStdout: (d) => attach.onStdout(d),
          onStderr: (d) => attach.onStderr(d),
          onEnd: () => {
            outputEnded = true;
            attach.onEnd();
          },
        });
        start.write("0");
      }
      const first = await Promise.race([sync.next(), spawnError]);
      if (!first) throw conmonFailed();
      if (first.data < 0) throw execInvocationError(runcMessage(first.message ?? ""));
      const pid = first.data;
      o.started();
      if (!attach) {
        closePipes();
        return undefined;
      }
      const c = conn;
      let detached = false;
      let result: Promise<ExecInspect> | undefined;
      const wait = async (): Promise<ExecInspect> => {
        const m = await sync.next();
        let code: number | null = m ? m.data : null;
        if (code === null || code < 0) code = await this.exitFileCode(o.execId, o.id);
        closePipes();
        await o.cleanup();
        o.died(code);
        return { ID: o.execId, ContainerID: o.id, Running: false, ExitCode: code, Pid: pid };
      };
      return {
        id: o.execId,
        writeStdin: async (d) => c?.writeStdin(Buffer.from(d.buffer, d.byteOffset, d.byteLength)),
        endStdin: () => c?.endStdin(),
        resize: (h, w) => this.resize(o.execId, h, w),
        detach: () => {
          if (detached) return;
          detached = true;
          // Detaching while the process runs lets it go on alone; after its output ended, the
          // exit code is still to come through the sync pipe for wait().
          const running = !outputEnded;
          c?.close();
          if (!result && running) closePipes();
        },
        wait: () => {
          result ??= wait();
          return result;
        },
      };
    } catch (err) {
      conn?.close();
      closePipes();
      throw err;
    }
  }

  private async exitFileCode(execId: string, containerId: string): Promise<number | null> {
    try {
      const n = Number.parseInt(
        await readFile(join(this.deps.execDir, execId, "exits", containerId), "utf8"),
        10,
      );
      return Number.isNaN(n) ? null : n;
    } catch {
      return null;
    }
  }

  /** Resizes the session's terminal through its conmon's ctl FIFO. */
  private async resize(execId: string, height: number, width: number): Promise<void> {
    // Non-blocking: once the session's conmon is gone nobody reads the FIFO, and a blocking open
    // would wait forever (ENXIO instead).
    const fh = await open(join(this.deps.execDir, execId, "ctl"), constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      await fh.write(`1 ${height} ${width}\n`);
    } finally {
      await fh.close();
    }
  }

  private async removeSession(execId: string): Promise<void> {
    await rm(join(this.driver.opts.conmonDir, `x${execId.slice(0, 11)}`), { force: true });
    await rm(join(this.deps.execDir, execId), { recursive: true, force: true });
  }

  /** Removes the state of sessions whose conmon is gone (detached ones, killed CLIs). */
  async sweep(): Promise<void> {
    const names = await readdir(this.deps.execDir).catch(() => [] as string[]);
    const cutoff = Date.now() - STALE_MS;
    for (const name of names) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const dir = join(this.deps.execDir, name);
      const pidText = await readFile(join(dir, "conmon.pid"), "utf8").catch(() => undefined);
      const pid = pidText === undefined ? Number.NaN : Number.parseInt(pidText, 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) continue;
      const st = await stat(dir).catch(() => undefined);
      if (!st || st.mtimeMs > cutoff) continue;
      await this.removeSession(name);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
