/**
 * The functions of templates: Go's builtins (index, len, eq, printf, …) and the Docker CLI's
 * additions (json, split, join, title, lower, upper, pad, truncate), plus the header variants
 * the Docker CLI uses when it renders a table's header line.
 */

import { formatValue, formatVerb, isPrintRune, sortStrings, sprint, sprintf, sprintln } from "./go-fmt.js";
import { encodeJson } from "./go-json.js";
import { goKind, goTypeName, isTrue, mapEntries, mapGet, mapSize } from "./go-value.js";

/**
 * The Go type of a parameter: `any` is `interface{}` (a missing value arrives as `null`),
 * `value` is `reflect.Value` (a missing value arrives as `undefined`), the others are checked.
 */
export type ParamType = "any" | "value" | "string" | "int" | "bool";

/** A function callable from a template, with Go's parameter types for argument checking. */
export interface TemplateFunction {
  readonly params: readonly ParamType[];
  /** Type of the extra arguments when the function is variadic. */
  readonly variadic?: ParamType;
  /** Called with checked arguments; a thrown Error becomes "error calling NAME: message". */
  readonly fn: (...args: unknown[]) => unknown;
}

/** A failure inside a template function (Go's second, error result). */
export class FuncError extends Error {
  override name = "FuncError";
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function intOf(v: unknown): number | undefined {
  if (goKind(v) !== "int") return undefined;
  return Number(v);
}

function indexArg(index: unknown, cap: number): number {
  const k = goKind(index);
  if (k === "invalid" || k === "nil") throw new FuncError("cannot index slice/array with nil");
  const x = intOf(index);
  if (x === undefined) throw new FuncError(`cannot index slice/array with type ${goTypeName(index)}`);
  if (x < 0 || x > cap) throw new FuncError(`index out of range: ${x}`);
  return x;
}

/** The zero value Go would give for a missing key: "" for maps of strings, else nil. */
export function mapZero(m: object): unknown {
  const values = mapEntries(m)
    .map(([, v]) => v)
    .filter((v) => typeof v !== "function");
  if (values.length > 0 && values.every((v) => typeof v === "string")) return "";
  if (values.length > 0 && values.every((v) => typeof v === "number")) return 0;
  if (values.length > 0 && values.every((v) => typeof v === "boolean")) return false;
  return undefined;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  let cur = item;
  if (goKind(cur) === "invalid" || goKind(cur) === "nil") throw new FuncError("index of untyped nil");
  for (const ix of indexes) {
    const k = goKind(cur);
    if (k === "nil") throw new FuncError("index of nil pointer");
    if (k === "slice" || k === "bytes") {
      const arr = cur as ArrayLike<unknown>;
      const x = indexArg(ix, arr.length);
      if (x >= arr.length) throw new FuncError("reflect: slice index out of range");
      cur = arr[x];
    } else if (k === "string") {
      const bytes = enc.encode(cur as string);
      const x = indexArg(ix, bytes.length);
      if (x >= bytes.length) throw new FuncError("reflect: string index out of range");
      cur = bytes[x];
    } else if (k === "map") {
      const ik = goKind(ix);
      if (ik === "invalid" || ik === "nil") throw new FuncError("value is nil; should be of type string");
      if (ik !== "string") throw new FuncError(`value has type ${goTypeName(ix)}; should be string`);
      const v = mapGet(cur as object, ix as string);
      cur = v === undefined ? mapZero(cur as object) : v;
    } else {
      throw new FuncError(`can't index item of type ${goTypeName(cur)}`);
    }
  }
  return cur;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  const k = goKind(item);
  if (k === "invalid" || k === "nil") throw new FuncError("slice of untyped nil");
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  let len: number;
  let bytes: Uint8Array | undefined;
  if (k === "string") {
    if (indexes.length === 3) throw new FuncError("cannot 3-index slice a string");
    bytes = enc.encode(item as string);
    len = bytes.length;
  } else if (k === "slice" || k === "bytes") {
    len = (item as ArrayLike<unknown>).length;
  } else {
    throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((ix, i) => {
    idx[i] = indexArg(ix, len);
  });
  if (idx[0]! > idx[1]!) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!)
    throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (bytes) return dec.decode(bytes.subarray(idx[0], idx[1]));
  if (item instanceof Uint8Array) return item.subarray(idx[0], idx[1]);
  return (item as unknown[]).slice(idx[0], idx[1]);
}

function length(item: unknown): number {
  switch (goKind(item)) {
    case "invalid":
      throw new FuncError("reflect: call of reflect.Value.Type on zero Value");
    case "nil":
      throw new FuncError("len of nil pointer");
    case "string":
      return enc.encode(item as string).length;
    case "slice":
    case "bytes":
      return (item as ArrayLike<unknown>).length;
    case "map":
      return mapSize(item as object);
    default:
      throw new FuncError(`len of type ${goTypeName(item)}`);
  }
}

function call(fn: unknown, ...args: unknown[]): unknown {
  const k = goKind(fn);
  if (k === "invalid" || k === "nil") throw new FuncError("call of nil");
  if (typeof fn !== "function") throw new FuncError(`non-function of type ${goTypeName(fn)}`);
  if (args.length < fn.length)
    throw new FuncError(`wrong number of args: got ${args.length} want ${fn.length}`);
  return Reflect.apply(
    fn,
    undefined,
    args.map((a) => (a === undefined ? null : a)),
  );
}

type BasicKind = "bool" | "int" | "float" | "string" | "invalid";

function basicKind(v: unknown): BasicKind {
  const k = goKind(v);
  return k === "bool" || k === "int" || k === "float" || k === "string" ? k : "invalid";
}

const isNumeric = (k: BasicKind) => k === "int" || k === "float";
const isNil = (v: unknown) => v === undefined || v === null;

function sameBasic(a: unknown, b: unknown): boolean {
  if (typeof a === "bigint" || typeof b === "bigint") {
    try {
      return BigInt(a as number) === BigInt(b as number);
    } catch {
      return Number(a) === Number(b);
    }
  }
  return a === b;
}

function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  if (arg2.length === 0) throw new FuncError("missing argument for comparison");
  const k1 = basicKind(arg1);
  for (const arg of arg2) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      // JavaScript has one number type: ints and floats compare by value.
      if (isNumeric(k1) && isNumeric(k2)) truth = Number(arg1) === Number(arg);
      else if (!isNil(arg1) && !isNil(arg)) throw new FuncError("incompatible types for comparison");
    } else if (k1 !== "invalid") {
      truth = sameBasic(arg1, arg);
    } else {
      const c1 = goKind(arg1);
      const c2 = goKind(arg);
      if (isNil(arg1) || isNil(arg)) truth = isNil(arg1) === isNil(arg);
      else if (c1 !== c2) {
        throw new FuncError(
          `non-comparable types ${formatVerb(arg1, "s")}: ${goTypeName(arg1)}, ${goTypeName(arg)}: ${formatValue(arg)}`,
        );
      } else if (c1 === "slice" || c1 === "map" || c1 === "func" || c1 === "bytes") {
        throw new FuncError(`non-comparable type ${formatVerb(arg, "s")}: ${goTypeName(arg)}`);
      } else truth = arg1 === arg;
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: unknown, arg2: unknown): boolean {
  const k1 = basicKind(arg1);
  const k2 = basicKind(arg2);
  if (k1 === "invalid" || k2 === "invalid") throw new FuncError("invalid type for comparison");
  if (k1 !== k2) {
    if (isNumeric(k1) && isNumeric(k2)) return Number(arg1) < Number(arg2);
    throw new FuncError("incompatible types for comparison");
  }
  if (k1 === "bool") throw new FuncError("invalid type for comparison");
  if (k1 === "string") return (arg1 as string) < (arg2 as string);
  return (arg1 as number) < (arg2 as number);
}

