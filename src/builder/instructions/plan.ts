/**
 * The shape of a build before anything runs: the stages a Dockerfile declares (FROM … AS name),
 * the meta args (ARG before the first FROM) that FROM lines may use, the target stage and the
 * stages it needs (its base stages and every stage a COPY --from names);
 * the others are skipped, as BuildKit skips them. Pure.
 *
 * Errors name the file and line: `Dockerfile:7: unknown flag: --frm`.
 */
import { errorMessage, invalidArgument, isBerthError } from "../../base/errors.js";
import { MAX_DOCUMENT_BYTES } from "../../oci/limits.js";
import type { Dockerfile, Instruction } from "../dockerfile/ast.js";
import { type Command, type FromCommand, parseCommand, type RunMount } from "../dockerfile/commands.js";
import { type ExpandOptions, expandWord } from "../dockerfile/expand.js";
import { DockerfileError } from "../dockerfile/parse.js";

/** The build args every build knows without an ARG line (Docker's predefined proxy args). */
export const PROXY_ARGS: readonly string[] = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
];

export const SCRATCH = "scratch";

export interface Stage {
  /** Position in the Dockerfile, 0-based. */
  readonly index: number;
  /** The `AS name`, lower-cased, if any. */
  readonly name: string | undefined;
  /** BuildKit's progress label: the name, or `stage-N` (none when the file has one stage). */
  readonly label: string;
  /** The FROM argument with meta args expanded (an image reference, a stage name or `scratch`). */
  readonly base: string;
  /** The stage this one is built on (`FROM builder`), if any. */
  readonly baseStage: number | undefined;
  readonly platform: string | undefined;
  readonly from: FromCommand;
  /** The instructions after FROM, typed, in order. */
  readonly instructions: readonly Command[];
  /** Stages this one reads from (COPY --from), by index. */
  readonly uses: readonly number[];
  /** Images (not stages) this one reads from with COPY --from. */
  readonly usesImages: readonly string[];
}

export interface BuildPlan {
  readonly dockerfile: Dockerfile;
  readonly stages: readonly Stage[];
  /** The meta args: ARGs before the first FROM, with --build-arg values applied. */
  readonly metaArgs: ReadonlyMap<string, string>;
  /** Meta args declared (with or without a value), for ARG lines in stages that inherit them. */
  readonly metaDeclared: ReadonlySet<string>;
  readonly target: number;
  /** The stages to build, dependencies before dependents. */
  readonly needed: readonly number[];
}

export interface PlanOptions {
  readonly target?: string | undefined;
  readonly buildArgs: ReadonlyMap<string, string>;
}

/** Bad input in one instruction: `Dockerfile:7: message`, the location as data. */
export function lineError(file: string, instr: Instruction, message: string): DockerfileError {
  return new DockerfileError(file, instr.startLine, message);
}

/** Runs `fn`; bad input it finds (InvalidArgument) gets the instruction's file and line. */
function located<T>(file: string, instr: Instruction, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isBerthError(err, "InvalidArgument") && !(err instanceof DockerfileError)) {
      throw lineError(file, instr, errorMessage(err));
    }
    throw err;
  }
}

/**
 * An instruction in its typed form (BuildKit's instructions.Parse), checked — the parse's own
 * checks and what berth supports — with the file and line on any error.
 */
export function toCommand(file: string, esc: ExpandOptions["escape"], instr: Instruction): Command {
  return located(file, instr, () => {
    const cmd = parseCommand(instr, esc);
    checkSupported(cmd);
    return cmd;
  });
}

/** The cache-mount fields berth implements (`id` names the cache; `sharing=shared` is its only mode). */
const CACHE_MOUNT_OPTIONS = new Set(["target", "dst", "destination", "id", "sharing"]);
/** Every other field BuildKit's `--mount` knows (for any type). */
const OTHER_MOUNT_OPTIONS = new Set([
  "readonly",
  "ro",
  "readwrite",
  "rw",
  "from",
  "source",
  "src",
  "mode",
  "uid",
  "gid",
  "required",
  "size",
  "env",
]);
const MOUNT_TYPES = new Set(["bind", "cache", "tmpfs", "secret", "ssh"]);

