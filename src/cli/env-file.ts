/**
 * `--env-file` and `--label-file` as Docker's CLI reads them: one `KEY=value` a line, the value
 * passed through untouched (no quotes, no trimming, no expansion); leading white space and
 * comment lines (`#`) skipped; a UTF-8 byte-order mark dropped from the first line; a key with
 * blanks in it (`export X=1`) or no key at all refused; a line of only a key takes the value the
 * variable has in our environment (env files), or stays a bare key (label files). Lines end at
 * `\n`, one `\r` before it dropped, and hold at most 64 KiB (Go's bufio.Scanner).
 */
import { isUtf8 } from "node:buffer";
import { readFileSync } from "node:fs";
import { errnoCode, errorMessage, invalidArgument } from "../base/errors.js";

/** Go's unicode.IsSpace: what Docker trims from the start of each line. */
const SPACE = "[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+";
const LEADING_SPACE = new RegExp(`^${SPACE}`);
const TRAILING_SPACE = new RegExp(`${SPACE}$`);
/** Blanks a key may not contain (Docker checks these two only). */
const KEY_BLANKS = /[ \t]/;
/** bufio.Scanner's largest token, the line's end included. */
const MAX_LINE = 64 * 1024;
const BOM = [0xef, 0xbb, 0xbf];

export interface KeyValueFileOptions {
  /** The file's name as given, for messages. */
  readonly name: string;
  /** Value of a key given alone; undefined leaves the bare key (label files). */
  readonly lookup?: (key: string) => string | undefined;
  /** Env files drop a key given alone that `lookup` does not know (as the variable is unset). */
  readonly dropUnknown?: boolean;
}

/** The `KEY=value` entries of an env or label file's contents, in order. */
export function parseKeyValueFile(data: Uint8Array, opts: KeyValueFileOptions): string[] {
  const out: string[] = [];
  let start = 0;
  for (let n = 1; start < data.length; n++) {
    const nl = data.indexOf(0x0a, start);
    const end = nl < 0 ? data.length : nl;
    if (end - start >= MAX_LINE) throw invalidArgument("bufio.Scanner: token too long");
    let bytes = data.subarray(start, end > start && data[end - 1] === 0x0d ? end - 1 : end);
    start = end + 1;
    if (!isUtf8(bytes)) {
      throw invalidArgument(
        `env file ${opts.name} contains invalid utf8 bytes at line ${n}: [${Array.from(bytes).join(" ")}]`,
      );
    }
    if (n === 1 && BOM.every((b, i) => bytes[i] === b)) bytes = bytes.subarray(BOM.length);
    const line = Buffer.from(bytes).toString("utf8").replace(LEADING_SPACE, "");
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const key = eq < 0 ? line : line.slice(0, eq);
    if (KEY_BLANKS.test(key)) {
      throw invalidArgument(`poorly formatted environment: variable '${key}' contains whitespaces`);
    }
    if (key === "") throw invalidArgument(`poorly formatted environment: no variable name on line '${line}'`);
    if (eq >= 0) {
      out.push(line);
      continue;
    }
    const name = line.replace(TRAILING_SPACE, "");
    const value = opts.lookup?.(line);
    if (value !== undefined) out.push(`${name}=${value}`);
    else if (!opts.dropUnknown) out.push(name);
  }
  return out;
}

/** Go's wording for a file that cannot be opened or read (`open ./vars: no such file or directory`). */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  ENOTDIR: "not a directory",
  ELOOP: "too many levels of symbolic links",
};

/** Reads and parses an env or label file named on the command line. */
export function readKeyValueFile(path: string, opts: Omit<KeyValueFileOptions, "name">): string[] {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    const code = errnoCode(err) ?? "";
    if (code === "EISDIR") throw invalidArgument(`read ${path}: is a directory`);
    throw invalidArgument(`open ${path}: ${ERRNO_TEXT[code] ?? errorMessage(err)}`);
  }
  return parseKeyValueFile(data, { ...opts, name: path });
}
