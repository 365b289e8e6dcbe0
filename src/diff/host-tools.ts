/**
 * The few filesystem calls Node lacks — mknod(2) and the xattr syscalls — done by running
 * coreutils `mknod` and `setfattr`/`getfattr` (Debian package `attr`) with a fixed argv and no
 * shell. Extended attributes are set in one batch through `setfattr -h --restore=-`, which uses
 * lsetxattr (never following a symlink), and read for a whole tree with one
 * `getfattr -R -P -h -d -m - -e hex`.
 */
import { invalidArgument } from "../base/errors.js";
import { execProgram, execProgramRaw } from "../sys/exec.js";

/** One extended attribute to set on one path. */
export interface XattrOp {
  /** Absolute path; its parents must already have been checked to be real directories. */
  path: string;
  name: string;
  value: Uint8Array;
}

/** Runs a tool to completion; its output, or its first stderr line as the error. */
async function run(
  tool: string,
  args: readonly string[],
  pkg: string,
  signal: AbortSignal | undefined,
  input?: Buffer,
): Promise<Buffer> {
  const r = await execProgramRaw(tool, args, {
    pkg,
    ...(signal ? { signal } : {}),
    ...(input ? { input } : {}),
  });
  if (r.code === 0) return r.stdout;
  const msg = r.stderr.toString("utf8").trim().split("\n")[0] ?? "";
  throw invalidArgument(`${tool} failed (exit ${r.code}): ${msg}`);
}

/**
 * Creates a device node or FIFO at `path` (which must not exist) with permissions 0 — the caller
 * sets owner and mode afterwards. `type` is `c`, `b` or `p`.
 */
export async function mknod(
  path: string,
  type: "c" | "b" | "p",
  opts: { major?: number; minor?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const args = ["-m", "0", "--", path, type];
  if (type !== "p") args.push(String(opts.major ?? 0), String(opts.minor ?? 0));
  const r = await execProgram("mknod", args, {
    pkg: "coreutils",
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (r.code !== 0)
    throw invalidArgument(`cannot create device node ${JSON.stringify(path)}: ${r.stderr.trim()}`);
}

/** Escapes a path or name the way getfattr prints it: `\ooo` for control bytes, space excluded, and `\`. */
function quoteAttr(s: string): string {
  const bytes = Buffer.from(s, "utf8");
  let out = "";
  for (const b of bytes) {
    if (b < 0x20 || b === 0x7f || b === 0x5c || b === 0x3d) out += `\\${b.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(b);
  }
  // The string holds raw bytes as code units; convert back through latin1 when writing.
  return out;
}

/** Reverses getfattr's quoting on a line of raw bytes. */
function unquoteAttr(raw: Buffer): string {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (
      b === 0x5c &&
      i + 3 < raw.length &&
      /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString("latin1"))
    ) {
      out.push(Number.parseInt(raw.subarray(i + 1, i + 4).toString("latin1"), 8));
      i += 3;
    } else out.push(b);
  }
  return Buffer.from(out).toString("utf8");
}

/**
 * Sets extended attributes on many paths with one `setfattr -h --restore=-` (lsetxattr: a
 * symlink gets the attribute itself, nothing is followed).
 */
export async function setXattrs(ops: readonly XattrOp[], opts: { signal?: AbortSignal } = {}): Promise<void> {
  if (ops.length === 0) return;
  const parts: Buffer[] = [];
  for (const op of ops) {
    parts.push(Buffer.from(`# file: ${quoteAttr(op.path)}\n`, "latin1"));
    parts.push(Buffer.from(`${quoteAttr(op.name)}=0x${Buffer.from(op.value).toString("hex")}\n\n`, "latin1"));
  }
  await run("setfattr", ["-h", "--restore=-"], "attr", opts.signal, Buffer.concat(parts));
}

/**
 * All extended attributes of every file under `dir` (including `dir`), symlinks not followed:
 * absolute path → (name → value). Files without attributes are absent.
 */
export async function readXattrsTree(
  dir: string,
  opts: { signal?: AbortSignal } = {},
): Promise<Map<string, Map<string, Buffer>>> {
  const out = await run(
    "getfattr",
    ["-R", "-P", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names", "--", dir],
    "attr",
    opts.signal,
  );
  const result = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  let start = 0;
  while (start < out.length) {
    let end = out.indexOf(0x0a, start);
    if (end < 0) end = out.length;
    const line = out.subarray(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    const FILE = Buffer.from("# file: ", "latin1");
    if (line.subarray(0, FILE.length).equals(FILE)) {
      current = new Map();
      result.set(unquoteAttr(line.subarray(FILE.length)), current);
      continue;
    }
    const eq = line.indexOf(0x3d);
    if (current === undefined || eq < 0) continue;
    const name = unquoteAttr(line.subarray(0, eq));
    const text = line.subarray(eq + 1).toString("latin1");
    if (!/^0x([0-9a-fA-F]{2})*$/.test(text)) {
      throw invalidArgument(`getfattr printed an unexpected value for ${JSON.stringify(name)}`);
    }
    current.set(name, Buffer.from(text.slice(2), "hex"));
  }
  return result;
}
