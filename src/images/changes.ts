/**
 * The Dockerfile instructions `import --change` (and later `commit --change`) may apply to an
 * image config — CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER,
 * VOLUME, WORKDIR — with the Dockerfile's exec/shell forms, its quoting rules and its variable
 * expansion from the config's own environment, as Docker's builder dispatches them.
 */
import { posix } from "node:path";
import { invalidArgument } from "../base/errors.js";
import type { ContainerConfig } from "../oci/image.js";

const ALLOWED = new Set([
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "HEALTHCHECK",
  "LABEL",
  "ONBUILD",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

type Env = ReadonlyMap<string, string>;

/**
 * The Dockerfile shell lexer over one line: words split on unquoted whitespace (or kept as one
 * word with `keepWhitespace`), quotes removed, backslash escapes applied (outside quotes any
 * character; inside double quotes only `"`, `$`, `\` — other backslashes stay), and `$VAR`,
 * `${VAR}`, `${VAR:-w}`, `${VAR-w}`, `${VAR:+w}`, `${VAR+w}`, `${VAR:?msg}` expanded from `env`
 * (not inside single quotes; not at all when `env` is undefined).
 */
function lex(text: string, env: Env | undefined, keepWhitespace: boolean): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let i = 0;
  const expand = (): string => {
    // at text[i] === "$"
    const next = text[i + 1];
    if (next === "{") {
      const end = findBrace(text, i + 2);
      const body = text.slice(i + 2, end);
      i = end + 1;
      return expandBraced(body, env ?? new Map());
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (!m) {
      i++;
      return "$";
    }
    i += 1 + m[0].length;
    return env?.get(m[0]) ?? "";
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0)
        throw invalidArgument("unexpected end of statement while looking for matching single-quote");
      cur += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= text.length)
          throw invalidArgument("unexpected end of statement while looking for matching double-quote");
        const d = text[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\" && i + 1 < text.length && '"$\\'.includes(text[i + 1] as string)) {
          cur += text[i + 1];
          i += 2;
        } else if (d === "$" && env) {
          cur += expand();
        } else {
          cur += d;
          i++;
        }
      }
    } else if (c === "\\" && i + 1 < text.length) {
      cur += text[i + 1];
      inWord = true;
      i += 2;
    } else if (c === "$" && env) {
      cur += expand();
      inWord = true;
    } else if (!keepWhitespace && /\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      i++;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord || keepWhitespace) words.push(cur);
  return words;
}

function findBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === "{") depth++;
    else if (text[j] === "}" && --depth === 0) return j;
  }
  throw invalidArgument("syntax error: missing '}'");
}

function expandBraced(body: string, env: Env): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])(.*))?$/s.exec(body);
  if (!m) throw invalidArgument(`bad substitution: \${${body}}`);
  const name = m[1] as string;
  const op = m[2];
  const word = m[3] ?? "";
  const value = env.get(name);
  const set = value !== undefined;
  const nonEmpty = set && value !== "";
  switch (op) {
    case undefined:
      return value ?? "";
    case ":-":
      return nonEmpty ? (value as string) : (lex(word, env, true)[0] ?? "");
    case "-":
      return set ? (value as string) : (lex(word, env, true)[0] ?? "");
    case ":+":
      return nonEmpty ? (lex(word, env, true)[0] ?? "") : "";
    case "+":
      return set ? (lex(word, env, true)[0] ?? "") : "";
    default: {
      const ok = op === ":?" ? nonEmpty : set;
      if (!ok) throw invalidArgument(`${name}: ${word || "is not allowed to be unset"}`);
      return value as string;
    }
  }
}

/** Splits shell-like words without expansion (quotes group, backslash escapes). */
export function shellWords(s: string): string[] {
  return lex(s, undefined, false);
}

