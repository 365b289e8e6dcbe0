/**
 * The typed instructions of a Dockerfile (BuildKit's `frontend/dockerfile/instructions`:
 * `commands.go` and `parse.go`): one type per instruction kind, each carrying its parsed fields and
 * the syntax record it came from (`node`: its text, flags and source lines), and one parse function
 * per kind that owns every check Docker makes on that instruction before anything runs — argument
 * counts, which flags it takes and their types, flag values that need no variable (HEALTHCHECK
 * durations, --retries), ONBUILD triggers, stage names.
 *
 * Values Docker expands while a stage builds (paths, ENV values, `--chown`, `--from`, …) are kept
 * as written: only the dispatcher knows the ARG/ENV values in scope. What berth itself cannot do
 * (a mount type, a network mode) is not decided here: a flag BuildKit accepts parses, and the
 * builder refuses it as "not supported" before the build starts (`builder/instructions/plan.ts`).
 *
 * Pure. Errors are InvalidArgument with Docker's wording and no location; the parser and the
 * dispatcher put the instruction's line on them.
 */
import { parseGoDurationNs } from "../../base/duration.js";
import { invalidArgument } from "../../base/errors.js";
import type { Heredoc, Instruction, InstructionFlag } from "./ast.js";
import { type ExpandOptions, heredocWord, keyValueWords, splitWhitespace, splitWords } from "./expand.js";

/** Every Dockerfile instruction keyword. */
export const KEYWORDS: readonly string[] = [
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
];

/** A command line in exec form (a JSON array) or shell form (the text, run by the SHELL). */
export type CommandLine =
  | { readonly form: "exec"; readonly argv: readonly string[] }
  | { readonly form: "shell"; readonly text: string };

/** What every typed instruction carries: the syntax record (text, flags, source lines). */
interface Located {
  /** The instruction as parsed: `original`, `flags`, `startLine`…`endLine` (its source range). */
  readonly node: Instruction;
}

export interface FromCommand extends Located {
  readonly kind: "FROM";
  /** The image, stage name or `scratch`, unexpanded (meta args apply). */
  readonly base: string;
  /** The `AS name`, as written. */
  readonly stageName: string | undefined;
  /** `--platform`, unexpanded. */
  readonly platform: string | undefined;
}

/** One `--mount=…` of RUN: its type and its `key=value` fields, unexpanded. */
export interface RunMount {
  /** `bind` when not given, as BuildKit. */
  readonly type: string;
  /** The fields other than `type`, in order (a bare key has the value "true"). */
  readonly options: ReadonlyArray<readonly [string, string]>;
  /** The flag's value as written. */
  readonly text: string;
}

export interface RunCommand extends Located {
  readonly kind: "RUN";
  readonly command: CommandLine;
  /** Heredoc bodies of the shell form (`RUN <<EOF`). */
  readonly heredocs: readonly Heredoc[];
  readonly mounts: readonly RunMount[];
  /** `--network`, undefined when absent. */
  readonly network: string | undefined;
  /** `--security`, undefined when absent. */
  readonly security: string | undefined;
  /** `--device` values. */
  readonly devices: readonly string[];
}

export interface CmdCommand extends Located {
  readonly kind: "CMD";
  readonly command: CommandLine;
}

export interface EntrypointCommand extends Located {
  readonly kind: "ENTRYPOINT";
  readonly command: CommandLine;
}

/** What COPY and ADD share: sources and destination as written, and their common flags. */
interface CopyFields extends Located {
  /** Source words, unexpanded; a `<<EOF` word names one of `heredocs`. */
  readonly sources: readonly string[];
  /** The destination word, unexpanded. */
  readonly dest: string;
  readonly heredocs: readonly Heredoc[];
  readonly chown: string | undefined;
  readonly chmod: string | undefined;
  readonly link: boolean;
  readonly excludes: readonly string[];
}

export interface CopyCommand extends CopyFields {
  readonly kind: "COPY";
  readonly from: string | undefined;
  /** `--parents` given and not false. */
  readonly parents: boolean;
}

export interface AddCommand extends CopyFields {
  readonly kind: "ADD";
  readonly checksum: string | undefined;
  /** `--keep-git-dir` given and not false. */
  readonly keepGitDir: boolean;
  /** `--unpack` as given (undefined: absent). */
  readonly unpack: boolean | undefined;
}