const le = (a: unknown, b: unknown) => lt(a, b) || eq(a, b);

/** Go's evalArgs for html/js/urlquery: one string as is, else fmt.Sprint of printable values. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args.map((a) => (isNil(a) ? "<no value>" : a)));
}

function htmlEscape(s: string): string {
  return s.replace(/['"&<>\0]/g, (c) => {
    switch (c) {
      case '"':
        return "&#34;";
      case "'":
        return "&#39;";
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      default:
        return "\ufffd";
    }
  });
}

function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    switch (ch) {
      case "\\":
        out += "\\\\";
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case "<":
        out += "\\u003C";
        continue;
      case ">":
        out += "\\u003E";
        continue;
      case "&":
        out += "\\u0026";
        continue;
      case "=":
        out += "\\u003D";
        continue;
    }
    if (r < 0x20) out += `\\u00${r.toString(16).toUpperCase().padStart(2, "0")}`;
    else if (r < 0x80 || isPrintRune(r)) out += ch;
    else out += `\\u${r.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return out;
}

function urlQueryEscape(s: string): string {
  let out = "";
  for (const b of enc.encode(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Go's builtin functions; `and` and `or` are evaluated lazily by the executor. */
export const builtinFunctions: Readonly<Record<string, TemplateFunction>> = {
  and: { params: ["value"], variadic: "value", fn: () => undefined },
  or: { params: ["value"], variadic: "value", fn: () => undefined },
  not: { params: ["value"], fn: (v) => !isTrue(v) },
  len: { params: ["value"], fn: length },
  index: { params: ["value"], variadic: "value", fn: index },
  slice: { params: ["value"], variadic: "value", fn: slice },
  call: { params: ["value"], variadic: "value", fn: call },
  print: { params: [], variadic: "any", fn: (...a) => sprint(a) },
  printf: { params: ["string"], variadic: "any", fn: (f, ...a) => sprintf(f as string, a) },
  println: { params: [], variadic: "any", fn: (...a) => sprintln(a) },
  html: { params: [], variadic: "any", fn: (...a) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: "any", fn: (...a) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: "any", fn: (...a) => urlQueryEscape(evalArgs(a)) },
  eq: { params: ["value"], variadic: "value", fn: eq },
  ne: { params: ["value", "value"], fn: (a, b) => !eq(a, b) },
  lt: { params: ["value", "value"], fn: lt },
  le: { params: ["value", "value"], fn: le },
  gt: { params: ["value", "value"], fn: (a, b) => !le(a, b) },
  ge: { params: ["value", "value"], fn: (a, b) => !lt(a, b) },
};

