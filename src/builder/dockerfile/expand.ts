// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile text holds ${VAR} on purpose
/**
 * Docker's shell-word lexer and variable substitution for Dockerfile instruction arguments, with the
 * semantics of BuildKit's frontend/dockerfile/shell (the lexer both Docker's builders use):
 *
 * - `$VAR`, `${VAR}`; `${VAR:-word}` / `${VAR-word}` (default when empty-or-unset / unset);
 *   `${VAR:+word}` / `${VAR+word}` (alternative when set-and-non-empty / set); `${VAR:?msg}` /
 *   `${VAR?msg}` (error); `${VAR#pat}` `${VAR##pat}` `${VAR%pat}` `${VAR%%pat}` (trim a shell
 *   pattern); `${VAR/pat/repl}` `${VAR//pat/repl}` (replace). The `word` is itself lexed (quotes,
 *   escapes and nested `$` expansions). An unset variable expands to nothing; a `$` not followed
 *   by a name stays `$`. `$1`… and the special parameters (`$@ $* $# $? $- $$ $! $0`) are looked up
 *   like names (so they normally expand to nothing).
 * - Single quotes: everything literal up to the next `'`.
 * - Double quotes: `$` expands; the escape character escapes only `"`, `$` and itself, and stays
 *   as written before any other character (`"C:\dir"` keeps its backslash).
 * - Outside quotes the escape character (`\`, or `` ` `` under `# escape=``) makes the next
 *   character literal, whatever it is; one at the very end is dropped.
 * - In word-splitting mode (`expandWords`) unquoted whitespace separates words, and so does
 *   whitespace coming out of an unquoted expansion; quoted text never splits. Empty words are
 *   dropped, as Docker's lexer drops them (`""` alone yields no word).
 *
 * Pure: no host access. Errors are BerthErrors of kind InvalidArgument with Docker's wording
 * (`failed to process "${X:?}": X: is not allowed to be unset`).
 */
import { invalidArgument } from "../../base/errors.js";
import { MAX_DOCUMENT_BYTES } from "../../oci/limits.js";
import type { Heredoc } from "./ast.js";

/**
 * Bounds on one expansion. Docker bounds neither (BuildKit's lexer recurses without limit and
 * `ARG B=$A$A` chains grow exponentially), so these are berth's: nesting of `${…}` words, and
 * the length of any text an expansion produces — the image-document bound, since an expanded
 * value that large could not be written into an image config anyway.
 */
export const MAX_EXPANSION_DEPTH = 64;
export const MAX_EXPANSION_CHARS = MAX_DOCUMENT_BYTES;

function tooLong(): Error {
  return invalidArgument(`expansion result is longer than the limit of ${MAX_EXPANSION_CHARS} characters`);
}

export interface ExpandOptions {
  /** The Dockerfile's escape character (`# escape=` directive); backslash by default. */
  readonly escape: "\\" | "`";
}

type Env = ReadonlyMap<string, string>;

const EOF = "";

interface LexerMode {
  readonly escape: string;
  /** Keep quote characters in the output (used to tell quoted heredoc delimiters apart). */
  readonly rawQuotes: boolean;
  /** Keep escape characters in the output. */
  readonly rawEscapes: boolean;
  /** Leave references to unset variables as written instead of expanding them to nothing. */
  readonly skipUnset: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies). */
  readonly skipQuotes?: boolean;
}

/** Unicode whitespace as Go's unicode.IsSpace sees it (close enough: JS \s). */
const isSpace = (ch: string): boolean => ch !== EOF && /^\s$/u.test(ch);
const isNameChar = (ch: string): boolean => ch !== EOF && /^[\p{L}\p{Nd}_]$/u.test(ch);
const isDigit = (ch: string): boolean => ch !== EOF && /^\p{Nd}$/u.test(ch);
const SPECIAL_PARAMS = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);

/** Accumulates words: whitespace from `addChar` splits, `addRaw*` never splits. */
class Words {
  private buf = "";
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = "";
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }

  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = "";
      this.inWord = false;
    }
    return this.words;
  }
}

