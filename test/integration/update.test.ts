/**
 * `berth update` through the real bin/berth: limits reach a running container's cgroups (read
 * back from /sys/fs/cgroup inside it), inspect and a later start reflect them, a stopped
 * container's record alone changes, and refusals change nothing.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";

let store: Store;
const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

/** A cgroup file of the container, read on the host (`/berth/<id>` in each hierarchy). */
async function cgroupValue(name: string, v1File: string, v2File: string): Promise<string> {
  const id = (await store.ok(["inspect", "-f", "{{.Id}}", name])).stdout.trim();
  const [controller, file] = v1File.split("/") as [string, string];
  const path = v2
    ? `/sys/fs/cgroup/berth/${id}/${v2File}`
    : `/sys/fs/cgroup/${controller}/berth/${id}/${file}`;
  return (await readFile(path, "utf8")).trim();
}

const inspect = async (name: string, tpl: string) =>
  (await store.ok(["inspect", "-f", tpl, name])).stdout.trim();

describe("update", () => {
  test("a running container gets new limits at once, recorded for inspect and the next start", async () => {
    await store.ok(["run", "-d", "--name", "upd", "busybox", "sleep", "300"]);
    const r = await store.ok([
      "update",
      "--memory",
      "64m",
      "--cpus",
      "0.5",
      "--cpu-shares",
      "512",
      "--pids-limit",
      "50",
      "--restart",
      "on-failure:3",
      "upd",
    ]);
    assert.equal(r.stdout, "upd\n");
    assert.equal(
      await cgroupValue("upd", "memory/memory.limit_in_bytes", "memory.max"),
      String(64 * 1024 * 1024),
    );
    if (!v2) {
      assert.equal(
        await cgroupValue("upd", "memory/memory.memsw.limit_in_bytes", ""),
        String(128 * 1024 * 1024),
      );
      assert.equal(await cgroupValue("upd", "cpu/cpu.cfs_quota_us", ""), "50000");
      assert.equal(await cgroupValue("upd", "cpu/cpu.shares", ""), "512");
    }
    assert.equal(await cgroupValue("upd", "pids/pids.max", "pids.max"), "50");
    assert.equal(
      await inspect(
        "upd",
        "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
      ),
      `${64 * 1024 * 1024} ${128 * 1024 * 1024} 500000000 512 50 on-failure:3`,
    );
    await store.ok(["restart", "-t", "0", "upd"]);
    assert.equal(
      await cgroupValue("upd", "memory/memory.limit_in_bytes", "memory.max"),
      String(64 * 1024 * 1024),
    );
    assert.equal(await cgroupValue("upd", "pids/pids.max", "pids.max"), "50");
    await store.ok(["rm", "-f", "upd"]);
  });

  test("a stopped container's record changes and its next start uses it", async () => {
    await store.ok(["create", "--name", "cold", "busybox", "sleep", "300"]);
    await store.ok(["update", "-m", "32m", "--pids-limit", "20", "cold"]);
    assert.equal(
      await inspect("cold", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}"),
      `${32 * 1024 * 1024} 20`,
    );
    await store.ok(["start", "cold"]);
    assert.equal(
      await cgroupValue("cold", "memory/memory.limit_in_bytes", "memory.max"),
      String(32 * 1024 * 1024),
    );
    assert.equal(await cgroupValue("cold", "pids/pids.max", "pids.max"), "20");
    await store.ok(["rm", "-f", "cold"]);
  });

  test("Docker's refusals: one line, exit 1, nothing changed", async () => {
    await store.ok(["run", "-d", "--name", "strict", "-m", "16m", "busybox", "sleep", "300"]);
    const tooBig = await store.berth(["update", "-m", "64m", "strict"]);
    assert.equal(tooBig.code, 1);
    assert.match(
      tooBig.stderr,
      /^Error response from daemon: Cannot update container [0-9a-f]{64}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time\n$/,
    );
    const small = await store.berth(["update", "-m", "1m", "strict"]);
    assert.equal(small.code, 1);
    assert.match(small.stderr, /Minimum memory limit allowed is 6MB/);
    const cpus = await store.berth(["update", "--cpus", "64", "strict"]);
    assert.equal(cpus.code, 1);
    assert.match(cpus.stderr, /Range of CPUs is from 0\.01 to \d+\.00/);
    const cpuset = await store.berth(["update", "--cpuset-cpus", "0-63", "strict"]);
    assert.match(cpuset.stderr, /Requested CPUs are not available - requested 0-63/);
    const policy = await store.berth(["update", "--restart", "sometimes", "strict"]);
    assert.notEqual(policy.code, 0);
    assert.match(policy.stderr, /invalid restart policy/);
    const kmem = await store.berth(["update", "--kernel-memory", "8m", "strict"]);
    assert.equal(kmem.code, 125);
    assert.match(kmem.stderr, /--kernel-memory is not supported/);
    const none = await store.berth(["update", "strict"]);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, "you must provide one or more flags when using this command\n");
    assert.equal(
      await inspect("strict", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}"),
      `${16 * 1024 * 1024} 0`,
    );
    assert.equal(
      await cgroupValue("strict", "memory/memory.limit_in_bytes", "memory.max"),
      String(16 * 1024 * 1024),
    );
    // Raising memory and swap together is accepted.
    await store.ok(["update", "-m", "64m", "--memory-swap", "128m", "strict"]);
    assert.equal(
      await cgroupValue("strict", "memory/memory.limit_in_bytes", "memory.max"),
      String(64 * 1024 * 1024),
    );
    await store.ok(["rm", "-f", "strict"]);
    const rm = await store.ok(["create", "--rm", "--name", "auto", "busybox"]);
    assert.ok(rm.stdout.length > 0);
    const auto = await store.berth(["update", "--restart", "always", "auto"]);
    assert.match(
      auto.stderr,
      /Restart policy cannot be updated because AutoRemove is enabled for the container/,
    );
    await store.ok(["rm", "auto"]);
  });

  test("--blkio-weight without the host's blkio.weight: Docker's warning, the weight discarded", async () => {
    if (existsSync("/sys/fs/cgroup/blkio/blkio.weight") || v2) {
      await store.ok(["create", "--name", "io", "busybox"]);
      await store.ok(["update", "--blkio-weight", "300", "io"]);
      assert.equal(await inspect("io", "{{.HostConfig.BlkioWeight}}"), "300");
    } else {
      await store.ok(["create", "--name", "io", "busybox"]);
      const r = await store.ok(["update", "--blkio-weight", "300", "io"]);
      assert.equal(
        r.stdout,
        "io\nYour kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.\n",
      );
      assert.equal(await inspect("io", "{{.HostConfig.BlkioWeight}}"), "0");
    }
    const bad = await store.berth(["update", "--blkio-weight", "5", "io"]);
    assert.match(bad.stderr, /Range of blkio weight is from 10 to 1000/);
    await store.ok(["rm", "io"]);
  });
});
