/**
 * Exec sessions' conmon (`conmon -e --exec-process-spec FILE`, which runs `runc exec --detach`):
 * the runtime's second launcher beside `launchConmon`, with three pipes instead of one.
 *
 * Attached: conmon reports on `_OCI_ATTACHPIPE` once its attach socket listens; we connect, then
 * release it through `_OCI_STARTPIPE`, so no output is lost. The sync pipe (`_OCI_SYNCPIPE`)
 * carries the process's PID (or runc's error, mapped here to Docker's 126/127), later its exit
 * code. Detached: the same without attaching; the PID is all there is to wait for.
 * It never writes the process spec (containers/exec.ts does) and never records the session.
 */
import { constants } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { internal } from "../base/errors.js";
import type { AttachHandlers, AttachSession, ExecInspect, ExecSession } from "../engine/types.js";
import { launchProgram } from "../sys/exec.js";
import { readTextIfExists } from "../sys/fs.js";
import { attachSocketPath, connectAttach } from "./attach.js";
import { CONMON, conmonArgs, decodeSyncLine, type SyncMessage } from "./conmon.js";
import { execInvocationError } from "./errors.js";
import { runcMessage } from "./runc.js";

/** Where conmon and runc keep their state, and the environment they run in. */
export interface ConmonHost {
  /** `<runroot>/conmon`: attach socket directories. */
  readonly conmonDir: string;
  readonly runcRoot: string;
  readonly runcBinary?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface ExecLaunchOptions {
  /** The running container. */
  readonly id: string;
  readonly name: string;
  readonly execId: string;
  /** The session's directory (conmon's bundle for it): process.json, pid files, exits/, ctl. */
  readonly dir: string;
  /** The session's attach ID ("x" + 11 hex digits: never a container's). */
  readonly attachId: string;
  readonly tty: boolean;
  readonly attachStdin: boolean;
  /** Attached sessions: where the output goes. */
  readonly attach: AttachHandlers | undefined;
  /** Deletes the session's state once its exit code was read. */
  readonly cleanup: () => Promise<void>;
  /** The process runs (exec_create, exec_start events). */
  readonly started?: () => void;
  /** The attached process ended with this code (exec_die event). */
  readonly died?: (code: number | null) => void;
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

/** Starts an exec session's process; resolves with the attached session, or undefined when detached. */
/*
 * Long on purpose: one conmon's lifetime. Its pipes (sync, start, attach-ready) are shared by the
 * handshake, the session returned (detach, wait) and the error path that closes them; split, each
 * part would need all of them passed along and the cleanup order would be harder to see.
 */
export async function launchExec(host: ConmonHost, o: ExecLaunchOptions): Promise<ExecSession | undefined> {
  const { dir, attach } = o;
  await mkdir(host.conmonDir, { recursive: true });
  const args = conmonArgs({
    id: o.id,
    attachId: o.attachId,
    name: o.name,
    bundle: dir,
    runcRoot: host.runcRoot,
    ...(host.runcBinary ? { runc: host.runcBinary } : {}),
    logPath: undefined,
    exitDir: join(dir, "exits"),
    socketDir: host.conmonDir,
    containerPidFile: join(dir, "pid"),
    conmonPidFile: join(dir, "conmon.pid"),
    terminal: o.tty,
    stdin: !!attach && o.attachStdin,
    exec: { processSpec: join(dir, "process.json"), attach: !!attach },
    env: host.env,
  });
  // fd 3: sync (PID, then exit code); fd 4: start (released twice when attaching); fd 5: attach ready.
  const { child, failed: spawnError } = launchProgram(CONMON, args, {
    pkg: "conmon",
    stdio: attach
      ? ["ignore", "ignore", "pipe", "pipe", "pipe", "pipe"]
      : ["ignore", "ignore", "pipe", "pipe"],
    env: {
      ...host.env,
      _OCI_SYNCPIPE: "3",
      ...(attach ? { _OCI_STARTPIPE: "4", _OCI_ATTACHPIPE: "5" } : {}),
    },
    detached: true,
  });
  const stderr: Buffer[] = [];
  child.stderr?.on("data", (c: Buffer) => stderr.push(c));
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

  let conn: AttachSession | undefined;
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
      conn = await connectAttach(
        attachSocketPath(host.conmonDir, o.attachId),
        {
          onStdout: (d) => attach.onStdout(d),
          onStderr: (d) => attach.onStderr(d),
          onEnd: () => {
            outputEnded = true;
            attach.onEnd();
          },
        },
        (h, w) => resizeSession(dir, h, w),
      );
      start.write("0");
    }
    const first = await Promise.race([sync.next(), spawnError]);
    if (!first) throw conmonFailed();
    if (first.data < 0) throw execInvocationError(runcMessage(first.message ?? ""));
    const pid = first.data;
    o.started?.();
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
      if (code === null || code < 0) code = await exitFileCode(dir, o.id);
      closePipes();
      await o.cleanup();
      o.died?.(code);
      return { ID: o.execId, ContainerID: o.id, Running: false, ExitCode: code, Pid: pid };
    };
    return {
      id: o.execId,
      writeStdin: async (d) => c?.writeStdin(d),
      endStdin: () => c?.endStdin(),
      resize: (h, w) => resizeSession(dir, h, w),
      detach: () => {
        if (detached) return;
        detached = true;
        // Detaching while the process runs lets it go on alone; after its output ended, the
        // exit code is still to come through the sync pipe for wait().
        const running = !outputEnded;
        c?.detach();
        if (!result && running) closePipes();
      },
      wait: () => {
        result ??= wait();
        return result;
      },
    };
  } catch (err) {
    conn?.detach();
    closePipes();
    throw err;
  }
}

async function exitFileCode(dir: string, containerId: string): Promise<number | null> {
  const text = await readTextIfExists(join(dir, "exits", containerId));
  const n = text === undefined ? Number.NaN : Number.parseInt(text, 10);
  return Number.isNaN(n) ? null : n;
}

/** Resizes the session's terminal through its conmon's ctl FIFO. */
async function resizeSession(dir: string, height: number, width: number): Promise<void> {
  // Non-blocking: once the session's conmon is gone nobody reads the FIFO, and a blocking open
  // would wait forever (ENXIO instead).
  const fh = await open(join(dir, "ctl"), constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    await fh.write(`1 ${height} ${width}\n`);
  } finally {
    await fh.close();
  }
}
