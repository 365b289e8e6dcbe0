/**
 * The shape of a build before anything runs: the stages a Dockerfile declares (FROM … AS name),
 * the meta args (ARG before the first FROM) that FROM lines may use, the target stage and the
 * stages it needs (its base stages and every stage a COPY --from or RUN --mount from= names);
 * the others are skipped, as BuildKit skips them. Pure.
 *
 * Errors name the file and line: `Dockerfile:7: unknown flag: --frm`.
 */
import { errorMessage, invalidArgument } from "../../base/errors.js";
import { MAX_DOCUMENT_BYTES } from "../../oci/limits.js";
import type { Dockerfile, Instruction } from "../dockerfile/ast.js";
import { expandWord, expandWords, splitWhitespace } from "../dockerfile/expand.js";
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

/** The flags each instruction accepts (anything else is an error at that line). */
const ALLOWED_FLAGS: Readonly<Record<string, readonly string[]>> = {
  FROM: ["platform"],
  RUN: ["mount", "network", "security"],
  COPY: ["from", "chown", "chmod", "link", "parents", "exclude"],
  ADD: ["chown", "chmod", "link", "keep-git-dir", "checksum", "exclude"],
  HEALTHCHECK: ["interval", "timeout", "start-period", "start-interval", "retries"],
};

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
  readonly from: Instruction;
  /** The instructions after FROM, in order. */
  readonly instructions: readonly Instruction[];
  /** Stages this one reads from (COPY --from, RUN --mount from=), by index. */
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

export function flagValue(instr: Instruction, name: string): string | undefined {
  let v: string | undefined;
  for (const f of instr.flags) if (f.name === name) v = f.value ?? "";
  return v;
}

export function flagValues(instr: Instruction, name: string): string[] {
  return instr.flags.filter((f) => f.name === name).map((f) => f.value ?? "");
}

/**
 * Checks an instruction's flags against what it accepts, before anything is built. The parser
 * accepts every flag BuildKit's parser knows; the ones berth cannot honour are refused here
 * rather than ignored: `RUN --security=insecure` (berth runs every step sandboxed, which is
 * `--security=sandbox`) and `COPY --parents` (copying with the sources' parent directories).
 */
export function checkFlags(file: string, instr: Instruction): void {
  const allowed = ALLOWED_FLAGS[instr.keyword] ?? [];
  for (const f of instr.flags) {
    if (!allowed.includes(f.name)) throw lineError(file, instr, `unknown flag: --${f.name}`);
    if (instr.keyword === "RUN" && f.name === "security" && f.value !== "sandbox") {
      throw lineError(
        file,
        instr,
        `RUN --security=${f.value ?? ""} is not supported: berth runs build steps sandboxed (--security=sandbox)`,
      );
    }
    if (instr.keyword === "COPY" && f.name === "parents" && (f.value ?? "").toLowerCase() !== "false") {
      throw lineError(file, instr, "COPY --parents is not supported");
    }
  }
}

export function planBuild(df: Dockerfile, opts: PlanOptions): BuildPlan {
  const file = df.file;
  const exp = { escape: df.escape };
  const metaArgs = new Map<string, string>();
  const metaDeclared = new Set<string>();
  const raw: Array<{ from: Instruction; instructions: Instruction[] }> = [];
  for (const instr of df.instructions) {
    checkFlags(file, instr);
    if (instr.keyword === "FROM") {
      raw.push({ from: instr, instructions: [] });
      continue;
    }
    const current = raw[raw.length - 1];
    if (current) {
      current.instructions.push(instr);
      continue;
    }
    if (instr.keyword !== "ARG") {
      throw lineError(file, instr, "no build stage in current context");
    }
    let words: string[];
    try {
      words = expandWords(instr.args, metaArgs, exp);
    } catch (err) {
      throw lineError(file, instr, errorMessage(err));
    }
    for (const word of words) {
      const eq = word.indexOf("=");
      const key = eq < 0 ? word : word.slice(0, eq);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw lineError(file, instr, `invalid ARG name: ${key}`);
      metaDeclared.add(key);
      const given = opts.buildArgs.get(key);
      if (given !== undefined) metaArgs.set(key, given);
      else if (eq >= 0) metaArgs.set(key, word.slice(eq + 1));
    }
    try {
      checkVariablesSize(metaArgs);
    } catch (err) {
      throw lineError(file, instr, errorMessage(err));
    }
  }
  if (raw.length === 0) throw invalidArgument(`${file}: the Dockerfile has no FROM instruction`);

  const names = new Map<string, number>();
  const stages: Stage[] = [];
  raw.forEach((r, index) => {
    const words = splitWhitespace(r.from.args).map((w) => expandWord(w, metaArgs, exp));
    let name: string | undefined;
    if (words.length === 3 && words[1]?.toLowerCase() === "as") {
      name = (words[2] as string).toLowerCase();
      if (!/^[a-z][a-z0-9-_.]*$/.test(name))
        throw lineError(
          file,
          r.from,
          `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`,
        );
      if (names.has(name)) throw lineError(file, r.from, `duplicate stage name "${name}"`);
    } else if (words.length !== 1) {
      throw lineError(file, r.from, "FROM requires either one or three arguments");
    }
    const base = words[0] as string;
    if (base === "") throw lineError(file, r.from, `base name (${r.from.args}) should not be blank`);
    const baseStage = names.get(base.toLowerCase());
    const platformFlag = flagValue(r.from, "platform");
    const uses: number[] = [];
    const usesImages: string[] = [];
    for (const instr of r.instructions) {
      if (instr.keyword === "FROM") continue;
      const froms: string[] = [];
      if (instr.keyword === "COPY") {
        const f = flagValue(instr, "from");
        if (f !== undefined) froms.push(expandWord(f, metaArgs, exp));
      }
      if (instr.keyword === "RUN") {
        for (const m of flagValues(instr, "mount")) {
          const from = /(?:^|,)from=([^,]+)/.exec(m)?.[1];
          if (from) froms.push(from);
        }
      }
      for (const f of froms) {
        if (f === "") throw lineError(file, instr, "--from requires a value");
        const byName = names.get(f.toLowerCase());
        const byIndex = /^\d+$/.test(f) ? Number(f) : undefined;
        if (byName !== undefined) uses.push(byName);
        else if (byIndex !== undefined) {
          if (byIndex >= index)
            throw lineError(
              file,
              instr,
              `invalid from flag value ${f}: refers to current or future build stage`,
            );
          uses.push(byIndex);
        } else usesImages.push(f);
      }
    }
    stages.push({
      index,
      name,
      label: name ?? `stage-${index}`,
      base,
      baseStage,
      platform: platformFlag === undefined ? undefined : expandWord(platformFlag, metaArgs, exp),
      from: r.from,
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
export function stepTotal(stage: Stage, extra: readonly Instruction[] = []): number {
  let total = stage.base !== SCRATCH && stage.baseStage === undefined ? 1 : 0;
  for (const i of [...extra, ...stage.instructions]) {
    if (["ADD", "COPY", "RUN", "WORKDIR"].includes(i.keyword)) total++;
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
