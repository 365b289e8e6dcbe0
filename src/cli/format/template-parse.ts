/**
 * The parser of Go's text/template language (as Go's text/template/parse/parse.go): the lexer's
 * tokens (template-lex.ts) to the parse tree (template-node.ts) — actions, pipelines, commands,
 * control structures, `define`/`block` trees, variable scopes, and function names checked at
 * parse time as Go checks them. Errors carry Go's wording: `template: NAME:LINE: message`. Pure.
 */
import { quoteString } from "./go-fmt.js";
import { lex, type Token, type TokenType, tokenString } from "./template-lex.js";
import {
  type ArgNode,
  type CommandNode,
  type ControlNode,
  INT64_MAX,
  INT64_MIN,
  type ListNode,
  type Node,
  type NumberNode,
  nodeString,
  type PipeNode,
  parseGoFloat,
  parseGoInt,
  UINT64_MAX,
  unescapeBody,
  unquote,
  type VariableNode,
} from "./template-node.js";

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
 * The parser's state over one template text: the tokens and where it is in them, the line an
 * error is reported at, the action being parsed, how deep in `range` it is, the variables in
 * scope, and the trees defined so far. One method per construct, as Go's parse.go.
 */
class Parser {
  private readonly tokens: Token[];
  private idx = 0;
  private furthest = 0;
  private errorLine = 0;
  private actionLine = 0;
  private rangeDepth = 0;
  private vars: string[] = ["$"];
  private readonly trees = new Map<string, ListNode>();

  constructor(
    text: string,
    private readonly name: string,
    private readonly hasFunction: (fn: string) => boolean,
  ) {
    this.tokens = lex(text, lineCounter(text));
  }

  /** The whole text: `define`s become trees of their own, the rest the tree named `name`. */
  parseTemplates(): ParsedTemplates {
    const root: ListNode = { type: "list", pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== "eof") {
      if (this.peek().type === "leftDelim") {
        const at = this.idx;
        this.next();
        if (this.nextNonSpace().type === "define") {
          this.parseDefinition();
          continue;
        }
        this.idx = at;
      }
      const n = this.textOrAction();
      if (n.type === "end" || n.type === "else") this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    this.addTree(this.name, root);
    return { root: this.trees.get(this.name) ?? root, trees: this.trees };
  }

  private errorf(msg: string): never {
    const line = this.errorLine || this.tokens[Math.min(this.furthest, this.tokens.length - 1)]!.line;
    throw new TemplateParseError(`template: ${this.name}:${line}: ${msg}`);
  }

  private next(): Token {
    const t = this.tokens[Math.min(this.idx, this.tokens.length - 1)]!;
    if (this.idx > this.furthest) this.furthest = this.idx;
    this.idx++;
    return t;
  }

  private backup(n = 1) {
    this.idx -= n;
  }

  private peek(): Token {
    if (this.idx > this.furthest) this.furthest = this.idx;
    return this.tokens[Math.min(this.idx, this.tokens.length - 1)]!;
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === "space") t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private unexpected(t: Token, context: string): never {
    if (t.type === "error") {
      let extra = "";
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.name}:${this.actionLine}`;
        if (t.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      this.errorLine = t.line;
      return this.errorf(t.val + extra);
    }
    return this.errorf(`unexpected ${tokenString(t)} in ${context}`);
  }

  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  private addTree(treeName: string, root: ListNode) {
    const existing = this.trees.get(treeName);
    if (!existing || isEmptyTree(existing)) {
      this.trees.set(treeName, root);
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${quoteString(treeName)}`);
  }

