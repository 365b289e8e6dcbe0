/**
 * A client of the OCI distribution API (distribution-spec v1.1, which Docker Hub, CNCF
 * distribution and every major registry speak) for one repository: manifests by tag or digest,
 * tag lists, blobs by digest, blob uploads (monolithic or streamed) and cross-repository mounts.
 *
 * Nothing from the registry is trusted: manifests and configs are read with a size bound and
 * their digests computed here (never taken from `Docker-Content-Digest`); blob streams are
 * verified against their descriptor while they flow (see verify.ts).
 *
 * Lifecycle: create one per repository and operation; clients of one registry share an
 * `Authorizer` so that a challenge learnt once and tokens fetched once are reused.
 */
import { pipeline, Readable, Transform } from "node:stream";
import { BerthError, invalidArgument, isBerthError, notFound } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { type Digest, sha256Digest } from "../oci/digest.js";
import { MAX_DOCUMENT_BYTES } from "../oci/image.js";
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  OCI_INDEX,
  OCI_MANIFEST,
} from "../oci/media-types.js";
import {
  Authorizer,
  type Credentials,
  describe,
  type FetchFn,
  readLimited,
  readLimitedText,
} from "./auth.js";
import { discardBody } from "./body.js";
import type { RegistryEndpoint } from "./endpoint.js";
import { kindOfStatus, registryError } from "./errors.js";
import { countingStream, verifyingStream } from "./verify.js";

/** The manifest types a pull accepts, in Docker's order of preference. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST];

/** Blobs up to this size go up in one PUT; larger ones are streamed in one PATCH. */
export const MONOLITHIC_LIMIT = 8 << 20;
const MAX_ERROR_BODY = 64 << 10;
const MAX_TAG_LIST = 4 << 20;

export interface RegistryClientOptions {
  readonly endpoint: RegistryEndpoint;
  /** Repository path inside the registry: `library/busybox`. */
  readonly repository: string;
  readonly authorizer?: Authorizer;
  readonly credentials?: Credentials;
  readonly fetch?: FetchFn;
  readonly userAgent?: string;
}

/** A manifest or index as fetched: its exact bytes, the media type and the digest computed here. */
export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: Digest;
}

/** What an upload did with a blob. */
export type UploadResult =
  | { readonly kind: "exists" }
  | { readonly kind: "mounted"; readonly from: string }
  | { readonly kind: "pushed" };

export interface UploadOptions {
  /** Repositories of the same registry to try a cross-repository mount from, in order. */
  readonly mountFrom?: readonly string[];
  /** Called with bytes sent so far. */
  readonly onProgress?: (sent: number) => void;
  readonly signal?: AbortSignal;
}

interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Bytes, or a function opening a stream of them afresh for each attempt. */
  readonly body?: Uint8Array | (() => Readable);
  readonly scopes: readonly string[];
  readonly signal?: AbortSignal | undefined;
}

const GENERIC_TYPES = new Set(["application/json", "application/octet-stream", "text/plain", ""]);

export class RegistryClient {
  readonly endpoint: RegistryEndpoint;
  readonly repository: string;
  readonly authorizer: Authorizer;
  private readonly fetchFn: FetchFn;
  private readonly userAgent: string;

  constructor(opts: RegistryClientOptions) {
    this.endpoint = opts.endpoint;
    this.repository = opts.repository;
    this.fetchFn = opts.fetch ?? fetch;
    this.userAgent = opts.userAgent ?? "berth";
    this.authorizer =
      opts.authorizer ??
      new Authorizer({
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
        fetch: this.fetchFn,
        userAgent: this.userAgent,
      });
  }

  /** The `repository:NAME:ACTIONS` scope of this repository. */
  scope(actions: "pull" | "pull,push", repository = this.repository): string {
    return `repository:${repository}:${actions}`;
  }

  private url(path: string): string {
    return `${this.endpoint.baseUrl}/v2/${this.repository}/${path}`;
  }

