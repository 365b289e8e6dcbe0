/**
 * The Dockerfile parser: text → `Dockerfile` (ast.ts), with the syntax rules and error wording of
 * BuildKit's frontend/dockerfile/parser plus the per-instruction checks of its `instructions`
 * package that need no variable values (argument counts, flag names, HEALTHCHECK durations…).
 *
 * - Parser directives (`# syntax=…`, `# escape=\` or `` # escape=` ``, and `# check=…`, which is
 *   recorded nowhere) are read only from the top of the file: the first line that is not a
 *   directive — an instruction, an empty line, any other comment — ends them. Names are
 *   case-insensitive; a repeated directive is an error.
 * - A line whose first non-blank character is `#` is a comment, also inside a continued
 *   instruction (where it is dropped). `RUN echo # x` is not a comment.
 * - The escape character as the last non-blank character of a line continues the instruction on
 *   the next line; the pieces are joined with nothing in between (continuation lines keep their
 *   leading blanks). Empty lines inside a continuation are skipped (Docker warns about them).
 *   An escaped escape character at the end (`\\`) does not continue.
 * - Keywords are case-insensitive. Words starting with `--` right after the keyword are flags
 *   (for every instruction, as Docker extracts them; each instruction then accepts only its own:
 *   `unknown flag: --frm (did you mean from?)`). `--` alone ends the flags.
 * - Arguments that are a JSON array (exec form) are recorded in `json`: RUN, CMD, ENTRYPOINT,
 *   SHELL, COPY, ADD, VOLUME and HEALTHCHECK CMD. Text that is not valid JSON is shell form; a
 *   valid JSON array holding something other than strings is an error, as in Docker.
 * - Heredocs on RUN, COPY and ADD (also as ONBUILD triggers) in shell form: every `<<WORD`,
 *   `<<-WORD`, `<<"WORD"`, `<<'WORD'` (and `2<<WORD`) word of the line, in order, each body read
 *   from the following lines up to its delimiter line.
 *
 * Errors are BerthErrors of kind InvalidArgument: `Dockerfile:7: unknown instruction: COPPY`;
 * `dockerfileSyntaxError(err)` gives their file, line and message back.
 */
import { BerthError, invalidArgument, isBerthError } from "../../base/errors.js";
import { MAX_DOCKERFILE_BYTES, MAX_DOCKERFILE_LINE_BYTES } from "../../oci/limits.js";
import type { Dockerfile, DockerfileSyntaxError, Heredoc, Instruction, InstructionFlag } from "./ast.js";
import { delimiterWords, keyValueWords, rawWords, splitWhitespace, splitWords } from "./expand.js";

export interface ParseOptions {
  /** The name errors use: `Dockerfile`, or the `-f` path as given. */
  readonly file: string;
  /**
   * Parse ONBUILD triggers taken from an image config (the child build's first step): no FROM is
   * required or allowed, and FROM, MAINTAINER and ONBUILD are refused as Docker refuses them as
   * triggers.
   */
  readonly triggers?: boolean;
}

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

type Escape = "\\" | "`";

/** An instruction as the first phase sees it: split, flags extracted, exec form detected. */
interface Node {
  /** The keyword as written. */
  readonly word: string;
  readonly keyword: string;
  /** Flag words as written after quote removal (`--from=build`). */
  readonly rawFlags: readonly string[];
  readonly args: string;
  readonly json: readonly string[] | undefined;
  /** The arguments as Docker's parser splits them for this keyword (used for argument checks). */
  readonly words: readonly string[];
  readonly heredocs: Heredoc[];
  readonly original: string;
  readonly startLine: number;
  endLine: number;
  readonly trigger: Node | undefined;
}

/** A located error inside the parser; turned into a BerthError at the boundary. */
class LineError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const at = <T>(line: number, fn: () => T): T => {
  try {
    return fn();
  } catch (err) {
    if (isBerthError(err)) throw new LineError(line, err.message);
    throw err;
  }
};

function fail(message: string): never {
  throw invalidArgument(message);
}

/**
 * Parses a Dockerfile. Throws an InvalidArgument BerthError whose message is
 * `${file}:${line}: ${what}` for the first problem found.
 */
