/**
 * Exec sessions: the process spec made from the container's (user, environment, capabilities,
 * working directory), the session's directory, and the record of its run. The launch of the
 * process is the runtime's (runtime/exec-launch.ts); this module never starts conmon or runc
 * itself, and never changes the container's own record.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { conflict, errorMessage, internal, invalidArgument } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import type { AttachHandlers, ContainerConfig, ExecConfig, ExecSession } from "../engine/types.js";
import type { Runtime } from "../runtime/runtime.js";

export { execInvocationError } from "../runtime/errors.js";

import { orderedAvailable } from "../runtime/spec/capabilities.js";
import { processEnv } from "../runtime/spec/env.js";
import type { RlimitValue, SpecCapabilities, SpecProcess, SpecRlimit } from "../runtime/spec/types.js";
import { type ResolvedUser, resolveUser } from "../runtime/spec/user.js";
import { readdirIfExists, readTextIfExists, statIfExists } from "../sys/fs.js";
import { pidExists, signalIfExists } from "../sys/process.js";

import { readFileInRoot } from "../sys/root-path.js";
import type { ContainerService } from "./service.js";

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

/**
 * The exec's environment as Docker's daemon makes it: the container's process environment with
 * the exec's Env over it, and its terminal's TERM (runtime/spec/env.ts).
 */
export function execEnv(container: ContainerConfig, exec: ExecConfig, home: string): string[] {
  return processEnv({
    hostname: container.Hostname ?? "",
    tty: !!exec.Tty,
    layers: [container.Env ?? [], exec.Env ?? []],
    home,
  });
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

// ---------------------------------------------------------------------------------------------
// The service

export interface ExecServiceDeps {
  readonly containers: ContainerService;
  readonly driver: Runtime;
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

  private get driver(): Runtime {
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
      return await this.driver.launchExec({
        started: () => {
          this.deps.containers.emit(rec, `exec_create: ${command}`, { execID: execId });
          this.deps.containers.emit(rec, `exec_start: ${command}`, { execID: execId });
        },
        died: (code) =>
          this.deps.containers.emit(rec, "exec_die", { execID: execId, exitCode: String(code ?? -1) }),
        id,
        name: rec.name,
        execId,
        dir,
        attachId,
        tty: !!config.Tty,
        attachStdin: !!config.AttachStdin,
        attach,
        cleanup,
      });
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  /** Kills a session's process (a healthcheck probe past its timeout); nothing if it is gone. */
  async kill(execId: string): Promise<void> {
    if (!/^[a-f0-9]{64}$/.test(execId)) return;
    const pid = Number.parseInt((await readTextIfExists(join(this.deps.execDir, execId, "pid"))) ?? "", 10);
    if (!Number.isInteger(pid) || pid <= 0) return;
    signalIfExists(pid, "SIGKILL");
  }

  private async removeSession(execId: string): Promise<void> {
    await rm(join(this.driver.socketDir, `x${execId.slice(0, 11)}`), { force: true });
    await rm(join(this.deps.execDir, execId), { recursive: true, force: true });
  }

  /** Removes the state of sessions whose conmon is gone (detached ones, killed CLIs). */
  async sweep(): Promise<void> {
    const names = await readdirIfExists(this.deps.execDir);
    const cutoff = Date.now() - STALE_MS;
    for (const name of names) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const dir = join(this.deps.execDir, name);
      const pidText = await readTextIfExists(join(dir, "conmon.pid"));
      const pid = pidText === undefined ? Number.NaN : Number.parseInt(pidText, 10);
      if (pidExists(pid)) continue;
      const st = await statIfExists(dir);
      if (!st || st.mtimeMs > cutoff) continue;
      await this.removeSession(name);
    }
  }
}