/** Go's strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = " ";
  let out = "";
  for (const ch of s) {
    const sep = isSeparator(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  const r = ch.codePointAt(0)!;
  if (r <= 0x7f) {
    if (/[0-9A-Za-z_]/.test(ch)) return false;
    return true;
  }
  if (/\p{L}|\p{Nd}/u.test(ch)) return false;
  return /\s/u.test(ch);
}

function join(elems: unknown, sep: unknown): string {
  const s = sep as string;
  switch (goKind(elems)) {
    case "invalid":
    case "nil":
      return "";
    case "slice":
      return (elems as unknown[]).map((e) => (typeof e === "string" ? e : formatValue(e))).join(s);
    case "bytes":
      return [...(elems as Uint8Array)].map(String).join(s);
    case "map":
      return sortStrings(mapEntries(elems as object).map(([, v]) => formatValue(v))).join(s);
    default:
      throw new FuncError(`expected slice, got ${goTypeName(elems)}`);
  }
}

/** The Docker CLI's template functions (docker/cli templates.basicFunctions). */
export const dockerFunctions: Readonly<Record<string, TemplateFunction>> = {
  json: {
    params: ["any"],
    fn: (v) => {
      try {
        return encodeJson(v, { escapeHtml: false }).trim();
      } catch (err) {
        throw new FuncError(err instanceof Error ? err.message : String(err));
      }
    },
  },
  split: {
    params: ["string", "string"],
    fn: (s, sep) => ((sep as string) === "" ? [...(s as string)] : (s as string).split(sep as string)),
  },
  join: { params: ["any", "string"], fn: join },
  title: { params: ["string"], fn: (s) => title(s as string) },
  lower: { params: ["string"], fn: (s) => (s as string).toLowerCase() },
  upper: { params: ["string"], fn: (s) => (s as string).toUpperCase() },
  pad: {
    params: ["string", "int", "int"],
    fn: (s, prefix, suffix) => {
      if (s === "") return s;
      if ((prefix as number) < 0 || (suffix as number) < 0)
        throw new FuncError("strings: negative Repeat count");
      return " ".repeat(prefix as number) + (s as string) + " ".repeat(suffix as number);
    },
  },
  truncate: {
    params: ["string", "int"],
    fn: (s, n) => {
      const runes = [...(s as string)];
      const len = n as number;
      if (len < 0) throw new FuncError(`runtime error: slice bounds out of range [:${len}]`);
      return runes.length < len ? s : runes.slice(0, len).join("");
    },
  },
};

const identity = (v: unknown) => v;

/**
 * The Docker CLI's HeaderFunctions: when a table's header line is rendered, these leave the
 * column titles intact (`pad` is not replaced, so headers stay aligned with the columns).
 */
export const headerFunctions: Readonly<Record<string, TemplateFunction>> = {
  json: { params: ["string"], fn: identity },
  split: { params: ["string", "string"], fn: identity },
  join: { params: ["string", "string"], fn: identity },
  title: { params: ["string"], fn: identity },
  lower: { params: ["string"], fn: identity },
  upper: { params: ["string"], fn: identity },
  truncate: { params: ["string", "int"], fn: identity },
};