export function parseDockerfile(text: string, options: ParseOptions): Dockerfile {
  return located(options, () => validate(parseNodes(text), options));
}

/**
 * The syntax phase alone, as BuildKit's `parser.Parse` (no per-instruction checks: unknown
 * instructions, flags and argument counts pass, as they do there). The builder never uses it: it is
 * what BuildKit's parser test files check, and what a `# syntax` frontend would receive.
 */
export function parseDockerfileSyntax(text: string, options: ParseOptions): Dockerfile {
  return located(options, () => {
    const { nodes, directives } = parseNodes(text);
    return {
      file: options.file,
      escape: directives.escape,
      syntax: directives.syntax,
      instructions: nodes.map((n) => instructionOf(n, n.rawFlags.map(flagOf))),
    };
  });
}

/**
 * Bad input located in a Dockerfile (BuildKit's parser.WithLocation): InvalidArgument, printed
 * as Docker prints it (`Dockerfile:7: unknown instruction: COPPY`), with the file, line and
 * message as data, so callers never read a location out of the text.
 */
export class DockerfileError extends BerthError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    // Named as every BerthError (`BerthError: Dockerfile:3: …` when printed whole).
    super("InvalidArgument", `${file}:${line}: ${detail}`);
  }
}

function located<T>(options: ParseOptions, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LineError) throw new DockerfileError(options.file, err.line, err.message);
    throw err;
  }
}

