/**
 * The one tar reader of the engine: every path that reads a tar (layers from load, pull, import
 * and commit, build contexts, `ADD` of a local archive, `cp` into a container, the outer
 * `docker save` archive, `cp` out to the host) goes through `readTar`. It owns the format rules;
 * callers own what an entry means.
 *
 * It is our own parser rather than tar-stream's extractor because tar-stream is lenient where
 * Docker (Go's archive/tar) is strict: it stops at the first malformed PAX record and keeps
 * what came before, ignores PAX length fields that disagree with the record, decodes PAX values
 * as UTF-8 (losing binary xattrs), and reports a truncated archive as "Stream was destroyed" or
 * "Unexpected end of data". A malformed structure anywhere refuses the whole archive here with
 * one line naming what is wrong and where.
 *
 * The rules are Go's archive/tar `Reader` (reader.go, strconv.go, format.go), with the places
 * where this reader is stricter called out:
 * - A header block's checksum (unsigned or signed sum, checksum field read as spaces) must match
 *   the octal checksum field. Formats: V7, USTAR (prefix joined to the name), PAX, GNU, STAR.
 * - Numeric fields are octal (leading/trailing spaces and NULs trimmed, cut at the first NUL,
 *   then digits only) or base-256 (top bit of the first byte set, two's complement). Stricter:
 *   sizes, modes, ids and device numbers must be non-negative and safe integers.
 * - PAX extended headers (`x`, and global `g`) and GNU long names (`L`, `K`) are at most 1 MiB.
 *   A PAX record is `LEN KEY=VALUE\n` where LEN (decimal) is the byte length of the whole
 *   record including itself; the key is non-empty without `=` or NUL; path, linkpath, uname and
 *   gname may not contain NUL; every record must parse — nothing is skipped. Known numeric keys
 *   (size, uid, gid, mtime, atime, ctime) must be valid decimal numbers. Stricter: an unknown key
 *   in POSIX's reserved lower-case namespace (no vendor prefix) is an error; vendor keys
 *   (`SCHILY.xattr.…`, `LIBARCHIVE.…`, …) are accepted. GNU sparse files (`S`, `GNU.sparse.*`)
 *   are refused: nothing berth reads produces them and berth cannot materialise them.
 * - The archive ends at two zero blocks, or where the input ends on a header boundary (Go's
 *   io.EOF rule: zero or one zero blocks and then the end of input is a clean end). A zero block
 *   followed by a non-zero block is an error. Input ending inside a header or
 *   an entry's data (or its padding) is a truncated archive. Bytes after the end marker are read
 *   and ignored, so a caller hashing the stream (a layer's diffID) sees all of it.
 * - Entry types: regular (`0`, NUL, `7`; a NUL-type name ending in `/` is a directory as in Go),
 *   link, symlink, character and block devices, directory, FIFO. Global PAX headers are parsed
 *   and not yielded (Docker ignores them; `git archive` writes one). Any other type is refused.
 */
import { Buffer } from "node:buffer";
import { invalidArgument } from "../base/errors.js";

export type TarEntryType =
  | "file"
  | "contiguous-file"
  | "link"
  | "symlink"
  | "character-device"
  | "block-device"
  | "directory"
  | "fifo";

/** One entry's header after PAX and GNU long-name records were applied. */
export interface TarHeader {
  name: string;
  type: TarEntryType;
  /** Bytes of content (0 for every type but regular files). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: Date;
  /** From PAX `atime` or a GNU/STAR header, when present. */
  atime?: Date;
  linkname: string;
  devmajor: number;
  devminor: number;
  /**
   * PAX records not folded into the fields above (path, linkpath, size, uid, gid, uname, gname,
   * mtime, atime are), as strings (UTF-8); undefined when there were none.
   */
  pax?: Record<string, string>;
  /** `SCHILY.xattr.NAME` records: NAME → the value's exact bytes. */
  xattrs: ReadonlyMap<string, Buffer>;
}

