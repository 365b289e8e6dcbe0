/**
 * The Dockerfile parser: text → `Dockerfile` (ast.ts), with the syntax rules and error wording of
 * BuildKit's frontend/dockerfile/parser. The second pass runs each instruction's typed parse
 * (`commands.ts`, BuildKit's `instructions` package: argument counts, flag names and types,
 * HEALTHCHECK durations…) so that a bad Dockerfile fails here, naming its line, and checks the
 * stage structure (only ARG before the first FROM).
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
import { argumentWords, checkTrigger, parseCommand } from "./commands.js";
import { heredocWord, rawWords } from "./expand.js";

export { KEYWORDS, onbuildExpression, parseGoDuration } from "./commands.js";
export { heredocWord } from "./expand.js";

export interface ParseOptions {
  /** The name errors use: `Dockerfile`, or the `-f` path as given. */
  readonly file: string;
  /**
   * Parse ONBUILD triggers taken from an image config (the child build's first step): no FROM is
   * required or allowed, and FROM, MAINTAINER and ONBUILD are refused as Docker refuses them as
   * triggers.
   */
  readonly triggers?: boolean;
  /**
   * Parse `import --change` / `commit --change` lines (moby's BuildFromConfig): no FROM is
   * required; every instruction is first checked against `allowed` (upper-case keywords) and the
   * first outside it is refused with `refuse(keyword as written)`, before any is validated. The
   * lines are otherwise read as a Dockerfile's, as moby's parser reads them: flags of every
   * instruction are checked (`CMD --port 80` is `unknown flag: --port`), and a JSON array holding
   * something other than strings is an error.
   */
  readonly changes?: {
    readonly allowed: ReadonlySet<string>;
    readonly refuse: (word: string) => string;
  };
}

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
      instructions: nodes.map((n) => instructionOf(n)),
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
  const changes = options.changes;
  if (changes) {
    for (const node of nodes) {
      if (!changes.allowed.has(node.keyword)) throw new LineError(node.startLine, changes.refuse(node.word));
    }
  }
  // Triggers and change lines are instructions outside any stage.
  const staged = !options.triggers && !changes;
  const instructions: Instruction[] = [];
  let stages = 0;
  for (const node of nodes) {
    const instr = instructionOf(node);
    at(node.startLine, () => parseCommand(instr, d.escape));
    if (options.triggers) {
      at(node.startLine, () => checkTrigger(node.keyword));
    } else if (node.keyword === "FROM") stages++;
    else if (staged && stages === 0 && node.keyword !== "ARG") {
      throw new LineError(node.startLine, "no build stage in current context");
    }
    instructions.push(instr);
  }
  if (staged && stages === 0) {
    throw new LineError(Math.max(n, 1), "dockerfile contains no stages to build");
  }
  return { file: options.file, escape: d.escape, syntax: d.syntax, instructions };
}

/** Splits one logical line into keyword, flags and arguments, and finds the exec (JSON) form. */
function newNode(line: string, esc: Escape, startLine: number): Node {
  const t = line.trim();
  const m = BLANKS.exec(t);
  const word = m ? t.slice(0, m.index) : t;
  const rest = m ? t.slice(m.index + m[0].length) : "";
  const keyword = word.toUpperCase();
  const { args, flags } = extractFlags(rest, esc);
  let json: readonly string[] | undefined;
  let trigger: Node | undefined;
  switch (keyword) {
    case "CMD":
    case "ENTRYPOINT":
    case "RUN":
    case "SHELL":
      json = args === "" ? undefined : jsonArray(args);
      break;
    case "ADD":
    case "COPY":
    case "VOLUME":
      json = jsonArray(args);
      break;
    case "ENV":
    case "LABEL":
      // Checked here for the syntax (`must have two arguments`, `can't find =`), as Docker does.
      argumentWords(keyword, args, undefined, esc);
      break;
    case "HEALTHCHECK": {
      const sep = /\s/.exec(args);
      const type = sep ? args.slice(0, sep.index) : args;
      const cmd = args.slice(type.length).trimStart();
      if (type !== "" && cmd !== "") json = jsonArray(cmd);
      break;
    }
    case "ONBUILD":
      if (args !== "") trigger = newNode(args, esc, startLine);
      break;
  }
  return {
    word,
    keyword,
    rawFlags: flags,
    args,
    json,
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

function heredocsOf(line: string): Heredoc[] {
  const out: Heredoc[] = [];
  for (const w of rawWords(line)) {
    const h = heredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

function flagOf(raw: string): InstructionFlag {
  const eq = raw.indexOf("=");
  return eq < 0
    ? { name: raw.slice(2), value: undefined }
    : { name: raw.slice(2, eq), value: raw.slice(eq + 1) };
}

function instructionOf(node: Node): Instruction {
  const out: Instruction = {
    keyword: node.keyword,
    flags: node.rawFlags.map(flagOf),
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
        ...instructionOf(t),
        heredocs: node.heredocs,
        endLine: node.endLine,
      },
    };
  }
  return out;
}
