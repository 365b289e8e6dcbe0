/**
 * Running programs for the benchmarks: wall time of a whole process (spawn to exit), its output,
 * and its peak resident set through GNU time.
 */
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Ran {
  readonly code: number;
  readonly ms: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RanOptions {
  readonly input?: Buffer | string;
  readonly cwd?: string;
}

/** Runs a program to its exit; `ms` is the wall time from spawn to exit. */
export function run(cmd: string, args: readonly string[], opts: RanOptions = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, {
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (c: Buffer) => out.push(c));
    child.stderr?.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    if (opts.input !== undefined) {
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(opts.input);
    }
    child.on("exit", () => {
      // Wall time ends when the process exits, not when its pipes close: a daemonized grandchild
      // (conmon) may keep a copy of a pipe open without the caller waiting for it.
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      child.on("close", (code) =>
        resolve({
          code: code ?? -1,
          ms,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      );
    });
  });
}

/** Like run(), but throws unless the program exits 0. */
export async function must(cmd: string, args: readonly string[], opts: RanOptions = {}): Promise<Ran> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r;
}

export const GNU_TIME = "/usr/bin/time";

let rssSeq = 0;

/**
 * Runs a program under GNU time and returns its peak RSS in KiB (`%M`: the largest resident set
 * of the process and the children it waited for, so a short-lived `runc` child counts only when
 * it is larger than the Node.js process itself).
 */
export async function peakRss(cmd: string, args: readonly string[], opts: RanOptions = {}): Promise<number> {
  const file = join(tmpdir(), `berth-bench-rss-${process.pid}-${rssSeq++}`);
  try {
    const r = await run(GNU_TIME, ["-o", file, "-f", "%M", cmd, ...args], opts);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
    const kib = Number((await readFile(file, "utf8")).trim().split("\n").at(-1));
    if (!Number.isFinite(kib)) throw new Error(`GNU time gave no peak RSS for ${cmd}`);
    return kib;
  } finally {
    await rm(file, { force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 10 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
}