  /** The repository as messages name it: `127.0.0.1:5000/busybox`. */
  get name(): string {
    return `${this.endpoint.domain}/${this.repository}`;
  }

  /** Sends a request, answering one authentication challenge. */
  async request(url: string, opts: RequestOptions): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authorizer.authorization(opts.scopes, opts.signal);
      const headers: Record<string, string> = { "User-Agent": this.userAgent, ...opts.headers };
      if (auth) headers["Authorization"] = auth;
      // A stream is consumed by one attempt: the retry after a challenge opens it again.
      const stream = typeof opts.body === "function" ? opts.body() : undefined;
      let res: Response;
      try {
        res = await this.fetchFn(url, {
          method: opts.method ?? "GET",
          headers,
          ...(stream
            ? { body: Readable.toWeb(stream), duplex: "half" as const }
            : opts.body instanceof Uint8Array
              ? { body: opts.body }
              : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          redirect: "follow",
        });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        throw new BerthError("Unavailable", `${opts.method ?? "GET"} "${url}": ${describe(err)}`, {
          cause: err,
        });
      } finally {
        stream?.destroy();
      }
      if (res.status === 401 && attempt === 0) {
        const challenge = res.headers.get("www-authenticate");
        if (await this.authorizer.onUnauthorized(challenge, opts.scopes, auth)) {
          await discardBody(res);
          continue;
        }
      }
      return res;
    }
  }

  private async fail(res: Response, prefix?: string): Promise<never> {
    const text =
      (await bestEffort("reading the registry's error body", readLimitedText(res, MAX_ERROR_BODY))) ?? "";
    throw registryError(res.status, res.statusText, text, prefix);
  }

  /** `GET /v2/`: checks that the registry answers and that the credentials are accepted. */
  async ping(signal?: AbortSignal): Promise<void> {
    const url = `${this.endpoint.baseUrl}/v2/`;
    const res = await this.request(url, { scopes: [], signal });
    await discardBody(res);
    if (res.ok) return;
    // Docker's wording (registry/auth.go loginV2).
    throw new BerthError(
      kindOfStatus(res.status),
      `login attempt to ${url} failed with status: ${res.status} ${res.statusText}`.trimEnd(),
    );
  }

  /**
   * Fetches a manifest or index by tag or digest. When `reference` is a digest, the bytes must
   * hash to it. Refuses schema 1 and anything that is not a manifest or index.
   */
  async getManifest(reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.request(this.url(`manifests/${reference}`), {
      headers: { Accept: MANIFEST_ACCEPT.join(", ") },
      scopes: [this.scope("pull")],
      signal,
    });
    if (!res.ok) {
      if (res.status === 404) {
        const text =
          (await bestEffort("reading the registry's error body", readLimitedText(res, MAX_ERROR_BODY))) ?? "";
        const inner = registryError(404, res.statusText, text);
        const sep = reference.startsWith("sha256:") ? "@" : ":";
        throw notFound(`manifest for ${this.name}${sep}${reference} not found: ${inner.message}`);
      }
      await this.fail(res);
    }
    const bytes = Buffer.from(await readLimited(res, MAX_DOCUMENT_BYTES, `manifest ${reference}`));
    const digest = sha256Digest(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw invalidArgument(
        `manifest verification failed for digest ${reference}: the content hashes to ${digest}`,
      );
    }
    const contentType = (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    if (isSchema1MediaType(contentType)) {
      throw invalidArgument(
        `${this.name}:${reference}: Docker Image Format v1 and Docker Image manifest version 2, schema 1 are not supported`,
      );
    }
    let mediaType = contentType;
    if (GENERIC_TYPES.has(mediaType)) mediaType = "";
    else if (!isManifestMediaType(mediaType) && !isIndexMediaType(mediaType)) {
      throw invalidArgument(`${this.name}:${reference}: unsupported manifest media type ${contentType}`);
    }
    return { bytes, mediaType, digest };
  }

  /** Every tag of the repository, following `Link` pagination. */
  async listTags(signal?: AbortSignal): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = this.url("tags/list?n=1000");
    for (let page = 0; url && page < 1000; page++) {
      const res = await this.request(url, { scopes: [this.scope("pull")], signal });
      if (!res.ok) await this.fail(res);
      const text = Buffer.from(await readLimited(res, MAX_TAG_LIST, "tag list")).toString("utf8");
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw invalidArgument(`${this.name}: the tag list is not JSON`);
      }
      const list = typeof body === "object" && body !== null && "tags" in body ? body.tags : undefined;
      if (list !== null && list !== undefined) {
        if (!Array.isArray(list) || !list.every((t): t is string => typeof t === "string")) {
          throw invalidArgument(`${this.name}: malformed tag list`);
        }
        tags.push(...list);
      }
      url = nextLink(res.headers.get("link"), url);
    }
    return tags;
  }

  /** The size of a blob if the repository has it (`HEAD /v2/NAME/blobs/DIGEST`). */
  async blobSize(digest: Digest, opts: { scopes?: readonly string[]; signal?: AbortSignal } = {}) {
    const res = await this.request(this.url(`blobs/${digest}`), {
      method: "HEAD",
      scopes: opts.scopes ?? [this.scope("pull")],
      signal: opts.signal,
    });
    await discardBody(res);
    if (res.status === 404) return undefined;
    if (!res.ok) throw registryError(res.status, res.statusText, "", `HEAD blob ${digest}`);
    const len = Number(res.headers.get("content-length") ?? "NaN");
    return Number.isFinite(len) ? len : 0;
  }

  /**
   * A blob's bytes as a stream that fails (and so stores nothing downstream) unless they are
   * exactly the descriptor's size and digest.
   */
  async openBlob(
    desc: { readonly digest: Digest; readonly size: number },
    opts: { onBytes?: (n: number) => void; signal?: AbortSignal } = {},
  ): Promise<Readable> {
    const res = await this.request(this.url(`blobs/${desc.digest}`), {
      scopes: [this.scope("pull")],
      signal: opts.signal,
    });
    if (!res.ok) await this.fail(res, `blob ${desc.digest}`);
    const declared = Number(res.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared !== desc.size) {
      await discardBody(res);
      throw invalidArgument(
        `filesystem layer verification failed for digest ${desc.digest}: the registry sends ${declared} bytes, expected ${desc.size}`,
      );
    }
    if (!res.body) throw invalidArgument(`blob ${desc.digest}: empty response`);
    const body = Readable.fromWeb(res.body);
    const verify = verifyingStream(desc.digest, desc.size, opts.onBytes ? { onBytes: opts.onBytes } : {});
    body.on("error", (err) => verify.destroy(err));
    verify.on("close", () => {
      if (!body.destroyed) body.destroy();
    });
    return body.pipe(verify);
  }

  /**
   * A blob's bytes from `offset` on, for a download that resumes: `Range: bytes=OFFSET-`. The
   * answer says where the bytes start: `offset` when the registry sent 206 Partial Content for
   * exactly that range, 0 when it sent the whole blob (200: it ignores ranges, or offset was 0).
   * The bytes are not verified here (the caller hashes what it kept and what comes, and checks
   * the whole blob); `onBytes` is told the running position in the blob.
   */
  async openBlobFrom(
    desc: { readonly digest: Digest; readonly size: number },
    offset: number,
    opts: { onBytes?: (n: number) => void; signal?: AbortSignal } = {},
  ): Promise<{ readonly stream: Readable; readonly offset: number }> {
    const ranged = offset > 0 && offset < desc.size;
    let res = await this.request(this.url(`blobs/${desc.digest}`), {
      scopes: [this.scope("pull")],
      signal: opts.signal,
      ...(ranged ? { headers: { Range: `bytes=${offset}-` } } : {}),
    });
    if (ranged && res.status === 416) {
      await discardBody(res);
      res = await this.request(this.url(`blobs/${desc.digest}`), {
        scopes: [this.scope("pull")],
        signal: opts.signal,
      });
    }
    if (!res.ok) await this.fail(res, `blob ${desc.digest}`);
    let start = 0;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get("content-range") ?? "");
      if (
        !ranged ||
        !m ||
        Number(m[1]) !== offset ||
        Number(m[2]) !== desc.size - 1 ||
        (m[3] !== "*" && Number(m[3]) !== desc.size)
      ) {
        await discardBody(res);
        throw invalidArgument(
          `blob ${desc.digest}: the registry answered bytes=${offset}- with Content-Range "${res.headers.get("content-range") ?? ""}"`,
        );
      }
      start = offset;
    }
    const declared = Number(res.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared !== desc.size - start) {
      await discardBody(res);
      throw invalidArgument(
        `filesystem layer verification failed for digest ${desc.digest}: the registry sends ${declared} bytes from ${start}, expected ${desc.size - start}`,
      );
    }
    if (!res.body) throw invalidArgument(`blob ${desc.digest}: empty response`);
    const body = Readable.fromWeb(res.body);
    const onBytes = opts.onBytes;
    if (!onBytes) return { stream: body, offset: start };
    const count = countingStream((n) => onBytes(start + n));
    body.on("error", (err) => count.destroy(err));
    count.on("close", () => {
      if (!body.destroyed) body.destroy();
    });
    return { stream: body.pipe(count), offset: start };
  }

  /** A small blob (a config) read whole: bounded and verified. */
  async readBlob(
    desc: { readonly digest: Digest; readonly size: number },
    maxBytes: number,
    signal?: AbortSignal,
  ) {
    if (desc.size > maxBytes) {
      throw invalidArgument(
        `blob ${desc.digest} of ${desc.size} bytes exceeds the limit of ${maxBytes} bytes`,
      );
    }
    const stream = await this.openBlob(desc, signal ? { signal } : {});
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
    return Buffer.concat(chunks);
  }

  /**
   * Uploads a blob unless the repository has it: HEAD first; then a cross-repository mount from
   * `mountFrom` when given; then one PUT for blobs up to MONOLITHIC_LIMIT, or for larger ones
   * one PATCH streaming the blob and a closing PUT. `open` is called only when bytes must be
   * sent, and again if the PATCH must be retried after an authentication challenge. One method
   * because the upload's session URL and its retry after a challenge run through every step.
   */
  async uploadBlob(
    desc: { readonly digest: Digest; readonly size: number },
    open: () => Readable,
    opts: UploadOptions = {},
  ): Promise<UploadResult> {
    const push = [this.scope("pull,push")];
    if (
      (await this.blobSize(desc.digest, {
        scopes: push,
        ...(opts.signal ? { signal: opts.signal } : {}),
      })) !== undefined
    ) {
      return { kind: "exists" };
    }
    let location: string | undefined;
    for (const from of opts.mountFrom ?? []) {
      if (from === this.repository) continue;
      const url = new URL(this.url("blobs/uploads/"));
      url.searchParams.set("mount", desc.digest);
      url.searchParams.set("from", from);
      const res = await this.request(url.toString(), {
        method: "POST",
        scopes: [...push, this.scope("pull", from)],
        signal: opts.signal,
      });
      await discardBody(res);
      if (res.status === 201) return { kind: "mounted", from };
      if (res.status === 202) {
        location = this.location(res);
        break;
      }
    }
    if (location === undefined) {
      const res = await this.request(this.url("blobs/uploads/"), {
        method: "POST",
        scopes: push,
        signal: opts.signal,
      });
      if (res.status !== 202) await this.fail(res, `starting the upload of ${desc.digest}`);
      await discardBody(res);
      location = this.location(res);
    }
    try {
      let put: URL;
      let body: Buffer;
      if (desc.size <= MONOLITHIC_LIMIT) {
        // Small: the bytes go with the closing PUT.
        body = await readAll(open(), desc);
        put = new URL(location);
      } else {
        // Large: one PATCH streaming the whole blob (a single chunk from 0, so its Content-Range
        // and Content-Length are known), then an empty closing PUT. No round trip per chunk.
        let sent = 0;
        const res = await this.request(location, {
          method: "PATCH",
          headers: {
            "Content-Type": "application/octet-stream",
            "Content-Range": `0-${desc.size - 1}`,
            "Content-Length": String(desc.size),
          },
          body: () => {
            sent = 0;
            const counter = new Transform({
              transform(chunk: Buffer, _enc, done) {
                sent += chunk.byteLength;
                opts.onProgress?.(sent);
                done(null, chunk);
              },
            });
            return pipeline(open(), counter, () => undefined);
          },
          scopes: push,
          signal: opts.signal,
        });
        if (res.status !== 202) await this.fail(res, `uploading ${desc.digest}`);
        await discardBody(res);
        if (sent !== desc.size) {
          throw invalidArgument(`blob ${desc.digest}: read ${sent} bytes, expected ${desc.size}`);
        }
        put = new URL(this.location(res));
        body = Buffer.alloc(0);
      }
      location = put.toString();
      put.searchParams.set("digest", desc.digest);
      const res = await this.request(put.toString(), {
        method: "PUT",
        headers: { "Content-Type": "application/octet-stream" },
        body,
        scopes: push,
        signal: opts.signal,
      });
      if (res.status !== 201) await this.fail(res, `uploading ${desc.digest}`);
      await discardBody(res);
      if (body.byteLength > 0) opts.onProgress?.(desc.size);
      return { kind: "pushed" };
    } catch (err) {
      // Best effort: tell the registry the upload is abandoned.
      const at = location;
      if (at !== undefined)
        await bestEffort(`abandoning the upload at ${at}`, async () =>
          discardBody(await this.request(at, { method: "DELETE", scopes: push })),
        );
      throw err;
    }
  }

  /** `PUT /v2/NAME/manifests/REFERENCE`; returns the digest of the bytes sent. */
  async putManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    signal?: AbortSignal,
  ): Promise<Digest> {
    const res = await this.request(this.url(`manifests/${reference}`), {
      method: "PUT",
      headers: { "Content-Type": mediaType },
      body: bytes,
      scopes: [this.scope("pull,push")],
      signal,
    });
    if (res.status !== 201 && res.status !== 200) await this.fail(res);
    await discardBody(res);
    return sha256Digest(bytes);
  }

  private location(res: Response): string {
    const loc = res.headers.get("location");
    if (!loc) throw invalidArgument(`${this.name}: the registry's upload answer has no Location`);
    try {
      return new URL(loc, `${this.endpoint.baseUrl}/`).toString();
    } catch {
      throw invalidArgument(`${this.name}: the registry's upload Location is not a URL: ${loc}`);
    }
  }
}

/** The `rel="next"` target of a `Link` header, resolved against the request URL. */
export function nextLink(header: string | null, base: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(",")) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /\brel="?next"?/.test(m[2] ?? "")) {
      try {
        return new URL(m[1] ?? "", base).toString();
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** True for errors that say the registry refused the credentials (or their absence). */
export function isUnauthorized(err: unknown): boolean {
  return isBerthError(err, "Unauthorized");
}

/** A small blob's bytes, read whole; exactly `desc.size` of them or an error. */
async function readAll(
  source: Readable,
  desc: { readonly digest: Digest; readonly size: number },
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of source) {
      const buf = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
      n += buf.byteLength;
      if (n > desc.size) break;
      chunks.push(buf);
    }
  } finally {
    source.destroy();
  }
  if (n !== desc.size) {
    throw invalidArgument(`blob ${desc.digest}: read ${n} bytes, expected ${desc.size}`);
  }
  return Buffer.concat(chunks);
}
