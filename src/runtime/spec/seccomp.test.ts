import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import { capabilitiesFromMask, capabilityMask, DEFAULT_CAPABILITIES } from "./capabilities.js";
import {
  decodeSeccompProfile,
  evaluateSeccompProfile,
  kernelAtLeast,
  parseKernelVersion,
} from "./seccomp.js";
import { DEFAULT_SECCOMP_PROFILE } from "./seccomp-default.js";
import type { SpecSeccomp } from "./types.js";

const amd64 = { architecture: "amd64", kernelVersion: "6.1.0-18-amd64", capabilities: DEFAULT_CAPABILITIES };
const allowed = (s: SpecSeccomp) =>
  new Set((s.syscalls ?? []).filter((r) => r.action === "SCMP_ACT_ALLOW").flatMap((r) => r.names));

describe("default profile data", () => {
  test("Docker's numbers: 33 rules, 361 unconditional names, EPERM by default", () => {
    assert.equal(DEFAULT_SECCOMP_PROFILE.syscalls.length, 33);
    assert.equal(DEFAULT_SECCOMP_PROFILE.syscalls[0]?.names.length, 361);
    assert.equal(DEFAULT_SECCOMP_PROFILE.defaultAction, "SCMP_ACT_ERRNO");
    assert.equal(DEFAULT_SECCOMP_PROFILE.defaultErrnoRet, 1);
    const all = new Set(DEFAULT_SECCOMP_PROFILE.syscalls.flatMap((r) => r.names));
    for (const never of [
      "keyctl",
      "add_key",
      "request_key",
      "userfaultfd",
      "kexec_load",
      "io_uring_setup",
      "pivot_root",
      "swapon",
    ]) {
      assert.ok(!all.has(never), never);
    }
  });
});

describe("evaluateSeccompProfile", () => {
  test("x86_64 gets its sub-architectures and the amd64 rules; aarch64 gets arm and the arm rules", () => {
    const x = evaluateSeccompProfile(DEFAULT_SECCOMP_PROFILE, amd64);
    assert.deepEqual(x.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    assert.ok(allowed(x).has("arch_prctl") && allowed(x).has("modify_ldt"));
    assert.ok(!allowed(x).has("set_tls"));
    const a = evaluateSeccompProfile(DEFAULT_SECCOMP_PROFILE, { ...amd64, architecture: "arm64" });
    assert.deepEqual(a.architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
    assert.ok(allowed(a).has("set_tls") && !allowed(a).has("arch_prctl"));
    const unknown = evaluateSeccompProfile(DEFAULT_SECCOMP_PROFILE, { ...amd64, architecture: "sparc" });
    assert.equal(unknown.architectures, undefined);
  });

  test("minKernel: ptrace allowed from 4.8 on", () => {
    assert.ok(allowed(evaluateSeccompProfile(DEFAULT_SECCOMP_PROFILE, amd64)).has("ptrace"));
    assert.ok(
      !allowed(evaluateSeccompProfile(DEFAULT_SECCOMP_PROFILE, { ...amd64, kernelVersion: "4.4.0" })).has(
        "ptrace",
      ),
    );
  });

  test("capabilities: SYS_ADMIN opens mount/unshare/clone3 and drops the clone flag filter", () => {
    const base = evaluateSeccompProfile(DEFAULT_SECCOMP_PROFILE, amd64);
    assert.ok(!allowed(base).has("mount") && !allowed(base).has("unshare"));
    const clone = base.syscalls?.find((r) => r.names.includes("clone"));
    assert.deepEqual(clone, {
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: 2114060288, op: "SCMP_CMP_MASKED_EQ" }],
    });
    assert.deepEqual(
      base.syscalls?.find((r) => r.names.includes("clone3")),
      { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
    );
    const admin = evaluateSeccompProfile(DEFAULT_SECCOMP_PROFILE, {
      ...amd64,
      capabilities: [...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"],
    });
    assert.ok(allowed(admin).has("mount") && allowed(admin).has("clone3"));
    assert.ok(!admin.syscalls?.some((r) => r.action === "SCMP_ACT_ERRNO"));
    assert.ok(!admin.syscalls?.some((r) => r.names.length === 1 && r.names[0] === "clone" && r.args));
    const noChroot = evaluateSeccompProfile(DEFAULT_SECCOMP_PROFILE, {
      ...amd64,
      capabilities: ["CAP_KILL"],
    });
    assert.ok(!allowed(noChroot).has("chroot"));
  });

  test("socket: AF_ALG (38) and AF_VSOCK (40) stay denied", () => {
    const rules = evaluateSeccompProfile(DEFAULT_SECCOMP_PROFILE, amd64).syscalls?.filter(
      (r) => r.names[0] === "socket",
    );
    assert.deepEqual(
      rules?.map((r) => r.args),
      [
        [{ index: 0, value: 38, op: "SCMP_CMP_LT" }],
        [{ index: 0, value: 39, op: "SCMP_CMP_EQ" }],
        [{ index: 0, value: 40, op: "SCMP_CMP_GT" }],
      ],
    );
  });

  test("kernel versions parse like Go's %d.%d", () => {
    assert.deepEqual(parseKernelVersion("6.18.44-fc-v595"), { major: 6, minor: 18 });
    assert.ok(kernelAtLeast("3.12-1-amd64", "3.12"));
    assert.ok(!kernelAtLeast("3.11.99", "3.12"));
    assert.throws(
      () => parseKernelVersion("banana"),
      (e: unknown) => isBerthError(e, "InvalidArgument"),
    );
  });
});

describe("decodeSeccompProfile", () => {
  test("a custom profile with name/names, architectures, args and filters", () => {
    const p = decodeSeccompProfile(
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["SCMP_ARCH_X86_64"],
        syscalls: [
          { name: "mkdir", action: "SCMP_ACT_ERRNO", errnoRet: 13 },
          { names: ["kill"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, value: 9, op: "SCMP_CMP_EQ" }] },
          { names: ["reboot"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_BOOT"] } },
        ],
      }),
    );
    assert.deepEqual(evaluateSeccompProfile(p, amd64), {
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_X86_64"],
      syscalls: [
        { names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
        { names: ["kill"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, value: 9, op: "SCMP_CMP_EQ" }] },
      ],
    });
  });

  test("bad profiles are refused", () => {
    for (const text of [
      "{",
      "[]",
      '{"defaultAction":"SCMP_ACT_NOPE"}',
      '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"LT"}]}]}',
      '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}',
    ]) {
      assert.throws(
        () => decodeSeccompProfile(text),
        (e: unknown) => isBerthError(e, "InvalidArgument"),
        text,
      );
    }
    const both = decodeSeccompProfile(
      '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["x"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}',
    );
    assert.throws(() => evaluateSeccompProfile(both, amd64), /both 'architectures' and 'archMap'/);
  });
});

describe("capability masks", () => {
  test("Docker's 14 are a80425fb; masks decode in number order", () => {
    assert.equal(capabilityMask(DEFAULT_CAPABILITIES), "00000000a80425fb");
    assert.deepEqual(capabilitiesFromMask("00000000a80425fb").sort(), [...DEFAULT_CAPABILITIES].sort());
    const host = capabilitiesFromMask("000001fffeffffff");
    assert.equal(host.length, 40);
    assert.ok(!host.includes("CAP_SYS_RESOURCE"));
    assert.throws(
      () => capabilitiesFromMask("xyz"),
      (e: unknown) => isBerthError(e, "InvalidArgument"),
    );
  });
});
