/**
 * Interpreting one instruction of a stage: the image-config change of metadata instructions,
 * the expanded, typed form of RUN/COPY/ADD/WORKDIR for the executor, and the history row
 * (`created_by` exactly as BuildKit writes it, `empty_layer` for metadata steps). Pure: the
 * executor holds a `StageState`, calls `dispatch` for each instruction in order and carries out
 * the step it returns.
 *
 * History style: BuildKit's (Docker 23+'s default builder): `RUN /bin/sh -c npm install #
 * buildkit`, `COPY package*.json ./ # buildkit`, `WORKDIR /app`, `CMD ["npm" "start"]`,
 * `EXPOSE [3000/tcp]`, `ENV A=b`, `|1 V=x ` before a RUN's command when build args are in scope,
 * comment `buildkit.dockerfile.v0`.
 *
 * Build args as Docker scopes them: an ARG line declares a name for the rest of its stage (its
 * value: --build-arg, else its default, else the meta arg of that name); ENV wins over ARG of the
 * same name; the predefined proxy args (HTTP_PROXY, …) reach RUN's environment without an ARG
 * line when given with --build-arg and never appear in history.
 */
import { posix } from "node:path";
import { invalidArgument, isBerthError } from "../../base/errors.js";
import type { ContainerConfig, HealthConfig } from "../../oci/image.js";
import type { Heredoc, Instruction } from "../dockerfile/ast.js";
import {
  type ExpandOptions,
  expandHeredoc,
  expandWord,
  parseKeyValues,
  splitWhitespace,
} from "../dockerfile/expand.js";
import { DockerfileError, heredocWord, onbuildExpression } from "../dockerfile/parse.js";
import { goDuration, goList, goQuoteList } from "./go-format.js";
import { checkFlags, checkVariablesSize, flagValue, flagValues, lineError, PROXY_ARGS } from "./plan.js";

export const HISTORY_COMMENT = "buildkit.dockerfile.v0";
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_SHELL = ["/bin/sh", "-c"];

/** A ContainerConfig being built (mutable copy). */
export interface DraftConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Cmd?: string[];
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Entrypoint?: string[];
  OnBuild?: string[];
  Labels?: Record<string, string>;
  StopSignal?: string;
  Shell?: string[];
}

export interface HistoryRow {
  readonly created_by: string;
  readonly empty_layer: boolean;
}

export interface StageState {
  config: DraftConfig;
  author: string | undefined;
  /** ARGs declared in this stage, in order, with their values (undefined: declared, no value). */
  args: Array<[string, string | undefined]>;
  /** Whether this stage set CMD (an ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

export interface DispatchContext {
  readonly file: string;
  readonly escape: ExpandOptions["escape"];
  /** --build-arg values. */
  readonly buildArgs: ReadonlyMap<string, string>;
  /** Meta args (ARG before FROM) with their values. */
  readonly metaArgs: ReadonlyMap<string, string>;
}

export type NetworkMode = "default" | "none" | "host";

export interface RunStep {
  readonly kind: "run";
  /** The process's argv (the SHELL plus the command, or the exec form). */
  readonly argv: readonly string[];
  /** The process's environment: ENV, then ARGs in scope, then proxy args. */
  readonly env: readonly string[];
  readonly user: string;
  readonly workdir: string;
  readonly network: NetworkMode;
  /** `--mount=type=cache,target=…` targets (kept for the step only; never in the layer). */
  readonly cacheMounts: readonly string[];
}

export interface CopySource {
  /** A path or glob in the context (or the --from stage/image), as written after expansion. */
  readonly path: string;
}

export interface CopyStep {
  readonly kind: "copy";
  readonly add: boolean;
  readonly sources: readonly string[];
  /** Inline files from heredocs (`COPY <<EOF /dest`): name and content. */
  readonly inline: ReadonlyArray<{ readonly name: string; readonly content: string }>;
  /** Absolute destination (WORKDIR applied); a trailing "/" kept: it means "into this directory". */
  readonly dest: string;
  readonly from: string | undefined;
  readonly chown: string | undefined;
  readonly chmod: number | undefined;
  readonly link: boolean;
  readonly excludes: readonly string[];
  /** ADD --checksum: the digest a downloaded URL must have. */
  readonly checksum?: string;
}

export interface WorkdirStep {
  readonly kind: "workdir";
  readonly path: string;
  readonly user: string;
}

export interface ConfigStep {
  readonly kind: "config";
}