/**
 * Refuses what BuildKit accepts and berth cannot honour, before anything is built, so that no flag
 * is silently ignored: RUN `--security=insecure` (berth runs every step sandboxed, which is
 * `--security=sandbox`), `--device`, a `--network` other than default/none/host, any `--mount`
 * but `type=cache` (and of a cache mount, `from`, `source`, `mode`, `uid`, `gid`, `readonly` and a
 * `sharing` other than shared); COPY `--parents`; ADD `--keep-git-dir` and `--unpack`.
 */
function checkSupported(cmd: Command): void {
  switch (cmd.kind) {
    case "RUN":
      if (cmd.security !== undefined && cmd.security !== "sandbox") {
        throw invalidArgument(
          `RUN --security=${cmd.security} is not supported: berth runs build steps sandboxed (--security=sandbox)`,
        );
      }
      if (cmd.devices.length > 0) throw invalidArgument("RUN --device is not supported");
      if (cmd.network !== undefined && !["default", "none", "host"].includes(cmd.network)) {
        throw invalidArgument(`unsupported network mode: ${cmd.network}`);
      }
      for (const m of cmd.mounts) checkMount(m);
      return;
    case "COPY":
      if (cmd.parents) throw invalidArgument("COPY --parents is not supported");
      return;
    case "ADD":
      if (cmd.keepGitDir) {
        throw invalidArgument("ADD --keep-git-dir is not supported: berth does not fetch git repositories");
      }
      if (cmd.unpack !== undefined) throw invalidArgument("ADD --unpack is not supported");
      return;
    default:
      return;
  }
}

function checkMount(m: RunMount): void {
  if (!MOUNT_TYPES.has(m.type)) throw invalidArgument(`unsupported mount type "${m.type}"`);
  if (m.type !== "cache") throw invalidArgument(`--mount=type=${m.type} is not supported (only type=cache)`);
  for (const [key, value] of m.options) {
    if (CACHE_MOUNT_OPTIONS.has(key)) {
      if (key === "sharing" && value.toLowerCase() !== "shared") {
        throw invalidArgument(`--mount=type=cache,sharing=${value} is not supported (only sharing=shared)`);
      }
      continue;
    }
    if (OTHER_MOUNT_OPTIONS.has(key)) {
      throw invalidArgument(`--mount=type=cache option ${key} is not supported`);
    }
    throw invalidArgument(`unexpected key '${key}' in '${m.text}'`);
  }
  if (!m.options.some(([k]) => k === "target" || k === "dst" || k === "destination")) {
    throw invalidArgument("mount target must be specified");
  }
}

/**
 * The stages (`uses`, by index) and images (`usesImages`) a stage's `COPY --from` instructions
 * read; `names` holds the stages named before stage `index`.
 */
function copyFromSources(
  file: string,
  instructions: readonly Command[],
  ctx: {
    names: ReadonlyMap<string, number>;
    index: number;
    metaArgs: ReadonlyMap<string, string>;
    exp: ExpandOptions;
  },
): { uses: number[]; usesImages: string[] } {
  const { names, index, metaArgs, exp } = ctx;
  const uses: number[] = [];
  const usesImages: string[] = [];
  for (const cmd of instructions) {
    if (cmd.kind !== "COPY" || cmd.from === undefined) continue;
    const f = located(file, cmd.node, () => expandWord(cmd.from ?? "", metaArgs, exp));
    if (f === "") throw lineError(file, cmd.node, "--from requires a value");
    const byName = names.get(f.toLowerCase());
    const byIndex = /^\d+$/.test(f) ? Number(f) : undefined;
    if (byName !== undefined) uses.push(byName);
    else if (byIndex !== undefined) {
      if (byIndex >= index)
        throw lineError(
          file,
          cmd.node,
          `invalid from flag value ${f}: refers to current or future build stage`,
        );
      uses.push(byIndex);
    } else usesImages.push(f);
  }
  return { uses, usesImages };
}

