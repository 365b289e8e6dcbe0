/**
 * The generated spec on the real runc: a busybox bundle (Debian's busybox-static as the whole
 * rootfs) run with `runc run`, reading /proc/self/status inside the container. Needs root and
 * runc; the bundle, the container and its cgroup are removed whatever happens.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { capabilitiesFromMask } from "./capabilities.js";
import { buildRuntimeSpec, type SpecInput } from "./generate.js";
import { serializeRuntimeSpec } from "./types.js";
import { resolveUser } from "./user.js";

const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => existsSync(p));
const isRoot = process.getuid?.() === 0;
const hasRunc = spawnSync("runc", ["--version"]).status === 0;
const skip = !isRoot ? "needs root" : !hasRunc ? "needs runc" : !BUSYBOX ? "needs busybox-static" : false;

function hostFacts(): SpecInput["host"] {
  const status = readFileSync("/proc/self/status", "utf8");
  const capBnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? "0";
  const limits = readFileSync("/proc/self/limits", "utf8");
  const hard = (label: string): number => {
    const line = limits.split("\n").find((l) => l.startsWith(label)) ?? "";
    const value = line.slice(label.length).trim().split(/\s+/)[1] ?? "";
    return value === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(value);
  };
  const version = execFileSync("uname", ["-r"], { encoding: "utf8" }).trim();
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  return {
    kernelVersion: version,
    architecture: process.arch === "x64" ? "amd64" : process.arch,
    capabilities: capabilitiesFromMask(capBnd),
    timeNamespace: false,
    cgroupVersion: v2 ? 2 : 1,
    thermalThrottlePaths: [],
    rlimitHard: { nofile: hard("Max open files"), nproc: hard("Max processes") },
    swapLimit: v2 || existsSync("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
  };
}

describe("runc runs the generated spec", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-spec-runc-"));
  const ids: string[] = [];
  const cgroupParent = `berth-spec-test-${process.pid}`;
  after(() => {
    for (const id of ids) spawnSync("runc", ["delete", "-f", id]);
    rmSync(dir, { recursive: true, force: true });
    // runc removes the container's cgroup; the parent directories it created are ours to remove.
    const roots = existsSync("/sys/fs/cgroup/cgroup.controllers")
      ? ["/sys/fs/cgroup"]
      : readdirSync("/sys/fs/cgroup").map((h) => join("/sys/fs/cgroup", h));
    for (const root of roots) {
      try {
        rmdirSync(join(root, cgroupParent));
      } catch {
        // not created in this hierarchy
      }
    }
  });

  function bundle(name: string, mutate: (input: SpecInput) => void): { path: string; id: string } {
    const path = join(dir, name);
    const rootfs = join(path, "rootfs");
    for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp"])
      mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync(BUSYBOX ?? "", join(rootfs, "bin/busybox"));
    const passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n";
    const group = "root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\n";
    writeFileSync(join(rootfs, "etc/passwd"), passwd);
    writeFileSync(join(rootfs, "etc/group"), group);
    const id = `berth-spec-test-${process.pid}-${name}`;
    const input: SpecInput = {
      config: { Cmd: ["/bin/busybox", "sh", "-c", "cat /proc/self/status"], Hostname: "specbox" },
      hostConfig: {},
      user: resolveUser("", { passwd, group }),
      rootfs,
      mounts: [],
      network: { kind: "new" },
      cgroupsPath: `/${cgroupParent}/${id}`,
      host: hostFacts(),
    };
    mutate(input);
    const spec = buildRuntimeSpec(input);
    spec.process.terminal = false;
    writeFileSync(join(path, "config.json"), serializeRuntimeSpec(spec));
    ids.push(id);
    return { path, id };
  }

  function run(b: { path: string; id: string }): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("runc", ["run", "--bundle", b.path, b.id], { encoding: "utf8", timeout: 30_000 });
    spawnSync("runc", ["delete", "-f", b.id]);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  test("default: the 14 capabilities and seccomp filter mode", () => {
    const r = run(bundle("default", () => {}));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^CapEff:\s*00000000a80425fb$/m);
    assert.match(r.stdout, /^CapBnd:\s*00000000a80425fb$/m);
    assert.match(r.stdout, /^CapInh:\s*0000000000000000$/m);
    assert.match(r.stdout, /^Seccomp:\s*2$/m);
    assert.match(r.stdout, /^NoNewPrivs:\s*0$/m);
  });

  test("the default profile denies what Docker denies and allows what it allows", () => {
    const r = run(
      bundle("deny", (input) => {
        // unshare(2) needs CAP_SYS_ADMIN's rule: EPERM from seccomp; chroot is allowed by CAP_SYS_CHROOT.
        input.config.Cmd = [
          "/bin/busybox",
          "sh",
          "-c",
          "/bin/busybox unshare -u true; echo unshare=$?; /bin/busybox chroot / /bin/busybox true; echo chroot=$?; ulimit -n; ulimit -Hn",
        ];
      }),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /unshare=1/);
    assert.match(r.stdout, /chroot=0/);
    const [soft, hard] = r.stdout.trim().split("\n").slice(-2);
    // Docker's nofile (soft = hard = 1048576), within the host's hard limit.
    const expected = String(Math.min(1048576, Number(hostFacts().rlimitHard.nofile)));
    assert.equal(soft, expected);
    assert.equal(hard, expected);
  });

  test("privileged, no-new-privileges and a non-root user", () => {
    const priv = run(bundle("privileged", (input) => (input.hostConfig.Privileged = true)));
    assert.equal(priv.status, 0, priv.stderr);
    assert.match(priv.stdout, /^Seccomp:\s*0$/m);
    const host = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    assert.match(priv.stdout, new RegExp(`^CapEff:\\s*${host}$`, "m"));

    const nnp = run(
      bundle("nnp", (input) => {
        input.hostConfig.SecurityOpt = ["no-new-privileges"];
        input.user = resolveUser("nobody", {
          passwd: "nobody:x:65534:65534:nobody:/home:/bin/false\n",
          group: "nogroup:x:65534:\n",
        });
      }),
    );
    assert.equal(nnp.status, 0, nnp.stderr);
    assert.match(nnp.stdout, /^NoNewPrivs:\s*1$/m);
    assert.match(nnp.stdout, /^Uid:\s*65534\s+65534\s+65534\s+65534$/m);
    assert.match(nnp.stdout, /^CapEff:\s*0000000000000000$/m);
  });

  test("read-only rootfs, tmpfs, memory and pids limits start", () => {
    const r = run(
      bundle("limits", (input) => {
        input.hostConfig = {
          ReadonlyRootfs: true,
          Memory: 64 * 1024 * 1024,
          PidsLimit: 50,
          CpuShares: 512,
          NanoCpus: 5e8,
        };
        input.mounts = [{ type: "tmpfs", destination: "/tmp", options: ["size=1m"] }];
        input.config.Cmd = [
          "/bin/busybox",
          "sh",
          "-c",
          "touch /x 2>/dev/null; echo root=$?; touch /tmp/x; echo tmp=$?; grep -E ' /tmp | /dev/shm ' /proc/mounts",
        ];
      }),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /root=1/);
    assert.match(r.stdout, /tmp=0/);
    assert.match(r.stdout, /tmpfs \/tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k/);
    assert.match(r.stdout, /shm \/dev\/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k/);
  });
});
