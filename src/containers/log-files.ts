/**
 * A container's log files on disk, for the file drivers of log-config.ts, and the work that
 * keeps them as the LogConfig says while conmon writes.
 *
 * conmon writes only its k8s-file (`container.log`), so:
 * - k8s-file with max-file=1: conmon starts the file afresh at max-size (`--log-size-max`);
 * - k8s-file with max-file=N>1: the store's supervisor (health-supervisor.ts) rotates it, once a
 *   second, when it has reached max-size: `container.log.(N-2)` → `.(N-1)` …, `container.log` →
 *   `container.log.1`, then asks conmon to reopen its file (control FIFO), which starts a new
 *   `container.log`; conmon writes into the renamed file until then, so nothing is lost;
 * - json-file: `container.log` is conmon's output in transit. Its complete lines are converted
 *   into Docker's json-file lines (`{"log":…,"stream":…,"attrs":…,"time":…}`) appended to
 *   `<id>-json.log`, which is rotated as Docker's json-file does (before a line that would take
 *   it past max-size; N files kept). The conversion runs in the supervisor each second, in `logs`
 *   before it reads, and in conmon's exit command. Its progress (inode and offset of the
 *   k8s-file) is kept in `json-log.state`; the k8s-file is swapped for a new one (renamed, conmon
 *   told to reopen) once 256 KiB of it were converted, so it stays small.
 *
 * Limits: between two looks of the supervisor a file may grow past max-size by what the
 * container wrote meanwhile; while no supervisor runs (killed; the next berth command's recovery
 * starts it again) rotation waits and json-file lines are not written yet (`logs` converts what
 * is there). A crash between appending json lines and saving the offset repeats those lines.
 * Conversion happens under the lock `log-<id>`.
 */
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "../base/errors.js";
import type { ContainerRecord } from "../metadata/containers.js";
import { parseLogRecord } from "../runtime/logs.js";
import type { Runtime } from "../runtime/runtime.js";
import { readTextIfExists, statIfExists, writeFileAtomic } from "../sys/fs.js";
import type { LockDirApi } from "../sys/lock.js";
import { expandTag, maxLogFiles, maxLogSize } from "./log-config.js";

/** Bytes of conmon's k8s-file converted after which it is swapped for a new one. */
const SWAP_AFTER_BYTES = 256 * 1024;

export interface LogFilesDeps {
  readonly driver: Runtime;
  readonly locks: LockDirApi;
}

/** The file a container's log driver writes (inspect's LogPath): conmon's, or the json-file. */
export function currentLogPath(driver: Runtime, rec: Pick<ContainerRecord, "id" | "hostConfig">): string {
  return rec.hostConfig.LogConfig?.Type === "json-file"
    ? join(driver.dir(rec.id), `${rec.id}-json.log`)
    : driver.logPath(rec.id);
}

/** Every log file of the container, oldest first (`.N-1` … `.1`, then the current one). */
export function logFileList(current: string, maxFile: number): string[] {
  const out: string[] = [];
  for (let k = maxFile - 1; k >= 1; k--) out.push(`${current}.${k}`);
  out.push(current);
  return out;
}

async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
}

/** Shifts the rotated files by one and moves the current file to `.1` (with one file: removes it). */
export async function rotateFiles(current: string, maxFile: number): Promise<void> {
  if (maxFile <= 1) {
    await rm(current, { force: true });
    return;
  }
  await rm(`${current}.${maxFile - 1}`, { force: true });
  for (let k = maxFile - 2; k >= 1; k--) await renameIfExists(`${current}.${k}`, `${current}.${k + 1}`);
  await renameIfExists(current, `${current}.1`);
}

/** conmon's k8s-file of a k8s-file container with max-file > 1: rotated once it reached max-size. */
export async function rotateK8sLog(deps: LogFilesDeps, rec: ContainerRecord): Promise<void> {
  const cfg = rec.hostConfig.LogConfig;
  const path = deps.driver.logPath(rec.id);
  const size = (await statIfExists(path))?.size ?? 0;
  if (size < maxLogSize(cfg)) return;
  await deps.locks.with(`log-${rec.id}`, async () => {
    const again = (await statIfExists(path))?.size ?? 0;
    if (again < maxLogSize(cfg)) return;
    await rotateFiles(path, maxLogFiles(cfg));
    await deps.driver.reopenLog(rec.id);
  });
}

/** Go's RFC3339Nano in UTC ("…T01:02:03.1234Z": trailing zeros of the fraction dropped). */
export function jsonLogTime(k8sTime: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$/.exec(k8sTime);
  if (!m) return k8sTime;
  const [, whole = "", frac = "", zone = "Z"] = m;
  let base = whole;
  if (zone !== "Z" && !/^[+-]00:?00$/.test(zone)) {
    const ms = Date.parse(`${whole}${zone}`);
    base = new Date(ms).toISOString().slice(0, 19);
  }
  const f = frac.replace(/0+$/, "");
  return `${base}${f ? `.${f}` : ""}Z`;
}

