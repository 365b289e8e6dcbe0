/**
 * Interpreting one typed instruction (`Command`) of a stage — the builder's, and `import/commit
 * --change`'s on an image config: the image-config change of metadata instructions,
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
import { exposedPortKeys } from "../../oci/ports.js";
import type { Heredoc, Instruction } from "../dockerfile/ast.js";
import type {
  AddCommand,
  ArgCommand,
  CmdCommand,
  Command,
  CommandLine,
  CopyCommand,
  EntrypointCommand,
  EnvCommand,
  ExposeCommand,
  HealthcheckCommand,
  LabelCommand,
  MaintainerCommand,
  OnbuildCommand,
  RunCommand,
  ShellCommand,
  StopsignalCommand,
  UserCommand,
  VolumeCommand,
  WorkdirCommand,
} from "../dockerfile/commands.js";
import { type ExpandOptions, expandHeredoc, expandWord, heredocWord } from "../dockerfile/expand.js";
import { DockerfileError } from "../dockerfile/parse.js";
import { goDuration, goList, goQuoteList } from "./go-format.js";
import { checkVariablesSize, lineError, PROXY_ARGS, toCommand } from "./plan.js";

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
  /** The cache each of `cacheMounts` uses: its `id=`, else its target (BuildKit's default). */
  readonly cacheIds: readonly string[];
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

function parseChmod(v: string): number {
  if (!/^[0-7]{1,4}$/.test(v)) {
    throw invalidArgument(
      `invalid chmod parameter: '${v}'. it should be octal string and between 0 and 07777`,
    );
  }
  return Number.parseInt(v, 8);
}

/**
 * Applies one instruction (not FROM) to `state` and returns the step to carry out. Takes the
 * typed instruction (`toCommand`), or a parsed one, which is typed and checked here first. Errors
 * name the file and line.
 */
export function dispatch(state: StageState, instr: Instruction | Command, ctx: DispatchContext): Dispatched {
  const cmd = "kind" in instr ? instr : toCommand(ctx.file, ctx.escape, instr);
  try {
    const d = dispatchCommand(state, cmd, ctx);
    if (cmd.kind === "ENV" || cmd.kind === "ARG" || cmd.kind === "LABEL") {
      checkVariablesSize(expansionEnv(state), state.config.Labels);
    }
    return d;
  } catch (err) {
    // Bad input found below (expansion, a value's syntax) gets the instruction's line; anything
    // that is not a BerthError is a bug and goes up as it is.
    if (isBerthError(err, "InvalidArgument") && !(err instanceof DockerfileError)) {
      throw lineError(ctx.file, cmd.node, err.message);
    }
    throw err;
  }
}

/** One dispatcher per instruction kind (FROM is the stage planner's). */
function dispatchCommand(state: StageState, cmd: Command, ctx: DispatchContext): Dispatched {
  switch (cmd.kind) {
    case "FROM":
      throw invalidArgument("FROM is handled by the stage planner");
    case "RUN":
      return dispatchRun(state, cmd, ctx);
    case "COPY":
    case "ADD":
      return dispatchCopy(state, cmd, ctx);
    case "WORKDIR":
      return dispatchWorkdir(state, cmd, ctx);
    case "CMD":
    case "ENTRYPOINT":
      return dispatchCmdEntrypoint(state, cmd);
    case "ENV":
      return dispatchEnv(state, cmd, ctx);
    case "LABEL":
      return dispatchLabel(state, cmd, ctx);
    case "ARG":
      return dispatchArg(state, cmd, ctx);
    case "EXPOSE":
      return dispatchExpose(state, cmd, ctx);
    case "VOLUME":
      return dispatchVolume(state, cmd, ctx);
    case "USER":
      return dispatchUser(state, cmd, ctx);
    case "STOPSIGNAL":
      return dispatchStopsignal(state, cmd, ctx);
    case "SHELL":
      return dispatchShell(state, cmd);
    case "MAINTAINER":
      return dispatchMaintainer(state, cmd);
    case "ONBUILD":
      return dispatchOnbuild(state, cmd);
    case "HEALTHCHECK":
      return dispatchHealthcheck(state, cmd);
  }
}

