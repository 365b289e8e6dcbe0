/**
 * The Dockerfile instructions `import --change` (and later `commit --change`) may apply to an
 * image config: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER,
 * VOLUME, WORKDIR — with the Dockerfile's exec/shell forms and quoting.
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

/** Splits shell-like words: whitespace separates, quotes group, backslash escapes. */
export function shellWords(s: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote)
    throw invalidArgument(
      `unexpected end of statement while looking for matching ${quote === '"' ? "double-quote" : "single-quote"}`,
    );
  if (inWord) words.push(cur);
  return words;
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

function keyValues(instr: string, rest: string): Array<[string, string]> {
  const words = shellWords(rest);
  if (words.length === 0) throw invalidArgument(`${instr} requires at least one argument`);
  if (!words[0]?.includes("=")) {
    // Legacy form: KEY value with spaces
    const m = /^\s*(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw invalidArgument(`${instr} requires at least two arguments`);
    return [[m[1] as string, shellWords(m[2] as string).join(" ")]];
  }
  return words.map((w) => {
    const eq = w.indexOf("=");
    if (eq <= 0) throw invalidArgument(`${instr} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function portKey(spec: string): string {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw invalidArgument(`invalid containerPort: ${spec}`);
  return `${m[1]}${m[2] ? `-${m[2]}` : ""}/${(m[3] ?? "tcp").toLowerCase()}`;
}

/** A ContainerConfig under construction (ours, so mutable until returned). */
interface DraftConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Cmd?: string[];
  Healthcheck?: { Test?: string[] };
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Entrypoint?: string[];
  OnBuild?: string[];
  Labels?: Record<string, string>;
  StopSignal?: string;
}

/** Applies `changes` to a copy of `config` and returns it. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const out: DraftConfig & ContainerConfig = structuredClone(config) as DraftConfig & ContainerConfig;
  for (const change of changes) {
    const m = /^\s*(\S+)\s*(.*)$/s.exec(change);
    if (!m) continue;
    const instr = (m[1] as string).toUpperCase();
    const rest = (m[2] as string).trim();
    if (!ALLOWED.has(instr)) throw invalidArgument(`${m[1]} is not a valid change command`);
    switch (instr) {
      case "CMD":
      case "ENTRYPOINT": {
        const argv = jsonArray(rest) ?? ["/bin/sh", "-c", rest];
        if (instr === "CMD") out.Cmd = argv;
        else {
          out.Entrypoint = argv;
          if (!jsonArray(rest)) delete out.Cmd;
        }
        break;
      }
      case "ENV": {
        const env = [...(out.Env ?? [])];
        for (const [k, v] of keyValues(instr, rest)) {
          const i = env.findIndex((e) => e.split("=")[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        out.Env = env;
        break;
      }
      case "LABEL": {
        out.Labels = { ...(out.Labels ?? {}) };
        for (const [k, v] of keyValues(instr, rest)) out.Labels[k] = v;
        break;
      }
      case "EXPOSE": {
        out.ExposedPorts = { ...(out.ExposedPorts ?? {}) };
        for (const p of shellWords(rest)) out.ExposedPorts[portKey(p)] = {};
        break;
      }
      case "VOLUME": {
        out.Volumes = { ...(out.Volumes ?? {}) };
        for (const v of jsonArray(rest) ?? shellWords(rest)) {
          if (!v) throw invalidArgument("VOLUME specified can not be an empty string");
          out.Volumes[v] = {};
        }
        break;
      }
      case "USER":
        if (!rest) throw invalidArgument("USER requires exactly one argument");
        out.User = rest;
        break;
      case "WORKDIR":
        if (!rest) throw invalidArgument("WORKDIR requires exactly one argument");
        out.WorkingDir = posix.resolve(out.WorkingDir || "/", rest);
        break;
      case "STOPSIGNAL":
        if (!rest) throw invalidArgument("STOPSIGNAL requires exactly one argument");
        out.StopSignal = rest;
        break;
      case "ONBUILD":
        if (/^\s*(ONBUILD|FROM|MAINTAINER)\b/i.test(rest)) {
          throw invalidArgument(`${rest.split(/\s/)[0]?.toUpperCase()} isn't allowed as an ONBUILD trigger`);
        }
        out.OnBuild = [...(out.OnBuild ?? []), rest];
        break;
      case "HEALTHCHECK": {
        const words = shellWords(rest);
        if (words[0]?.toUpperCase() === "NONE") out.Healthcheck = { Test: ["NONE"] };
        else {
          const cmdAt = words.findIndex((w) => w.toUpperCase() === "CMD");
          if (cmdAt < 0) throw invalidArgument("HEALTHCHECK requires CMD or NONE");
          const cmdRest = rest.slice(rest.toUpperCase().indexOf("CMD") + 3).trim();
          const exec = jsonArray(cmdRest);
          out.Healthcheck = { Test: exec ? ["CMD", ...exec] : ["CMD-SHELL", cmdRest] };
        }
        break;
      }
    }
  }
  return out;
}
