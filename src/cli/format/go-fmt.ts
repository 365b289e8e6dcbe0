/**
 * Go's fmt package for the values of go-value.ts: `Sprint`, `Sprintln`, `Sprintf` with Go's
 * verbs, flags, width and precision, and its `%!verb(type=value)` error notation. Floats are
 * strconv's formatting (base/go-float.ts).
 */
import { formatFloat } from "../../base/go-float.js";
import { compareCodePoints, goKind, goTypeName, mapEntries, structFields } from "./go-value.js";

// ---------------------------------------------------------------------------------------------
// Quoting

const LOWER_HEX = "0123456789abcdef";

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrintRune(r: number): boolean {
  if (r === 0x20) return true;
  if (r < 0x20 || r === 0x7f) return false;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(r));
}

function escapeRune(r: number, quote: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(r);
  if (ch === quote || ch === "\\") return `\\${ch}`;
  if (asciiOnly ? r < 0x80 && isPrintRune(r) : isPrintRune(r)) return ch;
  switch (ch) {
    case "\x07":
      return "\\a";
    case "\b":
      return "\\b";
    case "\f":
      return "\\f";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    case "\v":
      return "\\v";
  }
  if (r < 0x20 || r === 0x7f) return `\\x${LOWER_HEX[r >> 4]}${LOWER_HEX[r & 15]}`;
  if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
  if (r < 0x10000) return `\\u${r.toString(16).padStart(4, "0")}`;
  return `\\U${r.toString(16).padStart(8, "0")}`;
}

/** strconv.Quote (or QuoteToASCII when asciiOnly). */
export function quoteString(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, '"', asciiOnly);
  return out + '"';
}

/** strconv.QuoteRune. */
export function quoteRune(r: number, asciiOnly = false): string {
  if (r > 0x10ffff || r < 0 || (r >= 0xd800 && r <= 0xdfff)) r = 0xfffd;
  return `'${escapeRune(r, "'", asciiOnly)}'`;
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === "`" || r === 0xfeff) return false;
    if (r < 0x20 && ch !== "\t") return false;
    if (r === 0x7f) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Values