/** The progress text of COPY/ADD: the keyword, its flags as written, the arguments. */
function expandedDisplay(instr: Instruction): string {
  const flags = instr.flags.map((f) => (f.value === undefined ? `--${f.name}` : `--${f.name}=${f.value}`));
  return [instr.keyword, ...flags, instr.json ? goList(instr.json) : instr.args].join(" ");
}

/** A metadata step: a config change and an empty-layer history row. */
function configStep(cmd: Command, createdBy: string): Dispatched {
  return {
    action: { kind: "config" },
    history: { created_by: createdBy, empty_layer: true },
    display: `${cmd.node.keyword} ${cmd.node.args}`,
    cacheText: createdBy,
  };
}

/** The words of an instruction expanded with what the stage sees (ARGs in scope, ENV). */
function expander(state: StageState, ctx: DispatchContext): (word: string) => string {
  const env = expansionEnv(state);
  const opts = { escape: ctx.escape };
  return (word) => expandWord(word, env, opts);
}

/** The argv of a command line: the exec form as is, the shell form after the stage's SHELL. */
function argvOf(
  state: StageState,
  line: CommandLine,
  script = line.form === "shell" ? line.text : "",
): string[] {
  return line.form === "exec" ? [...line.argv] : [...shellOf(state), script];
}

function dispatchRun(state: StageState, cmd: RunCommand, ctx: DispatchContext): Dispatched {
  const line = cmd.command;
  if (line.form === "shell" && line.text.trim() === "")
    throw invalidArgument("RUN requires at least one argument");
  const argv = argvOf(state, line, line.form === "shell" ? runScript(line.text, cmd.heredocs) : "");
  const network = networkMode(cmd.network);
  const expand = expander(state, ctx);
  const cacheMounts: string[] = [];
  const cacheIds: string[] = [];
  for (const m of cmd.mounts) {
    const option = (...keys: string[]) => {
      let v: string | undefined;
      for (const [k, value] of m.options) if (keys.includes(k)) v = value;
      return v;
    };
    const target = option("target", "dst", "destination");
    if (!target) throw invalidArgument("mount target must be specified");
    const path = posix.resolve(state.config.WorkingDir || "/", expand(target));
    const id = option("id");
    cacheMounts.push(path);
    // BuildKit: a cache is named by its id, which defaults to the target.
    cacheIds.push(id === undefined || id === "" ? path : expand(id));
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
  const node = cmd.node;
  return {
    action: {
      kind: "run",
      argv,
      env: [...runEnv, ...withArgs],
      user: state.config.User ?? "",
      workdir: state.config.WorkingDir || "/",
      network,
      cacheMounts,
      cacheIds,
    },
    history: { created_by: createdBy, empty_layer: false },
    display: `RUN ${node.json ? goList(node.json) : node.args}`,
    cacheText: `${createdBy}\n${JSON.stringify({ env: [...runEnv, ...withArgs], user: state.config.User ?? "", network, heredocs: cmd.heredocs })}`,
  };
}

function networkMode(value: string | undefined): NetworkMode {
  if (value === undefined || value === "default") return "default";
  if (value === "none" || value === "host") return value;
  throw invalidArgument(`unsupported network mode: ${value}`);
}

function dispatchCopy(state: StageState, cmd: CopyCommand | AddCommand, ctx: DispatchContext): Dispatched {
  const expand = expander(state, ctx);
  const env = expansionEnv(state);
  const kw = cmd.kind;
  const add = kw === "ADD";
  const heredocNames = new Set(cmd.heredocs.map((h) => h.name));
  const destRaw = expand(cmd.dest);
  const sources: string[] = [];
  const inline: Array<{ name: string; content: string }> = [];
  for (const s of cmd.sources.map(expand)) {
    const marker = heredocWord(s);
    const h = marker ? cmd.heredocs.find((x) => x.name === marker.name) : undefined;
    if (h && heredocNames.has(h.name)) {
      inline.push({ name: h.name, content: h.expand ? expandHeredoc(h.content, env) : h.content });
    } else sources.push(s);
  }
  const wd = state.config.WorkingDir || "/";
  const trailing = destRaw.endsWith("/") || destRaw === "." || destRaw.endsWith("/.");
  let dest = posix.resolve(wd, destRaw);
  if (trailing && dest !== "/") dest = `${dest}/`;
  const chown = cmd.chown === undefined ? undefined : expand(cmd.chown);
  const chmodText = cmd.chmod === undefined ? undefined : expand(cmd.chmod);
  const chmod = chmodText === undefined ? undefined : parseChmod(chmodText);
  const from = cmd.kind === "COPY" && cmd.from !== undefined ? expand(cmd.from) : undefined;
  const excludes = cmd.excludes.map(expand);
  const checksum = cmd.kind === "ADD" && cmd.checksum !== undefined ? expand(cmd.checksum) : undefined;
  let createdBy: string = kw;
  if (chown) createdBy += ` --chown=${chown}`;
  if (chmodText !== undefined) createdBy += ` --chmod=${chmodText}`;
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
      link: cmd.link,
      excludes,
      ...(checksum !== undefined ? { checksum } : {}),
    },
    history: { created_by: createdBy, empty_layer: false },
    display: expandedDisplay(cmd.node),
    cacheText: `${createdBy}\n${JSON.stringify({ from, dest, user: state.config.User ?? "" })}`,
  };
}

