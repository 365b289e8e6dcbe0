/**
 * Container logs in conmon's k8s-file format: one record per line,
 * `<RFC 3339 time with nanoseconds> <stdout|stderr> <P|F> <text>`, where P marks a partial line
 * continued by the next record of the same stream and F a full one. Reading keeps the streams
 * apart and can follow a log that is still growing.
 * It only reads: conmon writes the log, and its rotation is containers/log-files.ts's.
 */
import { open } from "node:fs/promises";
import { errnoCode } from "../base/errors.js";
import { statIfExists } from "../sys/fs.js";

export interface LogLine {
  readonly stream: "stdout" | "stderr";
  /** The record's time as written (RFC 3339 with nanoseconds). */
  readonly time: string;
  /** ms since the epoch. */
  readonly timeMs: number;
  /** The line's bytes, with its newline when the line was complete. */
  readonly data: Buffer;
}

export interface ReadLogsOptions {
  /** Only records at or after this time (ms). */
  readonly since?: number;
  /** Only records before this time (ms). */
  readonly until?: number;
  /** Only the last N lines (after since/until). */
  readonly tail?: number;
  /** Keep reading as the file grows, until `done()` says the writer has finished. */
  readonly follow?: boolean;
  readonly done?: () => Promise<boolean>;
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

/** Parses one record; undefined for a malformed one (skipped, as Podman does). */
export function parseLogRecord(
  line: Buffer,
): { stream: "stdout" | "stderr"; time: string; partial: boolean; data: Buffer } | undefined {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(0x20, s2 + 1);
  if (s3 < 0) {
    // A record with an empty text may end right after the flag.
    if (s2 < 0) return undefined;
  }
  const time = line.subarray(0, s1).toString("latin1");
  const stream = line.subarray(s1 + 1, s2).toString("latin1");
  const flag = line.subarray(s2 + 1, s3 < 0 ? line.length : s3).toString("latin1");
  if ((stream !== "stdout" && stream !== "stderr") || (flag !== "P" && flag !== "F")) return undefined;
  return { stream, time, partial: flag === "P", data: s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1) };
}

/** ms of an RFC 3339 time with up to nanosecond precision. */
export function logTimeMs(time: string): number {
  const t = Date.parse(time.replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(t) ? 0 : t;
}

/** The log formats berth reads: conmon's k8s-file, and Docker's json-file. */
export type LogFormat = "k8s-file" | "json-file";

/**
 * Parses one json-file line (`{"log":"text\n","stream":"stdout","time":"…"}`); a text without its
 * newline is a partial line, continued by the next record of the same stream.
 */
export function parseJsonLogRecord(
  line: Buffer,
): { stream: "stdout" | "stderr"; time: string; partial: boolean; data: Buffer } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const log: unknown = "log" in v ? v.log : undefined;
  const stream: unknown = "stream" in v ? v.stream : undefined;
  const time: unknown = "time" in v ? v.time : undefined;
  if (typeof log !== "string" || typeof time !== "string") return undefined;
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const partial = !log.endsWith("\n");
  return { stream, time, partial, data: Buffer.from(partial ? log : log.slice(0, -1), "utf8") };
}

/**
 * Reads log records as complete lines per stream from `files`, oldest first: every file but the
 * last is read to its end; the last is followed (`follow`) and, when it is renamed away by a
 * rotation while followed, read to its end before the new file at its path is read from the start.
 */
/*
 * Long on purpose: the inner generators (records, emit, drain) share one reader's state — the
 * partial line carried between chunks, partial records waiting for their end, the tail buffer
 * and whether it is still draining — and the follow loop's rotation handling needs all of it.
 */
