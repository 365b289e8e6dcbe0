/**
 * Docker's go-units for the CLI: the size parsers behind flags such as `--memory 512m`
 * (RAMInBytes) and `--shm-size` / storage sizes (FromHumanSize), which refuse bad input with
 * go-units' own messages, and — re-exported from base/, where the engine shares them — sizes
 * and durations as people read them.
 */
import { humanDuration } from "../../base/duration.js";
import { invalidArgument } from "../../base/errors.js";
import { quoteString } from "./go-fmt.js";

/**
 * units.HumanDuration of a duration in milliseconds: "Less than a second", "1 second",
 * "59 seconds", "About a minute", "2 minutes", "About an hour", "3 hours", "2 days",
 * "3 weeks", "5 months", "2 years".
 */
export { humanDuration } from "../../base/duration.js";

/** go-units' HumanSize, HumanSizeWithPrecision and BytesSize (base/sizes.ts). */
export { bytesSize, humanSize, humanSizeWithPrecision } from "../../base/sizes.js";

/** `humanDuration(now - date) + " ago"`, as the CREATED column prints it. */
export function timeAgo(date: Date | number, now: Date | number = Date.now()): string {
  const t = typeof date === "number" ? date : date.getTime();
  const n = typeof now === "number" ? now : now.getTime();
  return `${humanDuration(n - t)} ago`;
}

/** strconv.ParseFloat's accepted syntax (decimal, hex with p exponent, inf, nan). */
function parseFloatGo(s: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return Number.NaN;
  const dec = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
  if (dec.test(s)) return Number(s.replaceAll("_", ""));
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hex && (hex[2] || hex[3])) {
    const frac = hex[3] ?? "";
    const mant = Number.parseInt(`${hex[2] || "0"}${frac}`, 16) / 16 ** frac.length;
    const v = mant * 2 ** Number(hex[4]);
    return hex[1] === "-" ? -v : v;
  }
  return undefined;
}

const KB = 1000;
const KIB = 1024;

function parseSize(sizeStr: string, base: number): number {
  let num: string;
  let sfx: string;
  const space = sizeStr.indexOf(" ");
  if (space >= 0) {
    num = sizeStr.slice(0, space);
    sfx = sizeStr.slice(space + 1);
  } else {
    let sep = -1;
    for (let i = sizeStr.length - 1; i >= 0; i--) {
      if ("0123456789.".includes(sizeStr[i]!)) {
        sep = i;
        break;
      }
    }
    if (sep === -1) throw invalidArgument(`invalid size: '${sizeStr}'`);
    num = sizeStr.slice(0, sep + 1);
    sfx = sizeStr.slice(sep + 1);
  }
  let size = parseFloatGo(num);
  if (size === undefined)
    throw invalidArgument(`strconv.ParseFloat: parsing ${quoteString(num)}: invalid syntax`);
  if (size < 0) throw invalidArgument(`invalid size: '${sizeStr}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const badSuffix = () => invalidArgument(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw badSuffix();
  sfx = sfx.toLowerCase();
  if (sfx[0] === "b") {
    if (sfx.length > 1) throw badSuffix();
    return Math.trunc(size);
  }
  const power = "kmgtp".indexOf(sfx[0]!);
  if (power < 0) throw badSuffix();
  size *= base ** (power + 1);
  if ((sfx.length === 2 && sfx[1] !== "b") || (sfx.length === 3 && sfx.slice(1) !== "ib")) throw badSuffix();
  return Math.trunc(size);
}

/**
 * units.RAMInBytes: "512m", "1g", "1.5GiB", "100" (bytes); binary multiples (k = 1024),
 * case-insensitive, optional "b"/"ib". Throws invalidArgument on bad input.
 */
export function ramInBytes(size: string): number {
  return parseSize(size, KIB);
}

/** units.FromHumanSize: like ramInBytes with decimal multiples ("2.5GB" → 2_500_000_000). */
export function fromHumanSize(size: string): number {
  return parseSize(size, KB);
}