export function planBuild(df: Dockerfile, opts: PlanOptions): BuildPlan {
  const file = df.file;
  const exp = { escape: df.escape };
  const metaArgs = new Map<string, string>();
  const metaDeclared = new Set<string>();
  const raw: Array<{ from: FromCommand; instructions: Command[] }> = [];
  for (const instr of df.instructions) {
    const cmd = toCommand(file, df.escape, instr);
    if (cmd.kind === "FROM") {
      raw.push({ from: cmd, instructions: [] });
      continue;
    }
    const current = raw[raw.length - 1];
    if (current) {
      current.instructions.push(cmd);
      continue;
    }
    if (cmd.kind !== "ARG") {
      throw lineError(file, instr, "no build stage in current context");
    }
    located(file, instr, () => {
      for (const [k, def] of cmd.pairs) {
        const key = expandWord(k, metaArgs, exp);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw invalidArgument(`invalid ARG name: ${key}`);
        metaDeclared.add(key);
        const given = opts.buildArgs.get(key);
        if (given !== undefined) metaArgs.set(key, given);
        else if (def !== undefined) metaArgs.set(key, expandWord(def, metaArgs, exp));
      }
      checkVariablesSize(metaArgs);
    });
  }
  if (raw.length === 0) throw invalidArgument(`${file}: the Dockerfile has no FROM instruction`);

  const names = new Map<string, number>();
  const stages: Stage[] = [];
  raw.forEach((r, index) => {
    const from = r.from;
    const expand = (w: string) => located(file, from.node, () => expandWord(w, metaArgs, exp));
    let name: string | undefined;
    if (from.stageName !== undefined) {
      const written = expand(from.stageName);
      name = written.toLowerCase();
      if (!/^[a-z][a-z0-9-_.]*$/.test(name))
        throw lineError(
          file,
          from.node,
          `invalid name for build stage: "${written}", name can't start with a number or contain symbols`,
        );
      if (names.has(name)) throw lineError(file, from.node, `duplicate stage name "${name}"`);
    }
    const base = expand(from.base);
    if (base === "") throw lineError(file, from.node, `base name (${from.node.args}) should not be blank`);
    const baseStage = names.get(base.toLowerCase());
    const { uses, usesImages } = copyFromSources(file, r.instructions, { names, index, metaArgs, exp });
    stages.push({
      index,
      name,
      label: name ?? `stage-${index}`,
      base,
      baseStage,
      platform: from.platform === undefined ? undefined : expand(from.platform),
      from,
      instructions: r.instructions,
      uses,
      usesImages,
    });
    if (name) names.set(name, index);
  });

  let target = stages.length - 1;
  if (opts.target) {
    const t = names.get(opts.target.toLowerCase());
    if (t === undefined) throw invalidArgument(`target stage "${opts.target}" could not be found`);
    target = t;
  }
  const needed = new Set<number>();
  const visit = (i: number): void => {
    if (needed.has(i)) return;
    const s = stages[i] as Stage;
    if (s.baseStage !== undefined) visit(s.baseStage);
    for (const u of s.uses) visit(u);
    needed.add(i);
  };
  visit(target);
  const single = stages.length === 1;
  return {
    dockerfile: df,
    stages: single ? stages.map((s) => ({ ...s, label: s.name ?? "" })) : stages,
    metaArgs,
    metaDeclared,
    target,
    needed: [...needed].sort((a, b) => a - b),
  };
}

/** How many progress steps a stage shows (BuildKit: FROM of an image, then ADD, COPY, RUN, WORKDIR). */
export function stepTotal(stage: Stage, extra: readonly Command[] = []): number {
  let total = stage.base !== SCRATCH && stage.baseStage === undefined ? 1 : 0;
  for (const c of [...extra, ...stage.instructions]) {
    if (c.kind === "ADD" || c.kind === "COPY" || c.kind === "RUN" || c.kind === "WORKDIR") total++;
  }
  return total;
}

/** BuildKit's step prefix: `[2/5] `, `[builder 2/5] ` (the number padded to the total's width). */
export function stepPrefix(label: string, index: number, total: number): string {
  if (total === 0) return "";
  const width = String(total).length;
  return `[${label ? `${label} ` : ""}${String(index).padStart(width, " ")}/${total}] `;
}

/**
 * Bounds what ARG, ENV and LABEL accumulate in one stage (or before the first FROM): together at
 * most the image-document bound (oci/limits.ts), which ENV and LABEL must fit in anyway. Without
 * it `ARG B=$A$A` chains double memory at every line.
 */
export function checkVariablesSize(
  vars: ReadonlyMap<string, string>,
  labels?: Readonly<Record<string, string>>,
): void {
  let total = 0;
  for (const [k, v] of vars) total += k.length + v.length + 1;
  for (const [k, v] of Object.entries(labels ?? {})) total += k.length + v.length + 1;
  if (total > MAX_DOCUMENT_BYTES) {
    throw invalidArgument(
      `ARG, ENV and LABEL values total ${total} characters, more than the limit of ${MAX_DOCUMENT_BYTES}`,
    );
  }
}
