/**
 * The lexer of Go's text/template language (as Go's text/template/parse/lex.go): template text to
 * tokens — text between actions, the delimiters with their trim markers, and inside an action the
 * identifiers, keywords, fields, variables, literals and punctuation. Owns only the token syntax;
 * what the tokens mean is the parser's (template-parse.ts). A lexical error ends the token list
 * with an error token carrying Go's message. Pure.
 */
import { quoteString } from "./go-fmt.js";

// ---------------------------------------------------------------------------------------------
// Tokens

export type TokenType =
  | "error"
  | "bool"
  | "char"
  | "charConstant"
  | "complex"
  | "assign"
  | "declare"
  | "eof"
  | "field"
  | "identifier"
  | "leftDelim"
  | "leftParen"
  | "number"
  | "pipe"
  | "rawString"
  | "rightDelim"
  | "rightParen"
  | "space"
  | "string"
  | "text"
  | "variable"
  // keywords
  | "block"
  | "break"
  | "continue"
  | "dot"
  | "define"
  | "else"
  | "end"
  | "if"
  | "nil"
  | "range"
  | "template"
  | "with";

export interface Token {
  type: TokenType;
  pos: number;
  val: string;
  line: number;
}

const KEYWORDS: ReadonlySet<TokenType> = new Set<TokenType>([
  "block",
  "break",
  "continue",
  "dot",
  "define",
  "else",
  "end",
  "if",
  "nil",
  "range",
  "template",
  "with",
]);

const KEYWORD_BY_WORD: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ["block", "block"],
  ["break", "break"],
  ["continue", "continue"],
  ["define", "define"],
  ["else", "else"],
  ["end", "end"],
  ["if", "if"],
  ["range", "range"],
  ["nil", "nil"],
  ["template", "template"],
  ["with", "with"],
]);

export function tokenString(t: Token): string {
  if (t.type === "eof") return "EOF";
  if (t.type === "error") return t.val;
  if (KEYWORDS.has(t.type)) return `<${t.val}>`;
  if ([...t.val].length > 10) return `${quoteString([...t.val].slice(0, 10).join(""))}...`;
  return quoteString(t.val);
}

/** `%#U` of a rune: U+0023 '#'. */
function runeU(ch: string): string {
  const r = ch.codePointAt(0) ?? 0;
  return `U+${r.toString(16).toUpperCase().padStart(4, "0")} '${ch}'`;
}

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlphaNumeric = (c: string | undefined) => c !== undefined && /^[_\p{L}\p{Nd}]$/u.test(c);

/** Splits the whole input into tokens; a lexical error becomes the last token. */
/**
 * Go's lexer as a machine of state methods (lex.go's stateFn): `lexText` scans text up to an
 * action, `lexComment` a comment, `lexInsideAction` one token of an action at a time. A state
 * returns the next one, or undefined when the tokens end (end of input, or an error token).
 */
type State = () => State | undefined;

class Lexer {
  readonly items: Token[] = [];
  private pos = 0;
  private start = 0;
  private parenDepth = 0;

  constructor(
    private readonly input: string,
    private readonly lineOf: (pos: number) => number,
  ) {}

  run(): Token[] {
    let state: State | undefined = this.lexText;
    while (state) state = state.call(this);
    return this.items;
  }

  private emit(type: TokenType): void {
    this.items.push({
      type,
      pos: this.start,
      val: this.input.slice(this.start, this.pos),
      line: this.lineOf(this.start),
    });
    this.start = this.pos;
  }

  /** Ends the tokens with an error token carrying Go's message. */
  private fail(msg: string): undefined {
    this.items.push({ type: "error", pos: this.start, val: msg, line: this.lineOf(this.start) });
    return undefined;
  }

  private charAt(i: number): string | undefined {
    if (i >= this.input.length) return undefined;
    return String.fromCodePoint(this.input.codePointAt(i)!);
  }

  private hasLeftTrim(i: number): boolean {
    return this.input[i] === "-" && isSpace(this.input[i + 1]);
  }

  private atRightDelim(): { delim: boolean; trim: boolean } {
    const { input, pos } = this;
    if (isSpace(input[pos]) && input[pos + 1] === "-" && input.startsWith("}}", pos + 2)) {
      return { delim: true, trim: true };
    }
    return { delim: input.startsWith("}}", pos), trim: false };
  }

