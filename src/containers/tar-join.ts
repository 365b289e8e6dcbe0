/**
 * Writing one tar stream out of pieces: single entries and the entries of other tar streams,
 * each header passed through a mapping that may rename, rewrite ownership or drop it. Used for
 * `cp` out of a container (a directory's tar rebased under its base name, volumes spliced in),
 * `commit` (the writable layer without runc's mount points) and `cp` in (ownership, checks).
 *
 * Lifecycle: create a TarJoiner, `await` its add* calls in order from one async function, then
 * `finalize()`; on failure call `fail(err)` and the output stream errors. Read `stream` as it is
 * written (the joiner waits for the reader: back-pressure).
 * It never reads a file itself: the callers open what goes in, with their own path checks.
 */
import { PassThrough, type Readable } from "node:stream";
import * as tarStream from "tar-stream";
import { drainedOrClosed } from "../base/async.js";
import { type TarHeader as ReadHeader, readTar } from "../oci/tar-reader.js";

export type TarHeader = tarStream.Header;

/** Maps a header: a new header, the same, or undefined to leave the entry out. May throw. */
export type HeaderMap = (h: TarHeader) => TarHeader | undefined | Promise<TarHeader | undefined>;

export class TarJoiner {
  private readonly pack = tarStream.pack();
  readonly stream: Readable;

  constructor() {
    const out = new PassThrough();
    this.stream = out;
    // Errors reach the reader through `stream` (see fail); the pack itself is only piped.
    this.pack.on("error", () => undefined);
    this.pack.pipe(out);
  }

  /** Adds one entry; `body` is the content of a regular file (its size must match the header). */
  async addEntry(header: TarHeader, body?: AsyncIterable<unknown> | Buffer): Promise<void> {
    let sink: ReturnType<tarStream.Pack["entry"]> | undefined;
    const done = new Promise<void>((resolve, reject) => {
      sink = this.pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
    const s = sink as ReturnType<tarStream.Pack["entry"]>;
    if (body === undefined) s.end(undefined);
    else if (Buffer.isBuffer(body)) s.end(body);
    else {
      for await (const chunk of body) {
        if (!(chunk instanceof Uint8Array)) throw new TypeError("tar entry body yielded a non-byte chunk");
        if (!s.write(chunk)) await drainedOrClosed(s);
      }
      s.end(undefined);
    }
    await done;
  }

  /** Adds every entry of a tar stream, each header passed through `map`. */
  async addTar(source: Readable, map: HeaderMap): Promise<void> {
    for await (const entry of readTar(source)) {
      const header = await map(packHeader(entry.header));
      if (header === undefined) continue;
      const hasBody =
        header.type === "file" || header.type === "contiguous-file" || header.type === undefined;
      if (hasBody && (header.size ?? 0) > 0) await this.addEntry(header, entry);
      else await this.addEntry(header);
    }
  }

  finalize(): void {
    this.pack.finalize();
  }

  fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.stream.destroy(e);
    this.pack.destroy(e);
  }
}

/** Runs `fill` against a new joiner and returns its stream (erroring if `fill` fails). */
export function joinTar(fill: (j: TarJoiner) => Promise<void>): Readable {
  const j = new TarJoiner();
  fill(j).then(
    () => j.finalize(),
    (err: unknown) => j.fail(err),
  );
  return j.stream;
}

/** The packer's form of a header the reader returned (PAX records already folded in). */
function packHeader(h: ReadHeader): TarHeader {
  return {
    name: h.name,
    type: h.type,
    size: h.size,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    uname: h.uname,
    gname: h.gname,
    mtime: h.mtime,
    linkname: h.linkname,
    devmajor: h.devmajor,
    devminor: h.devminor,
    ...(h.pax !== undefined ? { pax: h.pax } : {}),
  };
}

/** A header's name without a leading "./" or "/", and without a trailing "/". */
export function entryPath(h: TarHeader): string {
  return h.name.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
}

/** Renames `rel` under `prefix` ("" keeps it), keeping a directory's trailing "/". */
export function prefixed(h: TarHeader, prefix: string): TarHeader {
  const rel = entryPath(h);
  const name = prefix === "" ? rel : rel === "" ? prefix : `${prefix}/${rel}`;
  return { ...h, name: h.type === "directory" ? `${name}/` : name };
}

/** Sets a header's owner, dropping PAX uid/gid/uname/gname records that would override it. */
export function withOwner(h: TarHeader, uid: number, gid: number): TarHeader {
  let pax: Record<string, string> | undefined;
  if (typeof h.pax === "object" && h.pax !== null) {
    pax = {};
    for (const [k, v] of Object.entries(h.pax)) {
      if (typeof v === "string" && !["uid", "gid", "uname", "gname"].includes(k)) pax[k] = v;
    }
  }
  return { ...h, uid, gid, uname: "", gname: "", ...(pax ? { pax } : {}) };
}
