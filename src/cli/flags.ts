/**
 * Command-line flags with the semantics of Docker's CLI (spf13/pflag): `--name value`,
 * `--name=value`, `-n value`, `-nvalue`, combined short booleans (`-aq`), `--bool=false`, `--`
 * ending flags, repeated list flags, and pflag's error wording.
 */
import { BerthError } from "../base/errors.js";

export type FlagType = "bool" | "string" | "list" | "int";

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: FlagType;
  readonly description: string;
  /** The value's name in help (`string`, `filter`, `list`, …). */
  readonly valueName?: string;
  readonly defaultText?: string;
  readonly hidden?: boolean;
}

export type FlagValue = boolean | string | string[] | number;

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, FlagValue>;
  readonly args: readonly string[];
}

/** A usage error: exit status 125, as Docker's CLI gives for flag errors. */
export class UsageError extends BerthError {
  constructor(message: string) {
    super("InvalidArgument", message);
    this.name = "UsageError";
  }
}

export function parseBool(v: string, flagLabel: string): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
  throw new UsageError(
    `invalid argument "${v}" for "${flagLabel}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`,
  );
}

/**
 * Go's strconv.ParseInt(s, 0, 64), as pflag's int flags use it: an optional sign, then decimal,
 * `0x` hex, `0o`/`0b` or a leading `0` (octal); `_` may separate digits (or follow a prefix).
 */
export function parseGoInt(raw: string, flagLabel: string): number {
  const fail = (why: string) =>
    new UsageError(
      `invalid argument "${raw}" for "${flagLabel}" flag: strconv.ParseInt: parsing "${raw}": ${why}`,
    );
  const m = /^([+-]?)(0[xX]|0[oO]|0[bB]|0(?=.))?(.+)$/.exec(raw);
  if (!m) throw fail("invalid syntax");
  const prefix = (m[2] ?? "").toLowerCase();
  const digits = m[3] as string;
  const digitClass =
    prefix === "0x" ? "[0-9a-fA-F]" : prefix === "0b" ? "[01]" : prefix === "" ? "[0-9]" : "[0-7]";
  // Digits with single underscores between them; a base prefix counts as a digit before one.
  const grammar = new RegExp(`^${prefix ? "_?" : ""}${digitClass}+(_${digitClass}+)*$`);
  if (!grammar.test(digits)) throw fail("invalid syntax");
  const clean = digits.replaceAll("_", "");
  const base = prefix === "0x" ? "0x" : prefix === "0b" ? "0b" : prefix === "" ? "" : "0o";
  const value = (m[1] === "-" ? -1n : 1n) * BigInt(`${base}${clean}`);
  if (value > 9223372036854775807n || value < -9223372036854775808n) throw fail("value out of range");
  return Number(value);
}

function label(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

function setValue(out: Map<string, FlagValue>, spec: FlagSpec, raw: string): void {
  switch (spec.type) {
    case "bool":
      out.set(spec.name, parseBool(raw, label(spec)));
      return;
    case "int": {
      out.set(spec.name, parseGoInt(raw, label(spec)));
      return;
    }
    case "list": {
      const prev = out.get(spec.name);
      out.set(spec.name, [...(Array.isArray(prev) ? prev : []), raw]);
      return;
    }
    case "string":
      out.set(spec.name, raw);
      return;
  }
}

/**
 * Parses `argv` against `specs`. With `interspersed: false` (commands such as `run` that take a
 * command line after the image), the first positional argument ends flag parsing.
 */
export function parseFlags(
  argv: readonly string[],
  specs: readonly FlagSpec[],
  opts: { interspersed?: boolean } = {},
): ParsedArgs {
  const interspersed = opts.interspersed ?? true;
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const flags = new Map<string, FlagValue>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byName.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      if (eq >= 0) setValue(flags, spec, a.slice(eq + 1));
      else if (spec.type === "bool") flags.set(spec.name, true);
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        setValue(flags, spec, argv[++i] as string);
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j] as string;
        const spec = byShort.get(c);
        if (!spec) throw new UsageError(`unknown shorthand flag: '${c}' in -${a.slice(j)}`);
        if (a[j + 1] === "=") {
          setValue(flags, spec, a.slice(j + 2));
          break;
        }
        if (spec.type === "bool") {
          flags.set(spec.name, true);
          continue;
        }
        if (j + 1 < a.length) setValue(flags, spec, a.slice(j + 1));
        else {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${c}`);
          setValue(flags, spec, argv[++i] as string);
        }
        break;
      }
      continue;
    }
    args.push(a);
    if (!interspersed) {
      args.push(...argv.slice(i + 1));
      break;
    }
  }
  return { flags, args };
}

/** Typed accessors over parsed flags. */
export class Flags {
  constructor(private readonly parsed: ReadonlyMap<string, FlagValue>) {}

  bool(name: string, fallback = false): boolean {
    const v = this.parsed.get(name);
    return typeof v === "boolean" ? v : fallback;
  }

  string(name: string): string | undefined {
    const v = this.parsed.get(name);
    return typeof v === "string" ? v : undefined;
  }

  list(name: string): string[] {
    const v = this.parsed.get(name);
    return Array.isArray(v) ? v : [];
  }

  int(name: string): number | undefined {
    const v = this.parsed.get(name);
    return typeof v === "number" ? v : undefined;
  }

  has(name: string): boolean {
    return this.parsed.has(name);
  }
}

/** `key=value` options (Docker's ListOpts/MapOpts: --label, --opt): a value without "=" is a key with "". */
export function keyValueFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq < 0) out[v] = "";
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** `--filter key=value` flags as the Docker API's filter map. */
export function parseFilterFlags(values: readonly string[], flagLabel?: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of values) {
    // Docker's filter option ignores an empty value.
    if (v === "") continue;
    const eq = v.indexOf("=");
    if (eq <= 0) {
      const why = "bad format of filter (expected name=value)";
      throw new UsageError(flagLabel ? `invalid argument "${v}" for "${flagLabel}" flag: ${why}` : why);
    }
    // `label!=x` gives the key "label!", which prune's filters expect.
    const key = v.slice(0, eq).trim().toLowerCase();
    const value = v.slice(eq + 1).trim();
    out[key] = [...(out[key] ?? []), value];
  }
  return out;
}

/** Help text for a list of flags, aligned like Docker's. */
export function formatFlagHelp(specs: readonly FlagSpec[]): string {
  const visible = specs.filter((s) => !s.hidden);
  const lefts = visible.map((s) => {
    const names = s.short ? `-${s.short}, --${s.name}` : `    --${s.name}`;
    const value = s.type === "bool" ? "" : ` ${s.valueName ?? (s.type === "list" ? "list" : s.type)}`;
    return `  ${names}${value}`;
  });
  const width = Math.max(0, ...lefts.map((l) => l.length)) + 3;
  return visible
    .map((s, i) => {
      const left = lefts[i] as string;
      const def = s.defaultText ? ` (default ${s.defaultText})` : "";
      return `${left.padEnd(width)}${s.description}${def}`;
    })
    .join("\n");
}
