/**
 * The parse tree of Go's text/template language (as Go's text/template/parse/node.go): the node
 * types the parser builds and the executor (template.ts) walks, how each prints back as template
 * source (Go's Node.String(), used in error messages), and the literal values nodes hold —
 * strconv's unquoting and Go's integer and float syntax. Pure: data and its printing.
 */
import { quoteString } from "./go-fmt.js";

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

/** Go's one-letter escapes (\n, \t, …) and \\, by the byte each stands for. */
const SIMPLE_ESCAPES: ReadonlyMap<string, number> = new Map([
  ["a", 7],
  ["b", 8],
  ["f", 12],
  ["n", 10],
  ["r", 13],
  ["t", 9],
  ["v", 11],
  ["\\", 0x5c],
]);

export function unescapeBody(body: string, quote: string): string | undefined {
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
    const simple = e !== undefined ? SIMPLE_ESCAPES.get(e) : undefined;
    if (simple !== undefined) {
      bytes.push(simple);
      continue;
    }
    switch (e) {
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
export function parseGoInt(text: string): bigint | undefined {
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
export function parseGoFloat(text: string): number | undefined {
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

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;