/** Go's time.Time.String() for a Date, in UTC. */
export function goTimeString(d: Date): string {
  if (Number.isNaN(d.getTime())) return "0001-01-01 00:00:00 +0000 UTC";
  const iso = d.toISOString();
  let frac = iso.slice(20, 23).replace(/0+$/, "");
  if (frac) frac = `.${frac}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid?: number;
  prec?: number;
}

const noFlags = (): Flags => ({
  plus: false,
  minus: false,
  sharp: false,
  space: false,
  zero: false,
  plusV: false,
  sharpV: false,
});

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Pads to the width: spaces (or zeros) on the left, or spaces on the right with `-`. */
function pad(s: string, f: Flags): string {
  if (f.wid === undefined || f.wid === 0) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + " ".repeat(n);
  return (f.zero ? "0" : " ").repeat(n) + s;
}

function toBigInt(v: unknown): bigint {
  return typeof v === "bigint" ? v : BigInt(v as number);
}

function fmtInteger(value: bigint, verb: string, f: Flags): string {
  const negative = value < 0n;
  const u = negative ? -value : value;
  let base = 10;
  switch (verb) {
    case "b":
      base = 2;
      break;
    case "o":
    case "O":
      base = 8;
      break;
    case "x":
    case "X":
      base = 16;
      break;
  }
  let prec = 0;
  if (f.prec !== undefined) {
    prec = f.prec;
    if (prec === 0 && u === 0n) return pad("", { ...f, zero: false });
  } else if (f.zero && f.wid !== undefined) {
    prec = f.wid;
    if (negative || f.plus || f.space) prec--;
  }
  let digits = u.toString(base);
  if (verb === "X") digits = digits.toUpperCase();
  if (digits.length < prec) digits = "0".repeat(prec - digits.length) + digits;
  if (f.sharp) {
    if (base === 2) digits = `0b${digits}`;
    else if (base === 8 && digits[0] !== "0") digits = `0${digits}`;
    else if (base === 16) digits = `0${verb}${digits}`;
  }
  if (verb === "O") digits = `0o${digits}`;
  if (negative) digits = `-${digits}`;
  else if (f.plus) digits = `+${digits}`;
  else if (f.space) digits = ` ${digits}`;
  return pad(digits, { ...f, zero: false });
}

function fmtFloatVerb(x: number, verb: string, f: Flags): string {
  let prec: number;
  let v = verb;
  if (v === "v") {
    v = "g";
    prec = -1;
  } else if (v === "e" || v === "E" || v === "f" || v === "F") prec = 6;
  else prec = -1;
  if (f.prec !== undefined) prec = f.prec;
  let num = formatFloat(x, v, prec);
  if (num[0] !== "-" && num[0] !== "+") num = `+${num}`;
  if (f.space && num[0] === "+" && !f.plus) num = ` ${num.slice(1)}`;
  if (num[1] === "I" || num[1] === "N") {
    if (num[1] === "N" && !f.space && !f.plus) num = num.slice(1);
    return pad(num, { ...f, zero: false });
  }
  if (f.sharp && (v === "g" || v === "G") && !num.includes(".") && !/[eE]/.test(num)) {
    num += ".";
  }
  if (f.plus || num[0] !== "+") {
    if (f.zero && f.wid !== undefined && f.wid > num.length) {
      return num[0] + "0".repeat(f.wid - num.length) + num.slice(1);
    }
    return pad(num, f);
  }
  return pad(num.slice(1), f);
}

function hexBytes(bytes: Uint8Array, verb: string, f: Flags): string {
  const digits = verb === "X" ? "0123456789ABCDEF" : LOWER_HEX;
  let n = bytes.length;
  if (f.prec !== undefined && f.prec < n) n = f.prec;
  let out = "";
  for (let i = 0; i < n; i++) {
    if (f.space && i > 0) out += " ";
    if (f.sharp && (f.space || i === 0)) out += verb === "X" ? "0X" : "0x";
    const b = bytes[i]!;
    out += digits[b >> 4]! + digits[b & 15]!;
  }
  return pad(out, f);
}

function fmtString(s: string, verb: string, f: Flags): string {
  switch (verb) {
    case "v":
      if (f.sharpV) return pad(quoteString(s), f);
      return pad(truncate(s, f.prec), f);
    case "s":
      return pad(truncate(s, f.prec), f);
    case "q": {
      const t = truncate(s, f.prec);
      if (f.sharp && canBackquote(t)) return pad(`\`${t}\``, f);
      return pad(quoteString(t, f.plus), f);
    }
    case "x":
    case "X":
      return hexBytes(new TextEncoder().encode(s), verb, f);
    default:
      return badVerb(s, verb);
  }
}

function truncate(s: string, prec: number | undefined): string {
  if (prec === undefined) return s;
  let out = "";
  let n = 0;
  for (const ch of s) {
    if (n++ >= prec) break;
    out += ch;
  }
  return out;
}