/** The file, line and message of a located Dockerfile error; undefined for other errors. */
export function dockerfileSyntaxError(err: unknown): DockerfileSyntaxError | undefined {
  return err instanceof DockerfileError ? { file: err.file, line: err.line, message: err.detail } : undefined;
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

// ---- phase 1: lines → nodes (BuildKit's parser package) ----

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const BLANKS = /[\t\v\f\r ]+/;

class Directives {
  escape: Escape = "\\";
  syntax: string | undefined;
  private done = false;
  private readonly seen = new Set<string>();
  private continuation = continuationRegExp("\\");

  /** Looks for a parser directive in `line` (left-trimmed); true when it was one. */
  possible(line: string): boolean {
    if (this.done) return false;
    if (!line.startsWith("#")) {
      this.done = true;
      return false;
    }
    const m = DIRECTIVE.exec(line.slice(1).trimStart());
    const name = m?.[1]?.toLowerCase();
    if (!m || (name !== "syntax" && name !== "escape" && name !== "check")) {
      this.done = true;
      return false;
    }
    if (this.seen.has(name)) fail(`only one ${name} parser directive can be used`);
    this.seen.add(name);
    const value = m[2] as string;
    if (name === "escape") {
      if (value !== "\\" && value !== "`") fail(`invalid escape token '${value}' does not match \` or \\`);
      this.escape = value === "`" ? "`" : "\\";
      this.continuation = continuationRegExp(this.escape);
    } else if (name === "syntax") this.syntax = value;
    return true;
  }

  /** Removes a trailing continuation escape; `continues` when there was one. */
  trimContinuation(line: string): { line: string; continues: boolean } {
    if (!this.continuation.test(line)) return { line, continues: false };
    return { line: line.replace(this.continuation, "$1"), continues: true };
  }
}

function continuationRegExp(esc: Escape): RegExp {
  const e = esc === "\\" ? "\\\\" : "`";
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, "");
const isComment = (s: string): boolean => s.trimStart().startsWith("#");

interface Parsed {
  readonly nodes: readonly Node[];
  readonly directives: Directives;
  /** Lines read (the last line's number). */
  readonly lines: number;
}

function parseNodes(text: string): Parsed {
  if (text.length > MAX_DOCKERFILE_BYTES || Buffer.byteLength(text) > MAX_DOCKERFILE_BYTES) {
    throw new LineError(1, `the Dockerfile is larger than the limit of ${MAX_DOCKERFILE_BYTES} bytes`);
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((l, i) => {
    // BuildKit's scanner limit, checked before any line is interpreted (oci/limits.ts).
    if (l.length > MAX_DOCKERFILE_LINE_BYTES / 4 && Buffer.byteLength(l) > MAX_DOCKERFILE_LINE_BYTES) {
      throw new LineError(
        i + 1,
        `dockerfile line greater than max allowed size of ${MAX_DOCKERFILE_LINE_BYTES}`,
      );
    }
  });
  if (lines[0]?.startsWith("\uFEFF")) lines[0] = lines[0].slice(1);
  const d = new Directives();
  const nodes: Node[] = [];
  let n = 0; // lines consumed (1-based number of the last line read)
  while (n < lines.length) {
    let first = trimNewline(lines[n++] as string).trimStart();
    at(n, () => d.possible(first));
    if (isComment(first)) first = "";
    const startLine = n;
    let { line: buf, continues } = d.trimContinuation(first);
    if (!continues && buf === "") continue;
    while (continues && n < lines.length) {
      const raw = trimNewline(lines[n++] as string);
      at(n, () => d.possible(raw));
      if (isComment(raw)) continue;
      if (raw.trimStart() === "") continue; // an empty continuation line
      const piece = d.trimContinuation(raw);
      buf += piece.line;
      continues = piece.continues;
    }
    const node = at(startLine, () => newNode(buf, d.escape, startLine));
    if (canContainHeredoc(node) && buf.includes("<<")) {
      const docs = at(startLine, () => heredocsOf(buf));
      for (const doc of docs) {
        let content = "";
        let terminated = false;
        while (n < lines.length) {
          const raw = lines[n++] as string;
          let candidate = trimNewline(raw);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, "");
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += raw + "\n";
        }
        if (!terminated) throw new LineError(startLine, "unterminated heredoc");
        if (doc.chomp) content = content.replace(/^\t+/gm, "");
        node.heredocs.push({ ...doc, content });
      }
    }
    node.endLine = n;
    nodes.push(node);
  }
  if (nodes.length === 0) throw new LineError(Math.max(n, 1), "file with no instructions");
  return { nodes, directives: d, lines: n };
}

// ---- phase 2: nodes → instructions (BuildKit's instructions package) ----
function validate(parsed: Parsed, options: ParseOptions): Dockerfile {
  const { nodes, directives: d, lines: n } = parsed;
  const instructions: Instruction[] = [];
  let stages = 0;
  for (const node of nodes) {
    const instr = at(node.startLine, () => validateNode(node));
    if (options.triggers) {
      at(node.startLine, () => checkTrigger(node.keyword));
    } else if (node.keyword === "FROM") stages++;
    else if (stages === 0 && node.keyword !== "ARG") {
      throw new LineError(node.startLine, "no build stage in current context");
    }
    instructions.push(instr);
  }
  if (!options.triggers && stages === 0) {
    throw new LineError(Math.max(n, 1), "dockerfile contains no stages to build");
  }
  return { file: options.file, escape: d.escape, syntax: d.syntax, instructions };
}

/** Splits one logical line into keyword, flags and arguments, then the arguments per keyword. */
function newNode(line: string, esc: Escape, startLine: number): Node {
  const t = line.trim();
  const m = BLANKS.exec(t);
  const word = m ? t.slice(0, m.index) : t;
  const rest = m ? t.slice(m.index + m[0].length) : "";
  const { args, flags } = extractFlags(rest, esc);
  const keyword = word.toUpperCase();
  let json: readonly string[] | undefined;
  let words: readonly string[] = [];
  let trigger: Node | undefined;
  switch (keyword) {
    case "CMD":
    case "ENTRYPOINT":
    case "RUN":
    case "SHELL":
      json = args === "" ? undefined : jsonArray(args);
      words = json ?? (args === "" ? [] : [args]);
      break;
    case "ADD":
    case "COPY":
    case "VOLUME":
      json = jsonArray(args);
      words = json ?? splitWhitespace(args);
      break;
    case "ARG":
      words = splitWords(args, { escape: esc });
      break;
    case "ENV":
    case "LABEL":
      // Checked here for the syntax (`must have two arguments`, `can't find =`), as Docker does.
      words =
        splitWords(args, { escape: esc }).length === 0
          ? []
          : keyValueWords(args, { escape: esc, instruction: keyword === "ENV" ? "ENV" : "LABEL" }).flatMap(
              ([k, v]) => [k, v ?? ""],
            );
      break;
    case "EXPOSE":
    case "FROM":
      words = splitWhitespace(args);
      break;
    case "HEALTHCHECK": {
      const sep = /\s/.exec(args);
      const type = sep ? args.slice(0, sep.index) : args;
      if (type !== "") {
        const cmd = args.slice(type.length).trimStart();
        json = cmd === "" ? undefined : jsonArray(cmd);
        words = [type, ...(json ?? (cmd === "" ? [] : [cmd]))];
      }
      break;
    }
    case "MAINTAINER":
    case "STOPSIGNAL":
    case "USER":
    case "WORKDIR":
      words = args === "" ? [] : [args];
      break;
    case "ONBUILD":
      if (args !== "") {
        trigger = newNode(args, esc, startLine);
        words = [trigger.word, ...trigger.words];
      }
      break;
  }
  return {
    word,
    keyword,
    rawFlags: flags,
    args,
    json,
    words,
    heredocs: [],
    original: t,
    startLine,
    endLine: startLine,
    trigger,
  };
}

/** Docker's extractBuilderFlags: the leading `--` words (quotes and escapes removed) and the rest. */
function extractFlags(line: string, esc: Escape): { args: string; flags: string[] } {
  const flags: string[] = [];
  let pos = 0;
  const len = line.length;
  for (;;) {
    while (pos < len && /\s/.test(line[pos] as string)) pos++;
    if (pos >= len) return { args: "", flags };
    if (!line.startsWith("--", pos)) return { args: line.slice(pos).trim(), flags };
    let word = "";
    let blankOk = false;
    let quote: string | undefined;
    for (; pos < len; pos++) {
      let ch = line[pos] as string;
      if (quote === undefined) {
        if (/\s/.test(ch)) break;
        if (ch === "'" || ch === '"') {
          quote = ch;
          blankOk = true;
          continue;
        }
      } else if (ch === quote) {
        quote = undefined;
        continue;
      }
      if (ch === esc) {
        if (pos + 1 === len) {
          quote = undefined;
          continue;
        }
        ch = line[++pos] as string;
      }
      word += ch;
    }
    if (word === "--") return { args: pos >= len ? "" : line.slice(pos).trim(), flags };
    if (blankOk || word.length > 0) flags.push(word);
  }
}

/** The elements of a JSON array of strings; undefined when the text is not a JSON array. */
function jsonArray(text: string): string[] | undefined {
  const t = text.trimStart();
  if (!t.startsWith("[")) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  for (const x of v) {
    if (typeof x !== "string") fail("when using JSON array syntax, arrays must be comprised of strings only");
    out.push(x);
  }
  return out;
}

function canContainHeredoc(node: Node): boolean {
  const n = node.keyword === "ONBUILD" && node.trigger ? node.trigger : node;
  return (n.keyword === "RUN" || n.keyword === "COPY" || n.keyword === "ADD") && n.json === undefined;
}

const HEREDOC = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/**
 * The heredoc a word such as `<<EOF`, `<<-"EOF"` or `3<<EOF` introduces (its content empty), or
 * undefined for an ordinary word. COPY/ADD use it to tell heredoc sources (`COPY <<EOF /dst`,
 * matched to `Instruction.heredocs` by name) from paths, as Docker's parseSourcesAndDest does.
 */
export function heredocWord(word: string): Heredoc | undefined {
  const m = HEREDOC.exec(word);
  const rest = m?.[3];
  if (!m || !rest) return undefined;
  const words = delimiterWords(rest, false);
  if (words.length !== 1) return undefined;
  const raw = delimiterWords(rest, true);
  if (raw.length !== 1) fail(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const name = words[0] as string;
  const quotes = (s: string) => s.split(/['"]/).length - 1;
  return { name, content: "", expand: quotes(name) === quotes(raw[0] as string), chomp: m[2] === "-" };
}

function heredocsOf(line: string): Heredoc[] {
  const out: Heredoc[] = [];
  for (const w of rawWords(line)) {
    const h = heredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

// ---- phase 2: per-instruction checks ----

type FlagType = "bool" | "string" | "strings";

const FLAGS: Readonly<Record<string, ReadonlyMap<string, FlagType>>> = {
  FROM: new Map([["platform", "string"]]),
  RUN: new Map<string, FlagType>([
    ["mount", "strings"],
    ["network", "string"],
    ["security", "string"],
    ["device", "strings"],
  ]),
  ADD: new Map<string, FlagType>([
    ["chown", "string"],
    ["chmod", "string"],
    ["link", "bool"],
    ["keep-git-dir", "bool"],
    ["checksum", "string"],
    ["unpack", "bool"],
    ["exclude", "strings"],
  ]),
  COPY: new Map<string, FlagType>([
    ["chown", "string"],
    ["from", "string"],
    ["chmod", "string"],
    ["link", "bool"],
    ["exclude", "strings"],
    ["parents", "bool"],
  ]),
  HEALTHCHECK: new Map<string, FlagType>([
    ["interval", "string"],
    ["timeout", "string"],
    ["start-period", "string"],
    ["start-interval", "string"],
    ["retries", "string"],
  ]),
};
const NO_FLAGS: ReadonlyMap<string, FlagType> = new Map();

/** Docker's BFlags.Parse: every flag known to the instruction, typed, not repeated. */
function checkFlags(node: Node, defs: ReadonlyMap<string, FlagType>): InstructionFlag[] {
  const used = new Set<string>();
  const out: InstructionFlag[] = [];
  for (const raw of node.rawFlags) {
    const eq = raw.indexOf("=");
    const flagName = eq < 0 ? raw : raw.slice(0, eq);
    const value = eq < 0 ? undefined : raw.slice(eq + 1);
    const name = flagName.slice(2);
    const type = defs.get(name);
    if (!type) fail(withSuggestion(`unknown flag: ${flagName}`, name, [...defs.keys()], true));
    if (used.has(name) && type !== "strings") fail(`duplicate flag specified: ${flagName}`);
    used.add(name);
    if (type === "bool") {
      if (value === "") fail(`missing a value on flag: ${flagName}`);
      const v = (value ?? "").toLowerCase();
      if (v !== "true" && v !== "false" && v !== "") {
        fail(`expecting boolean value for flag ${flagName}, not: ${value}`);
      }
    } else if (value === undefined) fail(`missing a value on flag: ${flagName}`);
    out.push({ name, value });
  }
  return out;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function validateNode(node: Node): Instruction {
  const kw = node.keyword;
  const args = node.words;
  const need = (ok: boolean, message: string) => {
    if (!ok) fail(message);
  };
  const atLeastOne = () => need(args.length > 0, `${kw} requires at least one argument`);
  const exactlyOne = () => need(args.length === 1, `${kw} requires exactly one argument`);
  let flags: InstructionFlag[] = [];
  switch (kw) {
    case "ENV":
    case "LABEL":
      flags = checkFlags(node, NO_FLAGS);
      atLeastOne();
      break;
    case "MAINTAINER":
    case "WORKDIR":
    case "USER":
      exactlyOne();
      flags = checkFlags(node, NO_FLAGS);
      break;
    case "ADD":
    case "COPY": {
      need(
        args.length >= 2,
        `${kw} requires at least two arguments, but only one was provided. Destination could not be determined`,
      );
      flags = checkFlags(node, FLAGS[kw] ?? NO_FLAGS);
      if (heredocWord(args.at(-1) as string)) fail(`${kw} cannot accept a heredoc as a destination`);
      break;
    }
    case "FROM":
      if (args.length === 3 && (args[1] as string).toLowerCase() === "as") {
        const name = args[2] as string;
        if (!STAGE_NAME.test(name.toLowerCase())) {
          fail(
            `invalid name for build stage: ${JSON.stringify(name)}, name can't start with a number or contain symbols`,
          );
        }
      } else need(args.length === 1, "FROM requires either one or three arguments");
      flags = checkFlags(node, FLAGS.FROM ?? NO_FLAGS);
      break;
    case "ONBUILD": {
      atLeastOne();
      flags = checkFlags(node, NO_FLAGS);
      checkTrigger((args[0] as string).trim().toUpperCase());
      break;
    }
    case "RUN":
      flags = checkFlags(node, FLAGS.RUN ?? NO_FLAGS);
      break;
    case "CMD":
    case "ENTRYPOINT":
      flags = checkFlags(node, NO_FLAGS);
      break;
    case "HEALTHCHECK": {
      atLeastOne();
      const type = (args[0] as string).toUpperCase();
      if (type === "NONE") {
        // Docker does not look at the flags of HEALTHCHECK NONE.
        need(args.length === 1, "HEALTHCHECK NONE takes no arguments");
        flags = node.rawFlags.map(flagOf);
        break;
      }
      flags = checkFlags(node, FLAGS.HEALTHCHECK ?? NO_FLAGS);
      if (type !== "CMD") fail(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
      need(args.length > 1, "Missing command after HEALTHCHECK CMD");
      for (const f of flags) {
        if (f.name === "retries") checkRetries(f.value ?? "");
        else checkInterval(f.name, f.value ?? "");
      }
      break;
    }
    case "EXPOSE":
      atLeastOne();
      flags = checkFlags(node, NO_FLAGS);
      break;
    case "VOLUME":
      atLeastOne();
      flags = checkFlags(node, NO_FLAGS);
      for (const v of args) need(v.trim() !== "", "VOLUME specified can not be an empty string");
      break;
    case "STOPSIGNAL":
      // Docker does not look at STOPSIGNAL's flags.
      exactlyOne();
      flags = node.rawFlags.map(flagOf);
      break;
    case "ARG":
      // Docker does not look at ARG's flags either.
      atLeastOne();
      flags = node.rawFlags.map(flagOf);
      for (const a of args) need(!a.startsWith("="), "ARG names can not be blank");
      break;
    case "SHELL":
      flags = checkFlags(node, NO_FLAGS);
      need(args.length > 0, "SHELL requires at least one argument");
      need(node.json !== undefined, "SHELL requires the arguments to be in JSON form");
      break;
    default:
      fail(withSuggestion(`unknown instruction: ${node.word}`, node.word, KEYWORDS, false));
  }
  return instructionOf(node, flags);
}

function checkTrigger(keyword: string): void {
  if (keyword === "ONBUILD") fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (keyword === "MAINTAINER" || keyword === "FROM") fail(`${keyword} isn't allowed as an ONBUILD trigger`);
}

function flagOf(raw: string): InstructionFlag {
  const eq = raw.indexOf("=");
  return eq < 0
    ? { name: raw.slice(2), value: undefined }
    : { name: raw.slice(2, eq), value: raw.slice(eq + 1) };
}

function instructionOf(node: Node, flags: readonly InstructionFlag[]): Instruction {
  const out: Instruction = {
    keyword: node.keyword,
    flags,
    args: node.args,
    json: node.json,
    heredocs: node.heredocs,
    original: node.original,
    startLine: node.startLine,
    endLine: node.endLine,
  };
  if (node.trigger) {
    const t = node.trigger;
    return {
      ...out,
      trigger: {
        ...instructionOf(t, t.rawFlags.map(flagOf)),
        heredocs: node.heredocs,
        endLine: node.endLine,
      },
    };
  }
  return out;
}

const GO_UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds, with its error wording. */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    sign = s.startsWith("-") ? -1 : 1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") fail(`time: invalid duration ${quoted}`);
  let total = 0;
  while (s !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = m?.[1] ?? "";
    const frac = m?.[2];
    if (whole === "" && (frac === undefined || frac === "")) fail(`time: invalid duration ${quoted}`);
    s = s.slice(m?.[0].length ?? 0);
    const u = /^[^\d.]+/.exec(s)?.[0];
    if (u === undefined) fail(`time: missing unit in duration ${quoted}`);
    const unit = GO_UNITS[u as string];
    if (unit === undefined) fail(`time: unknown unit ${JSON.stringify(u)} in duration ${quoted}`);
    s = s.slice((u as string).length);
    total += Number(`${whole || "0"}.${frac ?? ""}0`) * (unit as number);
  }
  return sign * Math.round(total);
}

function checkInterval(name: string, value: string): void {
  if (value === "") return;
  const ns = parseGoDuration(value);
  if (ns !== 0 && ns < 1e6) fail(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
}

function checkRetries(value: string): void {
  if (value === "") return;
  if (!/^[+-]?\d+$/.test(value)) fail(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  const n = Number(value);
  if (n > 2 ** 31 - 1 || n < -(2 ** 31)) {
    fail(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  }
  if (n < 0) fail(`--retries cannot be negative (${n})`);
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