function jsonArray(rest: string): string[] | undefined {
  if (!rest.trimStart().startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch {
    // not JSON: shell form
  }
  return undefined;
}

/** `KEY=value …` or the legacy `KEY value with spaces`, as ENV and LABEL take them. */
function nameValues(instr: string, rest: string, env: Env): Array<[string, string]> {
  const rawWords = splitRaw(rest);
  if (rawWords.length === 0) throw invalidArgument(`${instr} requires at least one argument`);
  const first = rawWords[0] as string;
  if (!first.includes("=")) {
    // Legacy form: the first word is the name, the rest of the line (whitespace kept) the value.
    if (rawWords.length < 2) throw invalidArgument(`${instr} must have two arguments`);
    const m = /^\s*\S+\s+(.*?)\s*$/s.exec(rest);
    const name = lex(first, env, false)[0] ?? "";
    return [[name, lex(m?.[1] ?? "", env, true)[0] ?? ""]];
  }
  return rawWords.map((w) => {
    const eq = w.indexOf("=");
    if (eq < 0)
      throw invalidArgument(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    const name = lex(w.slice(0, eq), env, false)[0] ?? "";
    if (!name) throw invalidArgument(`${instr} names can not be blank`);
    return [name, lex(w.slice(eq + 1), env, true)[0] ?? ""];
  });
}

/** Words as written (quotes kept), split on unquoted whitespace. */
function splitRaw(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote) {
      if (c === "\\" && quote === '"' && i + 1 < s.length) {
        cur += c + s[++i];
        continue;
      }
      if (c === quote) quote = undefined;
      cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += c + s[++i];
    } else if (/\s/.test(c)) {
      if (cur) out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (quote) {
    throw invalidArgument(
      `unexpected end of statement while looking for matching ${quote === '"' ? "double-quote" : "single-quote"}`,
    );
  }
  if (cur) out.push(cur);
  return out;
}

/** nat.ParsePortSpecs for EXPOSE: `80`, `53/udp`, `7000-7002/tcp` (each port of a range). */
function exposedPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/([A-Za-z]+))?$/.exec(spec);
  const proto = (m?.[3] ?? "tcp").toLowerCase();
  if (!m || !["tcp", "udp", "sctp"].includes(proto)) throw invalidArgument(`invalid containerPort: ${spec}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start)
    throw invalidArgument(`invalid range specified for port: ${spec}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

/** Linux signal names Docker's signal.ParseSignal knows (without the SIG prefix). */
const SIGNALS = new Set([
  "ABRT",
  "ALRM",
  "BUS",
  "CHLD",
  "CLD",
  "CONT",
  "FPE",
  "HUP",
  "ILL",
  "INT",
  "IO",
  "IOT",
  "KILL",
  "PIPE",
  "POLL",
  "PROF",
  "PWR",
  "QUIT",
  "SEGV",
  "STKFLT",
  "STOP",
  "SYS",
  "TERM",
  "TRAP",
  "TSTP",
  "TTIN",
  "TTOU",
  "URG",
  "USR1",
  "USR2",
  "VTALRM",
  "WINCH",
  "XCPU",
  "XFSZ",
  "UNUSED",
]);

/** Checks a STOPSIGNAL value the way signal.ParseSignal does (name, SIG-name, RTMIN±n or number). */
function checkSignal(s: string): void {
  if (/^\d+$/.test(s)) {
    if (Number(s) > 0 && Number(s) <= 64) return;
  } else {
    const name = s.toUpperCase().replace(/^SIG/, "");
    if (SIGNALS.has(name)) return;
    const rt = /^RT(MIN|MAX)([+-]\d+)?$/.exec(name);
    if (rt) return;
  }
  throw invalidArgument(`Invalid signal: ${s}`);
}

const GO_DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** A Go duration (`30s`, `1m30s`, `500ms`) in nanoseconds. */
function goDurationNs(flag: string, v: string): number {
  if (!/^((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(v) && v !== "0") {
    throw invalidArgument(`time: invalid duration "${v}" for --${flag}`);
  }
  let total = 0;
  for (const part of v.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (GO_DURATION_UNITS[part[2] as string] ?? 0);
  }
  return Math.round(total);
}

interface DraftHealth {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

function healthcheck(rest: string): DraftHealth {
  let line = rest.trim();
  const opts: DraftHealth = {};
  for (;;) {
    const m = /^--([a-z-]+)=(\S*)\s*/.exec(line);
    if (!m) break;
    const [, flag, value] = m as unknown as [string, string, string];
    line = line.slice(m[0].length);
    const minimum = 1_000_000; // 1ms, the builder's lower bound
    switch (flag) {
      case "interval":
      case "timeout":
      case "start-period":
      case "start-interval": {
        const ns = goDurationNs(flag, value);
        if (ns !== 0 && ns < minimum) throw invalidArgument(`Interval "${flag}" cannot be less than 1ms`);
        if (flag === "interval") opts.Interval = ns;
        else if (flag === "timeout") opts.Timeout = ns;
        else if (flag === "start-period") opts.StartPeriod = ns;
        else opts.StartInterval = ns;
        break;
      }
      case "retries": {
        if (!/^-?\d+$/.test(value)) throw invalidArgument(`invalid value "${value}" for --retries`);
        const n = Number(value);
        if (n < 0) throw invalidArgument(`--retries cannot be negative (${n})`);
        opts.Retries = n;
        break;
      }
      default:
        throw invalidArgument(`unknown flag: --${flag}`);
    }
  }
  const [kind, ...restWords] = line.split(/\s+/);
  const upper = (kind ?? "").toUpperCase();
  if (upper === "NONE") {
    if (restWords.some((w) => w !== "") || Object.keys(opts).length > 0) {
      throw invalidArgument("HEALTHCHECK NONE takes no arguments");
    }
    return { Test: ["NONE"] };
  }
  if (upper !== "CMD") throw invalidArgument(`Unknown type "${kind ?? ""}" in HEALTHCHECK (try CMD)`);
  const cmd = line.slice((kind as string).length).trim();
  if (!cmd) throw invalidArgument("Missing command after HEALTHCHECK CMD");
  const exec = jsonArray(cmd);
  return { Test: exec ? ["CMD", ...exec] : ["CMD-SHELL", cmd], ...opts };
}

/** A ContainerConfig under construction (ours, so mutable until returned). */
interface DraftConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Cmd?: string[];
  Healthcheck?: DraftHealth;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Entrypoint?: string[];
  OnBuild?: string[];
  Labels?: Record<string, string>;
  StopSignal?: string;
}

function envMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/** Applies `changes` to a copy of `config` and returns it; `config` is not modified. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const out: DraftConfig & ContainerConfig = structuredClone(config) as DraftConfig & ContainerConfig;
  let cmdSet = false;
  for (const change of changes) {
    const m = /^\s*(\S+)\s*(.*)$/s.exec(change);
    if (!m) continue;
    const instr = (m[1] as string).toUpperCase();
    const rest = (m[2] as string).trim();
    if (!ALLOWED.has(instr)) throw invalidArgument(`${m[1]} is not a valid change command`);
    const env = envMap(out.Env);
    const words = () => lex(rest, env, false);
    switch (instr) {
      case "CMD":
        out.Cmd = jsonArray(rest) ?? ["/bin/sh", "-c", rest];
        cmdSet = true;
        break;
      case "ENTRYPOINT":
        out.Entrypoint = jsonArray(rest) ?? ["/bin/sh", "-c", rest];
        // An ENTRYPOINT resets an inherited CMD, unless these changes set one themselves.
        if (!cmdSet) delete out.Cmd;
        break;
      case "ENV": {
        const next = [...(out.Env ?? [])];
        for (const [k, v] of nameValues(instr, rest, env)) {
          const i = next.findIndex((e) => e.slice(0, e.indexOf("=")) === k);
          if (i >= 0) next[i] = `${k}=${v}`;
          else next.push(`${k}=${v}`);
        }
        out.Env = next;
        break;
      }
      case "LABEL": {
        out.Labels = { ...(out.Labels ?? {}) };
        for (const [k, v] of nameValues(instr, rest, env)) out.Labels[k] = v;
        break;
      }
      case "EXPOSE": {
        const ports = words();
        if (ports.length === 0) throw invalidArgument("EXPOSE requires at least one argument");
        out.ExposedPorts = { ...(out.ExposedPorts ?? {}) };
        for (const p of ports) for (const key of exposedPorts(p)) out.ExposedPorts[key] = {};
        break;
      }
      case "VOLUME": {
        const vols = jsonArray(rest) ?? words();
        if (vols.length === 0) throw invalidArgument("VOLUME requires at least one argument");
        out.Volumes = { ...(out.Volumes ?? {}) };
        for (const v of vols) {
          if (!v.trim()) throw invalidArgument("VOLUME specified can not be an empty string");
          out.Volumes[v] = {};
        }
        break;
      }
      case "USER":
      case "STOPSIGNAL":
      case "WORKDIR": {
        const w = words();
        if (w.length !== 1) throw invalidArgument(`${instr} requires exactly one argument`);
        const value = w[0] as string;
        if (instr === "USER") out.User = value;
        else if (instr === "STOPSIGNAL") {
          checkSignal(value);
          out.StopSignal = value;
        } else out.WorkingDir = posix.resolve(out.WorkingDir || "/", value);
        break;
      }
      case "ONBUILD": {
        const trigger = (/^\S+/.exec(rest)?.[0] ?? "").toUpperCase();
        if (!trigger) throw invalidArgument("ONBUILD requires at least one argument");
        if (trigger === "ONBUILD")
          throw invalidArgument("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (trigger === "FROM" || trigger === "MAINTAINER") {
          throw invalidArgument(`${trigger} isn't allowed as an ONBUILD trigger`);
        }
        out.OnBuild = [...(out.OnBuild ?? []), rest];
        break;
      }
      case "HEALTHCHECK":
        if (!rest) throw invalidArgument("HEALTHCHECK requires at least one argument");
        out.Healthcheck = healthcheck(rest);
        break;
    }
  }
  return out;
}
