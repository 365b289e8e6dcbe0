import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { planUpdate, UpdateConflict, type UpdateHostFacts } from "./update.js";

const HOST: UpdateHostFacts = { cpus: 2, mems: "0", swapLimit: true, blkioWeight: false, cpuRealtime: true };
const MiB = 1024 * 1024;

describe("planUpdate", () => {
  test("memory: swap twice the memory when none was set; a set swap must stay above it", () => {
    const fresh = planUpdate({}, { Memory: 64 * MiB }, HOST);
    assert.equal(fresh.hostConfig.Memory, 64 * MiB);
    assert.equal(fresh.hostConfig.MemorySwap, 128 * MiB);
    assert.deepEqual(fresh.runcFlags, ["--memory", String(64 * MiB), "--memory-swap", String(128 * MiB)]);
    // Created with -m 16m: the swap is 32m; 24m fits under it, 64m does not.
    assert.deepEqual(planUpdate({ Memory: 16 * MiB }, { Memory: 24 * MiB }, HOST).runcFlags, [
      "--memory",
      String(24 * MiB),
    ]);
    assert.throws(() => planUpdate({ Memory: 16 * MiB }, { Memory: 64 * MiB }, HOST), UpdateConflict);
    const unlimited = planUpdate({ Memory: 16 * MiB, MemorySwap: -1 }, { Memory: 64 * MiB }, HOST);
    assert.equal(unlimited.hostConfig.MemorySwap, -1);
    assert.throws(() => planUpdate({}, { Memory: MiB }, HOST), /Minimum memory limit allowed is 6MB/);
  });

  test("CPU: --cpus as a CFS quota, conflicts with a recorded period, Docker's ranges", () => {
    assert.deepEqual(planUpdate({}, { NanoCpus: 5e8 }, HOST).runcFlags, [
      "--cpu-period",
      "100000",
      "--cpu-quota",
      "50000",
    ]);
    assert.throws(() => planUpdate({ CpuPeriod: 50000 }, { NanoCpus: 5e8 }, HOST), UpdateConflict);
    assert.throws(() => planUpdate({}, { NanoCpus: 3e9 }, HOST), /Range of CPUs is from 0\.01 to 2\.00/);
    assert.throws(
      () => planUpdate({}, { CpusetCpus: "0-3" }, HOST),
      /Requested CPUs are not available - requested 0-3, available: 0-1/,
    );
    assert.throws(() => planUpdate({}, { CpuPeriod: 10 }, HOST), /CPU cfs period can not be less than 1ms/);
  });

  test("blkio weight without the cgroup file: a warning and nothing recorded; restart policy", () => {
    const p = planUpdate({}, { BlkioWeight: 300 }, HOST);
    assert.equal(p.hostConfig.BlkioWeight, undefined);
    assert.match(p.warnings[0] ?? "", /does not support Block I\/O weight/);
    const r = planUpdate({}, { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 } }, HOST);
    assert.deepEqual(r.hostConfig.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 2 });
    assert.deepEqual(r.runcFlags, []);
    assert.throws(
      () => planUpdate({ AutoRemove: true }, { RestartPolicy: { Name: "always" } }, HOST),
      UpdateConflict,
    );
    assert.throws(
      () => planUpdate({}, { KernelMemory: 8 * MiB }, HOST),
      (e: unknown) => isBerthError(e, "InvalidArgument"),
    );
  });

  test("pids: zero or less is unlimited", () => {
    const p = planUpdate({ PidsLimit: 10 }, { PidsLimit: -1 }, HOST);
    assert.equal(p.hostConfig.PidsLimit, null);
    assert.deepEqual(p.runcFlags, ["--pids-limit", "-1"]);
  });
});
