/**
 * Seccomp profiles in Docker's format and their evaluation into the OCI `linux.seccomp` object,
 * with the rules of moby/profiles `seccomp_linux.go` `setupSeccomp`: the architectures are the
 * host's entry of `archMap` (native plus sub-architectures); a rule is dropped when an `excludes`
 * condition holds (the host arch is listed, a listed capability is in the container's bounding
 * set, the kernel is at least `minKernel`) or an `includes` condition fails (the arch is not
 * listed, a listed capability is missing, the kernel is older than `minKernel`).
 * Pure: it never reads the host (the caller passes its architecture and kernel).
 */
import { invalidArgument } from "../../base/errors.js";
import type { SeccompAction, SeccompArg, SeccompOperator, SpecSeccomp, SpecSyscall } from "./types.js";

/** A condition of a profile rule (`includes` / `excludes`). */
export interface SeccompFilter {
  /** libseccomp native arch names: amd64, x86, x32, arm, arm64, s390x, ppc64le, riscv64, … */
  arches?: string[];
  caps?: string[];
  /** "major.minor" */
  minKernel?: string;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

/** A profile as Docker reads it (`default.json`, or the JSON of `--security-opt seccomp=`). */
export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** Used as given when there is no archMap (older profile format). */
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures: string[] }>;
  flags?: string[];
  syscalls: SeccompRule[];
}

/** What the evaluation depends on. */
export interface SeccompContext {
  /** Host architecture as GOARCH / OCI names it: amd64, arm64, arm, 386, s390x, ppc64le, riscv64, … */
  architecture: string;
  /** The host kernel release (uname -r), e.g. "6.1.0-18-amd64"; only major.minor counts. */
  kernelVersion: string;
  /** The container's bounding capability set (CAP_* names). */
  capabilities: readonly string[];
}

/** GOARCH → libseccomp native name (moby `goToNative`). */
const GO_TO_NATIVE: Readonly<Record<string, string>> = {
  "386": "x86",
  amd64: "amd64",
  arm: "arm",
  arm64: "arm64",
  loong64: "loong64",
  mips64: "mips64",
  mips64p32: "mips64n32",
  mips64le: "mipsel64",
  mips64p32le: "mips3l64n32",
  mipsle: "mipsel",
  ppc: "ppc",
  ppc64: "ppc64",
  ppc64le: "ppc64le",
  riscv64: "riscv64",
  s390: "s390",
  s390x: "s390x",
};

/** libseccomp native name → SCMP_ARCH_* (moby `nativeToSeccomp`). */
const NATIVE_TO_SECCOMP: Readonly<Record<string, string>> = {
  x86: "SCMP_ARCH_X86",
  amd64: "SCMP_ARCH_X86_64",
  arm: "SCMP_ARCH_ARM",
  arm64: "SCMP_ARCH_AARCH64",
  loong64: "SCMP_ARCH_LOONGARCH64",
  mips64: "SCMP_ARCH_MIPS64",
  mips64n32: "SCMP_ARCH_MIPS64N32",
  mipsel64: "SCMP_ARCH_MIPSEL64",
  mips3l64n32: "SCMP_ARCH_MIPSEL64N32",
  mipsle: "SCMP_ARCH_MIPSEL",
  ppc: "SCMP_ARCH_PPC",
  ppc64: "SCMP_ARCH_PPC64",
  ppc64le: "SCMP_ARCH_PPC64LE",
  riscv64: "SCMP_ARCH_RISCV64",
  s390: "SCMP_ARCH_S390",
  s390x: "SCMP_ARCH_S390X",
};

