/**
 * The Dockerfile instructions `import --change` (and later `commit --change`) may apply to an
 * image config — CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER,
 * VOLUME, WORKDIR — with the Dockerfile's exec/shell forms, its quoting rules and its variable
 * expansion from the config's own environment, as Docker's builder dispatches them.
 */
import { posix } from "node:path";
import { invalidArgument } from "../base/errors.js";
import { expandWord, expandWords, parseKeyValues, splitWhitespace } from "../builder/dockerfile/expand.js";
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

/** `--change` lines are Dockerfile instructions with the default escape character. */
const DOCKERFILE = { escape: "\\" } as const;

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
    const words = () => expandWords(rest, env, DOCKERFILE);
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
        for (const [k, v = ""] of parseKeyValues(rest, env, { ...DOCKERFILE, instruction: "ENV" })) {
          const i = next.findIndex((e) => e.slice(0, e.indexOf("=")) === k);
          if (i >= 0) next[i] = `${k}=${v}`;
          else next.push(`${k}=${v}`);
        }
        out.Env = next;
        break;
      }
      case "LABEL": {
        out.Labels = { ...(out.Labels ?? {}) };
        for (const [k, v = ""] of parseKeyValues(rest, env, { ...DOCKERFILE, instruction: "LABEL" })) {
          out.Labels[k] = v;
        }
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
        // Docker splits the shell form on blanks, then expands each piece as one word.
        const vols = jsonArray(rest) ?? splitWhitespace(rest).map((w) => expandWord(w, env, DOCKERFILE));
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
        // Docker takes the whole rest of the line as one word (`WORKDIR /my dir` is one path).
        if (rest === "") throw invalidArgument(`${instr} requires exactly one argument`);
        const value = expandWord(rest, env, DOCKERFILE);
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
