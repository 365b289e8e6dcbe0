/**
 * conmon's attach socket (SOCK_SEQPACKET, `<socket-dir>/<attach-id>/attach`): every message from
 * conmon starts with one byte naming the stream (2 stdout, 3 stderr) followed by the data; what
 * we write is the container's stdin. Half-closing our side closes the container's stdin.
 */
import { join } from "node:path";
import { errorMessage, unavailable } from "../base/errors.js";

export const STDOUT_STREAM = 2;
export const STDERR_STREAM = 3;

export interface AttachHandlers {
  onStdout(data: Buffer): void;
  onStderr(data: Buffer): void;
  /** conmon closed the connection (the container's output ended). */
  onEnd(): void;
}

export interface AttachConnection {
  writeStdin(data: Buffer): void;
  /** Closes the container's stdin (half-close). */
  endStdin(): void;
  close(): void;
}

export function attachSocketPath(socketDir: string, attachId: string): string {
  return join(socketDir, attachId, "attach");
}

export async function connectAttach(path: string, handlers: AttachHandlers): Promise<AttachConnection> {
  // Loaded here, not at start-up: its loader asks Node for a diagnostic report (to tell glibc from
  // musl), some 15-25 ms that commands which never attach should not pay.
  const { SeqpacketSocket } = await import("node-unix-socket");
  return new Promise((resolve, reject) => {
    const sock = new SeqpacketSocket();
    let connected = false;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      handlers.onEnd();
    };
    sock.on("data", (buf: Buffer) => {
      if (buf.length === 0) return;
      const stream = buf[0];
      const data = buf.subarray(1);
      if (stream === STDERR_STREAM) handlers.onStderr(data);
      else handlers.onStdout(data);
    });
    sock.on("end", end);
    sock.on("close", end);
    sock.on("error", (err: Error) => {
      if (!connected) reject(unavailable(`cannot attach to the container: ${errorMessage(err)}`, err));
      else end();
    });
    try {
      sock.connect(path, () => {
        connected = true;
        resolve({
          writeStdin: (data) => sock.write(data),
          endStdin: () => sock.end(),
          close: () => sock.destroy(),
        });
      });
    } catch (err) {
      reject(unavailable(`cannot attach to the container: ${errorMessage(err)}`, err));
    }
  });
}