/** Kernel "major.minor" of a release string, as Go's `fmt.Sscanf(release, "%d.%d")`. */
export function parseKernelVersion(release: string): { major: number; minor: number } {
  const m = /^\s*(\d+)\.(\d+)/.exec(release);
  if (!m) throw invalidArgument(`failed to parse kernel version ${JSON.stringify(release)}`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** Whether the kernel release is at least `min` ("major.minor"). */
export function kernelAtLeast(release: string, min: string): boolean {
  const k = parseKernelVersion(release);
  const v = parseKernelVersion(min);
  return k.major > v.major || (k.major === v.major && k.minor >= v.minor);
}

/** The OCI seccomp object for one container (moby `setupSeccomp`). */
export function evaluateSeccompProfile(profile: SeccompProfile, context: SeccompContext): SpecSeccomp {
  if (profile.architectures?.length && profile.archMap?.length) {
    throw invalidArgument(
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  const native = GO_TO_NATIVE[context.architecture] ?? context.architecture;
  const architectures: string[] = [...(profile.architectures ?? [])];
  const seccompArch = NATIVE_TO_SECCOMP[native];
  if (seccompArch) {
    const entry = profile.archMap?.find((a) => a.architecture === seccompArch);
    if (entry) architectures.push(entry.architecture, ...entry.subArchitectures);
  }
  const syscalls: SpecSyscall[] = [];
  for (const rule of profile.syscalls) {
    if (!keepRule(rule, native, context)) continue;
    const out: SpecSyscall = { names: [...rule.names], action: rule.action };
    if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
    if (rule.args && rule.args.length > 0) out.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(out);
  }
  const result: SpecSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) result.defaultErrnoRet = profile.defaultErrnoRet;
  if (architectures.length > 0) result.architectures = architectures;
  if (profile.flags && profile.flags.length > 0) result.flags = [...profile.flags];
  if (syscalls.length > 0) result.syscalls = syscalls;
  return result;
}

function keepRule(rule: SeccompRule, native: string, context: SeccompContext): boolean {
  const ex = rule.excludes;
  if (ex) {
    if (ex.arches?.includes(native)) return false;
    if (ex.caps?.some((c) => context.capabilities.includes(c))) return false;
    if (ex.minKernel !== undefined && kernelAtLeast(context.kernelVersion, ex.minKernel)) return false;
  }
  const inc = rule.includes;
  if (inc) {
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(native)) return false;
    if (inc.caps?.some((c) => !context.capabilities.includes(c))) return false;
    if (inc.minKernel !== undefined && !kernelAtLeast(context.kernelVersion, inc.minKernel)) return false;
  }
  return true;
}

// ---- decoding a profile given as JSON (`--security-opt seccomp=<json>`) ----

const ACTIONS: readonly SeccompAction[] = [
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
];
const OPERATORS: readonly SeccompOperator[] = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
];

function bad(what: string): Error {
  return invalidArgument(`Decoding seccomp profile failed: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s): s is string => typeof s === "string"))
    throw bad(`${what} must be a list of strings`);
  return v;
}

function uint(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
    throw bad(`${what} must be an unsigned integer`);
  return v;
}

function action(v: unknown, what: string): SeccompAction {
  const found = ACTIONS.find((a) => a === v);
  if (!found) throw bad(`${what}: unknown action ${JSON.stringify(v)}`);
  return found;
}

function filter(v: unknown, what: string): SeccompFilter | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw bad(`${what} must be an object`);
  const out: SeccompFilter = {};
  const arches = stringList(v.arches, `${what}.arches`);
  if (arches) out.arches = arches;
  const caps = stringList(v.caps, `${what}.caps`);
  if (caps) out.caps = caps;
  if (v.minKernel !== undefined && v.minKernel !== null && v.minKernel !== "") {
    if (typeof v.minKernel !== "string" || !/^\d+\.\d+$/.test(v.minKernel)) {
      throw bad(`invalid kernel version: ${JSON.stringify(v.minKernel)}`);
    }
    out.minKernel = v.minKernel;
  }
  return out;
}

/** Decodes a profile in Docker's JSON format, checking every field it uses. */
export function decodeSeccompProfile(text: string): SeccompProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(err instanceof Error ? err.message : String(err));
  }
  if (!isObject(raw)) throw bad("the profile must be a JSON object");
  const profile: SeccompProfile = { defaultAction: action(raw.defaultAction, "defaultAction"), syscalls: [] };
  const defaultErrnoRet = uint(raw.defaultErrnoRet, "defaultErrnoRet");
  if (defaultErrnoRet !== undefined) profile.defaultErrnoRet = defaultErrnoRet;
  const architectures = stringList(raw.architectures, "architectures");
  if (architectures) profile.architectures = architectures;
  if (raw.archMap !== undefined && raw.archMap !== null) {
    if (!Array.isArray(raw.archMap)) throw bad("archMap must be a list");
    profile.archMap = raw.archMap.map((a, i) => {
      if (!isObject(a) || typeof a.architecture !== "string")
        throw bad(`archMap[${i}].architecture must be a string`);
      return {
        architecture: a.architecture,
        subArchitectures: stringList(a.subArchitectures, `archMap[${i}]`) ?? [],
      };
    });
  }
  const flags = stringList(raw.flags, "flags");
  if (flags) profile.flags = flags;
  if (raw.syscalls !== undefined && raw.syscalls !== null) {
    if (!Array.isArray(raw.syscalls)) throw bad("syscalls must be a list");
    profile.syscalls = raw.syscalls.map((s, i) => decodeRule(s, `syscalls[${i}]`));
  }
  return profile;
}

function decodeRule(s: unknown, what: string): SeccompRule {
  if (!isObject(s)) throw bad(`${what} must be an object`);
  const names = stringList(s.names, `${what}.names`) ?? [];
  if (typeof s.name === "string" && s.name !== "") {
    if (names.length > 0) {
      throw bad("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
    }
    names.push(s.name);
  }
  const rule: SeccompRule = { names, action: action(s.action, `${what}.action`) };
  const errnoRet = uint(s.errnoRet, `${what}.errnoRet`);
  if (errnoRet !== undefined) rule.errnoRet = errnoRet;
  if (s.args !== undefined && s.args !== null) {
    if (!Array.isArray(s.args)) throw bad(`${what}.args must be a list`);
    rule.args = s.args.map((a, j) => {
      if (!isObject(a)) throw bad(`${what}.args[${j}] must be an object`);
      const op = OPERATORS.find((o) => o === a.op);
      if (!op) throw bad(`${what}.args[${j}]: unknown operator ${JSON.stringify(a.op)}`);
      const arg: SeccompArg = {
        index: uint(a.index, `${what}.args[${j}].index`) ?? 0,
        value: uint(a.value, `${what}.args[${j}].value`) ?? 0,
        op,
      };
      const valueTwo = uint(a.valueTwo, `${what}.args[${j}].valueTwo`);
      if (valueTwo) arg.valueTwo = valueTwo;
      return arg;
    });
  }
  const includes = filter(s.includes, `${what}.includes`);
  if (includes) rule.includes = includes;
  const excludes = filter(s.excludes, `${what}.excludes`);
  if (excludes) rule.excludes = excludes;
  return rule;
}