  private newNumber(t: Token): NumberNode {
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
        if (body === undefined) this.errorf("invalid syntax");
        this.errorf(`malformed character constant: ${t.val}`);
      }
      const r = runes[0]!.codePointAt(0)!;
      return { ...n, isInt: true, isUint: true, isFloat: true, int: BigInt(r), float: r };
    }
    if (t.type === "complex" || t.val.endsWith("i")) {
      return this.errorf(`complex constants are not supported: ${quoteString(t.val)}`);
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
        if (!/[.eEpP]/.test(t.val)) this.errorf(`integer overflow: ${quoteString(t.val)}`);
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
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${quoteString(t.val)}`);
    return n;
  }

  private useVar(pos: number, v: string): VariableNode {
    const ident = v.split(".");
    if (!this.vars.includes(ident[0]!)) this.errorf(`undefined variable ${quoteString(ident[0]!)}`);
    return { type: "variable", pos, ident };
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.type) {
      case "identifier":
        if (!this.hasFunction(t.val)) this.errorf(`function ${quoteString(t.val)} not defined`);
        return { type: "identifier", pos: t.pos, ident: t.val };
      case "dot":
        return { type: "dot", pos: t.pos };
      case "nil":
        return { type: "nil", pos: t.pos };
      case "variable":
        return this.useVar(t.pos, t.val);
      case "field":
        return { type: "field", pos: t.pos, ident: t.val.slice(1).split(".") };
      case "bool":
        return { type: "bool", pos: t.pos, value: t.val === "true" };
      case "charConstant":
      case "complex":
      case "number":
        return this.newNumber(t);
      case "leftParen":
        return this.pipeline("parenthesized pipeline", "rightParen");
      case "string":
      case "rawString": {
        const s = unquote(t.val);
        if (s === undefined) this.errorf("invalid syntax");
        return { type: "string", pos: t.pos, quoted: t.val, text: s! };
      }
    }
    this.backup();
    return undefined;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().type !== "field") return node;
    const chainPos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === "field") fields.push(this.next().val.slice(1));
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
        return this.errorf(`unexpected . after term ${quoteString(nodeString(node))}`);
      default:
        return { type: "chain", pos: chainPos, node, field: fields };
    }
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: "command", pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const op = this.operand();
      if (op) cmd.args.push(op);
      const t = this.next();
      if (t.type === "space") continue;
      if (t.type === "rightDelim" || t.type === "rightParen") this.backup();
      else if (t.type !== "pipe") this.unexpected(t, "operand");
      break;
    }
    if (cmd.args.length === 0) this.errorf("empty command");
    return cmd;
  }

  private pipeline(context: string, end: TokenType): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { type: "pipe", pos: first.pos, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== "variable") break;
      const before = this.idx;
      this.next();
      const afterVariable = this.peek();
      const following = this.peekNonSpace();
      if (following.type === "assign" || following.type === "declare") {
        pipe.isAssign = following.type === "assign";
        this.nextNonSpace();
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
      } else if (following.type === "char" && following.val === ",") {
        this.nextNonSpace();
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const p = this.peekNonSpace().type;
          if (p === "variable" || p === "rightDelim" || p === "rightParen") continue;
          this.errorf("range can only initialize variables");
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (afterVariable.type === "space") {
        this.idx = before;
      } else {
        this.idx = before;
      }
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, i) => {
          const a = c.args[0]!;
          if (
            a.type === "bool" ||
            a.type === "dot" ||
            a.type === "nil" ||
            a.type === "number" ||
            a.type === "string"
          ) {
            this.errorf(`non executable command in pipeline stage ${i + 2}`);
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
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private itemList(): { list: ListNode; next: Node } {
    const list: ListNode = { type: "list", pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== "eof") {
      const n = this.textOrAction();
      if (n.type === "end" || n.type === "else") return { list, next: n };
      list.nodes.push(n);
    }
    return this.errorf("unexpected EOF");
  }

  private parseControl(context: "if" | "with" | "range"): {
    pos: number;
    pipe: PipeNode;
    list: ListNode;
    elseList: ListNode | undefined;
  } {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, "rightDelim");
      if (context === "range") this.rangeDepth++;
      const body = this.itemList();
      if (context === "range") this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (body.next.type === "else") {
        const e = body.next;
        if ((context === "if" && e.isIf) || (context === "with" && e.isWith)) {
          this.next();
          elseList = { type: "list", pos: e.pos, nodes: [this.control(context)] };
        } else {
          const rest = this.itemList();
          if (rest.next.type !== "end") this.errorf(`expected end; found ${nodeString(rest.next)}`);
          elseList = rest.list;
        }
      }
      return { pos: pipe.pos, pipe, list: body.list, elseList };
    } finally {
      this.vars = this.vars.slice(0, mark);
    }
  }

  private control(context: "if" | "with" | "range"): ControlNode {
    return { type: context, ...this.parseControl(context) };
  }

  private parseTemplateName(t: Token, context: string): string {
    if (t.type !== "string" && t.type !== "rawString") this.unexpected(t, context);
    const s = unquote(t.val);
    if (s === undefined) this.errorf("invalid syntax");
    return s!;
  }

  private action(): Node {
    const t = this.nextNonSpace();
    switch (t.type) {
      case "block": {
        const context = "block clause";
        const nameTok = this.nextNonSpace();
        const blockName = this.parseTemplateName(nameTok, context);
        const pipe = this.pipeline(context, "rightDelim");
        const saved = this.vars;
        this.vars = ["$"];
        const body = this.itemList();
        this.vars = saved;
        if (body.next.type !== "end") this.errorf(`unexpected ${nodeString(body.next)} in ${context}`);
        this.addTree(blockName, body.list);
        return { type: "template", pos: nameTok.pos, name: blockName, pipe };
      }
      case "break":
      case "continue": {
        const close = this.nextNonSpace();
        if (close.type !== "rightDelim") this.unexpected(close, `{{${t.type}}}`);
        if (this.rangeDepth === 0) this.errorf(`{{${t.type}}} outside {{range}}`);
        return { type: t.type, pos: t.pos };
      }
      case "else": {
        const p = this.peekNonSpace();
        if (p.type === "if" || p.type === "with") {
          return { type: "else", pos: p.pos, isIf: p.type === "if", isWith: p.type === "with" };
        }
        const close = this.expect("rightDelim", "else");
        return { type: "else", pos: close.pos, isIf: false, isWith: false };
      }
      case "end":
        return { type: "end", pos: this.expect("rightDelim", "end").pos };
      case "if":
      case "range":
      case "with":
        return this.control(t.type);
      case "template": {
        const context = "template clause";
        const nameTok = this.nextNonSpace();
        const tmplName = this.parseTemplateName(nameTok, context);
        let pipe: PipeNode | undefined;
        if (this.nextNonSpace().type !== "rightDelim") {
          this.backup();
          pipe = this.pipeline(context, "rightDelim");
        }
        return { type: "template", pos: nameTok.pos, name: tmplName, pipe };
      }
    }
    this.backup();
    return { type: "action", pos: this.peek().pos, pipe: this.pipeline("command", "rightDelim") };
  }

  private textOrAction(): Node {
    const t = this.nextNonSpace();
    switch (t.type) {
      case "text":
        return { type: "text", pos: t.pos, text: t.val };
      case "leftDelim": {
        this.actionLine = t.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      default:
        return this.unexpected(t, "input");
    }
  }

  private parseDefinition() {
    const context = "define clause";
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== "string" && nameTok.type !== "rawString") this.unexpected(nameTok, context);
    const defName = unquote(nameTok.val);
    if (defName === undefined) this.errorf("invalid syntax");
    this.expect("rightDelim", context);
    const saved = this.vars;
    this.vars = ["$"];
    const body = this.itemList();
    this.vars = saved;
    if (body.next.type !== "end") this.errorf(`unexpected ${nodeString(body.next)} in ${context}`);
    this.addTree(defName!, body.list);
  }
}

/** The 1-based line of an offset in `text`. */
function lineCounter(text: string): (pos: number) => number {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  return (pos: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/**
 * Parses template text. `hasFunction` says whether a function name is defined (Go checks
 * function names at parse time). `name` is the template name used in messages.
 */
export function parse(text: string, name: string, hasFunction: (fn: string) => boolean): ParsedTemplates {
  return new Parser(text, name, hasFunction).parseTemplates();
}
