/**
 * The byte formats of Docker's streaming answers: JSON-lines progress (pull, push, load, build,
 * events, stats) and the stdcopy multiplexed framing of attach/logs/exec without a TTY.
 * Pure framing over a Writable: it never decides what is sent, nor when a stream ends.
 */
import type { Writable } from "node:stream";

/** Output queued for a client that does not read, at most (see OutputWriter.push). */
export const MAX_UNREAD_BYTES = 64 * 1024 * 1024;

/** Stream identifiers of the 8-byte stdcopy header. */
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

/** The 8-byte header Docker puts before each multiplexed frame: stream, 3 zero bytes, size (BE). */
export function frameHeader(stream: 0 | 1 | 2, size: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(size, 4);
  return h;
}

/** One multiplexed frame (header and payload). Payloads over 4 GiB do not occur (chunks are small). */
export function frame(stream: 0 | 1 | 2, data: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(stream, data.length), data]);
}

/**
 * Writes a container's output to a client: framed per stream (multiplexed) when the container
 * has no TTY, the bytes as they are (raw) when it has one. Honours backpressure through `drain`.
 */
export class OutputWriter {
  private readonly out: Writable;
  readonly multiplexed: boolean;

  constructor(out: Writable, opts: { multiplexed: boolean }) {
    this.out = out;
    this.multiplexed = opts.multiplexed;
  }

  /** The client is gone (or the stream was closed). */
  get destroyed(): boolean {
    return this.out.destroyed;
  }

  /** The Content-Type Docker sends for this framing. */
  get contentType(): string {
    return this.multiplexed
      ? "application/vnd.docker.multiplexed-stream"
      : "application/vnd.docker.raw-stream";
  }

  /** Writes one chunk; resolves when the socket can take more. */
  async write(stream: 1 | 2, data: Uint8Array): Promise<void> {
    if (data.length === 0 || this.out.destroyed) return;
    const ok = this.out.write(this.multiplexed ? frame(stream, data) : data);
    if (!ok) await drained(this.out);
  }

  /**
   * Writes without waiting (for callbacks that cannot wait, such as attach handlers). A client
   * that reads nothing while more than `MAX_UNREAD_BYTES` pile up is cut off: its connection
   * ends, the container runs on, and the server's memory stays bounded.
   */
  push(stream: 1 | 2, data: Uint8Array): void {
    if (data.length === 0 || this.out.destroyed) return;
    if (this.out.writableLength > MAX_UNREAD_BYTES) {
      this.out.destroy(new Error("the client stopped reading"));
      return;
    }
    this.out.write(this.multiplexed ? frame(stream, data) : data);
  }
}

/** JSON-lines writer: one object per line, as Docker's progress streams (`\r\n` after each). */
export class JsonLinesWriter {
  private readonly out: Writable;

  constructor(out: Writable) {
    this.out = out;
  }

  async write(value: unknown): Promise<void> {
    if (this.out.destroyed) return;
    const ok = this.out.write(`${JSON.stringify(value)}\r\n`);
    if (!ok) await drained(this.out);
  }
}

/** Resolves when a writable drains, or is closed (never hangs on a client that went away). */
export function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      out.off("error", done);
      resolve();
    };
    out.on("drain", done);
    out.on("close", done);
    out.on("error", done);
  });
}
