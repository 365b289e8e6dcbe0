/**
 * conmon's attach socket (SOCK_SEQPACKET, `<socket-dir>/<attach-id>/attach`): every message from
 * conmon starts with one byte naming the stream (2 stdout, 3 stderr) followed by the data; what
 * a client writes is the container's stdin. A connection that ends (end-of-file, or closed)
 * closes the container's stdin unless conmon was told to leave it open.
 *
 * Two connections, one per direction: conmon sends the container's output to every attached
 * connection and takes stdin from any. The output is read from a connection we never write to;
 * stdin goes through a second one, opened when the first byte (or the end) of stdin comes. When
 * the container exits before reading all of its stdin, conmon closes with our messages unread,
 * and the kernel then resets that connection (ECONNRESET) — which must not cost the output the
 * container wrote last. The stdin connection's own copy of the output is read and dropped (conmon
 * writes it with blocking writes: a connection nobody reads would stall the container).
 *
 * conmon reads each message into a buffer of 32 KiB (its CONN_SOCK_BUF_SIZE) and the kernel drops
 * whatever of a SOCK_SEQPACKET message does not fit, so stdin goes in messages of at most that
 * size. A zero-length message would read as end-of-file, so none is ever sent.
 */
import { join } from "node:path";
import type { SeqpacketSocket } from "node-unix-socket";
import { errorMessage, unavailable } from "../base/errors.js";

export const STDOUT_STREAM = 2;
export const STDERR_STREAM = 3;

/** The largest message conmon reads whole from its attach socket. */
export const ATTACH_MESSAGE_MAX = 32 * 1024;

export interface AttachHandlers {
  onStdout(data: Buffer): void;
  onStderr(data: Buffer): void;
  /** conmon closed the connection (the container's output ended). */
  onEnd(): void;
}

export interface AttachConnection {
  /**
   * Sends data to the container's stdin, in order; resolves once it is handed to the kernel (or
   * dropped: the container's stdin is gone, or the connection was closed), so a caller can wait
   * before reading more.
   */
  writeStdin(data: Buffer): Promise<void>;
  /** Ends the container's stdin, after everything written before. */
  endStdin(): void;
  close(): void;
}

export function attachSocketPath(socketDir: string, attachId: string): string {
  return join(socketDir, attachId, "attach");
}

async function connect(path: string): Promise<SeqpacketSocket> {
  // Loaded here, not at start-up: its loader asks Node for a diagnostic report (to tell glibc from
  // musl), some 15-25 ms that commands which never attach should not pay.
  const { SeqpacketSocket } = await import("node-unix-socket");
  return new Promise((resolve, reject) => {
    const sock = new SeqpacketSocket();
    const failed = (err: unknown) => {
      sock.destroy();
      reject(unavailable(`cannot attach to the container: ${errorMessage(err)}`, err));
    };
    sock.once("error", failed);
    try {
      sock.connect(path, () => {
        sock.off("error", failed);
        resolve(sock);
      });
    } catch (err) {
      failed(err);
    }
  });
}

export async function connectAttach(path: string, handlers: AttachHandlers): Promise<AttachConnection> {
  const output = await connect(path);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    handlers.onEnd();
  };
  output.on("data", (buf: Buffer) => {
    if (buf.length === 0) return;
    const stream = buf[0];
    const data = buf.subarray(1);
    if (stream === STDERR_STREAM) handlers.onStderr(data);
    else handlers.onStdout(data);
  });
  output.on("end", end);
  output.on("close", end);
  output.on("error", end);

  let closed = false;
  /** Writes waiting for the kernel to take them; settled all at once when stdin goes away. */
  const waiting = new Set<() => void>();
  const dropAll = () => {
    for (const done of waiting) done();
    waiting.clear();
  };
  let input: Promise<SeqpacketSocket | undefined> | undefined;
  let inputGone = false;
  const stdinSocket = (): Promise<SeqpacketSocket | undefined> => {
    input ??= connect(path).then(
      (sock) => {
        sock.on("data", () => undefined);
        const gone = () => {
          inputGone = true;
          dropAll();
        };
        sock.on("error", gone);
        sock.on("close", gone);
        if (closed) sock.destroy();
        return sock;
      },
      () => {
        inputGone = true;
        return undefined;
      },
    );
    return input;
  };

  return {
    writeStdin: async (data) => {
      if (data.length === 0 || closed) return;
      const sock = await stdinSocket();
      if (!sock || inputGone || closed) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          waiting.delete(done);
          resolve();
        };
        waiting.add(done);
        try {
          for (let off = 0; off < data.length; off += ATTACH_MESSAGE_MAX) {
            const len = Math.min(ATTACH_MESSAGE_MAX, data.length - off);
            sock.write(data, off, len, off + len === data.length ? done : undefined);
          }
        } catch {
          // The connection went away between the check and the write: stdin is gone.
          inputGone = true;
          done();
        }
      });
    },
    endStdin: () => {
      if (closed) return;
      void stdinSocket().then((sock) => {
        if (sock && !inputGone && !closed) sock.end();
      });
    },
    close: () => {
      if (closed) return;
      closed = true;
      output.destroy();
      dropAll();
      void input?.then((sock) => sock?.destroy());
    },
  };
}