/** ENV, LABEL: `key=value` pairs (or the legacy `key value`), unexpanded. */
export interface EnvCommand extends Located {
  readonly kind: "ENV";
  readonly pairs: ReadonlyArray<readonly [string, string]>;
}

export interface LabelCommand extends Located {
  readonly kind: "LABEL";
  readonly pairs: ReadonlyArray<readonly [string, string]>;
}

/** ARG: names with their defaults (undefined: none), unexpanded. */
export interface ArgCommand extends Located {
  readonly kind: "ARG";
  readonly pairs: ReadonlyArray<readonly [string, string | undefined]>;
}

export interface ExposeCommand extends Located {
  readonly kind: "EXPOSE";
  /** Port words, unexpanded (`80`, `53/udp`, `$PORT`). */
  readonly ports: readonly string[];
}

export interface VolumeCommand extends Located {
  readonly kind: "VOLUME";
  /** Paths, unexpanded (the JSON array's elements, or the blank-separated words). */
  readonly paths: readonly string[];
}

/** USER, WORKDIR, STOPSIGNAL, MAINTAINER: the rest of the line is one word. */
export interface UserCommand extends Located {
  readonly kind: "USER";
  readonly value: string;
}

export interface WorkdirCommand extends Located {
  readonly kind: "WORKDIR";
  readonly value: string;
}

export interface StopsignalCommand extends Located {
  readonly kind: "STOPSIGNAL";
  readonly value: string;
}

export interface MaintainerCommand extends Located {
  readonly kind: "MAINTAINER";
  readonly value: string;
}

export interface ShellCommand extends Located {
  readonly kind: "SHELL";
  readonly argv: readonly string[];
}

/** HEALTHCHECK NONE, or CMD with its options (durations in nanoseconds, undefined: not given). */
export interface HealthcheckCommand extends Located {
  readonly kind: "HEALTHCHECK";
  readonly check:
    | { readonly type: "NONE" }
    | {
        readonly type: "CMD";
        readonly command: CommandLine;
        readonly interval: number | undefined;
        readonly timeout: number | undefined;
        readonly startPeriod: number | undefined;
        readonly startInterval: number | undefined;
        readonly retries: number | undefined;
      };
}

export interface OnbuildCommand extends Located {
  readonly kind: "ONBUILD";
  /** The trigger's keyword, upper-cased. */
  readonly trigger: string;
  /** The text recorded in the image config's OnBuild list (`onbuildExpression`). */
  readonly expression: string;
}

/** One typed instruction (BuildKit's instructions.Command). */
export type Command =
  | FromCommand
  | RunCommand
  | CmdCommand
  | EntrypointCommand
  | CopyCommand
  | AddCommand
  | EnvCommand
  | LabelCommand
  | ArgCommand
  | ExposeCommand
  | VolumeCommand
  | UserCommand
  | WorkdirCommand
  | StopsignalCommand
  | MaintainerCommand
  | ShellCommand
  | HealthcheckCommand
  | OnbuildCommand;

/**
 * The arguments of an instruction as Docker's parser splits them for its keyword (the words its
 * argument checks count): a JSON array's elements, blank-separated words (FROM, COPY, ADD, VOLUME,
 * EXPOSE), ENV/LABEL names and values, or the whole text as one word. ENV and LABEL throw
 * Docker's syntax errors (`ENV must have two arguments`, `can't find =`).
 */
export function argumentWords(
  keyword: string,
  args: string,
  json: readonly string[] | undefined,
  esc: ExpandOptions["escape"],
): readonly string[] {
  switch (keyword) {
    case "CMD":
    case "ENTRYPOINT":
    case "RUN":
    case "SHELL":
    case "MAINTAINER":
    case "STOPSIGNAL":
    case "USER":
    case "WORKDIR":
      return json ?? (args === "" ? [] : [args]);
    case "ADD":
    case "COPY":
    case "VOLUME":
      return json ?? splitWhitespace(args);
    case "ARG":
      return splitWords(args, { escape: esc });
    case "ENV":
    case "LABEL":
      return splitWords(args, { escape: esc }).length === 0
        ? []
        : keyValueWords(args, { escape: esc, instruction: keyword }).flatMap(([k, v]) => [k, v ?? ""]);
    case "EXPOSE":
    case "FROM":
      return splitWhitespace(args);
    case "ONBUILD":
      return args === "" ? [] : [args];
    case "HEALTHCHECK": {
      const sep = /\s/.exec(args);
      const type = sep ? args.slice(0, sep.index) : args;
      if (type === "") return [];
      const cmd = args.slice(type.length).trimStart();
      return [type, ...(json ?? (cmd === "" ? [] : [cmd]))];
    }
    default:
      return [];
  }
}

