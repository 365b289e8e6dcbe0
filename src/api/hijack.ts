/**
 * Taking over a connection for attach and exec start, as Docker does: with `Connection: Upgrade`
 * / `Upgrade: tcp` the answer is `101 UPGRADED` and the socket then carries the container's
 * output one way and its stdin the other (half-close ends stdin, output goes on); without it
 * (docker-py's plain form) a `200 OK` with the stream as the body, closed at the end.
 * Also: Docker's detach keys, watched for in stdin.
 * It carries bytes and watches stdin for the detach keys; it never frames the output (streams.ts)
 * and never acts on the container itself (the engine's session does).
 */
import type { Writable } from "node:stream";
import { errorMessage, invalidArgument } from "../base/errors.js";
import { debug } from "../base/log.js";

import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../engine/detach-keys.js";
import type { RequestContext } from "./router.js";
import { OutputWriter } from "./streams.js";

export interface Hijacked {
  readonly out: OutputWriter;
  /**
   * Calls back with the client's input (stdin), one chunk at a time: reading pauses until the
   * promise `data` returns settles (the container took the bytes); `end` runs once, after the
   * last chunk, when the client half-closes.
   */
  onInput(data: (chunk: Buffer) => Promise<void> | void, end: () => void): void;
  /** Ends the output and the connection. */
  close(): void;
  /** Resolves when the client went away (or close() ran). */
  readonly closed: Promise<void>;
}

/** The stream's media type: multiplexed framing (API 1.42 and later say so) or raw bytes. */
function contentType(multiplexed: boolean): string {
  return multiplexed ? "application/vnd.docker.multiplexed-stream" : "application/vnd.docker.raw-stream";
}

export function hijack(ctx: RequestContext, opts: { multiplexed: boolean }): Hijacked {
  const up = ctx.upgrade;
  if (up) {
    const socket = up.socket;
    socket.write(
      `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType(opts.multiplexed)}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
    );
    // The response object no longer speaks for this socket.
    ctx.res.detachSocket(socket as import("node:net").Socket);
    const closed = new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
    });
    return {
      out: new OutputWriter(socket as Writable, opts),
      onInput(data, end) {
        const feed = serially(socket, data, end);
        if (up.head.length > 0) feed.chunk(up.head);
        socket.on("data", feed.chunk);
        // A socket emits its end at the client's half-close whenever nothing is buffered, read
        // or not: a client with no input at all (`attach < /dev/null`) may have ended before
        // the session existed. That end is the input's end, after whatever came before it.
        if (socket.readableEnded) feed.end();
        else socket.once("end", feed.end);
        socket.resume();
      },
      close() {
        if (!socket.destroyed) socket.end();
      },
      closed,
    };
  }
  const { res, req } = ctx;
  // The plain form: no chunked encoding and no keep-alive, the stream is the body.
  res.useChunkedEncodingByDefault = false;
  res.shouldKeepAlive = false;
  res.writeHead(200, { "Content-Type": contentType(opts.multiplexed), Connection: "close" });
  res.flushHeaders();
  const closed = new Promise<void>((resolve) => {
    res.once("close", () => resolve());
  });
  return {
    out: new OutputWriter(res, opts),
    onInput(data, end) {
      req.on("data", data);
      if (req.readableEnded) end();
      else req.once("end", end);
    },
    close() {
      if (!res.writableEnded) res.end();
    },
    closed,
  };
}

/**
 * Hands a readable's chunks to an async consumer one at a time, pausing the readable while a
 * chunk is being taken (backpressure to the client), and the end after the last chunk. A failed
 * write ends the input: the container is gone, later bytes have nowhere to go.
 */
function serially(
  from: { pause(): unknown; resume(): unknown },
  data: (chunk: Buffer) => Promise<void> | void,
  end: () => void,
): { chunk: (c: Buffer) => void; end: () => void } {
  let queue: Promise<void> = Promise.resolve();
  let failed = false;
  return {
    chunk: (c) => {
      from.pause();
      queue = queue
        .then(async () => {
          if (!failed) await data(c);
        })
        .catch((err: unknown) => {
          failed = true;
          debug(`attach input ends: ${errorMessage(err)}`);
        })
        .finally(() => from.resume());
    },
    end: () => {
      queue = queue.then(() => {
        if (!failed) end();
      });
    },
  };
}

/**
 * The detach sequence of an attach (`detachKeys` query) or exec (`DetachKeys`): Docker's default
 * when none is given; bad notation is the daemon's 400 with its wording for each (`what`).
 */
export function detachKeysOrDefault(text: string | undefined, what: "detach" | "escape"): number[] {
  if (text === undefined || text === "") return [...DEFAULT_DETACH_KEYS];
  const keys = parseDetachKeys(text);
  if (!keys) throw invalidArgument(`Invalid ${what} keys (${text}) provided`);
  return keys;
}

/**
 * Watches stdin for the detach sequence. Bytes that might start the sequence are held back;
 * when the sequence is complete, `onDetach` runs and what came before it is passed on.
 */
export class DetachWatcher {
  private readonly keys: readonly number[];
  private held: number[] = [];

  constructor(keys: readonly number[]) {
    this.keys = keys;
  }

  /** Returns the bytes to pass to the container and whether the sequence was typed. */
  feed(chunk: Uint8Array): { pass: Buffer; detach: boolean } {
    const pass: number[] = [];
    for (const b of chunk) {
      if (this.keys.length > 0 && b === this.keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === this.keys.length) {
          this.held = [];
          return { pass: Buffer.from(pass), detach: true };
        }
        continue;
      }
      if (this.held.length > 0) {
        pass.push(...this.held);
        this.held = [];
        if (this.keys.length > 0 && b === this.keys[0]) {
          this.held.push(b);
          continue;
        }
      }
      pass.push(b);
    }
    return { pass: Buffer.from(pass), detach: false };
  }
}

/**
 * Runs a call on a session whose connection may already be gone (stdin after the process ended,
 * detach after the output ended): such a failure concerns no one, and must not escape.
 */
export function safely(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // the session ended first
    debug(`a call on an ended session: ${errorMessage(err)}`);
  }
}