/** One pass of the lexer over one text (code points, so names and patterns are per character). */
class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  private depth = 0;

  constructor(
    text: string,
    private readonly env: Env,
    private readonly mode: LexerMode,
  ) {
    this.chars = Array.from(text);
    this.rawEscapes = mode.rawEscapes;
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  private next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  /** Lexes up to `stop` (consumed) or the end of the text; returns the text and its words. */
  run(stop: string | undefined, rawEscapes: boolean): { text: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    if (++this.depth > MAX_EXPANSION_DEPTH) {
      throw invalidArgument(`variable substitution nested more than ${MAX_EXPANSION_DEPTH} levels deep`);
    }
    try {
      let result = "";
      const words = new Words();
      const esc = this.mode.escape;
      while (this.peek() !== EOF) {
        let ch = this.peek();
        if (stop !== undefined && ch === stop) {
          this.next();
          return { text: result, words: words.finish() };
        }
        if (ch === "$") {
          const s = this.dollar();
          if (result.length + s.length > MAX_EXPANSION_CHARS) throw tooLong();
          result += s;
          words.addString(s);
        } else if (ch === "<") {
          const s = this.possibleHeredoc();
          result += s;
          words.addRaw(s);
        } else if (ch === "'" && !this.mode.skipQuotes) {
          const s = this.singleQuoted();
          result += s;
          words.addRaw(s);
        } else if (ch === '"' && !this.mode.skipQuotes) {
          const s = this.doubleQuoted();
          result += s;
          words.addRaw(s);
        } else {
          ch = this.next();
          if (ch === esc) {
            if (this.rawEscapes) {
              words.addRaw(ch);
              result += ch;
            }
            ch = this.next();
            if (ch === EOF) break;
            words.addRaw(ch);
          } else words.addChar(ch);
          result += ch;
        }
      }
      if (stop !== undefined) {
        throw invalidArgument(`unexpected end of statement while looking for matching ${stop}`);
      }
      return { text: result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
      this.depth--;
    }
  }

  private singleQuoted(): string {
    let out = "";
    const open = this.next();
    if (this.mode.rawQuotes) out += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF)
        throw invalidArgument("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") {
        if (this.mode.rawQuotes) out += ch;
        return out;
      }
      out += ch;
    }
  }

  private doubleQuoted(): string {
    let out = "";
    const open = this.next();
    if (this.mode.rawQuotes) out += open;
    const esc = this.mode.escape;
    for (;;) {
      const p = this.peek();
      if (p === EOF)
        throw invalidArgument("unexpected end of statement while looking for matching double-quote");
      if (p === '"') {
        const ch = this.next();
        if (this.mode.rawQuotes) out += ch;
        return out;
      }
      if (p === "$") {
        const s = this.dollar();
        if (out.length + s.length > MAX_EXPANSION_CHARS) throw tooLong();
        out += s;
        continue;
      }
      let ch = this.next();
      if (ch === esc) {
        if (this.rawEscapes) out += ch;
        const n = this.peek();
        if (n === EOF) continue;
        if (n === '"' || n === "$" || n === esc) ch = this.next();
      }
      out += ch;
    }
  }

  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== "<") return "<";
    this.next();
    let space = "";
    while (this.peek() === " " || this.peek() === "\t" || this.peek() === "\r") space += this.next();
    return "<<" + space;
  }

  private name(): string {
    let name = "";
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) return name;
      if (name === "" && isDigit(ch)) {
        while (isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === "" && SPECIAL_PARAMS.has(ch)) return this.next();
      if (!isNameChar(ch)) return name;
      name += this.next();
    }
  }

  private dollar(): string {
    this.next(); // $
    if (this.peek() !== "{") {
      const name = this.name();
      if (name === "") return "$";
      const value = this.env.get(name);
      if (value === undefined && this.mode.skipUnset) return "$" + name;
      return value ?? "";
    }
    this.next(); // {
    const first = this.peek();
    if (first === EOF) throw invalidArgument("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":")
      throw invalidArgument("syntax error: bad substitution");
    const name = this.name();
    let ch = this.next();
    if (ch === EOF) throw invalidArgument("syntax error: missing '}'");
    let modifier = ch;
    const value = this.env.get(name);
    const set = value !== undefined;
    if (ch === "}") {
      if (!set && this.mode.skipUnset) return `\${${name}}`;
      return value ?? "";
    }
    if (ch === "/") return this.replace(name, value);
    let nullIsUnset = false;
    if (ch === ":") {
      nullIsUnset = true;
      ch = this.next();
      modifier += ch;
    }
    if (!["+", "-", "?", "#", "%"].includes(ch)) {
      // After `:` Docker lexes the word before refusing the modifier; otherwise it refuses at once.
      if (nullIsUnset) this.word("}", false);
      throw invalidArgument(`unsupported modifier (${modifier}) in substitution`);
    }
    const trims = ch === "#" || ch === "%";
    if (nullIsUnset && trims) throw invalidArgument(`unsupported modifier (${modifier}) in substitution`);
    let word = this.word("}", trims);
    if (!set && this.mode.skipUnset) return `\${${name}${modifier}${word}}`;
    const empty = !set || (nullIsUnset && value === "");
    switch (ch) {
      case "-":
        return empty ? word : (value ?? "");
      case "+":
        return empty ? "" : word;
      case "?":
        if (!set) throw invalidArgument(`${name}: ${word || "is not allowed to be unset"}`);
        if (nullIsUnset && value === "")
          throw invalidArgument(`${name}: ${word || "is not allowed to be empty"}`);
        return value ?? "";
      default: {
        // # and %: the shortest match, ## and %%: the longest
        const greedy = word.startsWith(ch);
        if (greedy) word = word.slice(1);
        return ch === "%" ? trimSuffix(word, value ?? "", greedy) : trimPrefix(word, value ?? "", greedy);
      }
    }
  }

  /** The word of a `${VAR<op>word}` up to `stop`, with Docker's "missing '}'" at the end of text. */
  private word(stop: string, rawEscapes: boolean): string {
    try {
      return this.run(stop, rawEscapes).text;
    } catch (err) {
      if (this.peek() === EOF)
        throw invalidArgument(`syntax error: missing '${stop === "/" ? "/' in ${}" : "}'"}`);
      throw err;
    }
  }

  private replace(name: string, value: string | undefined): string {
    const all = this.peek() === "/";
    if (all) this.next();
    const pattern = this.word("/", true);
    const replacement = this.word("}", true);
    if (value === undefined && this.mode.skipUnset) return `\${${name}/${pattern}/${replacement}}`;
    return replacePattern(pattern, value ?? "", replacement, all);
  }
}

