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
