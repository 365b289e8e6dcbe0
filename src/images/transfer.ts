/**
 * What pull and push share: the progress stream (Docker's JSON messages, with the same
 * `progress` bar text the daemon sends), credentials from an AuthConfig, a registry client for a
 * reference, and zstd decompression for layers (Node 20 has no zstd; fzstd is pure JS).
 */
import { Transform, type TransformCallback } from "node:stream";
import { Decompress } from "fzstd";
import { humanSize } from "../base/sizes.js";
import type { AuthConfig, AuthResponse, ProgressEvent } from "../engine/types.js";
import type { Reference } from "../oci/reference.js";
import { Authorizer, type Credentials } from "../registry/auth.js";
import { RegistryClient } from "../registry/client.js";
import {
  DOCKER_HUB_AUTH_KEY,
  domainOfServerAddress,
  type EndpointOptions,
  resolveEndpoint,
} from "../registry/endpoint.js";
import { checkLogin } from "../registry/login.js";

/** Registry settings and test hooks common to pull and push. */
export interface TransferContext {
  readonly registry?: EndpointOptions;
  readonly userAgent?: string;
}

/**
 * A queue of progress events fed by a running operation and read as an async iterable. The
 * operation calls `push` as it goes and `close`/`fail` at the end; the reader sees every event,
 * then the end, or the operation's error thrown (with its kind, so an API server can answer a
 * pull that fails before any progress with the error's status, as dockerd does).
 */
export class ProgressQueue implements AsyncIterable<ProgressEvent> {
  private readonly items: ProgressEvent[] = [];
  private waiter: (() => void) | undefined;
  private done = false;
  private failure: { readonly error: unknown } | undefined;

  push(e: ProgressEvent): void {
    if (this.done) return;
    this.items.push(e);
    this.wake();
  }

  close(): void {
    this.done = true;
    this.wake();
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.failure = { error: err };
    this.close();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ProgressEvent> {
    for (;;) {
      const next = this.items.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.done) {
        if (this.failure) throw this.failure.error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }
}

/** Runs `work` feeding a queue; the returned stream ends with its success or throws its error. */
export function progressStream(work: (queue: ProgressQueue) => Promise<void>): AsyncIterable<ProgressEvent> {
  const queue = new ProgressQueue();
  work(queue).then(
    () => queue.close(),
    (err: unknown) => queue.fail(err),
  );
  return queue;
}

/** Docker's JSONProgress.String() for a wide terminal, without the time-left box. */
export function progressBar(current: number, total: number): string {
  if (current <= 0 && total <= 0) return "";
  if (total <= 0) return humanSize(current).padStart(8);
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${"=".repeat(pct)}>${" ".repeat(Math.max(0, 50 - pct))}] `;
  const numbers =
    current > total
      ? humanSize(current).padStart(8)
      : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

/** A progress event with byte counts. */
export function progressEvent(id: string, status: string, current: number, total: number): ProgressEvent {
  return { status, progressDetail: { current, total }, progress: progressBar(current, total), id };
}

/** A status event for one layer (`Pull complete`, `Waiting`, …). */
export function layerEvent(id: string, status: string): ProgressEvent {
  return { status, progressDetail: {}, id };
}

/**
 * Limits progress events to one per interval per layer, always letting the last one through:
 * returns a function to call with each byte count.
 */
export function throttled(
  emit: (current: number) => void,
  total: number,
  intervalMs = 100,
): (n: number) => void {
  let last = 0;
  return (n: number) => {
    const now = Date.now();
    if (n >= total || now - last >= intervalMs) {
      last = now;
      emit(n);
    }
  };
}

/** Credentials from the X-Registry-Auth AuthConfig (absent fields mean anonymous). */
export function credentialsOf(auth: AuthConfig | undefined): Credentials | undefined {
  if (!auth) return undefined;
  const c: { username?: string; password?: string; identityToken?: string; registryToken?: string } = {};
  if (auth.username) c.username = auth.username;
  if (auth.password !== undefined && auth.username) c.password = auth.password;
  if (auth.identitytoken) c.identityToken = auth.identitytoken;
  if (auth.registrytoken) c.registryToken = auth.registrytoken;
  return Object.keys(c).length > 0 ? c : undefined;
}

/** A client for a reference's repository, sharing `authorizer` when given. */
export function clientFor(
  ref: Reference,
  opts: {
    readonly auth?: AuthConfig | undefined;
    readonly context: TransferContext;
    readonly authorizer?: Authorizer;
    readonly repository?: string;
  },
): RegistryClient {
  const endpoint = resolveEndpoint(ref.domain, opts.context.registry ?? {});
  const credentials = credentialsOf(opts.auth);
  const userAgent = opts.context.userAgent ?? "berth";
  const authorizer =
    opts.authorizer ?? new Authorizer({ ...(credentials ? { credentials } : {}), userAgent });
  return new RegistryClient({
    endpoint,
    repository: opts.repository ?? ref.path,
    authorizer,
    userAgent,
  });
}

/** A stream that decompresses zstd frames (a corrupt frame fails the stream). */
export function zstdDecompressStream(): Transform {
  let out: Transform | undefined;
  const decoder = new Decompress((data) => {
    out?.push(Buffer.from(data));
  });
  out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        cb();
      } catch (err) {
        cb(err instanceof Error ? err : new Error(String(err)));
      }
    },
    flush(cb: TransformCallback) {
      try {
        decoder.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(err instanceof Error ? err : new Error(String(err)));
      }
    },
  });
  return out;
}

/** POST /auth: checks the credentials of `auth` against its registry (Docker Hub by default). */
export async function registryLogin(auth: AuthConfig, context: TransferContext): Promise<AuthResponse> {
  const domain = domainOfServerAddress(auth.serveraddress || DOCKER_HUB_AUTH_KEY);
  const credentials = credentialsOf(auth);
  await checkLogin(domain, credentials ?? {}, {
    ...(context.registry ?? {}),
    ...(context.userAgent ? { userAgent: context.userAgent } : {}),
  });
  return { Status: "Login Succeeded" };
}
