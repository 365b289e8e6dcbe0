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
export function lex(input: string, lineOf: (pos: number) => number): Token[] {
  const items: Token[] = [];
  let pos = 0;
  let start = 0;
  const emit = (type: TokenType) => {
    items.push({ type, pos: start, val: input.slice(start, pos), line: lineOf(start) });
    start = pos;
  };
  const fail = (msg: string): Token[] => {
    items.push({ type: "error", pos: start, val: msg, line: lineOf(start) });
    return items;
  };
  const charAt = (i: number): string | undefined => {
    if (i >= input.length) return undefined;
    return String.fromCodePoint(input.codePointAt(i)!);
  };
  const hasLeftTrim = (i: number) => input[i] === "-" && isSpace(input[i + 1]);
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (isSpace(input[pos]) && input[pos + 1] === "-" && input.startsWith("}}", pos + 2)) {
      return { delim: true, trim: true };
    }
    return { delim: input.startsWith("}}", pos), trim: false };
  };
  const leftTrimLength = (i: number) => {
    let j = i;
    while (isSpace(input[j])) j++;
    return j - i;
  };
  const atTerminator = (): boolean => {
    const c = input[pos];
    if (c === undefined || isSpace(c)) return true;
    if (".,|:)(".includes(c)) return true;
    return input.startsWith("}}", pos);
  };

  for (;;) {
    // Text up to the next action.
    const x = input.indexOf("{{", pos);
    if (x < 0) {
      pos = input.length;
      if (pos > start) emit("text");
      emit("eof");
      return items;
    }
    let textEnd = x;
    if (hasLeftTrim(x + 2)) {
      while (textEnd > start && isSpace(input[textEnd - 1])) textEnd--;
    }
    if (textEnd > start) {
      pos = textEnd;
      emit("text");
    }
    pos = x + 2;
    start = x;
    const trim = hasLeftTrim(pos);
    const afterMarker = trim ? 2 : 0;
    if (input.startsWith("/*", pos + afterMarker)) {
      pos += afterMarker;
      start = pos;
      pos += 2;
      const close = input.indexOf("*/", pos);
      if (close < 0) return fail("unclosed comment");
      pos = close + 2;
      const rd = atRightDelim();
      if (!rd.delim) return fail("comment ends before closing delimiter");
      if (rd.trim) pos += 2;
      pos += 2;
      if (rd.trim) pos += leftTrimLength(pos);
      start = pos;
      continue;
    }
    emit("leftDelim");
    pos += afterMarker;
    start = pos;
    let parenDepth = 0;
    // Inside the action.
    for (;;) {
      const rd = atRightDelim();
      if (rd.delim) {
        if (parenDepth !== 0) return fail("unclosed left paren");
        if (rd.trim) {
          pos += 2;
          start = pos;
        }
        pos += 2;
        emit("rightDelim");
        if (rd.trim) pos += leftTrimLength(pos);
        start = pos;
        break;
      }
      const ch = charAt(pos);
      if (ch === undefined) return fail("unclosed action");
      if (isSpace(ch)) {
        let n = 0;
        while (isSpace(input[pos])) {
          pos++;
          n++;
        }
        if (input[pos - 1] !== undefined && input[pos] === "-" && input.startsWith("}}", pos + 1)) {
          pos--;
          if (n === 1) continue;
        }
        emit("space");
        continue;
      }
      pos += ch.length;
      switch (ch) {
        case "=":
          emit("assign");
          continue;
        case ":":
          if (input[pos] !== "=") return fail("expected :=");
          pos++;
          emit("declare");
          continue;
        case "|":
          emit("pipe");
          continue;
        case '"': {
          for (;;) {
            const c = input[pos++];
            if (c === "\\") {
              const d = input[pos++];
              if (d !== undefined && d !== "\n") continue;
              return fail("unterminated quoted string");
            }
            if (c === undefined || c === "\n") return fail("unterminated quoted string");
            if (c === '"') break;
          }
          emit("string");
          continue;
        }
        case "`": {
          const close = input.indexOf("`", pos);
          if (close < 0) return fail("unterminated raw quoted string");
          pos = close + 1;
          emit("rawString");
          continue;
        }
        case "'": {
          for (;;) {
            const c = input[pos++];
            if (c === "\\") {
              const d = input[pos++];
              if (d !== undefined && d !== "\n") continue;
              return fail("unterminated character constant");
            }
            if (c === undefined || c === "\n") return fail("unterminated character constant");
            if (c === "'") break;
          }
          emit("charConstant");
          continue;
        }
        case "$":
        case ".": {
          if (ch === "." && input[pos] !== undefined && input[pos]! >= "0" && input[pos]! <= "9") {
            pos--;
            if (!scanNumber()) return fail(`bad number syntax: ${quoteString(input.slice(start, pos))}`);
            emit("number");
            continue;
          }
          if (atTerminator()) {
            emit(ch === "$" ? "variable" : "dot");
            continue;
          }
          while (isAlphaNumeric(charAt(pos))) pos += charAt(pos)!.length;
          if (!atTerminator()) return fail(`bad character ${runeU(charAt(pos)!)}`);
          emit(ch === "$" ? "variable" : "field");
          continue;
        }
        case "(":
          emit("leftParen");
          parenDepth++;
          continue;
        case ")":
          emit("rightParen");
          parenDepth--;
          if (parenDepth < 0) return fail(`unexpected right paren ${runeU(ch)}`);
          continue;
      }
      if (ch === "+" || ch === "-" || (ch >= "0" && ch <= "9")) {
        pos -= ch.length;
        if (!scanNumber()) return fail(`bad number syntax: ${quoteString(input.slice(start, pos))}`);
        if (input[pos] === "+" || input[pos] === "-") {
          if (!scanNumber() || input[pos - 1] !== "i") {
            return fail(`bad number syntax: ${quoteString(input.slice(start, pos))}`);
          }
          emit("complex");
        } else emit("number");
        continue;
      }
      if (isAlphaNumeric(ch)) {
        while (isAlphaNumeric(charAt(pos))) pos += charAt(pos)!.length;
        const word = input.slice(start, pos);
        if (!atTerminator()) return fail(`bad character ${runeU(charAt(pos)!)}`);
        const kw = KEYWORD_BY_WORD.get(word);
        if (kw) emit(kw);
        else if (word === "true" || word === "false") emit("bool");
        else emit("identifier");
        continue;
      }
      const code = ch.codePointAt(0)!;
      if (code < 0x7f && code >= 0x20) {
        emit("char");
        continue;
      }
      return fail(`unrecognized character in action: ${runeU(ch)}`);
    }
  }

  function scanNumber(): boolean {
    const accept = (valid: string) => {
      if (input[pos] !== undefined && valid.includes(input[pos]!)) {
        pos++;
        return true;
      }
      return false;
    };
    const acceptRun = (valid: string) => {
      while (input[pos] !== undefined && valid.includes(input[pos]!)) pos++;
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
    if (isAlphaNumeric(charAt(pos))) {
      pos += charAt(pos)!.length;
      return false;
    }
    return true;
  }
}
