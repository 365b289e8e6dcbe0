/**
 * Cross-process exclusive locks by name: `flock(2)` on `<dir>/<name>`, for "one actor at a time
 * on this container" across every berth process sharing a store (CLI commands, conmon's exit
 * commands, an API server).
 *
 * Node has no flock(2), so this process opens the lock file itself and has util-linux's
 * `flock(1)` take the lock on that open file, passed to it as its descriptor 3. A flock belongs to
 * the open file description, not to the process that asked for it: once `flock(1)` has exited with
 * the lock taken, the lock stays held by this process's descriptor alone. Closing it releases the
 * lock (no process involved), and the lock dies with its holder: the kernel closes a killed
 * process's descriptors (Node opens files close-on-exec, so no child inherits one). One short-lived
 * helper per acquisition, nothing running while the lock is held. Lock files are empty, on the
 * runroot (a tmpfs), and never deleted (deleting a lock file another process is waiting on would
 * let two holders in).
 *
 * Within one process, holders of one name queue in memory first (an API server runs many verbs at
 * once) and a holder that asks again for a name it holds (`restart` = stop + start) gets it at
 * once: the lock is re-entrant along one asynchronous call chain.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import {
  canceled,
  errnoCode,
  errorMessage,
  failedPrecondition,
  internal,
  invalidArgument,
} from "../base/errors.js";

export interface LockOptions {
  /** Gives up waiting (a `Canceled` error); a lock already held is not affected. */
  readonly signal?: AbortSignal;
}

/** One held lock, as seen by the asynchronous chain holding it. */
interface Held {
  readonly path: string;
  active: boolean;
}

const heldByChain = new AsyncLocalStorage<ReadonlyArray<Held>>();

/** Per-path in-process queue: the promise the next holder waits for. */
const queues = new Map<string, Promise<void>>();

export class LockDir implements LockDirApi {
  private made = false;

  constructor(readonly dir: string) {}

  /** The lock file of `name` (a container ID, or another safe file name). */
  pathOf(name: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw invalidArgument(`invalid lock name: ${name}`);
    return join(this.dir, name);
  }

  /**
   * Runs `fn` holding the lock of `name`, released when `fn` settles (or when this process dies).
   * Re-entrant: called again for the same name inside `fn`, it runs at once.
   */
  async with<T>(name: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
    const path = this.pathOf(name);
    const chain = heldByChain.getStore() ?? [];
    if (chain.some((h) => h.path === path && h.active)) return fn();
    // In-process queue first, so one process never has two flock helpers waiting on one file;
    // joined before any await, so holders are served in the order they asked.
    const before = queues.get(path) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => {
      done = r;
    });
    const tail = before.then(() => mine);
    queues.set(path, tail);
    try {
      await waitOrAbort(before, opts.signal);
      if (!this.made) {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
        this.made = true;
      }
      const release = await acquireFile(path, { wait: true, signal: opts.signal });
      if (!release) throw internal(`cannot take a lock on ${path}`);
      return await runHolding(chain, path, fn, release);
    } finally {
      done();
      if (queues.get(path) === tail) queues.delete(path);
    }
  }

  /**
   * Runs `fn` holding the lock of `name` only if it is free now (or this call chain holds it);
   * otherwise does nothing: for reads that would record what they found (an exit) but must not
   * wait behind a verb in progress, which will record it itself.
   */
  async tryWith<T>(name: string, fn: () => Promise<T>): Promise<TryResult<T>> {
    const path = this.pathOf(name);
    const chain = heldByChain.getStore() ?? [];
    if (chain.some((h) => h.path === path && h.active)) return { acquired: true, value: await fn() };
    if (queues.has(path)) return { acquired: false };
    if (!this.made) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      this.made = true;
    }
    let done!: () => void;
    const mine = new Promise<void>((r) => {
      done = r;
    });
    queues.set(path, mine);
    try {
      const release = await acquireFile(path, { wait: false, signal: undefined });
      if (!release) return { acquired: false };
      return { acquired: true, value: await runHolding(chain, path, fn, release) };
    } finally {
      done();
      if (queues.get(path) === mine) queues.delete(path);
    }
  }
}

async function runHolding<T>(
  chain: ReadonlyArray<Held>,
  path: string,
  fn: () => Promise<T>,
  release: () => Promise<void>,
): Promise<T> {
  const held: Held = { path, active: true };
  try {
    return await heldByChain.run([...chain, held], fn);
  } finally {
    held.active = false;
    await release();
  }
}

/** flock(1)'s exit code when `--nonblock` finds the lock taken. */
const BUSY_EXIT = 75;

export type TryResult<T> = { readonly acquired: true; readonly value: T } | { readonly acquired: false };

export interface LockDirApi {
  with<T>(name: string, fn: () => Promise<T>, opts?: LockOptions): Promise<T>;
  tryWith<T>(name: string, fn: () => Promise<T>): Promise<TryResult<T>>;
}

function waitOrAbort(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(canceled("waiting for a lock canceled"));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(canceled("waiting for a lock canceled"));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/**
 * Takes the flock of `path` for this process (see the module comment); resolves with its release,
 * or with undefined when `wait` is false and another holder has it.
 */
async function acquireFile(
  path: string,
  o: { wait: boolean; signal: AbortSignal | undefined },
): Promise<(() => Promise<void>) | undefined> {
  const { signal } = o;
  if (signal?.aborted) throw canceled("waiting for a lock canceled");
  const file = await open(path, constants.O_RDONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  let taken: boolean;
  try {
    taken = await flockDescriptor(file, path, o);
  } catch (err) {
    // A helper killed after it took the lock leaves it on this description only: closing drops it.
    await file.close();
    throw err;
  }
  if (!taken) {
    await file.close();
    return undefined;
  }
  return () => file.close();
}

/** Runs `flock(1)` on `file`'s open file description; true once the lock is taken. */
function flockDescriptor(
  file: FileHandle,
  path: string,
  o: { wait: boolean; signal: AbortSignal | undefined },
): Promise<boolean> {
  const { signal } = o;
  return new Promise((resolve, reject) => {
    const args = o.wait
      ? ["--exclusive", "3"]
      : ["--exclusive", "--nonblock", "--conflict-exit-code", String(BUSY_EXIT), "3"];
    const child = spawn("flock", args, { stdio: ["ignore", "ignore", "pipe", file.fd] });
    const stderr: Buffer[] = [];
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      child.kill("SIGKILL");
      // Rejected once the helper is gone, so the caller's close is the last reference.
      child.once("close", () => settle(() => reject(canceled("waiting for a lock canceled"))));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    child.stderr?.on("data", (c: Buffer) => stderr.push(c));
    child.on("error", (err) => {
      settle(() =>
        reject(
          errnoCode(err) === "ENOENT"
            ? failedPrecondition("flock not found: install the Debian package util-linux", err)
            : internal(`cannot take a lock on ${path}: ${errorMessage(err)}`, err),
        ),
      );
    });
    child.on("close", (code) => {
      if (signal?.aborted) return;
      if (code === 0) settle(() => resolve(true));
      else if (code === BUSY_EXIT && !o.wait) settle(() => resolve(false));
      else {
        const text = Buffer.concat(stderr).toString("utf8").trim();
        settle(() =>
          reject(
            internal(
              `cannot take a lock on ${path}: flock exited ${code ?? "on a signal"}${text ? `: ${text}` : ""}`,
            ),
          ),
        );
      }
    });
  });
}
