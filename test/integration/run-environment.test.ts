/**
 * What a container sees and what inspect says about it, against Docker's behaviour: relative bind
 * sources, the init layer (/.dockerenv, /etc/mtab), /etc/hosts' own line, the host network's
 * hostname, the open-files limit, OOM kills and HostConfig's full key set.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

describe("relative bind sources (Docker 23+)", () => {
  test("-v .:/app, -v ./dir:/x and --mount src=. resolve against the CLI's directory", async () => {
    const cwd = store.path("project");
    await mkdir(`${cwd}/dir`, { recursive: true });
    await writeFile(`${cwd}/top.txt`, "top\n");
    await writeFile(`${cwd}/dir/inner.txt`, "inner\n");
    const r = await store.berth(
      [
        "run",
        "--rm",
        "-v",
        ".:/app",
        "-v",
        "./dir:/x:ro",
        "--mount",
        "type=bind,src=.,dst=/m",
        "busybox",
        "cat",
        "/app/top.txt",
        "/x/inner.txt",
        "/m/dir/inner.txt",
      ],
      { cwd },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "top\ninner\ninner\n");
    await store.ok(["create", "--name", "relbind", "-v", "./dir:/x", "busybox"], { cwd });
    const binds = (await store.ok(["inspect", "-f", "{{json .HostConfig.Binds}}", "relbind"])).stdout;
    assert.deepEqual(JSON.parse(binds), [`${cwd}/dir:/x`]);
  });
});

describe("the init layer and /etc files", () => {
  test("/.dockerenv exists, /etc/mtab links to /proc/mounts, and neither shows in diff", async () => {
    const r = await store.berth([
      "run",
      "--name",
      "initlayer",
      "busybox",
      "sh",
      "-c",
      "test -f /.dockerenv && readlink /etc/mtab && grep -c ' / ' /etc/mtab",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [link, count] = r.stdout.trim().split("\n");
    assert.equal(link, "/proc/mounts");
    assert.ok(Number(count) >= 1);
    assert.equal((await store.ok(["diff", "initlayer"])).stdout, "");
  });

  test("/etc/hosts names the FQDN and its short alias; --network host keeps the host's name", async () => {
    const r = await store.ok([
      "run",
      "--rm",
      "--hostname",
      "web.example.com",
      "busybox",
      "tail",
      "-1",
      "/etc/hosts",
    ]);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\.\d+\tweb\.example\.com web\n$/);
    const host = await store.ok(["run", "--name", "onhost", "--network", "host", "busybox", "hostname"]);
    assert.equal(host.stdout.trim(), hostname());
    assert.equal(
      (await store.ok(["inspect", "-f", "{{.Config.Hostname}}", "onhost"])).stdout.trim(),
      hostname(),
    );
  });

  test("the open-files limit is Docker's (soft = hard), within the host's hard limit", async () => {
    const limits = await readFile("/proc/self/limits", "utf8");
    const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1] ?? "";
    const expected = hard === "unlimited" ? 1048576 : Math.min(1048576, Number(hard));
    const r = await store.ok(["run", "--rm", "busybox", "sh", "-c", "ulimit -Sn; ulimit -Hn"]);
    assert.equal(r.stdout, `${expected}\n${expected}\n`);
  });
});

describe("OOM kills", () => {
  test(".State.OOMKilled is true after the kernel's OOM killer ended the process, false otherwise", async () => {
    const r = await store.berth(["run", "--name", "hog", "--memory", "8m", "busybox", "tail", "/dev/zero"]);
    assert.equal(r.code, 137, r.stderr);
    const state = (await store.ok(["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog"]))
      .stdout;
    assert.equal(state.trim(), "true 137");
    await store.ok(["run", "--name", "calm", "--memory", "8m", "busybox", "true"]);
    assert.equal((await store.ok(["inspect", "-f", "{{.State.OOMKilled}}", "calm"])).stdout.trim(), "false");
  });
});

describe("HostConfig as Docker's inspect shows it", () => {
  test("every key of Docker's HostConfig is present with Docker's zero values and defaults", async () => {
    await store.ok(["create", "--name", "plain", "busybox"]);
    const hc = JSON.parse(
      (await store.ok(["inspect", "-f", "{{json .HostConfig}}", "plain"])).stdout,
    ) as Record<string, unknown>;
    // Docker 28's HostConfig keys (API 1.47 swagger, Go struct order; omitempty ones left out).
    const keys = [
      "Binds",
      "ContainerIDFile",
      "LogConfig",
      "NetworkMode",
      "PortBindings",
      "RestartPolicy",
      "AutoRemove",
      "VolumeDriver",
      "VolumesFrom",
      "ConsoleSize",
      "CapAdd",
      "CapDrop",
      "CgroupnsMode",
      "Dns",
      "DnsOptions",
      "DnsSearch",
      "ExtraHosts",
      "GroupAdd",
      "IpcMode",
      "Cgroup",
      "Links",
      "OomScoreAdj",
      "PidMode",
      "Privileged",
      "PublishAllPorts",
      "ReadonlyRootfs",
      "SecurityOpt",
      "UTSMode",
      "UsernsMode",
      "ShmSize",
      "Runtime",
      "Isolation",
      "CpuShares",
      "Memory",
      "NanoCpus",
      "CgroupParent",
      "BlkioWeight",
      "BlkioWeightDevice",
      "BlkioDeviceReadBps",
      "BlkioDeviceWriteBps",
      "BlkioDeviceReadIOps",
      "BlkioDeviceWriteIOps",
      "CpuPeriod",
      "CpuQuota",
      "CpuRealtimePeriod",
      "CpuRealtimeRuntime",
      "CpusetCpus",
      "CpusetMems",
      "Devices",
      "DeviceCgroupRules",
      "DeviceRequests",
      "MemoryReservation",
      "MemorySwap",
      "MemorySwappiness",
      "OomKillDisable",
      "PidsLimit",
      "Ulimits",
      "CpuCount",
      "CpuPercent",
      "IOMaximumIOps",
      "IOMaximumBandwidth",
      "MaskedPaths",
      "ReadonlyPaths",
    ];
    for (const k of keys) assert.ok(k in hc, `HostConfig.${k} is missing`);
    const present = Object.keys(hc).filter((k) => keys.includes(k));
    assert.deepEqual(present, keys, "Docker's key order");
    assert.equal(hc.NanoCpus, 0);
    assert.equal(hc.PidsLimit, null);
    assert.equal(hc.ShmSize, 64 * 1024 * 1024);
    assert.equal(hc.MemorySwap, 0);
    assert.equal(hc.OomKillDisable, false);
    assert.equal(hc.Runtime, "runc");
    assert.deepEqual(hc.ConsoleSize, [0, 0]);
    const tpl = "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuRealtimePeriod}} {{.HostConfig.BlkioWeight}}";
    assert.equal((await store.ok(["inspect", "-f", tpl, "plain"])).stdout, "0 0 0\n");
    await store.ok(["create", "--name", "limited", "-m", "64m", "--cpus", "1.5", "busybox"]);
    const l = (
      await store.ok([
        "inspect",
        "-f",
        "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}}",
        "limited",
      ])
    ).stdout;
    assert.equal(l, `${64 * 1024 * 1024} ${128 * 1024 * 1024} 1500000000\n`);
  });
});