/**
 * The text Docker records in the image config's OnBuild list for an ONBUILD instruction: the
 * instruction without its `ONBUILD` keyword, each heredoc body and delimiter appended.
 */
export function onbuildExpression(instruction: Instruction): string {
  let out = instruction.original.replace(/^\s*ONBUILD\s*/i, "");
  for (const h of instruction.heredocs) out += "\n" + h.content + h.name;
  return out;
}

/** Refuses a trigger Docker refuses (`ONBUILD ONBUILD`, `ONBUILD FROM`, `ONBUILD MAINTAINER`). */
export function checkTrigger(keyword: string): void {
  if (keyword === "ONBUILD") fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (keyword === "MAINTAINER" || keyword === "FROM") fail(`${keyword} isn't allowed as an ONBUILD trigger`);
}

/**
 * Parses one instruction into its typed form, with every check Docker makes on it. Throws an
 * InvalidArgument BerthError without location (callers add the line).
 */
export function parseCommand(node: Instruction, esc: ExpandOptions["escape"]): Command {
  const parse = PARSERS[node.keyword];
  if (!parse) fail(withSuggestion(`unknown instruction: ${wordOf(node)}`, wordOf(node), KEYWORDS, false));
  return parse({ node, words: argumentWords(node.keyword, node.args, node.json, esc), escape: esc });
}

/** The keyword as written (for "unknown instruction" errors). */
function wordOf(node: Instruction): string {
  return /^\S*/.exec(node.original.trim())?.[0] ?? node.keyword;
}

interface Input {
  readonly node: Instruction;
  readonly words: readonly string[];
  readonly escape: ExpandOptions["escape"];
}

type Parser = (input: Input) => Command;

function fail(message: string): never {
  throw invalidArgument(message);
}

function need(ok: boolean, message: string): void {
  if (!ok) fail(message);
}

const atLeastOne = (i: Input) => need(i.words.length > 0, `${i.node.keyword} requires at least one argument`);
const exactlyOne = (i: Input) =>
  need(i.words.length === 1, `${i.node.keyword} requires exactly one argument`);