export type StepAction = RunStep | CopyStep | WorkdirStep | ConfigStep;

export interface Dispatched {
  readonly action: StepAction;
  /** The history row this step adds (absent for ONBUILD, which BuildKit records nowhere). */
  readonly history: HistoryRow | undefined;
  /** What progress shows: the keyword upper-cased with build args expanded (`RUN npm install`). */
  readonly display: string;
  /** The step's identity for the cache: the instruction as it runs, with what it sees. */
  readonly cacheText: string;
}

/** The state a stage starts from: its base image's config, or scratch's. */
export function initialState(base: { config?: ContainerConfig; author?: string } | undefined): StageState {
  const config: DraftConfig = base
    ? (structuredClone(base.config ?? {}) as DraftConfig)
    : { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: "/" };
  // As BuildKit: a base image without PATH gets the default one in its config, so `ENV PATH=/x:$PATH`
  // and RUN see it (and the built image keeps it).
  if (base && !(config.Env ?? []).some((e) => e.startsWith("PATH="))) {
    config.Env = [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`];
  }
  // ONBUILD triggers run in this build; they do not carry over to the new image.
  delete config.OnBuild;
  return { config, author: base?.author, args: [], cmdSet: false };
}

export function envMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
    else if (e) m.set(e, "");
  }
  return m;
}

/** The variables instructions expand with: ARGs in scope, overridden by ENV. */
export function expansionEnv(state: StageState): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of state.args) if (v !== undefined) m.set(k, v);
  for (const [k, v] of envMap(state.config.Env)) m.set(k, v);
  return m;
}

function setEnv(env: string[] | undefined, key: string, value: string): string[] {
  const out = [...(env ?? [])];
  const i = out.findIndex((e) => (e.includes("=") ? e.slice(0, e.indexOf("=")) : e) === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

/** nat.ParsePortSpecs for EXPOSE: `80`, `53/udp`, `7000-7002/tcp`. */
function exposedPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/([A-Za-z]+))?$/.exec(spec);
  const proto = (m?.[3] ?? "tcp").toLowerCase();
  if (!m || !["tcp", "udp", "sctp"].includes(proto)) throw invalidArgument(`invalid containerPort: ${spec}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start)
    throw invalidArgument(`invalid range specified for port: ${spec}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

const GO_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

function goDurationNs(flag: string, v: string): number {
  if (!/^((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(v) && v !== "0") {
    throw invalidArgument(`time: invalid duration "${v}" for --${flag}`);
  }
  let total = 0;
  for (const part of v.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (GO_UNITS[part[2] as string] ?? 0);
  }
  return Math.round(total);
}

const SIGNAL_NAMES = new Set(
  "ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ".split(
    " ",
  ),
);

function checkSignal(s: string): void {
  if (/^\d+$/.test(s) && Number(s) > 0 && Number(s) <= 64) return;
  const name = s.toUpperCase().replace(/^SIG/, "");
  if (SIGNAL_NAMES.has(name) || /^RT(MIN|MAX)([+-]\d+)?$/.test(name)) return;
  throw invalidArgument(`Invalid signal: ${s}`);
}

/** `%+v` of BuildKit's HealthcheckConfig. */
function healthText(h: HealthConfig): string {
  return (
    `{Test:${goList(h.Test ?? [])} Interval:${goDuration(h.Interval ?? 0)} Timeout:${goDuration(h.Timeout ?? 0)}` +
    ` StartPeriod:${goDuration(h.StartPeriod ?? 0)} StartInterval:${goDuration(h.StartInterval ?? 0)} Retries:${h.Retries ?? 0}}`
  );
}

function runCommandString(args: readonly string[], state: StageState): string {
  const env = expansionEnv(state);
  const order: string[] = [];
  const values = new Map<string, string>();
  for (const [k, v] of state.args) {
    if (!values.has(k)) order.push(k);
    values.set(k, env.get(k) ?? v ?? "");
  }
  const prefix = order.length > 0 ? [`|${order.length}`, ...order.map((k) => `${k}=${values.get(k)}`)] : [];
  return [...prefix, ...args].join(" ");
}

/** The command a RUN runs for its heredocs (BuildKit: a lone `<<EOF` runs the body as the script). */
function runScript(args: string, heredocs: readonly Heredoc[]): string {
  if (heredocs.length === 0) return args;
  const lone = /^<<-?(["']?)([A-Za-z_][A-Za-z0-9_]*)\1$/.exec(args.trim());
  if (lone && heredocs.length === 1) return (heredocs[0] as Heredoc).content;
  return [args, ...heredocs.map((h) => `${h.content}${h.name}`)].join("\n");
}

function shellOf(state: StageState): string[] {
  return state.config.Shell && state.config.Shell.length > 0 ? [...state.config.Shell] : [...DEFAULT_SHELL];
}

function parseChmod(file: string, instr: Instruction, v: string): number {
  if (!/^[0-7]{1,4}$/.test(v)) {
    throw lineError(
      file,
      instr,
      `invalid chmod parameter: '${v}'. it should be octal string and between 0 and 07777`,
    );
  }
  return Number.parseInt(v, 8);
}

/**
 * Applies one instruction (not FROM) to `state` and returns the step to carry out. Errors name
 * the file and line.
 */
export function dispatch(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  checkFlags(ctx.file, instr);
  try {
    const d = dispatchInner(state, instr, ctx);
    if (instr.keyword === "ENV" || instr.keyword === "ARG" || instr.keyword === "LABEL") {
      checkVariablesSize(expansionEnv(state), state.config.Labels);
    }
    return d;
  } catch (err) {
    // Bad input found below (expansion, a value's syntax) gets the instruction's line; anything
    // that is not a BerthError is a bug and goes up as it is.
    if (isBerthError(err, "InvalidArgument") && !(err instanceof DockerfileError)) {
      throw lineError(ctx.file, instr, err.message);
    }
    throw err;
  }
}

type Dispatcher = (state: StageState, instr: Instruction, ctx: DispatchContext) => Dispatched;

/** One dispatcher per instruction (FROM is the stage planner's). */
const DISPATCHERS: Readonly<Record<string, Dispatcher>> = {
  RUN: dispatchRun,
  COPY: dispatchCopy,
  ADD: dispatchCopy,
  WORKDIR: dispatchWorkdir,
  CMD: dispatchCmdEntrypoint,
  ENTRYPOINT: dispatchCmdEntrypoint,
  ENV: dispatchEnv,
  LABEL: dispatchLabel,
  ARG: dispatchArg,
  EXPOSE: dispatchExpose,
  VOLUME: dispatchVolume,
  USER: dispatchUser,
  STOPSIGNAL: dispatchStopsignal,
  SHELL: dispatchShell,
  MAINTAINER: dispatchMaintainer,
  ONBUILD: dispatchOnbuild,
  HEALTHCHECK: dispatchHealthcheck,
};

function dispatchInner(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  if (instr.keyword === "FROM") throw invalidArgument("FROM is handled by the stage planner");
  const fn = DISPATCHERS[instr.keyword];
  if (!fn) throw invalidArgument(`unknown instruction: ${instr.keyword}`);
  return fn(state, instr, ctx);
}

/** The progress text of COPY/ADD: the keyword, its flags as written, the arguments. */
function expandedDisplay(instr: Instruction): string {
  const flags = instr.flags.map((f) => (f.value === undefined ? `--${f.name}` : `--${f.name}=${f.value}`));
  return [instr.keyword, ...flags, instr.json ? goList(instr.json) : instr.args].join(" ");
}

/** A metadata step: a config change and an empty-layer history row. */
function configStep(instr: Instruction, createdBy: string): Dispatched {
  return {
    action: { kind: "config" },
    history: { created_by: createdBy, empty_layer: true },
    display: `${instr.keyword} ${instr.args}`,
    cacheText: createdBy,
  };
}

function dispatchRun(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  if (!instr.json && instr.args.trim() === "") throw invalidArgument("RUN requires at least one argument");
  const argv = instr.json ? [...instr.json] : [...shellOf(state), runScript(instr.args, instr.heredocs)];
  const networkFlag = flagValue(instr, "network");
  const network = networkFlag === undefined ? "default" : networkFlag;
  if (network !== "default" && network !== "none" && network !== "host") {
    throw invalidArgument(`unsupported network mode: ${network}`);
  }
  const cacheMounts: string[] = [];
  for (const m of flagValues(instr, "mount")) {
    const fields = new Map(
      m.split(",").map((kv) => {
        const eq = kv.indexOf("=");
        return eq < 0 ? ([kv, "true"] as const) : ([kv.slice(0, eq), kv.slice(eq + 1)] as const);
      }),
    );
    const type = fields.get("type") ?? "bind";
    if (type !== "cache") throw invalidArgument(`--mount=type=${type} is not supported (only type=cache)`);
    const target = fields.get("target") ?? fields.get("dst") ?? fields.get("destination");
    if (!target) throw invalidArgument("mount target must be specified");
    cacheMounts.push(posix.resolve(state.config.WorkingDir || "/", target));
  }
  const runEnv = [...(state.config.Env ?? [])];
  const declared = new Set(envMap(runEnv).keys());
  const withArgs: string[] = [];
  for (const [k, v] of state.args) {
    if (v === undefined || declared.has(k)) continue;
    withArgs.push(`${k}=${v}`);
  }
  for (const p of PROXY_ARGS) {
    const v = ctx.buildArgs.get(p);
    if (v !== undefined && !declared.has(p) && !state.args.some(([k]) => k === p)) withArgs.push(`${p}=${v}`);
  }
  const createdBy = `RUN ${runCommandString(argv, state)} # buildkit`;
  return {
    action: {
      kind: "run",
      argv,
      env: [...runEnv, ...withArgs],
      user: state.config.User ?? "",
      workdir: state.config.WorkingDir || "/",
      network,
      cacheMounts,
    },
    history: { created_by: createdBy, empty_layer: false },
    display: `RUN ${instr.json ? goList(instr.json) : instr.args}`,
    cacheText: `${createdBy}\n${JSON.stringify({ env: [...runEnv, ...withArgs], user: state.config.User ?? "", network, heredocs: instr.heredocs })}`,
  };
}

function dispatchCopy(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const kw = instr.keyword;
  const pieces = (): string[] => splitWhitespace(instr.args).map((w) => expandWord(w, env, opts));
  const add = kw === "ADD";
  const heredocNames = new Set(instr.heredocs.map((h) => h.name));
  const all = instr.json ? instr.json.map((w) => expandWord(w, env, opts)) : pieces();
  if (all.length < 2)
    throw invalidArgument(
      `${kw} requires at least two arguments, but only one was provided. Destination could not be determined`,
    );
  const destRaw = all[all.length - 1] as string;
  const sources: string[] = [];
  const inline: Array<{ name: string; content: string }> = [];
  for (const s of all.slice(0, -1)) {
    const marker = heredocWord(s);
    const h = marker ? instr.heredocs.find((x) => x.name === marker.name) : undefined;
    if (h && heredocNames.has(h.name)) {
      inline.push({ name: h.name, content: h.expand ? expandHeredoc(h.content, env) : h.content });
    } else sources.push(s);
  }
  const wd = state.config.WorkingDir || "/";
  const trailing = destRaw.endsWith("/") || destRaw === "." || destRaw.endsWith("/.");
  let dest = posix.resolve(wd, destRaw);
  if (trailing && dest !== "/") dest = `${dest}/`;
  const chownRaw = flagValue(instr, "chown");
  const chmodRaw = flagValue(instr, "chmod");
  const fromRaw = add ? undefined : flagValue(instr, "from");
  const chown = chownRaw === undefined ? undefined : expandWord(chownRaw, env, opts);
  const chmod =
    chmodRaw === undefined ? undefined : parseChmod(ctx.file, instr, expandWord(chmodRaw, env, opts));
  const from = fromRaw === undefined ? undefined : expandWord(fromRaw, env, opts);
  const excludes = flagValues(instr, "exclude").map((e) => expandWord(e, env, opts));
  const checksumRaw = add ? flagValue(instr, "checksum") : undefined;
  const checksum = checksumRaw === undefined ? undefined : expandWord(checksumRaw, env, opts);
  if (add && flagValue(instr, "keep-git-dir") !== undefined) {
    throw new Error("ADD --keep-git-dir is not supported: berth does not fetch git repositories");
  }
  let createdBy = kw;
  if (chown) createdBy += ` --chown=${chown}`;
  if (chmodRaw !== undefined) createdBy += ` --chmod=${expandWord(chmodRaw, env, opts)}`;
  if (checksum !== undefined) createdBy += ` --checksum=${checksum}`;
  for (const s of sources) createdBy += ` ${s}`;
  for (const h of inline) createdBy += ` <<${h.name}`;
  createdBy += ` ${destRaw} # buildkit`;
  return {
    action: {
      kind: "copy",
      add,
      sources,
      inline,
      dest,
      from,
      chown,
      chmod,
      link: flagValue(instr, "link") !== undefined && flagValue(instr, "link") !== "false",
      excludes,
      ...(checksum !== undefined ? { checksum } : {}),
    },
    history: { created_by: createdBy, empty_layer: false },
    display: expandedDisplay(instr),
    cacheText: `${createdBy}\n${JSON.stringify({ from, dest, user: state.config.User ?? "" })}`,
  };
}

function dispatchWorkdir(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const one = (): string => expandWord(instr.args, env, opts);
  // WORKDIR, USER and STOPSIGNAL take the rest of the line as one expanded word (Docker).
  const w = one();
  if (w === "") throw invalidArgument("WORKDIR requires exactly one argument");
  const wd = posix.resolve(state.config.WorkingDir || "/", w);
  state.config.WorkingDir = wd;
  const createdBy = `WORKDIR ${wd}`;
  if (wd === "/") return { ...configStep(instr, createdBy), display: `WORKDIR ${instr.args}` };
  return {
    action: { kind: "workdir", path: wd, user: state.config.User ?? "" },
    history: { created_by: createdBy, empty_layer: false },
    display: `WORKDIR ${instr.args}`,
    cacheText: `${createdBy}\n${state.config.User ?? ""}`,
  };
}

function dispatchCmdEntrypoint(state: StageState, instr: Instruction, __ctx: DispatchContext): Dispatched {
  const kw = instr.keyword;
  const args = instr.json ? [...instr.json] : [...shellOf(state), instr.args];
  if (kw === "CMD") {
    state.config.Cmd = args;
    state.cmdSet = true;
  } else {
    state.config.Entrypoint = args;
    if (!state.cmdSet) delete state.config.Cmd;
  }
  state.config.ArgsEscaped = true;
  return configStep(instr, `${kw} ${goQuoteList(args)}`);
}

function dispatchEnv(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const pairs = parseKeyValues(instr.args, env, { ...opts, instruction: "ENV" });
  if (pairs.length === 0) throw invalidArgument("ENV requires at least one argument");
  let text = "ENV";
  for (const [k, v] of pairs) {
    if (v === undefined) throw invalidArgument(`ENV names can not be blank`);
    state.config.Env = setEnv(state.config.Env, k, v);
    text += ` ${k}=${v}`;
  }
  return configStep(instr, text);
}

function dispatchLabel(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const pairs = parseKeyValues(instr.args, env, { ...opts, instruction: "LABEL" });
  if (pairs.length === 0) throw invalidArgument("LABEL requires at least one argument");
  state.config.Labels = { ...(state.config.Labels ?? {}) };
  let text = "LABEL";
  for (const [k, v] of pairs) {
    state.config.Labels[k] = v ?? "";
    text += ` ${k}=${v ?? ""}`;
  }
  return configStep(instr, text);
}

function dispatchArg(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const pairs = parseKeyValues(instr.args, env, { ...opts, instruction: "ARG" });
  if (pairs.length === 0) throw invalidArgument("ARG requires at least one argument");
  const parts: string[] = [];
  for (const [k, def] of pairs) {
    let value = ctx.buildArgs.get(k) ?? def;
    if (value === undefined && ctx.metaArgs.has(k)) value = ctx.metaArgs.get(k);
    state.args.push([k, value]);
    parts.push(value === undefined ? k : `${k}=${value}`);
  }
  return configStep(instr, `ARG ${parts.join(" ")}`);
}

function dispatchExpose(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const pieces = (): string[] => splitWhitespace(instr.args).map((w) => expandWord(w, env, opts));
  const ports = pieces().filter((p) => p !== "");
  if (ports.length === 0) throw invalidArgument("EXPOSE requires at least one argument");
  const list: string[] = [];
  state.config.ExposedPorts = { ...(state.config.ExposedPorts ?? {}) };
  for (const p of ports) {
    for (const key of exposedPorts(p)) {
      state.config.ExposedPorts[key] = {};
      list.push(key);
    }
  }
  return configStep(instr, `EXPOSE ${goList(list)}`);
}

function dispatchVolume(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const pieces = (): string[] => splitWhitespace(instr.args).map((w) => expandWord(w, env, opts));
  const vols = instr.json ? instr.json.map((v) => expandWord(v, env, opts)) : pieces();
  if (vols.length === 0) throw invalidArgument("VOLUME requires at least one argument");
  state.config.Volumes = { ...(state.config.Volumes ?? {}) };
  for (const v of vols) {
    if (!v.trim()) throw invalidArgument("VOLUME specified can not be an empty string");
    state.config.Volumes[v] = {};
  }
  return configStep(instr, `VOLUME ${goList(vols)}`);
}

function dispatchUser(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const one = (): string => expandWord(instr.args, env, opts);
  const w = one();
  if (w === "") throw invalidArgument("USER requires exactly one argument");
  state.config.User = w;
  return configStep(instr, `USER ${w}`);
}

function dispatchStopsignal(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const one = (): string => expandWord(instr.args, env, opts);
  const w = one();
  if (w === "") throw invalidArgument("STOPSIGNAL requires exactly one argument");
  checkSignal(w);
  state.config.StopSignal = w;
  return configStep(instr, `STOPSIGNAL ${w}`);
}

function dispatchShell(state: StageState, instr: Instruction, __ctx: DispatchContext): Dispatched {
  if (!instr.json || instr.json.length === 0)
    throw invalidArgument("SHELL requires the arguments to be in JSON form");
  state.config.Shell = [...instr.json];
  return configStep(instr, `SHELL ${goList(instr.json)}`);
}

function dispatchMaintainer(state: StageState, instr: Instruction, _ctx: DispatchContext): Dispatched {
  const text = instr.args.trim();
  if (!text) throw invalidArgument("MAINTAINER requires exactly one argument");
  state.author = text;
  return configStep(instr, `MAINTAINER ${text}`);
}

function dispatchOnbuild(state: StageState, instr: Instruction, _ctx: DispatchContext): Dispatched {
  const trigger = instr.trigger?.keyword ?? (/^\S+/.exec(instr.args)?.[0] ?? "").toUpperCase();
  if (!trigger) throw invalidArgument("ONBUILD requires at least one argument");
  if (trigger === "ONBUILD") throw invalidArgument("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger === "FROM" || trigger === "MAINTAINER")
    throw invalidArgument(`${trigger} isn't allowed as an ONBUILD trigger`);
  state.config.OnBuild = [...(state.config.OnBuild ?? []), onbuildExpression(instr)];
  return {
    action: { kind: "config" },
    history: undefined,
    display: `ONBUILD ${instr.args}`,
    cacheText: `ONBUILD ${instr.args}`,
  };
}

function dispatchHealthcheck(state: StageState, instr: Instruction, ctx: DispatchContext): Dispatched {
  const opts = { escape: ctx.escape };
  const env = expansionEnv(state);
  const h = healthcheck(instr, env, opts);
  state.config.Healthcheck = h;
  return configStep(instr, `HEALTHCHECK ${healthText(h)}`);
}

function healthcheck(
  instr: Instruction,
  env: ReadonlyMap<string, string>,
  opts: ExpandOptions,
): HealthConfig {
  const rest = instr.args.trim();
  const [kind] = rest.split(/\s+/);
  const upper = (kind ?? "").toUpperCase();
  if (upper === "NONE") {
    if (rest.split(/\s+/).length > 1 || instr.flags.length > 0)
      throw invalidArgument("HEALTHCHECK NONE takes no arguments");
    return { Test: ["NONE"] };
  }
  if (upper !== "CMD") throw invalidArgument(`Unknown type "${kind ?? ""}" in HEALTHCHECK (try CMD)`);
  const cmd = rest.slice((kind as string).length).trim();
  if (!cmd) throw invalidArgument("Missing command after HEALTHCHECK CMD");
  let exec: string[] | undefined;
  if (cmd.startsWith("[")) {
    try {
      const v: unknown = JSON.parse(cmd);
      if (Array.isArray(v) && v.every((x): x is string => typeof x === "string")) exec = v;
    } catch {
      exec = undefined;
    }
  }
  const out: {
    Test: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  } = { Test: exec ? ["CMD", ...exec] : ["CMD-SHELL", cmd] };
  for (const f of instr.flags) {
    const v = expandWord(f.value ?? "", env, opts);
    if (f.name === "retries") {
      if (!/^-?\d+$/.test(v)) throw invalidArgument(`invalid value "${v}" for --retries`);
      if (Number(v) < 0) throw invalidArgument(`--retries cannot be negative (${v})`);
      out.Retries = Number(v);
      continue;
    }
    const ns = goDurationNs(f.name, v);
    if (ns !== 0 && ns < 1_000_000) throw invalidArgument(`Interval "${f.name}" cannot be less than 1ms`);
    if (f.name === "interval") out.Interval = ns;
    else if (f.name === "timeout") out.Timeout = ns;
    else if (f.name === "start-period") out.StartPeriod = ns;
    else out.StartInterval = ns;
  }
  return out;
}
