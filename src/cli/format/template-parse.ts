/**
 * Lexer and parser of Go's text/template language, producing the parse tree the executor in
 * template.ts walks. Errors carry Go's wording: `template: NAME:LINE: message`.
 */
import { quoteString } from "./go-fmt.js";

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenType =
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

interface Token {
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

function tokenString(t: Token): string {
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
function lex(input: string, lineOf: (pos: number) => number): Token[] {
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

// ---------------------------------------------------------------------------------------------
// Nodes

/** A node of the parse tree; `pos` is the offset in the template text. */
export type Node =
  | TextNode
  | ActionNode
  | ControlNode
  | TemplateNode
  | ListNode
  | { type: "break"; pos: number }
  | { type: "continue"; pos: number }
  | { type: "end"; pos: number }
  | { type: "else"; pos: number; isIf: boolean; isWith: boolean };

export interface TextNode {
  type: "text";
  pos: number;
  text: string;
}
export interface ActionNode {
  type: "action";
  pos: number;
  pipe: PipeNode;
}
/** `if`, `with` and `range`. */
export interface ControlNode {
  type: "if" | "with" | "range";
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | undefined;
}
export interface TemplateNode {
  type: "template";
  pos: number;
  name: string;
  pipe: PipeNode | undefined;
}
export interface ListNode {
  type: "list";
  pos: number;
  nodes: Node[];
}
export interface PipeNode {
  type: "pipe";
  pos: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode {
  type: "command";
  pos: number;
  args: ArgNode[];
}
export interface FieldNode {
  type: "field";
  pos: number;
  ident: string[];
}
export interface VariableNode {
  type: "variable";
  pos: number;
  ident: string[];
}
export interface ChainNode {
  type: "chain";
  pos: number;
  node: ArgNode;
  field: string[];
}
export interface IdentifierNode {
  type: "identifier";
  pos: number;
  ident: string;
}
export interface NumberNode {
  type: "number";
  pos: number;
  text: string;
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  int: bigint;
  float: number;
}
export interface StringNode {
  type: "string";
  pos: number;
  quoted: string;
  text: string;
}
/** Operands of a command. */
export type ArgNode =
  | FieldNode
  | VariableNode
  | ChainNode
  | IdentifierNode
  | NumberNode
  | StringNode
  | PipeNode
  | { type: "dot"; pos: number }
  | { type: "nil"; pos: number }
  | { type: "bool"; pos: number; value: boolean };

/** The text of a node, as Go's Node.String() prints it (used in error messages). */
export function nodeString(n: Node | ArgNode | CommandNode): string {
  switch (n.type) {
    case "text":
      return n.text;
    case "action":
      return `{{${nodeString(n.pipe)}}}`;
    case "if":
    case "with":
    case "range":
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${
        n.elseList ? `{{else}}${nodeString(n.elseList)}` : ""
      }{{end}}`;
    case "template":
      return n.pipe
        ? `{{template ${quoteString(n.name)} ${nodeString(n.pipe)}}}`
        : `{{template ${quoteString(n.name)}}}`;
    case "list":
      return n.nodes.map(nodeString).join("");
    case "break":
      return "{{break}}";
    case "continue":
      return "{{continue}}";
    case "end":
      return "{{end}}";
    case "else":
      return "{{else}}";
    case "pipe": {
      let s = "";
      if (n.decl.length > 0) s = `${n.decl.map(nodeString).join(", ")} ${n.isAssign ? "=" : ":="} `;
      return s + n.cmds.map(nodeString).join(" | ");
    }
    case "command":
      return n.args.map((a) => (a.type === "pipe" ? `(${nodeString(a)})` : nodeString(a))).join(" ");
    case "field":
      return n.ident.map((i) => `.${i}`).join("");
    case "variable":
      return n.ident.join(".");
    case "chain":
      return (
        (n.node.type === "pipe" ? `(${nodeString(n.node)})` : nodeString(n.node)) +
        n.field.map((f) => `.${f}`).join("")
      );
    case "identifier":
      return n.ident;
    case "number":
      return n.text;
    case "string":
      return n.quoted;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return n.value ? "true" : "false";
  }
}

// ---------------------------------------------------------------------------------------------
// Literals

function hexVal(c: string): number {
  const v = Number.parseInt(c, 16);
  return Number.isNaN(v) || !/^[0-9a-fA-F]$/.test(c) ? -1 : v;
}

/** strconv.Unquote of a "…" or `…` literal; undefined on invalid syntax. */
export function unquote(lit: string): string | undefined {
  if (lit.startsWith("`")) {
    if (lit.length < 2 || !lit.endsWith("`")) return undefined;
    return lit.slice(1, -1).replaceAll("\r", "");
  }
  if (lit.length < 2 || !lit.startsWith('"') || !lit.endsWith('"')) return undefined;
  return unescapeBody(lit.slice(1, -1), '"');
}

function unescapeBody(body: string, quote: string): string | undefined {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  const pushRune = (r: number) => {
    for (const b of enc.encode(String.fromCodePoint(r))) bytes.push(b);
  };
  for (let i = 0; i < body.length; ) {
    const ch = String.fromCodePoint(body.codePointAt(i)!);
    i += ch.length;
    if (ch === quote || ch === "\n") return undefined;
    if (ch !== "\\") {
      pushRune(ch.codePointAt(0)!);
      continue;
    }
    const e = body[i++];
    switch (e) {
      case "a":
        bytes.push(7);
        break;
      case "b":
        bytes.push(8);
        break;
      case "f":
        bytes.push(12);
        break;
      case "n":
        bytes.push(10);
        break;
      case "r":
        bytes.push(13);
        break;
      case "t":
        bytes.push(9);
        break;
      case "v":
        bytes.push(11);
        break;
      case "\\":
        bytes.push(0x5c);
        break;
      case "'":
      case '"':
        if (e !== quote) return undefined;
        bytes.push(e.charCodeAt(0));
        break;
      case "x": {
        const a = hexVal(body[i] ?? "");
        const b = hexVal(body[i + 1] ?? "");
        if (a < 0 || b < 0) return undefined;
        bytes.push(a * 16 + b);
        i += 2;
        break;
      }
      case "u":
      case "U": {
        const n = e === "u" ? 4 : 8;
        let r = 0;
        for (let k = 0; k < n; k++) {
          const v = hexVal(body[i + k] ?? "");
          if (v < 0) return undefined;
          r = r * 16 + v;
        }
        if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return undefined;
        pushRune(r);
        i += n;
        break;
      }
      default: {
        if (e !== undefined && e >= "0" && e <= "7") {
          const oct = body.slice(i - 1, i + 2);
          if (!/^[0-7]{3}$/.test(oct)) return undefined;
          const v = Number.parseInt(oct, 8);
          if (v > 255) return undefined;
          bytes.push(v);
          i += 2;
          break;
        }
        return undefined;
      }
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** strconv.ParseInt/ParseUint with base 0 (prefixes, underscores); undefined if invalid. */
function parseGoInt(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  let base = 10;
  let body = s;
  let prefixed = false;
  if (/^0[xX]/.test(s)) {
    base = 16;
    body = s.slice(2);
    prefixed = true;
  } else if (/^0[oO]/.test(s)) {
    base = 8;
    body = s.slice(2);
    prefixed = true;
  } else if (/^0[bB]/.test(s)) {
    base = 2;
    body = s.slice(2);
    prefixed = true;
  } else if (/^0./.test(s)) {
    base = 8;
    body = s.slice(1);
    prefixed = true;
  }
  if (body.includes("_")) {
    // Underscores only between digits, or after a base prefix.
    const check = prefixed ? `0${body}` : body;
    if (/__|_$|^_/.test(check)) return undefined;
    body = body.replaceAll("_", "");
  }
  if (body === "") return undefined;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[
    base as 2 | 8 | 10 | 16
  ];
  if (!valid.test(body)) return undefined;
  const v = BigInt(base === 10 ? body : `0${{ 2: "b", 8: "o", 16: "x" }[base as 2 | 8 | 16]}${body}`);
  return neg ? -v : v;
}

/** strconv.ParseFloat for the literals the lexer lets through; undefined if invalid. */
function parseGoFloat(text: string): number | undefined {
  const s = text.replaceAll("_", "");
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (m && (m[2] || m[3])) {
    const intPart = m[2] ? Number.parseInt(m[2], 16) : 0;
    const fracDigits = m[3] ?? "";
    const frac = fracDigits ? Number.parseInt(fracDigits, 16) / 16 ** fracDigits.length : 0;
    const v = (intPart + frac) * 2 ** Number(m[4]);
    return m[1] === "-" ? -v : v;
  }
  return undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

// ---------------------------------------------------------------------------------------------
// Parser

/** A parse failure; its message is Go's (`template: :1: …`). */
export class TemplateParseError extends Error {
  override name = "TemplateParseError";
}

/** The result of parsing: the main tree and the `define`d ones, by name. */
export interface ParsedTemplates {
  root: ListNode;
  trees: Map<string, ListNode>;
}

function isEmptyTree(n: Node): boolean {
  switch (n.type) {
    case "list":
      return n.nodes.every(isEmptyTree);
    case "text":
      return n.text.trim() === "";
    default:
      return false;
  }
}

/**
 * Parses template text. `hasFunction` says whether a function name is defined (Go checks
 * function names at parse time). `name` is the template name used in messages.
 */
export function parse(text: string, name: string, hasFunction: (fn: string) => boolean): ParsedTemplates {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (pos: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const tokens = lex(text, lineOf);
  let idx = 0;
  let furthest = 0;
  let errorLine = 0;
  let actionLine = 0;
  let rangeDepth = 0;
  let vars: string[] = ["$"];
  const trees = new Map<string, ListNode>();

  const errorf = (msg: string): never => {
    const line = errorLine || tokens[Math.min(furthest, tokens.length - 1)]!.line;
    throw new TemplateParseError(`template: ${name}:${line}: ${msg}`);
  };
  const next = (): Token => {
    const t = tokens[Math.min(idx, tokens.length - 1)]!;
    if (idx > furthest) furthest = idx;
    idx++;
    return t;
  };
  const backup = (n = 1) => {
    idx -= n;
  };
  const peek = (): Token => {
    if (idx > furthest) furthest = idx;
    return tokens[Math.min(idx, tokens.length - 1)]!;
  };
  const nextNonSpace = (): Token => {
    let t = next();
    while (t.type === "space") t = next();
    return t;
  };
  const peekNonSpace = (): Token => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const unexpected = (t: Token, context: string): never => {
    if (t.type === "error") {
      let extra = "";
      if (actionLine !== 0 && actionLine !== t.line) {
        extra = ` in action started at ${name}:${actionLine}`;
        if (t.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      errorLine = t.line;
      return errorf(t.val + extra);
    }
    return errorf(`unexpected ${tokenString(t)} in ${context}`);
  };
  const expect = (type: TokenType, context: string): Token => {
    const t = nextNonSpace();
    if (t.type !== type) unexpected(t, context);
    return t;
  };
  const addTree = (treeName: string, root: ListNode) => {
    const existing = trees.get(treeName);
    if (!existing || isEmptyTree(existing)) {
      trees.set(treeName, root);
      return;
    }
    if (!isEmptyTree(root)) errorf(`template: multiple definition of template ${quoteString(treeName)}`);
  };

  const newNumber = (t: Token): NumberNode => {
    const n: NumberNode = {
      type: "number",
      pos: t.pos,
      text: t.val,
      isInt: false,
      isUint: false,
      isFloat: false,
      int: 0n,
      float: 0,
    };
    if (t.type === "charConstant") {
      const body = unescapeBody(t.val.slice(1, -1), "'");
      const runes = body === undefined ? [] : [...body];
      if (body === undefined || runes.length !== 1) {
        if (body === undefined) errorf("invalid syntax");
        errorf(`malformed character constant: ${t.val}`);
      }
      const r = runes[0]!.codePointAt(0)!;
      return { ...n, isInt: true, isUint: true, isFloat: true, int: BigInt(r), float: r };
    }
    if (t.type === "complex" || t.val.endsWith("i")) {
      return errorf(`complex constants are not supported: ${quoteString(t.val)}`);
    }
    const i = parseGoInt(t.val);
    if (i !== undefined) {
      if (i >= 0n && i <= UINT64_MAX) {
        n.isUint = true;
        n.int = i;
      }
      if (i >= INT64_MIN && i <= INT64_MAX) {
        n.isInt = true;
        n.int = i;
      }
    }
    if (n.isInt || n.isUint) {
      n.isFloat = true;
      n.float = Number(n.int);
    } else {
      const f = parseGoFloat(t.val);
      if (f !== undefined && Number.isFinite(f)) {
        if (!/[.eEpP]/.test(t.val)) errorf(`integer overflow: ${quoteString(t.val)}`);
        n.isFloat = true;
        n.float = f;
        if (Number.isInteger(f)) {
          const b = BigInt(f);
          if (b >= INT64_MIN && b <= INT64_MAX) {
            n.isInt = true;
            n.int = b;
          } else if (b >= 0n && b <= UINT64_MAX) {
            n.isUint = true;
            n.int = b;
          }
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) errorf(`illegal number syntax: ${quoteString(t.val)}`);
    return n;
  };

  const useVar = (pos: number, v: string): VariableNode => {
    const ident = v.split(".");
    if (!vars.includes(ident[0]!)) errorf(`undefined variable ${quoteString(ident[0]!)}`);
    return { type: "variable", pos, ident };
  };

  const term = (): ArgNode | undefined => {
    const t = nextNonSpace();
    switch (t.type) {
      case "identifier":
        if (!hasFunction(t.val)) errorf(`function ${quoteString(t.val)} not defined`);
        return { type: "identifier", pos: t.pos, ident: t.val };
      case "dot":
        return { type: "dot", pos: t.pos };
      case "nil":
        return { type: "nil", pos: t.pos };
      case "variable":
        return useVar(t.pos, t.val);
      case "field":
        return { type: "field", pos: t.pos, ident: t.val.slice(1).split(".") };
      case "bool":
        return { type: "bool", pos: t.pos, value: t.val === "true" };
      case "charConstant":
      case "complex":
      case "number":
        return newNumber(t);
      case "leftParen":
        return pipeline("parenthesized pipeline", "rightParen");
      case "string":
      case "rawString": {
        const s = unquote(t.val);
        if (s === undefined) errorf("invalid syntax");
        return { type: "string", pos: t.pos, quoted: t.val, text: s! };
      }
    }
    backup();
    return undefined;
  };

  const operand = (): ArgNode | undefined => {
    const node = term();
    if (!node) return undefined;
    if (peek().type !== "field") return node;
    const chainPos = peek().pos;
    const fields: string[] = [];
    while (peek().type === "field") fields.push(next().val.slice(1));
    switch (node.type) {
      case "field":
        return { type: "field", pos: chainPos, ident: [...node.ident, ...fields] };
      case "variable":
        return { type: "variable", pos: chainPos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        return errorf(`unexpected . after term ${quoteString(nodeString(node))}`);
      default:
        return { type: "chain", pos: chainPos, node, field: fields };
    }
  };

  const command = (): CommandNode => {
    const cmd: CommandNode = { type: "command", pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const op = operand();
      if (op) cmd.args.push(op);
      const t = next();
      if (t.type === "space") continue;
      if (t.type === "rightDelim" || t.type === "rightParen") backup();
      else if (t.type !== "pipe") unexpected(t, "operand");
      break;
    }
    if (cmd.args.length === 0) errorf("empty command");
    return cmd;
  };

  function pipeline(context: string, end: TokenType): PipeNode {
    const first = peekNonSpace();
    const pipe: PipeNode = { type: "pipe", pos: first.pos, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = peekNonSpace();
      if (v.type !== "variable") break;
      const before = idx;
      next();
      const afterVariable = peek();
      const following = peekNonSpace();
      if (following.type === "assign" || following.type === "declare") {
        pipe.isAssign = following.type === "assign";
        nextNonSpace();
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.val] });
        vars.push(v.val);
      } else if (following.type === "char" && following.val === ",") {
        nextNonSpace();
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.val] });
        vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const p = peekNonSpace().type;
          if (p === "variable" || p === "rightDelim" || p === "rightParen") continue;
          errorf("range can only initialize variables");
        }
        errorf(`too many declarations in ${context}`);
      } else if (afterVariable.type === "space") {
        idx = before;
      } else {
        idx = before;
      }
      break;
    }
    for (;;) {
      const t = nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) errorf(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, i) => {
          const a = c.args[0]!;
          if (
            a.type === "bool" ||
            a.type === "dot" ||
            a.type === "nil" ||
            a.type === "number" ||
            a.type === "string"
          ) {
            errorf(`non executable command in pipeline stage ${i + 2}`);
          }
        });
        return pipe;
      }
      switch (t.type) {
        case "bool":
        case "charConstant":
        case "complex":
        case "dot":
        case "field":
        case "identifier":
        case "number":
        case "nil":
        case "rawString":
        case "string":
        case "variable":
        case "leftParen":
          backup();
          pipe.cmds.push(command());
          break;
        default:
          unexpected(t, context);
      }
    }
  }

  const itemList = (): { list: ListNode; next: Node } => {
    const list: ListNode = { type: "list", pos: peekNonSpace().pos, nodes: [] };
    while (peekNonSpace().type !== "eof") {
      const n = textOrAction();
      if (n.type === "end" || n.type === "else") return { list, next: n };
      list.nodes.push(n);
    }
    return errorf("unexpected EOF");
  };

  const parseControl = (
    context: "if" | "with" | "range",
  ): { pos: number; pipe: PipeNode; list: ListNode; elseList: ListNode | undefined } => {
    const mark = vars.length;
    try {
      const pipe = pipeline(context, "rightDelim");
      if (context === "range") rangeDepth++;
      const body = itemList();
      if (context === "range") rangeDepth--;
      let elseList: ListNode | undefined;
      if (body.next.type === "else") {
        const e = body.next;
        if ((context === "if" && e.isIf) || (context === "with" && e.isWith)) {
          next();
          elseList = { type: "list", pos: e.pos, nodes: [control(context)] };
        } else {
          const rest = itemList();
          if (rest.next.type !== "end") errorf(`expected end; found ${nodeString(rest.next)}`);
          elseList = rest.list;
        }
      }
      return { pos: pipe.pos, pipe, list: body.list, elseList };
    } finally {
      vars = vars.slice(0, mark);
    }
  };

  function control(context: "if" | "with" | "range"): ControlNode {
    return { type: context, ...parseControl(context) };
  }

  const parseTemplateName = (t: Token, context: string): string => {
    if (t.type !== "string" && t.type !== "rawString") unexpected(t, context);
    const s = unquote(t.val);
    if (s === undefined) errorf("invalid syntax");
    return s!;
  };

  const action = (): Node => {
    const t = nextNonSpace();
    switch (t.type) {
      case "block": {
        const context = "block clause";
        const nameTok = nextNonSpace();
        const blockName = parseTemplateName(nameTok, context);
        const pipe = pipeline(context, "rightDelim");
        const saved = vars;
        vars = ["$"];
        const body = itemList();
        vars = saved;
        if (body.next.type !== "end") errorf(`unexpected ${nodeString(body.next)} in ${context}`);
        addTree(blockName, body.list);
        return { type: "template", pos: nameTok.pos, name: blockName, pipe };
      }
      case "break":
      case "continue": {
        const close = nextNonSpace();
        if (close.type !== "rightDelim") unexpected(close, `{{${t.type}}}`);
        if (rangeDepth === 0) errorf(`{{${t.type}}} outside {{range}}`);
        return { type: t.type, pos: t.pos };
      }
      case "else": {
        const p = peekNonSpace();
        if (p.type === "if" || p.type === "with") {
          return { type: "else", pos: p.pos, isIf: p.type === "if", isWith: p.type === "with" };
        }
        const close = expect("rightDelim", "else");
        return { type: "else", pos: close.pos, isIf: false, isWith: false };
      }
      case "end":
        return { type: "end", pos: expect("rightDelim", "end").pos };
      case "if":
      case "range":
      case "with":
        return control(t.type);
      case "template": {
        const context = "template clause";
        const nameTok = nextNonSpace();
        const tmplName = parseTemplateName(nameTok, context);
        let pipe: PipeNode | undefined;
        if (nextNonSpace().type !== "rightDelim") {
          backup();
          pipe = pipeline(context, "rightDelim");
        }
        return { type: "template", pos: nameTok.pos, name: tmplName, pipe };
      }
    }
    backup();
    return { type: "action", pos: peek().pos, pipe: pipeline("command", "rightDelim") };
  };

  function textOrAction(): Node {
    const t = nextNonSpace();
    switch (t.type) {
      case "text":
        return { type: "text", pos: t.pos, text: t.val };
      case "leftDelim": {
        actionLine = t.line;
        try {
          return action();
        } finally {
          actionLine = 0;
        }
      }
      default:
        return unexpected(t, "input");
    }
  }

  const parseDefinition = () => {
    const context = "define clause";
    const nameTok = nextNonSpace();
    if (nameTok.type !== "string" && nameTok.type !== "rawString") unexpected(nameTok, context);
    const defName = unquote(nameTok.val);
    if (defName === undefined) errorf("invalid syntax");
    expect("rightDelim", context);
    const saved = vars;
    vars = ["$"];
    const body = itemList();
    vars = saved;
    if (body.next.type !== "end") errorf(`unexpected ${nodeString(body.next)} in ${context}`);
    addTree(defName!, body.list);
  };

  const root: ListNode = { type: "list", pos: peek().pos, nodes: [] };
  while (peek().type !== "eof") {
    if (peek().type === "leftDelim") {
      const at = idx;
      next();
      if (nextNonSpace().type === "define") {
        parseDefinition();
        continue;
      }
      idx = at;
    }
    const n = textOrAction();
    if (n.type === "end" || n.type === "else") errorf(`unexpected ${nodeString(n)}`);
    root.nodes.push(n);
  }
  addTree(name, root);
  return { root: trees.get(name) ?? root, trees };
}
