/**
 * `ADD <http(s) URL>`: the download, as BuildKit's HTTP source does it. The body is written to a
 * file of its own (mode 0600) while it is hashed; the file is named after the last component of
 * the URL's path (`__unnamed__` when there is none, as BuildKit's Dockerfile frontend names it);
 * its mtime is the response's Last-Modified when there is one. Redirects are followed only to
 * http(s) URLs and at most 10 times (Go's http.Client default), the size and the time are
 * bounded, and an expected `--checksum` digest is verified before the file is used.
 * It never uses a download whose size, time or checksum failed, and never leaves a partial
 * file behind on failure.
 */
import { createHash } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { open, rm, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import { canceled, invalidArgument, isBerthError, unavailable } from "../base/errors.js";

export const MAX_REDIRECTS = 10;
/** Largest download accepted (berth's bound; Docker has none): 8 GiB. */
export const MAX_DOWNLOAD_BYTES = 8 * 1024 ** 3;
/** Longest a download may take, from the request to the last byte (berth's bound): 30 minutes. */
export const DOWNLOAD_TIMEOUT_MS = 30 * 60_000;

export interface DownloadOptions {
  /** Directory the file is written into (a fresh name in it). */
  readonly dir: string;
  readonly signal?: AbortSignal;
  /** `sha256:<hex>` the content must have (ADD --checksum). */
  readonly expected?: string;
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
  /** Progress lines (start, every quarter when the size is known, end). */
  readonly progress?: (line: string) => void;
}

export interface Downloaded {
  /** Host path of the downloaded file. */
  readonly path: string;
  /** File name from the URL. */
  readonly name: string;
  readonly size: number;
  readonly digest: string;
  /** From Last-Modified, when the server sent one. */
  readonly mtime: Date | undefined;
}

/** A git repository named as a URL (`git@…`, `git://…`, `….git`, `…#ref`), which ADD cannot fetch yet. */
export function isGitUrl(s: string): boolean {
  if (/^git@/.test(s) || /^git:\/\//i.test(s)) return true;
  try {
    const u = new URL(s);
    return u.pathname.endsWith(".git") || u.pathname.endsWith(".git/");
  } catch {
    return false;
  }
}

/** The file name BuildKit gives a downloaded URL. */
export function urlFileName(url: string): string {
  const raw = new URL(url).pathname;
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    // a malformed escape: the name as written
  }
  const base = posix.basename(path);
  return base === "" || base === "." || base === "/" || base === ".." ? "__unnamed__" : base;
}

const humanBytes = (n: number): string =>
  n < 1000 ? `${n}B` : n < 1e6 ? `${(n / 1e3).toFixed(2)}kB` : `${(n / 1e6).toFixed(2)}MB`;

/** Downloads `url` into a new file under `opts.dir`; on any failure nothing is left. */
export async function download(url: string, opts: DownloadOptions): Promise<Downloaded> {
  const maxBytes = opts.maxBytes ?? MAX_DOWNLOAD_BYTES;
  const timeoutMs = opts.timeoutMs ?? DOWNLOAD_TIMEOUT_MS;
  const expected = opts.expected;
  if (expected !== undefined && !/^sha256:[a-f0-9]{64}$/.test(expected)) {
    throw invalidArgument(`invalid checksum digest format: ${expected}`);
  }
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const path = join(
    opts.dir,
    `add-${createHash("sha256").update(`${url}${Math.random()}${Date.now()}`).digest("hex").slice(0, 16)}`,
  );
  let created = false;
  try {
    let current = new URL(url);
    let res: Response | undefined;
    for (let hops = 0; ; hops++) {
      if (current.protocol !== "http:" && current.protocol !== "https:") {
        throw invalidArgument(`ADD ${url}: unsupported URL scheme ${current.protocol.replace(/:$/, "")}`);
      }
      res = await fetch(current, { redirect: "manual", signal });
      if (res.status >= 300 && res.status < 400 && res.headers.get("location") !== null) {
        await res.body?.cancel();
        if (hops >= MAX_REDIRECTS)
          throw invalidArgument(`ADD ${url}: stopped after ${MAX_REDIRECTS} redirects`);
        current = new URL(res.headers.get("location") ?? "", current);
        continue;
      }
      break;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw invalidArgument(`ADD ${url}: invalid response status ${res.status}`);
    }
    const lengthHeader = res.headers.get("content-length");
    const length = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
    if (length !== undefined && length > maxBytes) {
      await res.body?.cancel();
      throw invalidArgument(`ADD ${url}: ${length} bytes is more than the limit of ${maxBytes} bytes`);
    }
    opts.progress?.(`downloading ${url}${length !== undefined ? ` (${humanBytes(length)})` : ""}`);
    const fh = await open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    created = true;
    const hash = createHash("sha256");
    let size = 0;
    let nextQuarter = 1;
    try {
      if (res.body) {
        for await (const chunk of res.body) {
          size += chunk.byteLength;
          if (size > maxBytes) throw invalidArgument(`ADD ${url}: more than the limit of ${maxBytes} bytes`);
          hash.update(chunk);
          let off = 0;
          while (off < chunk.byteLength) off += (await fh.write(chunk, off)).bytesWritten;
          if (length !== undefined && length > 0 && nextQuarter < 4 && size >= (length * nextQuarter) / 4) {
            opts.progress?.(`${humanBytes(size)} / ${humanBytes(length)}`);
            while (nextQuarter < 4 && size >= (length * nextQuarter) / 4) nextQuarter++;
          }
        }
      }
    } finally {
      await fh.close();
    }
    if (length !== undefined && size !== length) {
      throw invalidArgument(`ADD ${url}: the response ended after ${size} of ${length} bytes`);
    }
    const digest = `sha256:${hash.digest("hex")}`;
    if (expected !== undefined && digest !== expected) {
      throw invalidArgument(`ADD ${url}: digest mismatch: expected ${expected}, got ${digest}`);
    }
    const lastModified = res.headers.get("last-modified");
    const parsed = lastModified === null ? Number.NaN : Date.parse(lastModified);
    const mtime = Number.isNaN(parsed) ? undefined : new Date(parsed);
    if (mtime) await utimes(path, mtime, mtime);
    opts.progress?.(`downloaded ${humanBytes(size)} ${digest}`);
    return { path, name: urlFileName(url), size, digest, mtime };
  } catch (err) {
    if (created) await rm(path, { force: true });
    if (isBerthError(err)) throw err;
    if (timeout.aborted)
      throw unavailable(`ADD ${url}: download took longer than ${timeoutMs / 1000} s`, err);
    if (opts.signal?.aborted) throw canceled(`ADD ${url}: download canceled`, err);
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    throw unavailable(`ADD ${url}: ${err instanceof Error ? err.message : String(err)}${cause}`, err);
  }
}
