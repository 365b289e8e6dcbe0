/**
 * The HTTP edge of the API server: Docker's error body and status codes, bounded request bodies,
 * and the small response helpers every route uses. Routes never write status lines by hand.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { BerthError, errorMessage, httpStatusByKind, invalidArgument } from "../base/errors.js";

/** Limits on what a client may send. One set, used by the server and by every route. */
export interface RequestLimits {
  /** A JSON request body (container create, exec create, …). */
  readonly jsonBodyBytes: number;
  /** Request headers, all together (X-Registry-Auth and X-Registry-Config are the large ones). */
  readonly headerBytes: number;
  /** Time to receive a request's headers. */
  readonly headersTimeoutMs: number;
  /** A keep-alive connection with no request in flight is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** A request body that sends nothing for this long is abandoned (408). */
  readonly bodyIdleTimeoutMs: number;
  /** What is read and dropped of a body left unread by a failed request before answering. */
  readonly drainBytes: number;
}

export const DEFAULT_LIMITS: RequestLimits = {
  jsonBodyBytes: 8 * 1024 * 1024,
  headerBytes: 64 * 1024,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  bodyIdleTimeoutMs: 60_000,
  drainBytes: 64 * 1024 * 1024,
};

/**
 * An answer that is not an error but has no body: Docker's 304 for starting a running container
 * or stopping a stopped one.
 */
export class NotModified extends Error {
  constructor() {
    super("not modified");
    this.name = "NotModified";
  }
}

/** An error that carries its own HTTP status (only for statuses no error kind maps to). */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = "HttpError";
  }
}

/**
 * The status and Docker error body `{"message": …}` for any thrown value. A command that could
 * not be invoked (Docker's 126 and 127 of `run`) also carries `exitCode`, a field Docker's
 * clients ignore and berth's client reads instead of matching on the message.
 */
export function errorResponse(err: unknown): { status: number; message: string; exitCode?: number } {
  if (err instanceof NotModified) return { status: 304, message: "" };
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  if (err instanceof BerthError) {
    const exitCode = "exitCode" in err && typeof err.exitCode === "number" ? err.exitCode : undefined;
    return {
      status: httpStatusByKind[err.kind],
      message: err.message,
      ...(exitCode !== undefined ? { exitCode } : {}),
    };
  }
  return { status: 500, message: errorMessage(err) };
}

/**
 * A request body as the engine reads it. When the engine stops early (bad input found in the
 * first bytes), the request is left open instead of destroyed: the error answer goes out, the
 * rest of the body is read and dropped, and a client still sending sees the answer, not a broken
 * pipe (Go's server does the same).
 */
export function requestBody(req: IncomingMessage): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }),
  };
}

/** Writes a failure as Docker does, if the response has not started; otherwise ends it. */
export function sendError(res: ServerResponse, err: unknown): void {
  const { status, message, exitCode } = errorResponse(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304).end();
    return;
  }
  const body = JSON.stringify({ message, ...(exitCode !== undefined ? { exitCode } : {}) });
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204).end();
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = "text/plain",
): void {
  res.writeHead(status, {
    "Content-Type": `${contentType}; charset=utf-8`,
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Reads a request body up to `limit` bytes. Over the limit: 413 (the rest is not read). A client
 * that stops sending for `idleMs` gets 408.
 */
export async function readBody(req: IncomingMessage, limit: number, idleMs: number): Promise<Buffer> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    throw new HttpError(413, `request body is larger than ${limit} bytes`);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => finish(new HttpError(408, "timed out reading the request body")), idleMs);
    };
    const finish = (err?: Error) => {
      if (timer) clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onFail);
      req.off("aborted", onAborted);
      if (err) {
        req.resume();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish(new HttpError(413, `request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
      arm();
    };
    const onEnd = () => finish();
    const onFail = (err: Error) => finish(err);
    const onAborted = () => finish(new HttpError(400, "the client closed the request"));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onFail);
    req.on("aborted", onAborted);
    arm();
  });
}

/**
 * Reads and parses a JSON body. An empty body is `undefined` (Docker accepts an absent body for
 * most endpoints); bad JSON is 400 with the parser's reason, as Docker's "invalid JSON: …".
 */
export async function readJson(req: IncomingMessage, limits: RequestLimits): Promise<unknown> {
  return parseJson(await readBody(req, limits.jsonBodyBytes, limits.bodyIdleTimeoutMs));
}

/** Parses a JSON body already read (an upgraded request's, which Node does not read for us). */
export function parseJson(body: Buffer): unknown {
  const text = body.toString("utf8").trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidArgument(`invalid JSON: ${errorMessage(err)}`);
  }
}
