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
import type { AttachHandlers, AttachSession } from "../engine/types.js";

export const STDOUT_STREAM = 2;
export const STDERR_STREAM = 3;

/** The largest message conmon reads whole from its attach socket. */
export const ATTACH_MESSAGE_MAX = 32 * 1024;

export function attachSocketPath(socketDir: string, attachId: string): string {
  return join(socketDir, attachId, "attach");
}

async function connect(path: string): Promise<SeqpacketSocket> {
  // Loaded here, not at start-up (a native addon), and past its loader's libc probe (./unix-socket.cts).
  const { SeqpacketSocket } = (await import("./unix-socket.cjs")).loadUnixSocket();
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

/**
 * Connects to conmon's attach socket at `path`: the container's output goes to `handlers`, and
 * the session answers stdin, its end, and detaching; `resize` is how the session's terminal is
 * resized (the container's or an exec's, through its conmon's control FIFO).
 */
export async function connectAttach(
  path: string,
  handlers: AttachHandlers,
  resize: (height: number, width: number) => Promise<void>,
): Promise<AttachSession> {
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
          const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
          for (let off = 0; off < buf.length; off += ATTACH_MESSAGE_MAX) {
            const len = Math.min(ATTACH_MESSAGE_MAX, buf.length - off);
            sock.write(buf, off, len, off + len === buf.length ? done : undefined);
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
    resize,
    detach: () => {
      if (closed) return;
      closed = true;
      output.destroy();
      dropAll();
      void input?.then((sock) => sock?.destroy());
    },
  };
}