function commandLine(node: Instruction): CommandLine {
  return node.json ? { form: "exec", argv: node.json } : { form: "shell", text: node.args };
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

const PARSERS: Readonly<Record<string, Parser>> = {
  FROM: (i) => {
    const w = i.words;
    if (w.length === 3 && (w[1] as string).toLowerCase() === "as") {
      const name = w[2] as string;
      if (!STAGE_NAME.test(name.toLowerCase())) {
        fail(
          `invalid name for build stage: ${JSON.stringify(name)}, name can't start with a number or contain symbols`,
        );
      }
    } else need(w.length === 1, "FROM requires either one or three arguments");
    const f = flags(i.node, { platform: "string" });
    return {
      kind: "FROM",
      node: i.node,
      base: w[0] as string,
      stageName: w.length === 3 ? w[2] : undefined,
      platform: f.string("platform"),
    };
  },
  RUN: (i) => {
    const f = flags(i.node, { mount: "strings", network: "string", security: "string", device: "strings" });
    return {
      kind: "RUN",
      node: i.node,
      command: commandLine(i.node),
      heredocs: i.node.heredocs,
      mounts: f.strings("mount").map(parseMount),
      network: f.string("network"),
      security: f.string("security"),
      devices: f.strings("device"),
    };
  },
  CMD: (i) => {
    flags(i.node, {});
    return { kind: "CMD", node: i.node, command: commandLine(i.node) };
  },
  ENTRYPOINT: (i) => {
    flags(i.node, {});
    return { kind: "ENTRYPOINT", node: i.node, command: commandLine(i.node) };
  },
  COPY: (i) => {
    copyArguments(i);
    const f = flags(i.node, {
      chown: "string",
      from: "string",
      chmod: "string",
      link: "bool",
      exclude: "strings",
      parents: "bool",
    });
    if (heredocWord(i.words.at(-1) as string)) fail("COPY cannot accept a heredoc as a destination");
    return {
      kind: "COPY",
      ...copyFields(i, f),
      from: f.string("from"),
      parents: f.bool("parents") === true,
    };
  },
  ADD: (i) => {
    copyArguments(i);
    const f = flags(i.node, {
      chown: "string",
      chmod: "string",
      link: "bool",
      "keep-git-dir": "bool",
      checksum: "string",
      unpack: "bool",
      exclude: "strings",
    });
    if (heredocWord(i.words.at(-1) as string)) fail("ADD cannot accept a heredoc as a destination");
    return {
      kind: "ADD",
      ...copyFields(i, f),
      checksum: f.string("checksum"),
      keepGitDir: f.bool("keep-git-dir") === true,
      unpack: f.bool("unpack"),
    };
  },
  ENV: (i) => {
    flags(i.node, {});
    atLeastOne(i);
    return { kind: "ENV", node: i.node, pairs: pairsOf(i.words) };
  },
  LABEL: (i) => {
    flags(i.node, {});
    atLeastOne(i);
    return { kind: "LABEL", node: i.node, pairs: pairsOf(i.words) };
  },
  ARG: (i) => {
    // Docker does not look at ARG's flags.
    atLeastOne(i);
    for (const a of i.words) need(!a.startsWith("="), "ARG names can not be blank");
    const pairs = keyValueWords(i.node.args, { escape: i.escape, instruction: "ARG" });
    return { kind: "ARG", node: i.node, pairs };
  },
  EXPOSE: (i) => {
    atLeastOne(i);
    flags(i.node, {});
    return { kind: "EXPOSE", node: i.node, ports: i.words };
  },
  VOLUME: (i) => {
    atLeastOne(i);
    flags(i.node, {});
    for (const v of i.words) need(v.trim() !== "", "VOLUME specified can not be an empty string");
    return { kind: "VOLUME", node: i.node, paths: i.words };
  },
  USER: (i) => {
    exactlyOne(i);
    flags(i.node, {});
    return { kind: "USER", node: i.node, value: i.node.args };
  },
  WORKDIR: (i) => {
    exactlyOne(i);
    flags(i.node, {});
    return { kind: "WORKDIR", node: i.node, value: i.node.args };
  },
  MAINTAINER: (i) => {
    exactlyOne(i);
    flags(i.node, {});
    return { kind: "MAINTAINER", node: i.node, value: i.node.args };
  },
  STOPSIGNAL: (i) => {
    // Docker does not look at STOPSIGNAL's flags.
    exactlyOne(i);
    return { kind: "STOPSIGNAL", node: i.node, value: i.node.args };
  },
  SHELL: (i) => {
    flags(i.node, {});
    need(i.words.length > 0, "SHELL requires at least one argument");
    if (!i.node.json) fail("SHELL requires the arguments to be in JSON form");
    return { kind: "SHELL", node: i.node, argv: i.node.json };
  },
  HEALTHCHECK: (i) => {
    atLeastOne(i);
    const type = (i.words[0] as string).toUpperCase();
    if (type === "NONE") {
      // Docker does not look at the flags of HEALTHCHECK NONE.
      need(i.words.length === 1, "HEALTHCHECK NONE takes no arguments");
      return { kind: "HEALTHCHECK", node: i.node, check: { type: "NONE" } };
    }
    const f = flags(i.node, {
      interval: "string",
      timeout: "string",
      "start-period": "string",
      "start-interval": "string",
      retries: "string",
    });
    if (type !== "CMD") fail(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
    need(i.words.length > 1, "Missing command after HEALTHCHECK CMD");
    const cmd = i.node.args.slice((i.words[0] as string).length).trimStart();
    return {
      kind: "HEALTHCHECK",
      node: i.node,
      check: {
        type: "CMD",
        command: i.node.json ? { form: "exec", argv: i.node.json } : { form: "shell", text: cmd },
        interval: interval("interval", f.string("interval")),
        timeout: interval("timeout", f.string("timeout")),
        startPeriod: interval("start-period", f.string("start-period")),
        startInterval: interval("start-interval", f.string("start-interval")),
        retries: retries(f.string("retries")),
      },
    };
  },
  ONBUILD: (i) => {
    atLeastOne(i);
    flags(i.node, {});
    const trigger = (i.node.trigger?.keyword ?? "").toUpperCase();
    checkTrigger(trigger);
    return { kind: "ONBUILD", node: i.node, trigger, expression: onbuildExpression(i.node) };
  },
};

function copyArguments(i: Input): void {
  need(
    i.words.length >= 2,
    `${i.node.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
  );
}

function copyFields(i: Input, f: Flags): CopyFields {
  return {
    node: i.node,
    sources: i.words.slice(0, -1),
    dest: i.words.at(-1) as string,
    heredocs: i.node.heredocs,
    chown: f.string("chown"),
    chmod: f.string("chmod"),
    link: f.bool("link") === true,
    excludes: f.strings("exclude"),
  };
}

/** ENV/LABEL words come as name, value, name, value… (`argumentWords`). */
function pairsOf(words: readonly string[]): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (let k = 0; k + 1 < words.length; k += 2) out.push([words[k] as string, words[k + 1] as string]);
  return out;
}

/** `type=cache,target=/x,ro` → its type and fields (split on commas; a bare key means true). */
function parseMount(text: string): RunMount {
  let type = "bind";
  const options: Array<readonly [string, string]> = [];
  for (const field of text.split(",")) {
    if (field === "") continue;
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? "true" : field.slice(eq + 1);
    if (key === "type") type = value.toLowerCase();
    else options.push([key, value]);
  }
  return { type, options, text };
}

// ---- flags (Docker's BFlags) ----

type FlagType = "bool" | "string" | "strings";

interface Flags {
  string(name: string): string | undefined;
  strings(name: string): string[];
  bool(name: string): boolean | undefined;
}

/** Docker's BFlags.Parse: every flag known to the instruction, typed, not repeated. */
function flags(node: Instruction, defs: Readonly<Record<string, FlagType>>): Flags {
  const used = new Set<string>();
  const known = Object.keys(defs);
  for (const { name, value } of node.flags) {
    const flagName = `--${name}`;
    const type = Object.hasOwn(defs, name) ? defs[name] : undefined;
    if (!type) fail(withSuggestion(`unknown flag: ${flagName}`, name, known, true));
    if (used.has(name) && type !== "strings") fail(`duplicate flag specified: ${flagName}`);
    used.add(name);
    if (type === "bool") {
      if (value === "") fail(`missing a value on flag: ${flagName}`);
      const v = (value ?? "").toLowerCase();
      if (v !== "true" && v !== "false" && v !== "") {
        fail(`expecting boolean value for flag ${flagName}, not: ${value}`);
      }
    } else if (value === undefined) fail(`missing a value on flag: ${flagName}`);
  }
  const all = (name: string): InstructionFlag[] => node.flags.filter((f) => f.name === name);
  return {
    string: (name) => all(name).at(-1)?.value,
    strings: (name) => all(name).map((f) => f.value ?? ""),
    bool: (name) => {
      const f = all(name).at(-1);
      if (!f) return undefined;
      return f.value === undefined || f.value.toLowerCase() !== "false";
    },
  };
}

// ---- HEALTHCHECK values ----

/** Go's time.ParseDuration, in nanoseconds; its error wording as an InvalidArgument. */
export function parseGoDuration(text: string): number {
  const r = parseGoDurationNs(text);
  if ("error" in r) fail(r.error);
  return r.ns;
}

/** A HEALTHCHECK duration flag: undefined when absent or empty (Docker's default), else ≥ 1ms or 0. */
function interval(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ns = parseGoDuration(value);
  if (ns !== 0 && ns < 1e6) fail(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return ns;
}

function retries(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^[+-]?\d+$/.test(value)) fail(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  const n = Number(value);
  if (n > 2 ** 31 - 1 || n < -(2 ** 31)) {
    fail(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  }
  if (n < 0) fail(`--retries cannot be negative (${n})`);
  return n;
}

// ---- "did you mean" as BuildKit's suggest package words it ----

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}

function withSuggestion(
  message: string,
  value: string,
  options: readonly string[],
  caseSensitive: boolean,
): string {
  const v = caseSensitive ? value : value.toLowerCase();
  let match = "";
  let best = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return message;
    const dist = levenshtein(v, opt);
    if (dist < best) {
      best = dist;
      match = caseSensitive
        ? opt
        : value === value.toLowerCase()
          ? opt
          : value === value.toUpperCase()
            ? opt.toUpperCase()
            : opt;
    }
  }
  return match === "" ? message : `${message} (did you mean ${match}?)`;
}
