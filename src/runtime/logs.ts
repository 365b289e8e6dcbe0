/**
 * Container logs in conmon's k8s-file format: one record per line,
 * `<RFC 3339 time with nanoseconds> <stdout|stderr> <P|F> <text>`, where P marks a partial line
 * continued by the next record of the same stream and F a full one. Reading keeps the streams
 * apart and can follow a log that is still growing.
 */
import { open, stat } from "node:fs/promises";
import { errnoCode } from "../base/errors.js";

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

/** Reads log records from `path` as complete lines per stream. */
export async function* readLogs(path: string, opts: ReadLogsOptions = {}): AsyncIterable<LogLine> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  const pending: Record<"stdout" | "stderr", Buffer[]> = { stdout: [], stderr: [] };
  let carry = Buffer.alloc(0);
  let position = 0;
  const tailBuffer: LogLine[] = [];
  const tail = opts.tail;
  let draining = true;

  const records = function* (chunk: Buffer): Generator<LogLine> {
    let buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let nl = buf.indexOf(0x0a);
    while (nl >= 0) {
      const rec = parseLogRecord(buf.subarray(0, nl));
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

  try {
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      opts.signal?.throwIfAborted();
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        for (const line of records(Buffer.from(chunk.subarray(0, bytesRead)))) {
          if (draining && tail !== undefined) {
            tailBuffer.push(line);
            if (tailBuffer.length > tail) tailBuffer.shift();
          } else yield line;
        }
        continue;
      }
      if (draining) {
        draining = false;
        yield* tailBuffer.splice(0);
      }
      if (!opts.follow) break;
      if (opts.done && (await opts.done())) {
        // One last read for what was written just before the end.
        const st = await stat(path).catch(() => undefined);
        if (!st || st.size <= position) break;
        continue;
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
    }
    // Partial lines at the end of a finished log are shown as they are.
    for (const stream of ["stdout", "stderr"] as const) {
      if (pending[stream].length > 0) {
        yield { stream, time: "", timeMs: 0, data: Buffer.concat(pending[stream]) };
      }
    }
  } finally {
    await fh.close();
  }
}