/** One token of a shell pattern: a literal character, `?` (any one), or `*` (any string). */
type PatternToken = { kind: "char"; ch: string } | { kind: "any" } | { kind: "star" };

/** Parses a shell pattern (`*`, `?`, `\` escapes), refusing escapes Docker refuses. */
function parsePattern(pattern: string): PatternToken[] {
  const out: PatternToken[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === "*") {
      if (out.at(-1)?.kind !== "star") out.push({ kind: "star" });
    } else if (ch === "?") out.push({ kind: "any" });
    else if (ch === "\\") {
      const n = chars[i + 1];
      // `}` and `/` are escaped only for the ${} syntax; the escape is not part of the pattern.
      if (n === "}" || n === "/") continue;
      if (n !== "*" && n !== "?" && n !== "\\") {
        throw invalidArgument(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ""}'`);
      }
      out.push({ kind: "char", ch: n });
      i++;
    } else out.push({ kind: "char", ch });
  }
  return out;
}

/**
 * Runs the pattern as an NFA over `text` from `start`, in time linear in text × pattern (a
 * backtracking regular expression can take exponential time on `*a*a*a…`). For every text
 * position it knows which pattern positions are reachable, each with the earliest start that
 * reaches it; returns the leftmost match start and its longest end (a match of the whole
 * pattern), or undefined. With `anchored`, only matches starting at `start` count.
 */
function findMatch(
  tokens: readonly PatternToken[],
  text: readonly string[],
  start: number,
  anchored: boolean,
  longest: boolean,
): { start: number; end: number } | undefined {
  const m = tokens.length;
  // reach[j] = earliest match start with pattern position j reached, or -1.
  let reach = new Array<number>(m + 1).fill(-1);
  const close = (r: number[]): void => {
    for (let j = 0; j < m; j++) {
      if (r[j]! >= 0 && tokens[j]!.kind === "star" && (r[j + 1]! < 0 || r[j]! < r[j + 1]!)) r[j + 1] = r[j]!;
    }
  };
  let best: { start: number; end: number } | undefined;
  for (let i = start; i <= text.length; i++) {
    if ((!anchored || i === start) && best === undefined && (reach[0]! < 0 || reach[0]! > i)) reach[0] = i;
    close(reach);
    const s = reach[m]!;
    if (s >= 0 && (best === undefined || s < best.start || (s === best.start && longest))) {
      best = { start: s, end: i };
      if (!longest) return best;
    }
    if (i === text.length) break;
    const ch = text[i]!;
    const next = new Array<number>(m + 1).fill(-1);
    let alive = false;
    for (let j = 0; j < m; j++) {
      const from = reach[j]!;
      if (from < 0 || (best !== undefined && from > best.start)) continue;
      const t = tokens[j]!;
      const to = t.kind === "star" ? j : t.kind === "any" || t.ch === ch ? j + 1 : -1;
      if (to >= 0 && (next[to]! < 0 || from < next[to]!)) {
        next[to] = from;
        alive = true;
      }
    }
    reach = next;
    if (!alive && (anchored || best !== undefined)) break;
  }
  return best;
}