function dispatchWorkdir(state: StageState, cmd: WorkdirCommand, ctx: DispatchContext): Dispatched {
  // WORKDIR, USER and STOPSIGNAL take the rest of the line as one expanded word (Docker).
  const w = expander(state, ctx)(cmd.value);
  if (w === "") throw invalidArgument("WORKDIR requires exactly one argument");
  const wd = posix.resolve(state.config.WorkingDir || "/", w);
  state.config.WorkingDir = wd;
  const createdBy = `WORKDIR ${wd}`;
  const display = `WORKDIR ${cmd.node.args}`;
  if (wd === "/") return { ...configStep(cmd, createdBy), display };
  return {
    action: { kind: "workdir", path: wd, user: state.config.User ?? "" },
    history: { created_by: createdBy, empty_layer: false },
    display,
    cacheText: `${createdBy}\n${state.config.User ?? ""}`,
  };
}

function dispatchCmdEntrypoint(state: StageState, cmd: CmdCommand | EntrypointCommand): Dispatched {
  const args = argvOf(state, cmd.command);
  if (cmd.kind === "CMD") {
    state.config.Cmd = args;
    state.cmdSet = true;
  } else {
    state.config.Entrypoint = args;
    if (!state.cmdSet) delete state.config.Cmd;
  }
  state.config.ArgsEscaped = true;
  return configStep(cmd, `${cmd.kind} ${goQuoteList(args)}`);
}

function dispatchEnv(state: StageState, cmd: EnvCommand, ctx: DispatchContext): Dispatched {
  const expand = expander(state, ctx);
  let text = "ENV";
  for (const [key, value] of cmd.pairs) {
    const k = expand(key);
    const v = expand(value);
    state.config.Env = setEnv(state.config.Env, k, v);
    text += ` ${k}=${v}`;
  }
  return configStep(cmd, text);
}

function dispatchLabel(state: StageState, cmd: LabelCommand, ctx: DispatchContext): Dispatched {
  const expand = expander(state, ctx);
  const labels = { ...(state.config.Labels ?? {}) };
  let text = "LABEL";
  for (const [key, value] of cmd.pairs) {
    const k = expand(key);
    const v = expand(value);
    labels[k] = v;
    text += ` ${k}=${v}`;
  }
  state.config.Labels = labels;
  return configStep(cmd, text);
}

