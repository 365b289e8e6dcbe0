/**
 * The host facts the runtime spec depends on, read once per berth process when first needed.
 * It only reads the host; it never changes it.
 */
import { readFile } from "node:fs/promises";
import { release } from "node:os";
import { hostPlatform } from "../config/host.js";
import { readdirIfExists, statIfExists } from "../sys/fs.js";

import { capabilitiesFromMask } from "./spec/capabilities.js";
import type { HostFacts } from "./spec/generate.js";
import { RLIM_INFINITY, type RlimitValue } from "./spec/types.js";

const exists = async (p: string) => (await statIfExists(p)) !== undefined;

/** `/proc/self/limits` hard limits by lowercase rlimit name. */
export function parseHardLimits(text: string): Record<string, RlimitValue> {
  const names: Record<string, string> = {
    "Max open files": "nofile",
    "Max processes": "nproc",
    "Max core file size": "core",
    "Max stack size": "stack",
    "Max locked memory": "memlock",
    "Max file size": "fsize",
    "Max cpu time": "cpu",
    "Max data size": "data",
    "Max address space": "as",
    "Max msgqueue size": "msgqueue",
    "Max nice priority": "nice",
    "Max realtime priority": "rtprio",
    "Max pending signals": "sigpending",
    "Max file locks": "locks",
    "Max resident set": "rss",
  };
  const out: Record<string, RlimitValue> = {};
  for (const line of text.split("\n")) {
    for (const [label, name] of Object.entries(names)) {
      if (!line.startsWith(label)) continue;
      const hard = line.slice(26).trim().split(/\s+/)[1] ?? "";
      out[name] = hard === "unlimited" ? RLIM_INFINITY : /^\d+$/.test(hard) ? BigInt(hard) : RLIM_INFINITY;
    }
  }
  return out;
}

let cached: Promise<HostFacts> | undefined;

export function hostFacts(): Promise<HostFacts> {
  cached ??= gather();
  return cached;
}

async function gather(): Promise<HostFacts> {
  const status = await readFile("/proc/self/status", "utf8");
  const capBnd = /^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? "0";
  const limits = parseHardLimits(await readFile("/proc/self/limits", "utf8"));
  const thermal: string[] = [];
  const cpus = (await readdirIfExists("/sys/devices/system/cpu"))

    .filter((n) => /^cpu\d+$/.test(n))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  for (const cpu of cpus) {
    const p = `/sys/devices/system/cpu/${cpu}/thermal_throttle`;
    if (await exists(p)) thermal.push(p);
  }
  const v2 = await exists("/sys/fs/cgroup/cgroup.controllers");
  return {
    kernelVersion: release(),
    architecture: hostPlatform().architecture,
    capabilities: capabilitiesFromMask(capBnd),
    // runc 1.1 (Debian bookworm) has no time namespace; runc ≥ 1.2 would list it in `runc features`.
    timeNamespace: false,
    cgroupVersion: v2 ? 2 : 1,
    thermalThrottlePaths: thermal,
    rlimitHard: { nofile: limits.nofile ?? RLIM_INFINITY, ...limits },
    seccomp: /^Seccomp:/m.test(status),
    swapLimit: v2
      ? await exists("/sys/fs/cgroup/memory.swap.max")
      : await exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
  };
}
