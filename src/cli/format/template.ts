/**
 * Go's text/template, as the Docker CLI uses it for `--format`.
 *
 * Data model (see go-value.ts): plain objects and `Map`s are Go maps — a missing key prints
 * `<no value>` (parsed JSON documents, as `docker inspect` falls back to); class instances are
 * Go structs — an unknown field is an execution error. A list row is usually a plain object, so
 * the caller passes `strictFields: true` to make the data object itself behave as a struct
 * ("can't evaluate field Foo in type …"), while objects nested inside it stay maps.
 *
 * A property whose value is a function is a method: it is called with the command's arguments
 * (`{{.Label "com.example"}}`), with `this` bound to the object. Function values inside arrays or
 * `Map`s are plain values, usable with `call`.
 *
 * Known differences from Go, all forced by JavaScript having one number type: `1.0` is an int
 * (so `{{1e6}}` prints 1000000, not 1e+06), integral numbers accept float verbs (`%.2f`), and
 * ints compare with floats by value instead of failing as incompatible types.
 */
import { type BerthError, invalidArgument } from "../../base/errors.js";
import { formatPrinted, formatValue } from "./go-fmt.js";
import { goKind, goTypeName, isTrue, lookupMember, mapEntries } from "./go-value.js";
import {
  builtinFunctions,
  dockerFunctions,
  FuncError,
  mapZero,
  type ParamType,
  type TemplateFunction,
} from "./template-funcs.js";
import {
  type ArgNode,
  type ChainNode,
  type CommandNode,
  type ControlNode,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  type NumberNode,
  nodeString,
  type PipeNode,
  type TemplateNode,
  type VariableNode,
} from "./template-node.js";
import { parse, TemplateParseError } from "./template-parse.js";

export { markStruct } from "./go-value.js";
export { dockerFunctions, headerFunctions, type ParamType, type TemplateFunction } from "./template-funcs.js";

/** What a missing map key gives, as Go's `Option("missingkey=…")`. */
export type MissingKey = "default" | "invalid" | "zero" | "error";

/** A function given by the caller: a typed definition, or a plain function taking anything. */
export type TemplateFunctionLike = TemplateFunction | ((...args: unknown[]) => unknown);

/** Options that apply when a template runs (given at parse time, overridable per execution). */
export interface ExecuteOptions {
  /** Treat the data object itself as a Go struct: an unknown field is an execution error. */
  strictFields?: boolean;
  /** Type name printed for the data object in "can't evaluate field" errors. */
  typeName?: string;
  /** Behaviour for a missing map key; "default" prints `<no value>`. */
  missingKey?: MissingKey;
  /**
   * Behaviour for a missing key of the data object itself, overriding `missingKey` there.
   * `docker inspect` effectively uses "error" (`map has no entry for key "Foo"`).
   */
  rootMissingKey?: MissingKey;
  /** Functions replacing or adding to the built-in and Docker ones (as Go's `Funcs`). */
  funcs?: Readonly<Record<string, TemplateFunctionLike>>;
}

/** Options of {@link parseTemplate}. */
export interface TemplateOptions extends ExecuteOptions {
  /** Template name used in messages; Docker uses "" (`template: :1: …`). */
  name?: string;
}

/** A parsed template: immutable, executable any number of times. */
export interface Template {
  readonly name: string;
  readonly text: string;
  readonly options: Readonly<TemplateOptions>;
  /** @internal the parse trees, by template name. */
  readonly trees: ReadonlyMap<string, ListNode>;
}

/** Parses a template; throws invalidArgument("template parsing error: template: :1: …"). */
export function parseTemplate(text: string, opts: TemplateOptions = {}): Template {
  const name = opts.name ?? "";
  const funcs = opts.funcs ?? {};
  const has = (fn: string) =>
    Object.hasOwn(funcs, fn) || Object.hasOwn(dockerFunctions, fn) || Object.hasOwn(builtinFunctions, fn);
  try {
    const parsed = parse(text, name, has);
    return { name, text, options: { ...opts }, trees: parsed.trees };
  } catch (err) {
    if (err instanceof TemplateParseError)
      throw invalidArgument(`template parsing error: ${err.message}`, err);
    throw err;
  }
}

/** Runs a template on data; throws invalidArgument("template: :1:2: executing …") on failure. */
export function executeTemplate(t: Template, data: unknown, opts: ExecuteOptions = {}): string {
  const r = runTemplate(t, data, opts);
  if (r.error) throw r.error;
  return r.output;
}