function dispatchArg(state: StageState, cmd: ArgCommand, ctx: DispatchContext): Dispatched {
  const expand = expander(state, ctx);
  const parts: string[] = [];
  for (const [key, def] of cmd.pairs) {
    const k = expand(key);
    let value = ctx.buildArgs.get(k) ?? (def === undefined ? undefined : expand(def));
    if (value === undefined && ctx.metaArgs.has(k)) value = ctx.metaArgs.get(k);
    state.args.push([k, value]);
    parts.push(value === undefined ? k : `${k}=${value}`);
  }
  // A value changes the cache only where it is used (Docker: "a cache miss occurs upon its first
  // usage, not its definition"): RUN steps carry the ARGs in scope in their own cache text, other
  // instructions the words it expanded to. So the chain carries the ARG as written.
  return { ...configStep(cmd, `ARG ${parts.join(" ")}`), cacheText: `ARG ${cmd.node.args}` };
}

function dispatchExpose(state: StageState, cmd: ExposeCommand, ctx: DispatchContext): Dispatched {
  const ports = cmd.ports.map(expander(state, ctx)).filter((p) => p !== "");
  if (ports.length === 0) throw invalidArgument("EXPOSE requires at least one argument");
  const list: string[] = [];
  state.config.ExposedPorts = { ...(state.config.ExposedPorts ?? {}) };
  for (const p of ports) {
    for (const key of exposedPortKeys(p)) {
      state.config.ExposedPorts[key] = {};
      list.push(key);
    }
  }
  return configStep(cmd, `EXPOSE ${goList(list)}`);
}

function dispatchVolume(state: StageState, cmd: VolumeCommand, ctx: DispatchContext): Dispatched {
  const vols = cmd.paths.map(expander(state, ctx));
  state.config.Volumes = { ...(state.config.Volumes ?? {}) };
  for (const v of vols) {
    if (!v.trim()) throw invalidArgument("VOLUME specified can not be an empty string");
    state.config.Volumes[v] = {};
  }
  return configStep(cmd, `VOLUME ${goList(vols)}`);
}

function dispatchUser(state: StageState, cmd: UserCommand, ctx: DispatchContext): Dispatched {
  const w = expander(state, ctx)(cmd.value);
  if (w === "") throw invalidArgument("USER requires exactly one argument");
  state.config.User = w;
  return configStep(cmd, `USER ${w}`);
}

function dispatchStopsignal(state: StageState, cmd: StopsignalCommand, ctx: DispatchContext): Dispatched {
  const w = expander(state, ctx)(cmd.value);
  if (w === "") throw invalidArgument("STOPSIGNAL requires exactly one argument");
  checkSignal(w);
  state.config.StopSignal = w;
  return configStep(cmd, `STOPSIGNAL ${w}`);
}

function dispatchShell(state: StageState, cmd: ShellCommand): Dispatched {
  state.config.Shell = [...cmd.argv];
  return configStep(cmd, `SHELL ${goList(cmd.argv)}`);
}

function dispatchMaintainer(state: StageState, cmd: MaintainerCommand): Dispatched {
  const text = cmd.value.trim();
  state.author = text;
  return configStep(cmd, `MAINTAINER ${text}`);
}

function dispatchOnbuild(state: StageState, cmd: OnbuildCommand): Dispatched {
  state.config.OnBuild = [...(state.config.OnBuild ?? []), cmd.expression];
  return {
    action: { kind: "config" },
    history: undefined,
    display: `ONBUILD ${cmd.node.args}`,
    cacheText: `ONBUILD ${cmd.node.args}`,
  };
}

function dispatchHealthcheck(state: StageState, cmd: HealthcheckCommand): Dispatched {
  const c = cmd.check;
  let h: HealthConfig;
  if (c.type === "NONE") h = { Test: ["NONE"] };
  else {
    h = {
      Test: c.command.form === "exec" ? ["CMD", ...c.command.argv] : ["CMD-SHELL", c.command.text],
      ...(c.interval !== undefined ? { Interval: c.interval } : {}),
      ...(c.timeout !== undefined ? { Timeout: c.timeout } : {}),
      ...(c.startPeriod !== undefined ? { StartPeriod: c.startPeriod } : {}),
      ...(c.startInterval !== undefined ? { StartInterval: c.startInterval } : {}),
      ...(c.retries !== undefined ? { Retries: c.retries } : {}),
    };
  }
  state.config.Healthcheck = h;
  return configStep(cmd, `HEALTHCHECK ${healthText(h)}`);
}