function badVerb(v: unknown, verb: string): string {
  const kind = goKind(v);
  if (kind === "invalid" || kind === "nil") return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${formatArg(v, "v", noFlags(), 0)})`;
}

function sharpVElems(v: unknown): string {
  return formatArg(v, "v", { ...noFlags(), sharpV: true }, 1);
}

/** The verbs of Go's floating-point formats. */
const FLOAT_VERBS: ReadonlySet<string> = new Set(["e", "E", "f", "F", "g", "G"]);

/** The verbs a string takes (and what prints as one: a time, an error). */
const STRING_VERBS: ReadonlySet<string> = new Set(["s", "q", "x", "X"]);

/** Formats one operand with a verb, like fmt's printArg/printValue. */
function formatArg(v: unknown, verb: string, f: Flags, depth: number): string {
  if (verb === "T") return pad(goKind(v) === "invalid" ? "<nil>" : goTypeName(v), f);
  const kind = goKind(v);
  switch (kind) {
    case "invalid":
    case "nil":
      if (verb === "v") return pad(f.sharpV ? "<nil>" : "<nil>", f);
      return badVerb(v, verb);
    case "bool":
      if (verb === "t" || verb === "v") return pad(v ? "true" : "false", f);
      return badVerb(v, verb);
    case "int": {
      const b = toBigInt(v);
      switch (verb) {
        case "v":
        case "d":
        case "b":
        case "o":
        case "O":
        case "x":
        case "X":
          return fmtInteger(b, verb === "v" ? "d" : verb, f);
        case "c":
          return pad(String.fromCodePoint(validRune(b)), f);
        case "q":
          return pad(quoteRune(validRune(b), f.plus), f);
        case "U": {
          const r = b < 0n ? 0 : Number(b);
          let s = `U+${r
            .toString(16)
            .toUpperCase()
            .padStart(Math.max(4, f.prec ?? 0), "0")}`;
          if (f.sharp && r <= 0x10ffff && isPrintRune(r)) s += ` '${String.fromCodePoint(r)}'`;
          return pad(s, { ...f, zero: false });
        }
        default:
          // JavaScript cannot tell 3 from 3.0: integral numbers accept float verbs.
          return FLOAT_VERBS.has(verb) ? fmtFloatVerb(Number(b), verb, f) : badVerb(v, verb);
      }
    }
    case "float":
      if (verb === "v" || FLOAT_VERBS.has(verb)) return fmtFloatVerb(v as number, verb, f);
      return badVerb(v, verb);
    case "string":
      return fmtString(String(v), verb, f);
    case "bytes": {
      const bytes = v as Uint8Array;
      if (verb === "s" || verb === "q") return fmtString(new TextDecoder().decode(bytes), verb, f);
      if (verb === "x" || verb === "X") return hexBytes(bytes, verb, f);
      return formatArg([...bytes], verb, f, depth);
    }
    case "time":
    case "error":
      // Printed as their String() or Error() text.
      if (verb === "v" || STRING_VERBS.has(verb)) {
        const text = kind === "time" ? goTimeString(v as Date) : (v as Error).message;
        return fmtString(text, verb === "v" ? "s" : verb, f);
      }
      return badVerb(v, verb);
    case "func":
      if (verb === "v" || verb === "p") return pad("0x0", f);
      return badVerb(v, verb);
    case "slice": {
      const items = (v as unknown[]).map((x) =>
        f.sharpV ? sharpVElems(x) : formatArg(x, verb, f, depth + 1),
      );
      if (f.sharpV) return `[]interface {}{${items.join(", ")}}`;
      return `[${items.join(" ")}]`;
    }
    case "map": {
      const entries = mapEntries(v as object);
      if (f.sharpV) {
        const parts = entries.map(([k, x]) => `${sharpVElems(k)}:${sharpVElems(x)}`);
        return `map[string]interface {}{${parts.join(", ")}}`;
      }
      const parts = entries.map(
        ([k, x]) => `${formatArg(k, verb, f, depth + 1)}:${formatArg(x, verb, f, depth + 1)}`,
      );
      return `map[${parts.join(" ")}]`;
    }
    case "struct": {
      const fields = structFields(v as object);
      if (f.sharpV) {
        const parts = fields.map(([k, x]) => `${k}:${sharpVElems(x)}`);
        return `${goTypeName(v).replace(/^\*/, "&")}{${parts.join(", ")}}`;
      }
      const parts = fields.map(([k, x]) => (f.plusV ? `${k}:` : "") + formatArg(x, verb, f, depth + 1));
      return `${depth === 0 && goTypeName(v).startsWith("*") ? "&" : ""}{${parts.join(" ")}}`;
    }
  }
}

function validRune(b: bigint): number {
  if (b < 0n || b > 0x10ffffn) return 0xfffd;
  const r = Number(b);
  return r >= 0xd800 && r <= 0xdfff ? 0xfffd : r;
}

/** fmt.Sprintf("%" + verb, v) with no flags. */
export function formatVerb(v: unknown, verb: string): string {
  return formatArg(v, verb, noFlags(), 0);
}

/** fmt.Sprint(v) of a single value with %v. */
export function formatValue(v: unknown): string {
  return formatArg(v, "v", noFlags(), 0);
}

/** How a template action prints a value: like %v, with a pointer to a struct dereferenced. */
export function formatPrinted(v: unknown): string {
  return formatArg(v, "v", noFlags(), goKind(v) === "struct" ? 1 : 0);
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = "";
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = goKind(arg) === "string";
    if (i > 0 && !isString && !prevString) out += " ";
    out += formatValue(arg);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands and a final newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map((a) => formatValue(a)).join(" ")}\n`;
}