/** Runs a template and returns what it wrote before any failure (Go writes as it goes). */
export function runTemplate(
  t: Template,
  data: unknown,
  opts: ExecuteOptions = {},
): { output: string; error?: BerthError } {
  const merged: ExecuteOptions = { ...t.options, ...opts, funcs: { ...t.options.funcs, ...opts.funcs } };
  const out: string[] = [];
  const state = new State(t, merged, out, data);
  try {
    const root = t.trees.get(t.name);
    if (!root) state.errorf(`${JSON.stringify(t.name)} is an incomplete or empty template`);
    state.walk(data, root!);
    return { output: out.join("") };
  } catch (err) {
    if (err instanceof ExecError) return { output: out.join(""), error: invalidArgument(err.message, err) };
    if (err instanceof RangeError) {
      return { output: out.join(""), error: invalidArgument(`template: ${t.name}: ${err.message}`, err) };
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Execution

class ExecError extends Error {
  override name = "ExecError";
}
class BreakSignal {}
class ContinueSignal {}

/** "no final argument" (distinct from a final argument whose value is missing). */
const NO_FINAL: unique symbol = Symbol("no final");
type Final = unknown | typeof NO_FINAL;

const MAX_DEPTH = 1000;

interface Variable {
  name: string;
  value: unknown;
}

function normalizeFunction(f: TemplateFunctionLike): TemplateFunction {
  return typeof f === "function" ? { params: [], variadic: "any", fn: f } : f;
}

function byteColumn(text: string, pos: number): { line: number; col: number } {
  const before = text.slice(0, pos);
  const nl = before.lastIndexOf("\n");
  const line = 1 + (before.match(/\n/g)?.length ?? 0);
  const col =
    nl < 0 ? new TextEncoder().encode(before).length : new TextEncoder().encode(before.slice(nl + 1)).length;
  return { line, col };
}

class State {
  private node: Node | ArgNode | CommandNode | undefined;
  private vars: Variable[];
  private depth = 0;
  private tmplName: string;

  constructor(
    private readonly t: Template,
    private readonly opts: ExecuteOptions,
    private readonly out: string[],
    private readonly root: unknown,
  ) {
    this.vars = [{ name: "$", value: root }];
    this.tmplName = t.name;
  }

  errorf(msg: string): never {
    if (!this.node) throw new ExecError(`template: ${this.tmplName}: ${msg}`);
    const { line, col } = byteColumn(this.t.text, this.node.pos);
    const context = nodeString(this.node);
    throw new ExecError(
      `template: ${this.t.name}:${line}:${col}: executing ${JSON.stringify(this.tmplName)} at <${context}>: ${msg}`,
    );
  }

  private at(n: Node | ArgNode | CommandNode): void {
    this.node = n;
  }

  private findFunction(name: string): TemplateFunction | undefined {
    const own = this.opts.funcs?.[name];
    if (own) return normalizeFunction(own);
    return dockerFunctions[name] ?? builtinFunctions[name];
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--)
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.errorf(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.type) {
      case "action": {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case "break":
        throw new BreakSignal();
      case "continue":
        throw new ContinueSignal();
      case "if":
      case "with":
        this.walkIfOrWith(dot, node);
        return;
      case "list":
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case "range":
        this.walkRange(dot, node);
        return;
      case "template":
        this.walkTemplate(dot, node);
        return;
      case "text":
        this.out.push(node.text);
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkIfOrWith(dot: unknown, node: ControlNode): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) this.walk(node.type === "with" ? val : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: unknown, r: ControlNode): void {
    this.at(r);
    const outer = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const decl = r.pipe.decl.length;
      const one = (key: unknown, elem: unknown): boolean => {
        if (decl > 0) this.vars[this.vars.length - 1]!.value = elem;
        if (decl > 1) this.vars[this.vars.length - 2]!.value = key;
        try {
          this.walk(elem, r.list);
        } catch (err) {
          if (err instanceof BreakSignal) return false;
          if (!(err instanceof ContinueSignal)) throw err;
        } finally {
          this.vars.length = mark;
        }
        return true;
      };
      let iterated = false;
      switch (goKind(val)) {
        case "slice":
        case "bytes": {
          const arr = val as ArrayLike<unknown>;
          for (let i = 0; i < arr.length; i++) {
            iterated = true;
            if (!one(i, arr[i])) break;
          }
          break;
        }
        case "map":
          for (const [k, v] of mapEntries(val as object)) {
            iterated = true;
            if (!one(k, v)) break;
          }
          break;
        case "int": {
          if (decl > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
          const n = Number(val);
          for (let i = 0; i < n; i++) {
            iterated = true;
            if (!one(i, i)) break;
          }
          break;
        }
        case "invalid":
        case "nil":
          break;
        default:
          this.errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (!iterated && r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = outer;
    }
  }

  private walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t);
    const tree = this.t.trees.get(t.name);
    if (!tree) this.errorf(`template ${JSON.stringify(t.name)} not defined`);
    if (this.depth >= MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    const saved = { vars: this.vars, name: this.tmplName };
    this.vars = [{ name: "$", value: newDot }];
    this.tmplName = t.name;
    this.depth++;
    try {
      this.walk(newDot, tree!);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.tmplName = saved.name;
    }
  }

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // A nil interface becomes an invalid value, as Go does ("lovely!").
      if (value === null) value = undefined;
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value);
      else this.vars.push({ name: v.ident[0]!, value });
    }
    return value;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== NO_FINAL) {
      this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
    }
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.type) {
      case "field":
        return this.evalFieldNode(dot, first, cmd.args, final);
      case "chain":
        return this.evalChainNode(dot, first, cmd.args, final);
      case "identifier":
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        return this.errorf("nil is not a command");
      case "number":
        return this.idealConstant(first);
      case "string":
        return first.text;
    }
  }

  private idealConstant(n: NumberNode): unknown {
    this.at(n);
    const isHexInt = /^[+-]?0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    if (n.isFloat && !isHexInt && !n.text.startsWith("'") && /[.eEpP]/.test(n.text)) return n.float;
    if (n.isInt) return Number.isSafeInteger(Number(n.int)) ? Number(n.int) : n.int;
    if (n.isUint) this.errorf(`${n.text} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: readonly ArgNode[], final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: readonly ArgNode[], final: Final): unknown {
    this.at(chain);
    if (chain.node.type === "nil") this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, "any", chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: readonly ArgNode[], final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: ArgNode,
    ident: readonly string[],
    args: readonly ArgNode[],
    final: Final,
  ): unknown {
    let r = receiver;
    for (let i = 0; i < ident.length - 1; i++)
      r = this.evalField(dot, ident[i]!, node, [], NO_FINAL, r, i > 0);
    return this.evalField(dot, ident[ident.length - 1]!, node, args, final, r, ident.length > 1);
  }

  private isStruct(v: unknown): boolean {
    return (this.opts.strictFields === true && v === this.root) || goKind(v) === "struct";
  }

  private typeNameOf(v: unknown): string {
    if (v === this.root && this.opts.typeName) return this.opts.typeName;
    if (v === this.root && this.opts.strictFields && goKind(v) === "map") return "struct";
    return goTypeName(v);
  }

  private evalField(
    dot: unknown,
    fieldName: string,
    node: ArgNode,
    args: readonly ArgNode[],
    final: Final,
    receiver: unknown,
    fromMap = false,
  ): unknown {
    if (receiver === undefined) {
      if (this.opts.missingKey === "error")
        this.errorf(`nil data; no entry for key ${JSON.stringify(fieldName)}`);
      return undefined;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    const kind = goKind(receiver);
    if (
      typeof receiver === "object" &&
      receiver !== null &&
      (kind === "map" || kind === "struct" || this.isStruct(receiver))
    ) {
      const member = lookupMember(receiver, fieldName);
      if (member.found && typeof member.value === "function" && !(receiver instanceof Map)) {
        const fn = member.value;
        const def: TemplateFunction = {
          params: [],
          variadic: "any",
          fn: (...a: unknown[]) => Reflect.apply(fn, receiver, a),
        };
        const given =
          args.length > 0 ? args.length - 1 + (final !== NO_FINAL ? 1 : 0) : final !== NO_FINAL ? 1 : 0;
        if (given < fn.length)
          this.errorf(`wrong number of args for ${fieldName}: want ${fn.length} got ${given}`);
        return this.evalCall(dot, def, node, fieldName, args, final);
      }
      if (this.isStruct(receiver)) {
        if (!member.found)
          this.errorf(`can't evaluate field ${fieldName} in type ${this.typeNameOf(receiver)}`);
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        return member.value;
      }
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      if (member.found && member.value !== undefined) return member.value;
      const missingKey =
        receiver === this.root ? (this.opts.rootMissingKey ?? this.opts.missingKey) : this.opts.missingKey;
      switch (missingKey) {
        case "zero":
          return mapZero(receiver);
        case "error":
          return this.errorf(`map has no entry for key ${JSON.stringify(fieldName)}`);
        default:
          return undefined;
      }
    }
    // A value reached through a field of a map is typed interface{} in Go.
    const typeName = fromMap ? "interface {}" : this.typeNameOf(receiver);
    return this.errorf(`can't evaluate field ${fieldName} in type ${typeName}`);
  }

  private evalFunction(
    dot: unknown,
    node: IdentifierNode,
    cmd: ArgNode | CommandNode,
    args: readonly ArgNode[],
    final: Final,
  ) {
    this.at(node);
    const fn = this.findFunction(node.ident);
    if (!fn) return this.errorf(`${JSON.stringify(node.ident)} is not a defined function`);
    return this.evalCall(dot, fn, cmd, node.ident, args, final);
  }

  private evalCall(
    dot: unknown,
    fn: TemplateFunction,
    node: ArgNode | CommandNode,
    name: string,
    allArgs: readonly ArgNode[],
    final: Final,
  ): unknown {
    const args = allArgs.slice(1);
    const numIn = args.length + (final !== NO_FINAL ? 1 : 0);
    const numFixed = fn.variadic ? fn.params.length : args.length;
    if (fn.variadic) {
      if (numIn < fn.params.length) {
        this.errorf(`wrong number of args for ${name}: want at least ${fn.params.length} got ${args.length}`);
      }
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }
    const isBuiltinLogic = (name === "and" || name === "or") && !this.opts.funcs?.[name];
    if (isBuiltinLogic) {
      let v: unknown;
      for (const a of args) {
        v = this.evalArg(dot, "value", a);
        if (isTrue(v) === (name === "or")) return v;
      }
      if (final !== NO_FINAL) v = this.validateType(final, "value");
      return v;
    }
    const argv: unknown[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, fn.params[i]!, args[i]!));
    if (fn.variadic) for (; i < args.length; i++) argv.push(this.evalArg(dot, fn.variadic, args[i]!));
    if (final !== NO_FINAL) {
      let t: ParamType;
      if (fn.variadic) t = numIn - 1 < numFixed ? fn.params[numIn - 1]! : fn.variadic;
      else t = fn.params[fn.params.length - 1]!;
      argv.push(this.validateType(final, t));
    }
    try {
      return fn.fn(...argv);
    } catch (err) {
      if (err instanceof ExecError || err instanceof BreakSignal || err instanceof ContinueSignal) throw err;
      this.at(node);
      const msg = err instanceof FuncError || err instanceof Error ? err.message : String(err);
      return this.errorf(`error calling ${name}: ${msg}`);
    }
  }

  private validateType(value: unknown, typ: ParamType): unknown {
    if (value === undefined || value === null) {
      if (typ === "any") return null;
      if (typ === "value") return value;
      return this.errorf(`invalid value; expected ${typ}`);
    }
    const kind = goKind(value);
    const ok =
      typ === "any" ||
      typ === "value" ||
      (typ === "string" && kind === "string") ||
      (typ === "int" && kind === "int") ||
      (typ === "bool" && kind === "bool");
    if (!ok) this.errorf(`wrong type for value; expected ${typ}; got ${goTypeName(value)}`);
    return value;
  }

  private evalArg(dot: unknown, typ: ParamType, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case "dot":
        return this.validateType(dot, typ);
      case "nil":
        if (typ === "any" || typ === "value") return null;
        return this.errorf(`cannot assign nil to ${typ}`);
      case "field":
        return this.validateType(this.evalFieldNode(dot, n, [n], NO_FINAL), typ);
      case "variable":
        return this.validateType(this.evalVariableNode(dot, n, [], NO_FINAL), typ);
      case "pipe":
        return this.validateType(this.evalPipeline(dot, n), typ);
      case "identifier":
        return this.validateType(this.evalFunction(dot, n, n, [], NO_FINAL), typ);
      case "chain":
        return this.validateType(this.evalChainNode(dot, n, [], NO_FINAL), typ);
    }
    switch (typ) {
      case "bool":
        if (n.type === "bool") return n.value;
        return this.errorf(`expected bool; found ${nodeString(n)}`);
      case "string":
        if (n.type === "string") return n.text;
        return this.errorf(`expected string; found ${nodeString(n)}`);
      case "int":
        if (n.type === "number" && n.isInt) return Number(n.int);
        return this.errorf(`expected integer; found ${nodeString(n)}`);
      default:
        switch (n.type) {
          case "bool":
            return n.value;
          case "number":
            return this.idealConstant(n);
          case "string":
            return n.text;
        }
    }
  }

  private printValue(n: Node, v: unknown): void {
    this.at(n);
    if (v === undefined) {
      this.out.push("<no value>");
      return;
    }
    if (typeof v === "function") this.errorf(`can't print ${nodeString(n)} of type ${goTypeName(v)}`);
    this.out.push(formatPrinted(v));
  }
}
