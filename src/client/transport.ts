/**
 * The client side of the Docker Engine API's HTTP: where the server is (`unix://PATH`,
 * `tcp://HOST:PORT`, TLS with a client certificate), requests with JSON or streamed bodies,
 * Docker's error answers turned back into error kinds, and the connection hijack of attach and
 * exec start (`Connection: Upgrade`, `Upgrade: tcp`, 101).
 *
 * Lifecycle: `new Transport(target)` → requests → `close()` (ends kept-alive connections, so the
 * process can exit).
 * It speaks HTTP and maps errors to kinds; it never interprets an endpoint's body beyond that
 * (client/engine.ts does).
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  BerthError,
  errnoCode,
  errorMessage,
  invalidArgument,
  kindFromHttpStatus,
  unavailable,
} from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { negotiateApiVersion } from "../engine/api-version.js";

/** Where the engine is. */
export type HostTarget =
  | { readonly kind: "unix"; readonly path: string }
  | {
      readonly kind: "tcp";
      readonly host: string;
      readonly port: number;
      /** PEM contents: TLS with this client certificate; `verify` checks the server's against `ca`. */
      readonly tls?: {
        readonly ca?: Buffer;
        readonly cert?: Buffer;
        readonly key?: Buffer;
        readonly verify: boolean;
      };
    };

/**
 * Parses `-H`/BERTH_HOST as the docker CLI does: `unix:///path`, `tcp://host:port` (port 2375
 * when absent, 2376 with TLS). Other schemes (ssh://, npipe://, fd://) are refused.
 */
export function parseHost(
  raw: string,
  tls: boolean,
): { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number } {
  const m = /^([a-z]+):\/\/(.*)$/.exec(raw);
  if (!m) throw invalidArgument(`invalid host ${JSON.stringify(raw)}: want unix:///PATH or tcp://HOST:PORT`);
  const [, scheme, rest = ""] = m;
  if (scheme === "unix") {
    if (!rest.startsWith("/"))
      throw invalidArgument(`invalid host ${JSON.stringify(raw)}: the socket path must be absolute`);
    return { kind: "unix", path: rest };
  }
  if (scheme === "tcp") {
    const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/[\]]+))(?::(\d{1,5}))?\/?$/.exec(rest);
    const port = hp?.[3] !== undefined ? Number(hp[3]) : tls ? 2376 : 2375;
    if (!hp || port < 1 || port > 65535)
      throw invalidArgument(`invalid host ${JSON.stringify(raw)}: want tcp://HOST:PORT`);
    return { kind: "tcp", host: hp[1] ?? hp[2] ?? "", port };
  }
  throw invalidArgument(
    `invalid host ${JSON.stringify(raw)}: the ${scheme}:// scheme is not supported (unix:// and tcp:// are)`,
  );
}

export type Query = Record<string, string | readonly string[] | number | boolean | undefined>;

export interface RequestSpec {
  readonly method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE";
  /** The path after the version prefix, segments already encoded (see `pathOf`). */
  readonly path: string;
  readonly query?: Query;
  /** A JSON body, or bytes streamed as the body. */
  readonly json?: unknown;
  readonly body?: AsyncIterable<Uint8Array>;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal | undefined;
}

/** Builds an API path from literal parts and values (each value one encoded segment; `/` kept). */
export function pathOf(strings: TemplateStringsArray, ...values: string[]): string {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += v.split("/").map(encodeURIComponent).join("/") + (strings[i + 1] ?? "");
  });
  return out;
}

