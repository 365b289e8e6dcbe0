/**
 * The OCI runtime-spec (`config.json`) as runc reads it: the subset berth generates, with the
 * JSON field names of opencontainers/runtime-spec `specs-go/config.go`. Objects are built with
 * their keys in that struct's field order and optional fields left out when Go's `omitempty`
 * would drop them, so `serializeRuntimeSpec` prints what Docker's daemon would write.
 * Declarations and their serialisation only: no decision about a container lives here.
 */

/** The runtime-spec version these types describe (runc 1.1.x accepts 1.0.x). */
export const OCI_VERSION = "1.0.2-dev";

/** RLIM_INFINITY: larger than any JS safe integer, so rlimits carry it as a bigint. */
export const RLIM_INFINITY = 18446744073709551615n;

/** An rlimit value: a count, or RLIM_INFINITY. */
export type RlimitValue = number | bigint;

export interface RuntimeSpec {
  ociVersion: string;
  process: SpecProcess;
  root: SpecRoot;
  hostname?: string;
  domainname?: string;
  mounts: SpecMount[];
  linux: SpecLinux;
}

export interface SpecProcess {
  terminal?: boolean;
  user: SpecUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities: SpecCapabilities;
  rlimits?: SpecRlimit[];
  noNewPrivileges?: boolean;
  /** Always present (Docker sets a pointer to HostConfig.OomScoreAdj). */
  oomScoreAdj: number;
}

export interface SpecUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface SpecCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface SpecRlimit {
  /** RLIMIT_NOFILE, RLIMIT_NPROC, … */
  type: string;
  hard: RlimitValue;
  soft: RlimitValue;
}

export interface SpecRoot {
  path: string;
  readonly?: boolean;
}

export interface SpecMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export type NamespaceType = "pid" | "network" | "mount" | "ipc" | "uts" | "user" | "cgroup" | "time";

export interface SpecNamespace {
  type: NamespaceType;
  path?: string;
}

export interface SpecDeviceCgroup {
  allow: boolean;
  type?: "a" | "b" | "c";
  major?: number;
  minor?: number;
  access?: string;
}

export interface SpecMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

export interface SpecCpu {
  shares?: number;
  quota?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
}

export interface SpecResources {
  devices: SpecDeviceCgroup[];
  memory?: SpecMemory;
  cpu?: SpecCpu;
  /** Docker always sends an (empty) blockIO object. */
  blockIO: Record<string, never>;
  pids?: { limit: number };
}

export type SeccompAction =
  | "SCMP_ACT_KILL"
  | "SCMP_ACT_KILL_PROCESS"
  | "SCMP_ACT_KILL_THREAD"
  | "SCMP_ACT_TRAP"
  | "SCMP_ACT_ERRNO"
  | "SCMP_ACT_TRACE"
  | "SCMP_ACT_ALLOW"
  | "SCMP_ACT_LOG"
  | "SCMP_ACT_NOTIFY";

export type SeccompOperator =
  | "SCMP_CMP_NE"
  | "SCMP_CMP_LT"
  | "SCMP_CMP_LE"
  | "SCMP_CMP_EQ"
  | "SCMP_CMP_GE"
  | "SCMP_CMP_GT"
  | "SCMP_CMP_MASKED_EQ";

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface SpecSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface SpecSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls?: SpecSyscall[];
}

export interface SpecLinux {
  sysctl?: Record<string, string>;
  resources: SpecResources;
  cgroupsPath?: string;
  namespaces: SpecNamespace[];
  seccomp?: SpecSeccomp;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

/**
 * The spec as runc reads it: JSON with two-space indentation (Go's `json.MarshalIndent` style)
 * and a final newline; rlimits of RLIM_INFINITY printed as the exact 64-bit number.
 */
export function serializeRuntimeSpec(spec: RuntimeSpec): string {
  const MARK = "\u0000u64:";
  const text = JSON.stringify(
    spec,
    (_key, value: unknown) => (typeof value === "bigint" ? `${MARK}${value.toString()}` : value),
    2,
  );
  return `${text.replace(/"\\u0000u64:(\d+)"/g, "$1")}\n`;
}