  private leftTrimLength(i: number): number {
    let j = i;
    while (isSpace(this.input[j])) j++;
    return j - i;
  }

  private atTerminator(): boolean {
    const c = this.input[this.pos];
    if (c === undefined || isSpace(c)) return true;
    if (".,|:)(".includes(c)) return true;
    return this.input.startsWith("}}", this.pos);
  }

  /** Text up to the next action (trimmed before a `{{- `), then the action or a comment. */
  private lexText(): State | undefined {
    const { input } = this;
    const x = input.indexOf("{{", this.pos);
    if (x < 0) {
      this.pos = input.length;
      if (this.pos > this.start) this.emit("text");
      this.emit("eof");
      return undefined;
    }
    let textEnd = x;
    if (this.hasLeftTrim(x + 2)) {
      while (textEnd > this.start && isSpace(input[textEnd - 1])) textEnd--;
    }
    if (textEnd > this.start) {
      this.pos = textEnd;
      this.emit("text");
    }
    this.pos = x + 2;
    this.start = x;
    const afterMarker = this.hasLeftTrim(this.pos) ? 2 : 0;
    if (input.startsWith("/*", this.pos + afterMarker)) {
      this.pos += afterMarker;
      this.start = this.pos;
      return this.lexComment;
    }
    this.emit("leftDelim");
    this.pos += afterMarker;
    this.start = this.pos;
    this.parenDepth = 0;
    return this.lexInsideAction;
  }

  /** A comment: nothing is emitted; the right delimiter must follow its end at once. */
  private lexComment(): State | undefined {
    this.pos += 2;
    const close = this.input.indexOf("*/", this.pos);
    if (close < 0) return this.fail("unclosed comment");
    this.pos = close + 2;
    const rd = this.atRightDelim();
    if (!rd.delim) return this.fail("comment ends before closing delimiter");
    if (rd.trim) this.pos += 2;
    this.pos += 2;
    if (rd.trim) this.pos += this.leftTrimLength(this.pos);
    this.start = this.pos;
    return this.lexText;
  }

  /** One token of an action: the right delimiter, spaces, punctuation, a literal or a word. */
  private lexInsideAction(): State | undefined {
    const { input } = this;
    const rd = this.atRightDelim();
    if (rd.delim) {
      if (this.parenDepth !== 0) return this.fail("unclosed left paren");
      if (rd.trim) {
        this.pos += 2;
        this.start = this.pos;
      }
      this.pos += 2;
      this.emit("rightDelim");
      if (rd.trim) this.pos += this.leftTrimLength(this.pos);
      this.start = this.pos;
      return this.lexText;
    }
    const ch = this.charAt(this.pos);
    if (ch === undefined) return this.fail("unclosed action");
    if (isSpace(ch)) return this.lexSpace();
    this.pos += ch.length;
    switch (ch) {
      case "=":
        this.emit("assign");
        return this.lexInsideAction;
      case ":":
        if (input[this.pos] !== "=") return this.fail("expected :=");
        this.pos++;
        this.emit("declare");
        return this.lexInsideAction;
      case "|":
        this.emit("pipe");
        return this.lexInsideAction;
      case '"':
        return this.lexQuote('"', "string", "unterminated quoted string");
      case "`": {
        const close = input.indexOf("`", this.pos);
        if (close < 0) return this.fail("unterminated raw quoted string");
        this.pos = close + 1;
        this.emit("rawString");
        return this.lexInsideAction;
      }
      case "'":
        return this.lexQuote("'", "charConstant", "unterminated character constant");
      case "$":
      case ".":
        return this.lexFieldOrVariable(ch);
      case "(":
        this.emit("leftParen");
        this.parenDepth++;
        return this.lexInsideAction;
      case ")":
        this.emit("rightParen");
        this.parenDepth--;
        if (this.parenDepth < 0) return this.fail(`unexpected right paren ${runeU(ch)}`);
        return this.lexInsideAction;
    }
    if (ch === "+" || ch === "-" || (ch >= "0" && ch <= "9")) {
      this.pos -= ch.length;
      return this.lexNumber();
    }
    if (isAlphaNumeric(ch)) return this.lexIdentifier();
    const code = ch.codePointAt(0)!;
    if (code < 0x7f && code >= 0x20) {
      this.emit("char");
      return this.lexInsideAction;
    }
    return this.fail(`unrecognized character in action: ${runeU(ch)}`);
  }