function queryString(q: Query | undefined): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (typeof v === "boolean") p.append(k, v ? "1" : "0");
    else if (typeof v === "number") p.append(k, String(v));
    else if (typeof v === "string") p.append(k, v);
    else for (const x of v) p.append(k, x);
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Reads a whole response body (bounded: answers are JSON documents, not streams). */
export async function readAll(res: IncomingMessage, limit = 256 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    const b: Buffer = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    size += b.length;
    if (size > limit) {
      res.destroy();
      throw unavailable(`the engine's answer is larger than ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}

/**
 * A command the engine could not invoke (`run` of a missing or non-executable program): the
 * error answer's `exitCode` (126 or 127), which the CLI exits with as Docker's does.
 */
export class InvocationError extends BerthError {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super("FailedPrecondition", message);
    this.exitCode = exitCode;
    this.name = "InvocationError";
  }
}

/** The error a non-2xx answer stands for: Docker's `{"message": …}` with its status's kind. */
export async function errorOf(res: IncomingMessage): Promise<BerthError> {
  const status = res.statusCode ?? 500;
  // An answer whose body breaks off still has its status: the message is then the status's.
  const text = (
    (await bestEffort("reading the engine's error body", readAll(res, 1024 * 1024))) ?? Buffer.alloc(0)
  ).toString("utf8");
  let message = text.trim();
  let exitCode: number | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) {
      if ("message" in parsed && typeof parsed.message === "string") message = parsed.message;
      if ("exitCode" in parsed && (parsed.exitCode === 126 || parsed.exitCode === 127))
        exitCode = parsed.exitCode;
    }
  } catch {
    // not JSON: the text itself
  }
  if (message === "") message = `the engine answered ${status} ${res.statusMessage ?? ""}`.trim();
  if (exitCode !== undefined) return new InvocationError(message, exitCode);
  return new BerthError(kindFromHttpStatus(status), message);
}

const NOT_LISTENING = new Set([
  "ENOENT",
  "ECONNREFUSED",
  "EACCES",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
]);

/** A failure to reach the engine (in the docker CLI's words), or of the connection to it. */
function whereOf(target: HostTarget): string {
  return target.kind === "unix" ? `unix://${target.path}` : `tcp://${target.host}:${target.port}`;
}

function unreachable(target: HostTarget, err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  const where = whereOf(target);
  const code = errnoCode(err);
  if (code !== undefined && NOT_LISTENING.has(code)) {
    return unavailable(
      `Cannot connect to the berth engine at ${where}. Is 'berth serve' running? (${errorMessage(err)})`,
      err,
    );
  }
  return unavailable(`the connection to the berth engine at ${where} failed: ${errorMessage(err)}`, err);
}

/** A hijacked connection: the raw socket and what the server sent after its 101 headers. */
export interface Hijacked {
  readonly socket: Socket;
  readonly head: Buffer;
  /** The stream's media type: multiplexed (no TTY) or raw. */
  readonly multiplexed: boolean;
}

export class Transport {
  private readonly target: HostTarget;
  private readonly agent: HttpAgent;
  /** The API version of every request, negotiated by the first one (see apiVersion). */
  private negotiated: Promise<string> | undefined;
  private version = "";

  constructor(target: HostTarget) {
    this.target = target;
    this.agent =
      target.kind === "tcp" && target.tls
        ? new HttpsAgent({
            keepAlive: true,
            ...(target.tls.ca ? { ca: target.tls.ca } : {}),
            ...(target.tls.cert ? { cert: target.tls.cert } : {}),
            ...(target.tls.key ? { key: target.tls.key } : {}),
            rejectUnauthorized: target.tls.verify,
          })
        : new HttpAgent({ keepAlive: true });
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * The API version requests use: this client's newest, or the server's when that is older
   * (`API-Version` of an unversioned `/_ping`, asked once before the first request, as the
   * docker CLI negotiates).
   */
  apiVersion(): Promise<string> {
    this.negotiated ??= this.negotiate().then(
      (v) => {
        this.version = v;
        return v;
      },
      (err: unknown) => {
        this.negotiated = undefined;
        throw err;
      },
    );
    return this.negotiated;
  }

  private negotiate(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const req = this.send(this.options({ method: "GET", path: "/_ping" }, {}, this.agent, ""));
      req.on("error", (err) => reject(unreachable(this.target, err)));
      req.on("response", (res) => {
        res.resume();
        const raw = res.headers["api-version"];
        try {
          resolve(negotiateApiVersion(Array.isArray(raw) ? raw[0] : raw, whereOf(this.target)));
        } catch (err) {
          reject(err);
        }
      });
      req.end();
    });
  }

  private options(
    spec: RequestSpec,
    headers: Record<string, string>,
    agent: HttpAgent | false,
    version = this.version,
  ): RequestOptions {
    const base: RequestOptions = {
      method: spec.method,
      path: `${version ? `/v${version}` : ""}${spec.path}${queryString(spec.query)}`,
      headers,
      agent,
    };
    if (this.target.kind === "unix") return { ...base, socketPath: this.target.path, host: "localhost" };
    const tls = this.target.tls;
    return {
      ...base,
      host: this.target.host,
      port: this.target.port,
      ...(tls && agent === false
        ? {
            ...(tls.ca ? { ca: tls.ca } : {}),
            ...(tls.cert ? { cert: tls.cert } : {}),
            ...(tls.key ? { key: tls.key } : {}),
            rejectUnauthorized: tls.verify,
          }
        : {}),
    };
  }

  private send(opts: RequestOptions) {
    return this.target.kind === "tcp" && this.target.tls ? httpsRequest(opts) : httpRequest(opts);
  }

  private headersOf(spec: RequestSpec): { headers: Record<string, string>; payload?: Buffer } {
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.json !== undefined) {
      const payload = Buffer.from(JSON.stringify(spec.json));
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(payload.length);
      return { headers, payload };
    }
    if (spec.body) headers["Content-Type"] = spec.contentType ?? "application/x-tar";
    return { headers };
  }

  /**
   * Sends a request and resolves with the response once its status is 2xx (or 304). Any other
   * status rejects with the error the body names; a lost connection rejects Unavailable.
   */
  async request(spec: RequestSpec): Promise<IncomingMessage> {
    const { headers, payload } = this.headersOf(spec);
    if (spec.signal?.aborted) throw canceledBy(spec.signal);
    await this.apiVersion();
    if (spec.signal?.aborted) throw canceledBy(spec.signal);
    return new Promise<IncomingMessage>((resolve, reject) => {
      // Streamed bodies and long answers get a connection of their own (no reuse after them).
      const req = this.send(this.options(spec, headers, spec.body ? false : this.agent));
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const onAbort = () => {
        req.destroy();
        fail(canceledBy(spec.signal));
      };
      spec.signal?.addEventListener("abort", onAbort, { once: true });
      /** The server answered: a broken pipe while the body still flows is its answer's doing. */
      let responded = false;
      /** The body's own failure (a file that cannot be read): reported as it is. */
      let sourceError: unknown;
      req.on("error", (err) => {
        if (sourceError !== undefined) fail(sourceError);
        else if (spec.signal?.aborted) fail(canceledBy(spec.signal));
        else if (!responded) fail(unreachable(this.target, err));
      });
      req.on("response", (res) => {
        responded = true;
        const status = res.statusCode ?? 500;
        res.on("close", () => spec.signal?.removeEventListener("abort", onAbort));
        if ((status >= 200 && status < 300) || status === 304) {
          settled = true;
          resolve(res);
          return;
        }
        errorOf(res).then(fail, fail);
      });
      if (payload) req.end(payload);
      else if (spec.body) {
        const body = spec.body;
        const guarded = async function* () {
          try {
            for await (const chunk of body) yield chunk;
          } catch (err) {
            sourceError = err;
            throw err;
          }
        };
        // Failures surface through the request's error event (above), or through the answer.
        pipeline(Readable.from(guarded(), { objectMode: false }), req).catch(() => undefined);
      } else req.end();
    });
  }

  /** A request whose answer is JSON: the parsed value (undefined for an empty body). */
  async json(spec: RequestSpec): Promise<unknown> {
    const res = await this.request(spec);
    const text = (await readAll(res)).toString("utf8");
    if (text.trim() === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw unavailable(
        `the engine's answer to ${spec.method} ${spec.path} is not JSON: ${errorMessage(err)}`,
      );
    }
  }

  /** A request whose answer does not matter beyond its status. */
  async call(spec: RequestSpec): Promise<number> {
    const res = await this.request(spec);
    res.resume();
    return res.statusCode ?? 200;
  }

  /**
   * Attach and exec start: asks for the connection upgrade and resolves with the raw socket on
   * 101. A plain answer is an error (with its message) before the hijack.
   */
  async hijack(spec: RequestSpec): Promise<Hijacked> {
    await this.apiVersion();
    const { headers, payload } = this.headersOf(spec);
    headers.Connection = "Upgrade";
    headers.Upgrade = "tcp";
    return new Promise<Hijacked>((resolve, reject) => {
      const req = this.send(this.options(spec, headers, false));
      req.on("error", (err) => reject(unreachable(this.target, err)));
      req.on("upgrade", (res, socket, head) => {
        const type = String(res.headers["content-type"] ?? "");
        resolve({ socket, head, multiplexed: type.includes("multiplexed") });
      });
      req.on("response", (res) => {
        errorOf(res).then(reject, reject);
      });
      req.end(payload);
    });
  }
}

function canceledBy(signal: AbortSignal | undefined): BerthError {
  const reason: unknown = signal?.reason;
  return new BerthError("Canceled", reason instanceof Error ? reason.message : "canceled");
}
