/**
 * Helpers shared by the diff tests: temporary directories, building tars (including malicious
 * ones) with tar-stream's packer, listing tars and describing directory trees.
 */
import { createHash } from "node:crypto";
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { readXattrsTree } from "./host-tools.js";

/** Runs `fn` with a fresh temporary directory that is removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "berth-diff-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One entry for `makeTar`. */
export interface TarSpec {
  name: string;
  type?: tar.Header["type"];
  body?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

/** Packs entries, in order and unchecked, into tar bytes. */
export async function makeTar(entries: readonly TarSpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) chunks.push(asBuffer(c));
  })();
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    const header: tar.Header = {
      name: e.name,
      type: e.type ?? "file",
      mode: e.mode ?? (e.type === "directory" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_700_000_000_000),
      size: body?.length ?? 0,
      linkname: e.linkname ?? "",
      uname: "",
      gname: "",
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
      ...(e.pax ? { pax: e.pax } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, done);
      else {
        const sink = pack.entry(header, done);
        if (header.type === "file") sink.end(undefined);
      }
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** A readable stream of `bytes`. */
export function streamOf(bytes: Buffer): Readable {
  return Readable.from([bytes]);
}

/** Reads a whole stream. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(asBuffer(c));
  return Buffer.concat(chunks);
}

/** Entries of tar bytes: name, type and selected header fields, bodies as text. */
export async function listTar(bytes: Buffer): Promise<Array<{ header: tar.Header; body: string }>> {
  const extract = tar.extract();
  const out: Array<{ header: tar.Header; body: string }> = [];
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(asBuffer(c));
      out.push({ header: entry.header, body: Buffer.concat(parts).toString("utf8") });
    }
  })();
  extract.end(bytes);
  await done;
  return out;
}

/**
 * A stable description of everything under `dir` (type, mode, owner, mtime seconds, content
 * hash, link target, device number, xattrs), one line per path, for before/after comparisons.
 */
export async function describeTree(dir: string): Promise<string[]> {
  const xattrs = await readXattrsTree(dir);
  const lines: string[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    const st = await lstat(abs);
    const attrs = [...(xattrs.get(abs) ?? new Map<string, Buffer>())]
      .map(([k, v]) => `${k}=${v.toString("hex")}`)
      .sort()
      .join(",");
    let detail = "";
    if (st.isFile())
      detail = createHash("sha256")
        .update(await readFile(abs))
        .digest("hex")
        .slice(0, 16);
    else if (st.isSymbolicLink()) detail = `-> ${await readlink(abs)}`;
    else if (st.isCharacterDevice() || st.isBlockDevice()) detail = `rdev=${st.rdev}`;
    const mtime = st.isDirectory() || st.isSymbolicLink() || st.isFile() ? Math.floor(st.mtimeMs / 1000) : "";
    lines.push(
      `${rel || "."} mode=${st.mode.toString(8)} ${st.uid}:${st.gid} mtime=${mtime} ${detail} [${attrs}]`,
    );
    if (st.isDirectory()) {
      for (const name of (await readdir(abs)).sort())
        await visit(join(abs, name), rel ? `${rel}/${name}` : name);
    }
  };
  await visit(dir, "");
  return lines;
}

function asBuffer(chunk: unknown): Buffer {
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  if (typeof chunk === "string") return Buffer.from(chunk);
  throw new TypeError("stream yielded a chunk that is not bytes");
}