export async function* readLogs(
  files: string | readonly string[],
  opts: ReadLogsOptions & { readonly format?: LogFormat } = {},
): AsyncIterable<LogLine> {
  const paths = typeof files === "string" ? [files] : files;
  const parse = opts.format === "json-file" ? parseJsonLogRecord : parseLogRecord;
  const pending: Record<"stdout" | "stderr", Buffer[]> = { stdout: [], stderr: [] };
  const tailBuffer: LogLine[] = [];
  const tail = opts.tail;
  let draining = true;
  let carry = Buffer.alloc(0);

  const records = function* (chunk: Buffer): Generator<LogLine> {
    let buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let nl = buf.indexOf(0x0a);
    while (nl >= 0) {
      const rec = parse(buf.subarray(0, nl));
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
      if (!rec) continue;
      pending[rec.stream].push(rec.data);
      if (rec.partial) continue;
      const data = Buffer.concat([...pending[rec.stream], Buffer.from("\n")]);
      pending[rec.stream] = [];
      const timeMs = logTimeMs(rec.time);
      if (opts.since !== undefined && timeMs < opts.since) continue;
      if (opts.until !== undefined && timeMs >= opts.until) continue;
      yield { stream: rec.stream, time: rec.time, timeMs, data };
    }
    carry = Buffer.from(buf);
  };
  const emit = function* (chunk: Buffer): Generator<LogLine> {
    for (const line of records(chunk)) {
      if (draining && tail !== undefined) {
        tailBuffer.push(line);
        if (tailBuffer.length > tail) tailBuffer.shift();
      } else yield line;
    }
  };
  const openIfExists = async (path: string) => {
    try {
      return await open(path, "r");
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    }
  };
  const chunk = Buffer.alloc(64 * 1024);
  /** Reads `fh` from `position` to its current end; the new position. */
  const drain = async function* (
    fh: Awaited<ReturnType<typeof open>>,
    from: number,
  ): AsyncGenerator<LogLine, number> {
    let position = from;
    for (;;) {
      opts.signal?.throwIfAborted();
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) return position;
      position += bytesRead;
      yield* emit(Buffer.from(chunk.subarray(0, bytesRead)));
    }
  };

  // The current file is opened first: a rotation while the older files are read then moves it to
  // `.1`, which is skipped below (it is read as the current one), instead of being missed.
  const current = paths[paths.length - 1];
  let fh = current === undefined ? undefined : await openIfExists(current);
  const currentIno = fh ? (await fh.stat()).ino : undefined;
  let olderRead = false;
  try {
    // Rotated files: complete, read once each.
    for (const path of paths.slice(0, -1)) {
      const old = await openIfExists(path);
      if (!old) continue;
      try {
        if ((await old.stat()).ino !== currentIno) yield* drain(old, 0);
      } finally {
        await old.close();
      }
    }
    olderRead = true;
  } finally {
    // Closed here only when the reading stopped early (an error, or the consumer went away).
    if (!olderRead) await fh?.close();
  }
  if (current !== undefined) {
    let position = 0;
    try {
      for (;;) {
        if (fh) position = yield* drain(fh, position);
        if (draining) {
          draining = false;
          yield* tailBuffer.splice(0);
        }
        if (!opts.follow) break;
        // Renamed away by a rotation (or not there yet): the rest of the old file, then the new.
        const st = await statIfExists(current);
        const same = fh && st ? (await fh.stat()).ino === st.ino : !fh && !st;
        if (!same) {
          if (fh) {
            yield* drain(fh, position);
            await fh.close();
          }
          fh = await openIfExists(current);
          position = 0;
          continue;
        }
        if (opts.done && (await opts.done())) {
          // One last read for what was written just before the end.
          if (!st || st.size <= position) break;
          continue;
        }
        await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
      }
    } finally {
      await fh?.close();
    }
  }
  if (draining) yield* tailBuffer.splice(0);
  // Partial lines at the end of a finished log are shown as they are.
  for (const stream of ["stdout", "stderr"] as const) {
    if (pending[stream].length > 0) {
      yield { stream, time: "", timeMs: 0, data: Buffer.concat(pending[stream]) };
    }
  }
}