  /** A run of spaces; one space before a ` -}}` belongs to the trim marker. */
  private lexSpace(): State | undefined {
    const { input } = this;
    let n = 0;
    while (isSpace(input[this.pos])) {
      this.pos++;
      n++;
    }
    if (
      input[this.pos - 1] !== undefined &&
      input[this.pos] === "-" &&
      input.startsWith("}}", this.pos + 1)
    ) {
      this.pos--;
      if (n === 1) return this.lexInsideAction;
    }
    this.emit("space");
    return this.lexInsideAction;
  }

  /** The rest of a "…" string or '…' character constant (escapes kept; no newline). */
  private lexQuote(quote: string, type: TokenType, unterminated: string): State | undefined {
    const { input } = this;
    for (;;) {
      const c = input[this.pos++];
      if (c === "\\") {
        const d = input[this.pos++];
        if (d !== undefined && d !== "\n") continue;
        return this.fail(unterminated);
      }
      if (c === undefined || c === "\n") return this.fail(unterminated);
      if (c === quote) break;
    }
    this.emit(type);
    return this.lexInsideAction;
  }

  /** After `$` or `.`: a variable, a field, the dot itself, or a number such as `.5`. */
  private lexFieldOrVariable(ch: "$" | "."): State | undefined {
    const { input } = this;
    if (ch === "." && input[this.pos] !== undefined && input[this.pos]! >= "0" && input[this.pos]! <= "9") {
      this.pos--;
      return this.lexNumber();
    }
    if (this.atTerminator()) {
      this.emit(ch === "$" ? "variable" : "dot");
      return this.lexInsideAction;
    }
    while (isAlphaNumeric(this.charAt(this.pos))) this.pos += this.charAt(this.pos)!.length;
    if (!this.atTerminator()) return this.fail(`bad character ${runeU(this.charAt(this.pos)!)}`);
    this.emit(ch === "$" ? "variable" : "field");
    return this.lexInsideAction;
  }

  /** A number, or a complex constant (a number, then a signed imaginary part). */
  private lexNumber(): State | undefined {
    const bad = () => this.fail(`bad number syntax: ${quoteString(this.input.slice(this.start, this.pos))}`);
    if (!this.scanNumber()) return bad();
    if (this.input[this.pos] === "+" || this.input[this.pos] === "-") {
      if (!this.scanNumber() || this.input[this.pos - 1] !== "i") return bad();
      this.emit("complex");
    } else this.emit("number");
    return this.lexInsideAction;
  }

  /** A word: a keyword, `true`/`false`, or a function's identifier. */
  private lexIdentifier(): State | undefined {
    while (isAlphaNumeric(this.charAt(this.pos))) this.pos += this.charAt(this.pos)!.length;
    const word = this.input.slice(this.start, this.pos);
    if (!this.atTerminator()) return this.fail(`bad character ${runeU(this.charAt(this.pos)!)}`);
    const kw = KEYWORD_BY_WORD.get(word);
    if (kw) this.emit(kw);
    else if (word === "true" || word === "false") this.emit("bool");
    else this.emit("identifier");
    return this.lexInsideAction;
  }

  /** lex.go's scanNumber: Go's number syntax, loosely; false when a letter runs on after it. */
  private scanNumber(): boolean {
    const { input } = this;
    const accept = (valid: string) => {
      if (input[this.pos] !== undefined && valid.includes(input[this.pos]!)) {
        this.pos++;
        return true;
      }
      return false;
    };
    const acceptRun = (valid: string) => {
      while (input[this.pos] !== undefined && valid.includes(input[this.pos]!)) this.pos++;
    };
    accept("+-");
    let digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (accept("oO")) digits = "01234567_";
      else if (accept("bB")) digits = "01_";
    }
    acceptRun(digits);
    if (accept(".")) acceptRun(digits);
    if (digits.length === 11 && accept("eE")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    if (digits.length === 23 && accept("pP")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    accept("i");
    if (isAlphaNumeric(this.charAt(this.pos))) {
      this.pos += this.charAt(this.pos)!.length;
      return false;
    }
    return true;
  }
}

/** The tokens of a template text; `lineOf` gives the line of an offset. Ends with eof or an error. */
export function lex(input: string, lineOf: (pos: number) => number): Token[] {
  return new Lexer(input, lineOf).run();
}