/** An entry: its header, and its content as an async iterable (read it before the next entry). */
export interface TarEntry extends AsyncIterable<Buffer> {
  readonly header: TarHeader;
}

export interface ReadTarOptions {
  signal?: AbortSignal;
}

const BLOCK = 512;
/** Go's archive/tar maxSpecialFileSize: PAX headers and GNU long names. */
const MAX_SPECIAL_FILE = 1 << 20;
/** Seconds either side of the epoch a JS Date can hold. */
const MAX_TIME_SECONDS = 8_640_000_000_000;
/** POSIX pax keywords (and the common `ctime`); other all-lowercase keys are unknown. */
const POSIX_KEYS = new Set([
  "atime",
  "charset",
  "comment",
  "ctime",
  "gid",
  "gname",
  "hdrcharset",
  "linkpath",
  "mtime",
  "path",
  "size",
  "uid",
  "uname",
]);
const FOLDED_KEYS = new Set(["path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "atime"]);
const XATTR_PREFIX = "SCHILY.xattr.";

/** A tar format error: one line naming what is wrong and the byte offset where. */
export function tarFormatError(what: string, offset?: number): Error {
  return invalidArgument(`tar format error: ${what}${offset === undefined ? "" : ` (at byte ${offset})`}`);
}

/**
 * Reads a tar stream entry by entry. The content of each entry must be consumed (or ignored)
 * before asking for the next entry; whatever is not consumed is skipped. Rejects with
 * InvalidArgument ("tar format error: …") on any malformed structure.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>,
  opts: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const input = new ByteInput(source);
  const parser = new Parser(input);
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const entry = await parser.next();
      if (entry === undefined) break;
      yield entry;
    }
    // Everything after the end marker is read and ignored, as Go's reader leaves it unread.
    await input.drain();
  } finally {
    parser.close();
    await input.close();
  }
}

/** Pulls bytes from an async iterable with exact-length reads. */
class ByteInput {
  private readonly it: AsyncIterator<Uint8Array | string> | Iterator<Uint8Array>;
  private chunks: Buffer[] = [];
  private available = 0;
  private ended = false;
  /** Bytes consumed so far (for error offsets). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>) {
    this.it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done === true) {
      this.ended = true;
      return false;
    }
    const v = r.value;
    if (typeof v === "string" || !(v instanceof Uint8Array)) {
      throw invalidArgument("tar stream yielded text instead of bytes");
    }
    if (v.length > 0) {
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.chunks.push(b);
      this.available += b.length;
    }
    return true;
  }

  /** Exactly `n` bytes, or fewer only when the input ended (the bytes that were there). */
  async read(n: number): Promise<Buffer> {
    while (this.available < n) {
      if (!(await this.pull())) break;
    }
    const take = Math.min(n, this.available);
    return this.take(take);
  }

  /** Up to `max` (> 0) bytes as soon as any are there; empty when the input ended. */
  async some(max: number): Promise<Buffer> {
    while (this.available === 0) {
      if (!(await this.pull())) return Buffer.alloc(0);
    }
    return this.take(Math.min(max, this.available));
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.available -= n;
    this.offset += n;
    return out;
  }

  /** Skips `n` bytes; false when the input ended first. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      const b = await this.some(Math.min(left, 1 << 20));
      if (b.length === 0) return false;
      left -= b.length;
    }
    return true;
  }

  async drain(): Promise<void> {
    this.offset += this.available;
    this.chunks = [];
    this.available = 0;
    while (await this.pull()) {
      this.offset += this.available;
      this.chunks = [];
      this.available = 0;
    }
  }

  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }
}

interface RawHeader {
  typeflag: string;
  name: string;
  linkname: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  atime?: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  offset: number;
}

class Parser {
  /** The entry whose content is current, and how much of it (and its padding) is left. */
  private current: object | undefined;
  private remaining = 0;
  private padding = 0;
  private closed = false;

  constructor(private readonly input: ByteInput) {}

  close(): void {
    this.closed = true;
    this.current = undefined;
  }

  /** The next entry, or undefined at the end of the archive. */
  async next(): Promise<TarEntry | undefined> {
    await this.finishCurrent();
    let pax: Map<string, Buffer> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const raw = await this.readHeader();
      if (raw === undefined) {
        if (pax !== undefined || longName !== undefined || longLink !== undefined) {
          throw tarFormatError("archive ends after an extended header, without its entry", this.input.offset);
        }
        return undefined;
      }
      switch (raw.typeflag) {
        case "x":
        case "g": {
          const records = parsePax(await this.readSpecial(raw), raw.offset + BLOCK);
          if (raw.typeflag === "g") continue; // parsed strictly, then ignored (as Docker does)
          pax = records;
          continue;
        }
        case "L":
        case "K": {
          const data = await this.readSpecial(raw);
          const nul = data.indexOf(0);
          const s = (nul < 0 ? data : data.subarray(0, nul)).toString("utf8");
          if (raw.typeflag === "L") longName = s;
          else longLink = s;
          continue;
        }
        default:
          return this.entry(raw, pax, longName, longLink);
      }
    }
  }

  private async finishCurrent(): Promise<void> {
    if (this.closed) throw new Error("tar reader is closed");
    const { remaining, padding } = this;
    this.current = undefined;
    this.remaining = 0;
    this.padding = 0;
    if (remaining > 0 && !(await this.input.skip(remaining))) {
      throw tarFormatError("archive is truncated inside an entry's content", this.input.offset);
    }
    if (padding > 0 && !(await this.input.skip(padding))) {
      throw tarFormatError("archive is truncated inside an entry's padding", this.input.offset);
    }
  }

  /** Reads one header block; undefined at a clean end of the archive. */
  private async readHeader(): Promise<RawHeader | undefined> {
    const offset = this.input.offset;
    const block = await this.input.read(BLOCK);
    if (block.length === 0) return undefined; // Go: EOF on a header boundary is a clean end
    if (block.length < BLOCK) throw tarFormatError("archive is truncated inside a header", offset);
    if (isZero(block)) {
      const second = await this.input.read(BLOCK);
      if (second.length === 0) return undefined; // a lone zero block then EOF (Go accepts it)
      if (second.length < BLOCK) throw tarFormatError("archive is truncated inside its end marker", offset);
      if (!isZero(second)) throw tarFormatError("a zero block is followed by a non-zero block", offset);
      return undefined;
    }
    return parseHeaderBlock(block, offset);
  }

  private async readSpecial(raw: RawHeader): Promise<Buffer> {
    if (raw.size > MAX_SPECIAL_FILE) {
      throw tarFormatError(
        `extended header of ${raw.size} bytes is larger than the limit of ${MAX_SPECIAL_FILE}`,
        raw.offset,
      );
    }
    const data = await this.input.read(raw.size);
    if (data.length < raw.size)
      throw tarFormatError("archive is truncated inside an extended header", raw.offset);
    const pad = blockPadding(raw.size);
    if (pad > 0 && (await this.input.read(pad)).length < pad) {
      throw tarFormatError("archive is truncated inside an extended header's padding", raw.offset);
    }
    return data;
  }

  private entry(
    raw: RawHeader,
    pax: Map<string, Buffer> | undefined,
    longName: string | undefined,
    longLink: string | undefined,
  ): TarEntry {
    let type = entryType(raw);
    let name = raw.name;
    let linkname = raw.linkname;
    let size = raw.size;
    let uid = raw.uid;
    let gid = raw.gid;
    let uname = raw.uname;
    let gname = raw.gname;
    let mtime = raw.mtime;
    let atime = raw.atime;
    let rest: Record<string, string> | undefined;
    const xattrs = new Map<string, Buffer>();
    if (pax !== undefined) {
      for (const [key, bytes] of pax) {
        if (bytes.length === 0) continue; // an empty value keeps the header's own (as Go)
        const value = bytes.toString("utf8");
        const at = raw.offset;
        switch (key) {
          case "path":
            name = value;
            break;
          case "linkpath":
            linkname = value;
            break;
          case "uname":
            uname = value;
            break;
          case "gname":
            gname = value;
            break;
          case "size":
            size = paxInteger(key, value, at);
            break;
          case "uid":
            uid = paxInteger(key, value, at);
            break;
          case "gid":
            gid = paxInteger(key, value, at);
            break;
          case "mtime":
            mtime = paxTime(key, value, at);
            break;
          case "atime":
            atime = paxTime(key, value, at);
            break;
          case "ctime":
            paxTime(key, value, at);
            break;
          default:
            if (key.startsWith("GNU.sparse."))
              throw tarFormatError(`sparse file ${JSON.stringify(name)} is not supported`, at);
            if (key.startsWith(XATTR_PREFIX)) {
              const xname = key.slice(XATTR_PREFIX.length);
              if (xname === "") throw tarFormatError("PAX record names an empty xattr", at);
              xattrs.set(xname, bytes);
            }
        }
        if (!FOLDED_KEYS.has(key)) {
          rest ??= {};
          rest[key] = value;
        }
      }
    }
    if (longName !== undefined && longName !== "") name = longName;
    if (longLink !== undefined && longLink !== "") linkname = longLink;
    if (raw.typeflag === "\0" && name.endsWith("/")) type = "directory";
    if (!headerOnly(type)) {
      this.remaining = size;
      this.padding = blockPadding(size);
    } else {
      size = 0;
    }
    const header: TarHeader = {
      name,
      type,
      size,
      mode: raw.mode,
      uid,
      gid,
      uname,
      gname,
      mtime: new Date(mtime * 1000),
      ...(atime !== undefined ? { atime: new Date(atime * 1000) } : {}),
      linkname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      ...(rest !== undefined ? { pax: rest } : {}),
      xattrs,
    };
    const token = {};
    this.current = token;
    const body = (): AsyncIterator<Buffer> => this.body(token, header.name);
    return { header, [Symbol.asyncIterator]: body };
  }

  private async *body(token: object, name: string): AsyncGenerator<Buffer, void, undefined> {
    if (this.current !== token)
      throw new Error(`tar entry ${JSON.stringify(name)} was read after the next one`);
    while (this.remaining > 0) {
      const chunk = await this.input.some(Math.min(this.remaining, 1 << 20));
      if (this.current !== token)
        throw new Error(`tar entry ${JSON.stringify(name)} was read after the next one`);
      if (chunk.length === 0) {
        throw tarFormatError(
          `archive is truncated inside the content of ${JSON.stringify(name)}`,
          this.input.offset,
        );
      }
      this.remaining -= chunk.length;
      yield chunk;
    }
  }
}

function entryType(raw: RawHeader): TarEntryType {
  switch (raw.typeflag) {
    case "0":
    case "\0":
      return "file";
    case "7":
      return "contiguous-file";
    case "1":
      return "link";
    case "2":
      return "symlink";
    case "3":
      return "character-device";
    case "4":
      return "block-device";
    case "5":
      return "directory";
    case "6":
      return "fifo";
    case "S":
      throw tarFormatError(`sparse file ${JSON.stringify(raw.name)} is not supported`, raw.offset);
    default:
      throw tarFormatError(
        `unsupported entry type ${JSON.stringify(raw.typeflag)} for ${JSON.stringify(raw.name)}`,
        raw.offset,
      );
  }
}

function headerOnly(type: TarEntryType): boolean {
  return type !== "file" && type !== "contiguous-file";
}

function blockPadding(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** A header block → its fields, or a format error (checksum, numbers). */
export function parseHeaderBlock(block: Buffer, offset: number): RawHeader {
  const stored = parseOctal(block.subarray(148, 156));
  if (stored === undefined) throw tarFormatError("header checksum field is not an octal number", offset);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += c;
    signed += c < 0x80 ? c : c - 0x100;
  }
  if (stored !== unsigned && stored !== signed)
    throw tarFormatError("header checksum does not match", offset);

  const magic = block.toString("latin1", 257, 263);
  const version = block.toString("latin1", 263, 265);
  const trailer = block.toString("latin1", 508, 512);
  const ustar = magic === "ustar\0";
  const star = ustar && trailer === "tar\0";
  const gnu = magic === "ustar " && version === " \0";

  const field = (what: string, start: number, end: number): number => {
    const v = parseNumeric(block.subarray(start, end));
    if (v === undefined) throw tarFormatError(`header field ${what} is not a valid number`, offset);
    return v;
  };
  const bounded = (what: string, v: number, max: number, min = 0): number => {
    if (v < min || v > max) throw tarFormatError(`header field ${what} is out of range: ${v}`, offset);
    return v;
  };
  const typeflag = String.fromCharCode(block[156]!);
  let name = cString(block, 0, 100);
  const linkname = cString(block, 157, 257);
  const size = bounded("size", field("size", 124, 136), Number.MAX_SAFE_INTEGER);
  const mode = bounded("mode", field("mode", 100, 108), 0xffffffff);
  const uid = bounded("uid", field("uid", 108, 116), 0xffffffff);
  const gid = bounded("gid", field("gid", 116, 124), 0xffffffff);
  const mtime = bounded("mtime", field("mtime", 136, 148), MAX_TIME_SECONDS, -MAX_TIME_SECONDS);
  let uname = "";
  let gname = "";
  let devmajor = 0;
  let devminor = 0;
  let atime: number | undefined;
  if (ustar || gnu) {
    uname = cString(block, 265, 297);
    gname = cString(block, 297, 329);
    devmajor = bounded("devmajor", field("devmajor", 329, 337), 0xffffffff);
    devminor = bounded("devminor", field("devminor", 337, 345), 0xffffffff);
    let prefix = "";
    if (star) {
      prefix = cString(block, 345, 476);
      atime = bounded("atime", field("atime", 476, 488), MAX_TIME_SECONDS, -MAX_TIME_SECONDS);
    } else if (ustar) {
      prefix = cString(block, 345, 500);
    } else if (block[345] !== 0) {
      // GNU: atime (and ctime) where USTAR has its prefix. Go falls back to reading a prefix
      // when they do not parse (old Go writers); we read what they say or refuse.
      atime = bounded("atime", field("atime", 345, 357), MAX_TIME_SECONDS, -MAX_TIME_SECONDS);
    }
    if (prefix !== "") name = `${prefix}/${name}`;
  }
  return {
    typeflag,
    name,
    linkname,
    size,
    mode,
    uid,
    gid,
    mtime,
    ...(atime !== undefined ? { atime } : {}),
    uname,
    gname,
    devmajor,
    devminor,
    offset,
  };
}

function cString(b: Buffer, start: number, end: number): string {
  const f = b.subarray(start, end);
  const nul = f.indexOf(0);
  return (nul < 0 ? f : f.subarray(0, nul)).toString("utf8");
}

/** Go's parseNumeric: base-256 when the top bit is set, octal otherwise. undefined = malformed. */
export function parseNumeric(b: Buffer): number | undefined {
  if (b.length > 0 && (b[0]! & 0x80) !== 0) {
    const inv = (b[0]! & 0x40) !== 0 ? 0xff : 0;
    let x = 0n;
    for (let i = 0; i < b.length; i++) {
      let c = b[i]! ^ inv;
      if (i === 0) c &= 0x7f;
      if (x >> 56n > 0n) return undefined;
      x = (x << 8n) | BigInt(c);
    }
    if (x >> 63n > 0n) return undefined;
    const v = inv === 0xff ? -x - 1n : x;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    return Number(v);
  }
  return parseOctal(b);
}

/** Go's parseOctal: spaces and NULs trimmed both ends, cut at the first NUL, octal digits only. */
export function parseOctal(b: Buffer): number | undefined {
  let start = 0;
  let end = b.length;
  while (start < end && (b[start] === 0x20 || b[start] === 0)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  if (start === end) return 0;
  let s = b.toString("latin1", start, end);
  const nul = s.indexOf("\0");
  if (nul >= 0) s = s.slice(0, nul);
  if (!/^[0-7]+$/.test(s)) return undefined;
  const v = Number.parseInt(s, 8);
  return Number.isSafeInteger(v) ? v : undefined;
}

/**
 * Parses the records of a PAX extended header (POSIX.1-2001 "pax Extended Header"): every
 * record `LEN KEY=VALUE\n` with LEN the record's exact byte length. Values are kept as bytes.
 */
export function parsePax(data: Buffer, offset = 0): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const at = offset + pos;
    const space = data.indexOf(0x20, pos);
    if (space < 0 || space - pos > 20) throw tarFormatError("PAX record has no length field", at);
    const lenText = data.toString("latin1", pos, space);
    if (!/^[0-9]+$/.test(lenText))
      throw tarFormatError(`PAX record length ${JSON.stringify(lenText)} is not a number`, at);
    const len = Number(lenText);
    if (len < 5 || len > data.length - pos) {
      throw tarFormatError(`PAX record length ${len} does not fit the ${data.length - pos} bytes left`, at);
    }
    if (len <= lenText.length + 1) throw tarFormatError(`PAX record length ${len} is too short`, at);
    const end = pos + len;
    if (data[end - 1] !== 0x0a) {
      throw tarFormatError(`PAX record length ${len} does not match the record (no newline at its end)`, at);
    }
    const rec = data.subarray(space + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw tarFormatError("PAX record is not key=value", at);
    const key = rec.subarray(0, eq).toString("utf8");
    const value = rec.subarray(eq + 1);
    if (key === "") throw tarFormatError("PAX record has an empty key", at);
    if (key.includes("\0")) throw tarFormatError("PAX record key contains a NUL byte", at);
    if ((key === "path" || key === "linkpath" || key === "uname" || key === "gname") && value.includes(0)) {
      throw tarFormatError(`PAX record ${key} contains a NUL byte`, at);
    }
    if (/^[a-z0-9]+$/.test(key) && !POSIX_KEYS.has(key)) {
      throw tarFormatError(`unknown PAX record ${JSON.stringify(key)}`, at);
    }
    out.set(key, value);
    pos = end;
  }
  return out;
}

function paxInteger(key: string, value: string, offset: number): number {
  if (!/^[0-9]{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw tarFormatError(
      `PAX record ${key}=${JSON.stringify(value.slice(0, 40))} is not a valid number`,
      offset,
    );
  }
  const n = Number(value);
  if ((key === "uid" || key === "gid") && n > 0xffffffff) {
    throw tarFormatError(`PAX record ${key}=${value} is out of range`, offset);
  }
  return n;
}

/** Go's parsePAXTime: seconds with an optional fraction; bounded to what a Date holds. */
function paxTime(key: string, value: string, offset: number): number {
  const m = /^(-?)([0-9]{1,16})(?:\.([0-9]*))?$/.exec(value);
  if (m === null)
    throw tarFormatError(
      `PAX record ${key}=${JSON.stringify(value.slice(0, 40))} is not a valid time`,
      offset,
    );
  const secs = Number(m[2]);
  if (secs > MAX_TIME_SECONDS) throw tarFormatError(`PAX record ${key}=${value} is out of range`, offset);
  const frac = m[3] ? Number(`0.${m[3].slice(0, 9)}`) : 0;
  return (m[1] === "-" ? -1 : 1) * (secs + frac);
}