/** One json-file line (with its newline) in Docker's key order: log, stream, attrs, time. */
export function jsonLogLine(
  rec: { stream: string; time: string; partial: boolean; data: Buffer },
  attrs: Readonly<Record<string, string>> | undefined,
): string {
  const log = rec.data.toString("utf8") + (rec.partial ? "" : "\n");
  const a = attrs && Object.keys(attrs).length > 0 ? `,"attrs":${JSON.stringify(attrs)}` : "";
  return `{"log":${JSON.stringify(log)},"stream":${JSON.stringify(rec.stream)}${a},"time":${JSON.stringify(jsonLogTime(rec.time))}}\n`;
}

interface ConvertState {
  readonly ino: number;
  readonly offset: number;
}

async function readState(file: string): Promise<ConvertState | undefined> {
  const text = (await readTextIfExists(file)) ?? "";
  const m = /^(\d+) (\d+)$/.exec(text.trim());
  return m ? { ino: Number(m[1]), offset: Number(m[2]) } : undefined;
}

/** Appends json-file lines with Docker's rotation: before a line that would pass max-size. */
class JsonLogWriter {
  private size = -1;
  constructor(
    private readonly path: string,
    private readonly maxSize: number,
    private readonly maxFile: number,
  ) {}

  async append(lines: readonly string[]): Promise<void> {
    if (this.size < 0) this.size = (await statIfExists(this.path))?.size ?? 0;
    let batch: string[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const fh = await open(this.path, "a", 0o640);
      try {
        await fh.write(batch.join(""));
      } finally {
        await fh.close();
      }
      this.size += batchBytes;
      batch = [];
      batchBytes = 0;
    };
    for (const line of lines) {
      const n = Buffer.byteLength(line);
      if (this.size + batchBytes > 0 && this.size + batchBytes + n > this.maxSize) {
        await flush();
        await rotateFiles(this.path, this.maxFile);
        this.size = 0;
      }
      batch.push(line);
      batchBytes += n;
    }
    await flush();
  }
}

/**
 * Converts what conmon wrote since the last conversion into json-file lines (json-file
 * containers). `running`: the container's conmon may still write (its file may be swapped).
 */
export async function convertJsonLog(
  deps: LogFilesDeps,
  rec: ContainerRecord,
  o: { readonly running: boolean; readonly imageName: string },
): Promise<void> {
  const cfg = rec.hostConfig.LogConfig;
  if (cfg?.Type !== "json-file") return;
  const dir = deps.driver.dir(rec.id);
  const source = deps.driver.logPath(rec.id);
  const stateFile = join(dir, "json-log.state");
  const swapped = `${source}.converting`;
  const tag = cfg.Config.tag;
  const attrs =
    tag !== undefined
      ? {
          tag: expandTag(tag, { id: rec.id, name: rec.name, imageId: rec.imageId, imageName: o.imageName }),
        }
      : undefined;
  const writer = new JsonLogWriter(currentLogPath(deps.driver, rec), maxLogSize(cfg), maxLogFiles(cfg));

  /** Converts the complete records of `path` from `from`; the offset after the last one. */
  const convert = async (
    path: string,
    from: number,
  ): Promise<{ ino: number; offset: number } | undefined> => {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path, "r");
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    }
    try {
      const ino = (await fh.stat()).ino;
      let offset = from;
      const chunk = Buffer.alloc(64 * 1024);
      let carry = Buffer.alloc(0);
      for (;;) {
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, offset + carry.length);
        if (bytesRead === 0) break;
        const buf = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
        const end = buf.lastIndexOf(0x0a);
        if (end < 0) {
          carry = buf;
          continue;
        }
        const lines: string[] = [];
        let start = 0;
        for (let nl = buf.indexOf(0x0a); nl >= 0 && nl <= end; nl = buf.indexOf(0x0a, start)) {
          const r = parseLogRecord(buf.subarray(start, nl));
          start = nl + 1;
          if (r) lines.push(jsonLogLine(r, attrs));
        }
        await writer.append(lines);
        offset += end + 1;
        carry = Buffer.from(buf.subarray(end + 1));
        await writeFileAtomic(stateFile, `${ino} ${offset}\n`);
      }
      return { ino, offset };
    } finally {
      await fh.close();
    }
  };

  await deps.locks.with(`log-${rec.id}`, async () => {
    // A swap that a killed process left half-done: its file is complete now (conmon let go of it).
    const state = await readState(stateFile);
    const swappedIno = (await statIfExists(swapped))?.ino;
    if (swappedIno !== undefined) {
      await convert(swapped, state?.ino === swappedIno ? state.offset : 0);
      await rm(swapped, { force: true });
      await writeFileAtomic(stateFile, "0 0\n");
    }
    const cur = await readState(stateFile);
    const ino = (await statIfExists(source))?.ino;
    const done = await convert(source, cur && cur.ino === ino ? cur.offset : 0);
    if (!done || !o.running || done.offset < SWAP_AFTER_BYTES) return;
    // Swap conmon's file for a new one, then convert the rest of the old once conmon let go.
    await rename(source, swapped);
    if (await deps.driver.reopenLog(rec.id)) {
      for (let i = 0; i < 100 && !(await statIfExists(source)); i++)
        await new Promise((r) => setTimeout(r, 10));
    }
    await convert(swapped, done.offset);
    await rm(swapped, { force: true });
    await writeFileAtomic(stateFile, "0 0\n");
  });
}