/** `${VAR/pat/repl}` and `${VAR//pat/repl}`: leftmost, longest matches replaced. */
function replacePattern(pattern: string, value: string, replacement: string, all: boolean): string {
  const tokens = parsePattern(pattern);
  const text = Array.from(value);
  const out: string[] = [];
  let length = 0;
  const emit = (s: string): void => {
    length += s.length;
    if (length > MAX_EXPANSION_CHARS) throw tooLong();
    out.push(s);
  };
  let pos = 0;
  while (pos <= text.length) {
    const m = findMatch(tokens, text, pos, false, true);
    if (m === undefined) break;
    emit(text.slice(pos, m.start).join(""));
    emit(replacement);
    if (m.end > m.start) pos = m.end;
    else {
      if (m.start < text.length) emit(text[m.start]!);
      pos = m.start + 1;
    }
    if (!all) break;
  }
  if (pos < text.length) emit(text.slice(pos).join(""));
  return out.join("");
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const text = Array.from(value);
  const m = findMatch(parsePattern(pattern), text, 0, true, greedy);
  return m ? text.slice(m.end).join("") : value;
}

/** Reverses a pattern keeping each escape before the character it escapes (`a\*c` → `c\*a`). */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === "\\" && i !== chars.length - 1) {
      out.unshift("\\" + chars[i + 1]);
      i += 2;
    } else {
      out.unshift(chars[i] as string);
      i++;
    }
  }
  return out.join("");
}

const reverse = (s: string): string => Array.from(s).reverse().join("");

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // The shortest rightmost match is the shortest leftmost match of the reversed text.
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}

function lex(text: string, env: Env, mode: LexerMode): { text: string; words: string[] } {
  try {
    return new Lexer(text, env, mode).run(undefined, mode.rawEscapes);
  } catch (err) {
    if (err instanceof Error)
      throw invalidArgument(`failed to process ${goQuote(text)}: ${err.message}`, err);
    throw err;
  }
}

const plain = (options: ExpandOptions): LexerMode => ({
  escape: options.escape,
  rawQuotes: false,
  rawEscapes: false,
  skipUnset: false,
});

/**
 * Splits `text` into words on unquoted whitespace (and whitespace produced by unquoted
 * expansions), removing quotes and escapes and expanding variables from `env` — Docker's
 * `ProcessWords` (EXPOSE). Empty words are dropped.
 */
export function expandWords(text: string, env: Env, options: ExpandOptions): string[] {
  return lex(text, env, plain(options)).words;
}

/**
 * `text` as one word: quotes and escapes removed, variables expanded, whitespace kept as
 * written — Docker's `ProcessWord`, which its builders apply to each argument (FROM's image,
 * WORKDIR, USER, COPY/ADD sources and destination one by one, ENV/LABEL/ARG keys and values…).
 */
export function expandWord(text: string, env: Env, options: ExpandOptions): string {
  return lex(text, env, plain(options)).text;
}

/**
 * The body of a COPY/ADD heredoc whose delimiter was not quoted (`Heredoc.expand`), expanded as
 * Docker does: variables expand, quotes are ordinary characters, and a backslash escapes the next
 * character (and disappears) whatever the Dockerfile's escape character.
 */
export function expandHeredoc(content: string, env: Env): string {
  return lex(content, env, {
    escape: "\\",
    rawQuotes: false,
    rawEscapes: false,
    skipUnset: false,
    skipQuotes: true,
  }).text;
}

/**
 * Words as the lexer sees them but with quotes and escapes kept and unset variables left as
 * written: how the parser finds heredoc markers (`<<EOF`, `<<"EOF"`, `<<-EOF`) in a line.
 * Returns [] when the line does not lex (an unterminated quote), as Docker ignores that here.
 */
export function rawWords(text: string): string[] {
  try {
    return new Lexer(text, new Map(), {
      escape: "\\",
      rawQuotes: true,
      rawEscapes: true,
      skipUnset: true,
    }).run(undefined, true).words;
  } catch {
    return [];
  }
}

/**
 * The words of a heredoc delimiter (`EOF`, `"EOF"`, `'E'OF`) with quotes removed and, with
 * `raw`, with quotes kept; unset variables left as written. Throws on an unterminated quote.
 */
export function delimiterWords(text: string, raw: boolean): string[] {
  return lex(text, new Map(), { escape: "\\", rawQuotes: raw, rawEscapes: false, skipUnset: true }).words;
}