function parseNum(s: string, i: number): { num: number; present: boolean; next: number } {
  let num = 0;
  let present = false;
  while (i < s.length && s[i]! >= "0" && s[i]! <= "9") {
    if (num > 1e6) return { num: 0, present: false, next: s.length };
    num = num * 10 + (s.charCodeAt(i) - 48);
    present = true;
    i++;
  }
  return { num, present, next: i };
}

/**
 * fmt.Sprintf with Go's verbs, flags, `*` width/precision, `[n]` indexes and error notation.
 * One loop, as Go's doPrintf: the flags, width, precision and argument index are state carried
 * from one character of the format to the next, and Go's error notation (`%!v(MISSING)`,
 * `%!(EXTRA …)`, `%!(BADINDEX)`) depends on all of it; split, each piece would take and return it.
 */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = "";
  let argNum = 0;
  let reordered = false;
  const end = format.length;
  let i = 0;
  const intFromArg = (): { n: number; ok: boolean } => {
    if (argNum >= args.length) return { n: 0, ok: false };
    const a = args[argNum++];
    if (goKind(a) !== "int") return { n: 0, ok: false };
    const n = Number(a);
    return Math.abs(n) > 1e6 ? { n: 0, ok: false } : { n, ok: true };
  };
  while (i < end) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f = noFlags();
    let goodArgNum = true;
    let afterIndex = false;
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case "#":
          f.sharp = true;
          break;
        case "0":
          f.zero = !f.minus;
          break;
        case "+":
          f.plus = true;
          break;
        case "-":
          f.minus = true;
          f.zero = false;
          break;
        case " ":
          f.space = true;
          break;
        default:
          break flags;
      }
    }
    const argIndex = (): void => {
      if (i >= end || format[i] !== "[") return;
      reordered = true;
      const close = format.indexOf("]", i);
      const n = close < 0 ? Number.NaN : Number(format.slice(i + 1, close));
      if (close < 0 || !Number.isInteger(n) || n < 1 || format.slice(i + 1, close).trim() === "") {
        goodArgNum = false;
        i = close < 0 ? end : close + 1;
        return;
      }
      argNum = n - 1;
      i = close + 1;
      afterIndex = true;
    };
    // `*` at i: the width or precision is the next argument; a bad one is reported in the output.
    const starArg = (what: "WIDTH" | "PREC"): number | undefined => {
      i++;
      afterIndex = false;
      const { n, ok } = intFromArg();
      if (!ok) out += `%!(BAD${what})`;
      return ok ? n : undefined;
    };
    argIndex();
    if (i < end && format[i] === "*") {
      const n = starArg("WIDTH");
      if (n !== undefined) {
        f.wid = Math.abs(n);
        if (n < 0) {
          f.minus = true;
          f.zero = false;
        }
      }
    } else {
      const p = parseNum(format, i);
      if (p.present) {
        f.wid = p.num;
        if (afterIndex) goodArgNum = false;
      }
      i = p.next;
    }
    if (i + 1 < end && format[i] === ".") {
      i++;
      if (afterIndex) goodArgNum = false;
      afterIndex = false;
      argIndex();
      if (i < end && format[i] === "*") {
        const n = starArg("PREC");
        if (n !== undefined && n >= 0) f.prec = n;
      } else {
        const p = parseNum(format, i);
        f.prec = p.present ? p.num : 0;
        i = p.next;
      }
    }
    if (!afterIndex) argIndex();
    if (i >= end) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === "v") {
      f.sharpV = f.sharp;
      f.sharp = false;
      f.plusV = f.plus;
      f.plus = false;
    }
    out += formatArg(args[argNum], verb, f, 0);
    argNum++;
  }
  if (!reordered && argNum < args.length) {
    const extra = args.slice(argNum).map((a) => {
      const k = goKind(a);
      return k === "invalid" || k === "nil" ? "<nil>" : `${goTypeName(a)}=${formatValue(a)}`;
    });
    out += `%!(EXTRA ${extra.join(", ")})`;
  }
  return out;
}

/** Sorts strings like Go's sort.Strings. */
export function sortStrings(items: string[]): string[] {
  return items.sort(compareCodePoints);
}
