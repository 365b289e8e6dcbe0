/**
 * Reading Docker's streamed answers: the stdcopy framing of attach, exec and logs without a TTY
 * (8-byte header: stream, three zero bytes, big-endian size), and JSON-lines progress (pull,
 * push, load, build, events, stats), whose `error` line ends a stream that failed after it began.
 * Pure decoding of bytes already received; it never opens a connection.
 */
import { BerthError, type ErrorKind, unavailable } from "../base/errors.js";

/** Splits multiplexed frames as they arrive; calls `onFrame(stream, payload)` per complete frame. */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly onFrame: (stream: number, data: Buffer) => void;

  constructor(onFrame: (stream: number, data: Buffer) => void) {
    this.onFrame = onFrame;
  }

  push(chunk: Uint8Array): void {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 8) return;
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) return;
      const stream = this.buf[0] ?? 1;
      const data = this.buf.subarray(8, 8 + size);
      this.buf = this.buf.subarray(8 + size);
      this.onFrame(stream, Buffer.from(data));
    }
  }
}

/** Yields one parsed JSON value per line of a byte stream (empty lines skipped). */
export async function* jsonLines(source: AsyncIterable<unknown>): AsyncIterable<unknown> {
  let rest = "";
  for await (const chunk of source) {
    rest += typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : "";
    for (let nl = rest.indexOf("\n"); nl >= 0; nl = rest.indexOf("\n")) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line !== "") yield parseLine(line);
    }
  }
  if (rest.trim() !== "") yield parseLine(rest.trim());
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw unavailable(`the engine sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
}

/**
 * The error of a progress line (`{"error": …, "errorDetail": {"message": …}}`), or undefined.
 * Such a failure has no status code to give it a kind: `kind` is the caller's.
 */
export function streamError(value: unknown, kind: ErrorKind): BerthError | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if ("errorDetail" in value && typeof value.errorDetail === "object" && value.errorDetail !== null) {
    const d = value.errorDetail;
    if ("message" in d && typeof d.message === "string") return new BerthError(kind, d.message);
  }
  if ("error" in value && typeof value.error === "string") return new BerthError(kind, value.error);
  return undefined;
}

/** RFC 3339 time at the start of a log line (`timestamps=1`), as the server writes it. */
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/** Splits a timestamped log record into its time and data ("" when it has none). */
export function splitTimestamp(data: Buffer): { time: string; data: Buffer } {
  const head = data.subarray(0, 40).toString("latin1");
  const m = STAMP.exec(head);
  if (!m?.[1]) return { time: "", data };
  return { time: m[1], data: data.subarray(m[0].length) };
}

/**
 * Drops top-level entries from a tar stream, passing every other block through unchanged. The
 * archives this filters are the engine's own `save` output (ustar headers, short names); an
 * entry with a PAX or GNU long-name header before it is passed through whole.
 */
export async function* withoutTarEntries(
  source: AsyncIterable<Uint8Array>,
  drop: ReadonlySet<string>,
): AsyncIterable<Uint8Array> {
  let buf: Buffer = Buffer.alloc(0);
  /** Bytes of the current entry's content (with padding) still to pass or skip. */
  let remaining = 0;
  let skipping = false;
  let ended = false;
  for await (const chunk of source) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    const out: Buffer[] = [];
    while (buf.length > 0) {
      if (ended) {
        out.push(buf);
        buf = Buffer.alloc(0);
        break;
      }
      if (remaining > 0) {
        const n = Math.min(remaining, buf.length);
        if (!skipping) out.push(buf.subarray(0, n));
        buf = buf.subarray(n);
        remaining -= n;
        continue;
      }
      if (buf.length < 512) break;
      const header = buf.subarray(0, 512);
      buf = buf.subarray(512);
      if (header.every((b) => b === 0)) {
        ended = true;
        out.push(header);
        continue;
      }
      const name = header.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
      const prefix = header.subarray(345, 500).toString("utf8").replace(/\0.*$/s, "");
      const sizeText = header
        .subarray(124, 136)
        .toString("latin1")
        .replace(/[\0 ]+$/, "")
        .trim();
      const size = sizeText === "" ? 0 : Number.parseInt(sizeText, 8);
      remaining = Math.ceil(size / 512) * 512;
      skipping = prefix === "" && drop.has(name);
      if (!skipping) out.push(header);
    }
    if (out.length > 0) yield Buffer.concat(out);
  }
  if (buf.length > 0) yield buf;
}