/** Whitespace as Docker's parser splits instruction arguments (`[\t\v\f\r ]+`). */
const WHITESPACE = /[\t\v\f\r ]+/;

/**
 * Splits on runs of blanks, with no quote handling, as Docker's parser splits the shell-form
 * arguments of FROM, EXPOSE, COPY, ADD and VOLUME before expanding each piece with `expandWord`
 * (`COPY "a b" /x` is the two sources `"a` and `b"` to Docker, and fails to expand).
 */
export function splitWhitespace(text: string): string[] {
  const t = text.replace(/^[\t\v\f\r ]+|[\t\v\f\r ]+$/g, "");
  return t === "" ? [] : t.split(WHITESPACE);
}

/**
 * Splits on unquoted whitespace keeping quotes and escapes as written (Docker's parser
 * `parseWords`, used for ENV, LABEL and ARG before each key and value is expanded): outside
 * quotes the escape character and the next character are kept together; inside double quotes
 * likewise; inside single quotes the escape character is ordinary. A trailing escape is dropped.
 */
export function splitWords(text: string, options: ExpandOptions): string[] {
  const esc = options.escape;
  const chars = Array.from(text);
  const words: string[] = [];
  let word = "";
  let blankOk = false;
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i] as string;
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (quote === undefined) {
      if (isSpace(ch)) {
        if (blankOk || word.length > 0) words.push(word);
        word = "";
        blankOk = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      }
      if (ch === esc) {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i] as string;
      }
      word += ch;
    } else {
      if (ch === quote) quote = undefined;
      else if (ch === esc && quote !== "'") {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i] as string;
      }
      word += ch;
    }
  }
  if (inWord && (blankOk || word.length > 0)) words.push(word);
  return words;
}

/**
 * The name/value pairs of ENV, LABEL or ARG, expanded from `env` (the environment before this
 * instruction: `ENV A=1 B=$A` gives B the previous A, as Docker does).
 *
 * - ENV/LABEL: `k=v k2="v 2"`, or the legacy `k value with spaces` when the first word has no
 *   `=` (the value is the rest of the text).
 * - ARG: `name` (value undefined: no default) or `name=default`; the default expands too.
 */
export function parseKeyValues(
  text: string,
  env: Env,
  options: ExpandOptions & { readonly instruction: "ENV" | "LABEL" | "ARG" },
): Array<[string, string | undefined]> {
  const pairs = keyValueWords(text, options);
  return pairs.map(([k, v]) => [
    expandWord(k, env, options),
    v === undefined ? undefined : expandWord(v, env, options),
  ]);
}

/**
 * The unexpanded pairs of ENV/LABEL/ARG with Docker's errors (shared by the parser, which checks
 * them with the instruction's line, and `parseKeyValues`).
 */
export function keyValueWords(
  text: string,
  options: ExpandOptions & { readonly instruction: "ENV" | "LABEL" | "ARG" },
): Array<[string, string | undefined]> {
  const instr = options.instruction;
  const words = splitWords(text, options);
  if (words.length === 0) throw invalidArgument(`${instr} requires at least one argument`);
  const out: Array<[string, string | undefined]> = [];
  if (instr === "ARG") {
    for (const w of words) {
      const eq = w.indexOf("=");
      if (eq < 0) out.push([w, undefined]);
      else {
        if (eq === 0) throw invalidArgument("ARG names can not be blank");
        out.push([w.slice(0, eq), w.slice(eq + 1)]);
      }
    }
    return out;
  }
  const first = words[0] as string;
  if (!first.includes("=")) {
    // Legacy `ENV name value…`: the value is the rest of the text, whitespace and all.
    const t = text.replace(/^[\t\v\f\r ]+|[\t\v\f\r ]+$/g, "");
    const m = WHITESPACE.exec(t);
    if (!m) throw invalidArgument(`${instr} must have two arguments`);
    return [[t.slice(0, m.index), t.slice(m.index + m[0].length)]];
  }
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq < 0) {
      throw invalidArgument(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    }
    if (eq === 0) throw invalidArgument(`${instr} names can not be blank`);
    out.push([w.slice(0, eq), w.slice(eq + 1)]);
  }
  return out;
}

/** A string quoted as Go's %q quotes it (JSON's escaping is the same for what Dockerfiles hold). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
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
  if (raw.length !== 1)
    throw invalidArgument(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const name = words[0] as string;
  const quotes = (s: string) => s.split(/['"]/).length - 1;
  return { name, content: "", expand: quotes(name) === quotes(raw[0] as string), chomp: m[2] === "-" };
}
