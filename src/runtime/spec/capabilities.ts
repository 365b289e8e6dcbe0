/**
 * Linux capabilities as Docker grants them: the 14 defaults, `--cap-add`/`--cap-drop` (names
 * with or without `CAP_`, any case, and `ALL`), and `--privileged` (every capability the host
 * environment has). The rules follow moby `daemon/pkg/oci/caps` (`TweakCapabilities`,
 * `NormalizeLegacyCapabilities`).
 * Pure: it never reads the host (the caller passes the host's capabilities).
 */
import { invalidArgument } from "../../base/errors.js";

/** Every capability the kernel headers name, indexed by capability number (0 … 40). */
export const KNOWN_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** Docker's default set, in Docker's order (moby `caps.DefaultCapabilities`). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/**
 * The capability names set in a hexadecimal mask such as the `CapBnd:` line of
 * /proc/self/status (`000001fffeffffff`), in number order. Bits beyond the known table are
 * ignored. The runtime driver uses this to tell `buildRuntimeSpec` what the host has.
 */
export function capabilitiesFromMask(hex: string): string[] {
  const text = hex.trim();
  if (!/^[0-9a-fA-F]{1,16}$/.test(text))
    throw invalidArgument(`invalid capability mask: ${JSON.stringify(hex)}`);
  const mask = BigInt(`0x${text}`);
  return KNOWN_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The hexadecimal mask (16 digits, as /proc shows it) of a list of capability names. */
export function capabilityMask(caps: readonly string[]): string {
  let mask = 0n;
  for (const c of caps) {
    const bit = KNOWN_CAPABILITIES.indexOf(c);
    if (bit < 0) throw invalidArgument(`unknown capability: ${JSON.stringify(c)}`);
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16).padStart(16, "0");
}

/**
 * Upper-cases names, adds the `CAP_` prefix and checks them against the known table and the
 * host's set, with Docker's messages. "ALL" passes through.
 */
export function normalizeCapabilities(names: readonly string[], available: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of names) {
    let c = raw.toUpperCase();
    if (c === "ALL") {
      out.push(c);
      continue;
    }
    if (!c.startsWith("CAP_")) c = `CAP_${c}`;
    if (!KNOWN_CAPABILITIES.includes(c)) throw invalidArgument(`unknown capability: ${JSON.stringify(c)}`);
    if (!available.includes(c)) {
      throw invalidArgument(
        `capability not supported by your kernel or not available in the current environment: ${JSON.stringify(c)}`,
      );
    }
    out.push(c);
  }
  return out;
}

/** The host's capabilities in number order (what `--privileged` and `--cap-add ALL` grant). */
export function orderedAvailable(available: readonly string[]): string[] {
  return KNOWN_CAPABILITIES.filter((c) => available.includes(c));
}

/**
 * The container's capability set (bounding = effective = permitted), as moby
 * `caps.TweakCapabilities`: privileged → all the host has; `--cap-add ALL` → all but the dropped
 * ones; `--cap-drop ALL` → only the added ones; otherwise defaults minus drops plus adds
 * (duplicates kept, as Docker keeps them).
 */
export function containerCapabilities(options: {
  capAdd?: readonly string[] | null;
  capDrop?: readonly string[] | null;
  privileged?: boolean;
  available: readonly string[];
}): string[] {
  const all = orderedAvailable(options.available);
  if (options.privileged) return all;
  const adds = options.capAdd ?? [];
  const drops = options.capDrop ?? [];
  if (adds.length === 0 && drops.length === 0) return [...DEFAULT_CAPABILITIES];
  const capDrop = normalizeCapabilities(drops, options.available);
  const capAdd = normalizeCapabilities(adds, options.available);
  if (capAdd.includes("ALL")) return all.filter((c) => !capDrop.includes(c));
  if (capDrop.includes("ALL")) return capAdd;
  return [...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd];
}
