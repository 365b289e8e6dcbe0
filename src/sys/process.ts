/**
 * Process identity on Linux: a PID plus the process's start time (field 22 of /proc/PID/stat,
 * in clock ticks since boot), so that a record naming a process is not fooled by PID reuse.
 */
import { readdirSync, readFileSync } from "node:fs";
import { errnoCode } from "../base/errors.js";

export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat; "" when /proc could not tell. */
  readonly start: string;
}

/** The start time of `pid`, or undefined when no such process exists. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    // Gone before or while it was read.
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ESRCH") return undefined;
    throw err;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so field 22 is rest[19]. A zombie is as good as gone.
  if (rest[0] === "Z" || rest[0] === "X") return undefined;
  return rest[19] ?? "";
}

/**
 * Whether a process with this PID exists (signal 0): ESRCH means gone; EPERM means it exists but
 * belongs to someone else. A PID of 0 or below names no single process.
 */
export function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ESRCH") return false;
    if (errnoCode(err) === "EPERM") return true;
    throw err;
  }
}

/** Sends `signal` to `pid`; false when no such process exists (ESRCH), other errors throw. */
export function signalIfExists(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ESRCH") return false;
    throw err;
  }
}

/** This process's identity. */

export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, start: processStartTime(process.pid) ?? "" };
}

/** Whether the process a record names is still the one running under that PID. */
export function processAlive(id: ProcessIdentity): boolean {
  const start = processStartTime(id.pid);
  return start !== undefined && (id.start === "" || start === id.start);
}

/** Reads a /proc file of `pid`; undefined when the process is gone (or a zombie without it). */
function procText(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ESRCH") return undefined;
    throw err;
  }
}

/** A process's command line (its arguments, NUL-separated), or undefined when it is gone. */
export function processCmdline(pid: number): string | undefined {
  return procText(pid, "cmdline");
}

/**
 * The children of `pid` (of each of its threads: /proc/PID/task/TID/children); none when the
 * process is gone or the kernel does not list children.
 */
export function childPids(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ESRCH") return [];
    throw err;
  }
  const out: number[] = [];
  for (const t of tasks) {
    for (const f of (procText(pid, `task/${t}/children`) ?? "").split(" ")) {
      const child = Number.parseInt(f, 10);
      if (child > 0) out.push(child);
    }
  }
  return out;
}
