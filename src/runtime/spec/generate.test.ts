import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { isBerthError } from "../../base/errors.js";
import { DEFAULT_CAPABILITIES, KNOWN_CAPABILITIES } from "./capabilities.js";
import {
  buildRuntimeSpec,
  mergeTmpfsOptions,
  parseSecurityOptions,
  planRuntimeSpec,
  type SpecInput,
  tmpfsOptionsFromMountSpec,
} from "./generate.js";
import { RLIM_INFINITY, type RuntimeSpec, serializeRuntimeSpec } from "./types.js";
import { resolveUser } from "./user.js";

const BUSYBOX_PASSWD =
  "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n";
const BUSYBOX_GROUP = "root:x:0:\ndaemon:x:1:\nwheel:x:10:root\nnogroup:x:65534:\n";

/** This machine's kind of host: every capability but CAP_SYS_RESOURCE, hard nofile 20000. */
function input(over: (i: SpecInput) => void = () => {}): SpecInput {
  const i: SpecInput = {
    config: { Cmd: ["sh"], Hostname: "0123456789ab", Image: "busybox" },
    hostConfig: {},
    user: resolveUser("", { passwd: BUSYBOX_PASSWD, group: BUSYBOX_GROUP }),
    rootfs: "/var/lib/berth/containers/0123456789ab/rootfs",
    mounts: [],
    network: { kind: "new" },
    networkFiles: {
      resolvConf: "/var/lib/berth/containers/0123456789ab/resolv.conf",
      hostname: "/var/lib/berth/containers/0123456789ab/hostname",
      hosts: "/var/lib/berth/containers/0123456789ab/hosts",
    },
    cgroupsPath: "/berth/0123456789ab",
    host: {
      kernelVersion: "6.1.0-18-amd64",
      architecture: "amd64",
      capabilities: KNOWN_CAPABILITIES.filter((c) => c !== "CAP_SYS_RESOURCE"),
      timeNamespace: false,
      cgroupVersion: 2,
      thermalThrottlePaths: [],
      rlimitHard: { nofile: 20000, nproc: 96365 },
    },
  };
  over(i);
  return i;
}

function errorKind(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, "InvalidArgument") || isBerthError(err, "FailedPrecondition"), String(err));
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

// ---- golden files ----

const here = dirname(fileURLToPath(import.meta.url));
const repo = [resolve(here, "../../.."), resolve(here, "../../../..")].find((d) => {
  try {
    return statSync(join(d, "package.json")).isFile() && statSync(join(d, "src/runtime/spec")).isDirectory();
  } catch {
    return false;
  }
});
const testdata = join(repo ?? "", "src/runtime/spec/testdata");
const UPDATE = process.env.BERTH_UPDATE_GOLDEN === "1";

const GOLDEN: Record<string, SpecInput> = {
  "default-busybox": input(),
  privileged: input((i) => {
    i.hostConfig.Privileged = true;
    i.config.Tty = true;
    i.config.OpenStdin = true;
  }),
  "cap-add-drop": input((i) => {
    i.hostConfig.CapAdd = ["net_admin", "CAP_SYS_ADMIN"];
    i.hostConfig.CapDrop = ["mknod", "NET_RAW"];
  }),
  "read-only-tmpfs": input((i) => {
    i.hostConfig.ReadonlyRootfs = true;
    i.hostConfig.Tmpfs = { "/run": "rw,size=64m,exec" };
    i.mounts = [
      { type: "tmpfs", destination: "/run", options: ["rw", "size=64m", "exec"] },
      { type: "volume", source: "/var/lib/berth/volumes/data/_data", destination: "/data" },
      { type: "bind", source: "/srv/conf", destination: "/etc/app/conf", readOnly: true },
    ];
  }),
  "limits-ulimits": input((i) => {
    i.config.Env = ["PATH=/opt/bin:/bin", "HOME=/work", "FOO=bar"];
    i.config.WorkingDir = "/work";
    i.config.Entrypoint = ["/entry.sh"];
    i.config.Cmd = ["serve", "--port", "80"];
    i.hostConfig = {
      Memory: 256 * 1024 * 1024,
      NanoCpus: 1.5e9,
      CpuShares: 512,
      CpusetCpus: "0-1",
      PidsLimit: 100,
      OomScoreAdj: 500,
      Ulimits: [
        { Name: "nofile", Soft: 4096, Hard: 8192 },
        { Name: "core", Soft: -1, Hard: -1 },
      ],
      SecurityOpt: ["no-new-privileges:true"],
      Sysctls: { "net.core.somaxconn": "1024" },
    };
    i.config.User = "daemon";
    i.user = resolveUser("daemon", { passwd: BUSYBOX_PASSWD, group: BUSYBOX_GROUP }, ["wheel", "4242"]);
  }),
  init: input((i) => {
    i.hostConfig.Init = true;
    i.initPath = "/usr/libexec/berth/docker-init";
  }),
  "shm-mount-host-network": input((i) => {
    i.hostConfig = { NetworkMode: "host", ShmSize: 128 * 1024 * 1024 };
    i.network = { kind: "host" };
    i.mounts = [{ type: "bind", source: "/dev/shm", destination: "/dev/shm" }];
    i.host.cgroupVersion = 1;
    i.host.recursiveReadOnly = true;
    i.host.thermalThrottlePaths = ["/sys/devices/system/cpu/cpu0/thermal_throttle"];
  }),
};

describe("golden specs", () => {
  for (const [name, i] of Object.entries(GOLDEN)) {
    test(name, () => {
      const file = join(testdata, `${name}.json`);
      const text = serializeRuntimeSpec(buildRuntimeSpec(i));
      if (UPDATE) {
        mkdirSync(testdata, { recursive: true });
        writeFileSync(file, text);
      }
      assert.ok(existsSync(file), `${file} missing; run with BERTH_UPDATE_GOLDEN=1`);
      assert.equal(text, readFileSync(file, "utf8"));
    });
  }
});

// ---- rules ----

function spec(over: (i: SpecInput) => void = () => {}): RuntimeSpec {
  return buildRuntimeSpec(input(over));
}

describe("process", () => {
  test("args: Entrypoint then Cmd; an Entrypoint of [''] is none; nothing is an error", () => {
    assert.deepEqual(spec((i) => (i.config = { Entrypoint: ["/e", "-x"], Cmd: ["a", "b"] })).process.args, [
      "/e",
      "-x",
      "a",
      "b",
    ]);
    assert.deepEqual(spec((i) => (i.config = { Entrypoint: [""], Cmd: ["ls"] })).process.args, ["ls"]);
    assert.deepEqual(spec((i) => (i.config = { Entrypoint: ["/e"], Cmd: null })).process.args, ["/e"]);
    errorKind(() => spec((i) => (i.config = { Entrypoint: null, Cmd: [] })), "no command specified");
  });

  test("env: PATH default, HOSTNAME, TERM with a tty, overrides in place, unset, HOME last", () => {
    assert.deepEqual(spec().process.env, [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOSTNAME=0123456789ab",
      "HOME=/root",
    ]);
    const env = spec((i) => {
      i.config.Tty = true;
      i.config.Env = ["PATH=/x", "A=1", "HOSTNAME", "B=2=3"];
    }).process.env;
    assert.deepEqual(env, ["PATH=/x", "TERM=xterm", "A=1", "B=2=3", "HOME=/root"]);
    assert.deepEqual(
      spec((i) => (i.config.Env = ["HOME=/h"])).process.env.filter((e) => e.startsWith("HOME=")),
      ["HOME=/h"],
    );
    const nobody = resolveUser("4000", { passwd: BUSYBOX_PASSWD });
    assert.equal(spec((i) => (i.user = nobody)).process.env.at(-1), "HOME=/");
  });

  test("cwd, terminal, user, oomScoreAdj", () => {
    const s = spec((i) => {
      i.config.WorkingDir = "/app";
      i.config.Tty = true;
      i.hostConfig.OomScoreAdj = -10;
    });
    assert.equal(s.process.cwd, "/app");
    assert.equal(s.process.terminal, true);
    assert.equal(s.process.oomScoreAdj, -10);
    assert.equal(spec().process.cwd, "/");
    assert.equal(spec().process.terminal, undefined);
    assert.equal(spec().process.oomScoreAdj, 0);
    assert.deepEqual(spec().process.user, { uid: 0, gid: 0, additionalGids: [0, 10] });
  });

  test("hostname: Config.Hostname, none with --uts host; domainname as the kernel.domainname sysctl", () => {
    assert.equal(spec().hostname, "0123456789ab");
    const s = spec((i) => {
      i.hostConfig.UTSMode = "host";
      i.config.Domainname = "example.org";
    });
    assert.equal(s.hostname, undefined);
    assert.ok(!s.linux.namespaces.some((n) => n.type === "uts"));
    assert.equal(s.linux.sysctl?.["kernel.domainname"], "example.org");
  });

  test("--init: docker-init -- args, bound read-only at /sbin/docker-init; not with --pid host", () => {
    const s = spec((i) => {
      i.hostConfig.Init = true;
      i.initPath = "/opt/tini";
    });
    assert.deepEqual(s.process.args, ["/sbin/docker-init", "--", "sh"]);
    assert.deepEqual(
      s.mounts.find((m) => m.destination === "/sbin/docker-init"),
      { destination: "/sbin/docker-init", type: "bind", source: "/opt/tini", options: ["bind", "ro"] },
    );
    const hostPid = spec((i) => {
      i.hostConfig = { Init: true, PidMode: "host" };
      i.initPath = "/opt/tini";
    });
    assert.deepEqual(hostPid.process.args, ["sh"]);
    errorKind(() => spec((i) => (i.hostConfig.Init = true)), /no init binary/);
  });
});

describe("capabilities and security options", () => {
  test("default: Docker's 14 in bounding/effective/permitted; no inheritable or ambient", () => {
    const caps = spec().process.capabilities;
    assert.deepEqual(caps, {
      bounding: [...DEFAULT_CAPABILITIES],
      effective: [...DEFAULT_CAPABILITIES],
      permitted: [...DEFAULT_CAPABILITIES],
    });
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
  });

  test("cap-add/cap-drop: any case, with or without CAP_, ALL", () => {
    const caps = (add: string[], drop: string[]) =>
      spec((i) => {
        i.hostConfig.CapAdd = add;
        i.hostConfig.CapDrop = drop;
      }).process.capabilities.bounding ?? [];
    const a = caps(["Sys_Ptrace"], ["cap_chown", "KILL"]);
    assert.ok(a.includes("CAP_SYS_PTRACE"));
    assert.ok(!a.includes("CAP_CHOWN") && !a.includes("CAP_KILL"));
    assert.equal(a.length, 13);
    assert.deepEqual(caps(["NET_ADMIN"], ["all"]), ["CAP_NET_ADMIN"]);
    const all = caps(["ALL"], ["SYS_ADMIN"]);
    assert.equal(all.length, 39);
    assert.ok(!all.includes("CAP_SYS_ADMIN") && !all.includes("CAP_SYS_RESOURCE"));
    assert.deepEqual(spec((i) => (i.hostConfig.CapDrop = ["ALL"])).process.capabilities, {});
    errorKind(() => caps(["FOO"], []), 'unknown capability: "CAP_FOO"');
    errorKind(
      () => caps(["SYS_RESOURCE"], []),
      'capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"',
    );
  });

  test("privileged: every host capability, no seccomp, no masked/readonly paths, rw /sys and cgroup, all devices", () => {
    const s = spec((i) => (i.hostConfig.Privileged = true));
    assert.equal(s.process.capabilities.bounding?.length, 40);
    assert.equal(s.linux.seccomp, undefined);
    assert.equal(s.linux.maskedPaths, undefined);
    assert.equal(s.linux.readonlyPaths, undefined);
    assert.deepEqual(s.mounts.find((m) => m.destination === "/sys")?.options, ["nosuid", "noexec", "nodev"]);
    assert.deepEqual(s.mounts.find((m) => m.destination === "/sys/fs/cgroup")?.options, [
      "nosuid",
      "noexec",
      "nodev",
    ]);
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: "rwm" }]);
    // An explicit profile still applies to a privileged container.
    const custom = spec((i) => {
      i.hostConfig.Privileged = true;
      i.hostConfig.SecurityOpt = ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'];
    });
    assert.deepEqual(custom.linux.seccomp, { defaultAction: "SCMP_ACT_ALLOW" });
  });

  test("no-new-privileges only when asked; seccomp=unconfined; writable-cgroups; bad options", () => {
    assert.equal(spec().process.noNewPrivileges, undefined);
    for (const opt of ["no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"]) {
      assert.equal(spec((i) => (i.hostConfig.SecurityOpt = [opt])).process.noNewPrivileges, true, opt);
    }
    assert.equal(
      spec((i) => (i.hostConfig.SecurityOpt = ["no-new-privileges=false"])).process.noNewPrivileges,
      undefined,
    );
    assert.equal(spec((i) => (i.hostConfig.SecurityOpt = ["seccomp=unconfined"])).linux.seccomp, undefined);
    assert.equal(
      spec((i) => (i.hostConfig.SecurityOpt = ["seccomp=builtin"])).linux.seccomp?.defaultAction,
      "SCMP_ACT_ERRNO",
    );
    assert.deepEqual(
      spec((i) => (i.hostConfig.SecurityOpt = ["writable-cgroups"])).mounts.find((m) => m.type === "cgroup")
        ?.options,
      ["nosuid", "noexec", "nodev"],
    );
    assert.deepEqual(parseSecurityOptions(["apparmor=unconfined", "label=disable"]), {
      noNewPrivileges: false,
    });
    errorKind(() => parseSecurityOptions(["bogus"]), 'invalid --security-opt 1: "bogus"');
    errorKind(() => parseSecurityOptions(["foo=bar"]), 'invalid --security-opt 2: "foo=bar"');
    errorKind(
      () => parseSecurityOptions(["no-new-privileges=maybe"]),
      'invalid --security-opt 2: "no-new-privileges=maybe"',
    );
  });

  test("seccomp: default profile evaluated for the container's capabilities; warning without kernel seccomp", () => {
    const names = (s: RuntimeSpec) => (s.linux.seccomp?.syscalls ?? []).flatMap((r) => r.names);
    const base = spec();
    assert.equal(base.linux.seccomp?.defaultAction, "SCMP_ACT_ERRNO");
    assert.equal(base.linux.seccomp?.defaultErrnoRet, 1);
    assert.deepEqual(base.linux.seccomp?.architectures, [
      "SCMP_ARCH_X86_64",
      "SCMP_ARCH_X86",
      "SCMP_ARCH_X32",
    ]);
    assert.ok(!names(base).includes("mount"));
    assert.ok(names(base).includes("chroot"));
    const admin = spec((i) => (i.hostConfig.CapAdd = ["SYS_ADMIN"]));
    assert.ok(names(admin).includes("mount"));
    const plan = planRuntimeSpec(input((i) => (i.host.seccomp = false)));
    assert.equal(plan.spec.linux.seccomp, undefined);
    assert.match(plan.warnings.join("\n"), /seccomp is not enabled in your kernel/);
    errorKind(
      () =>
        spec((i) => {
          i.host.seccomp = false;
          i.hostConfig.SecurityOpt = ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'];
        }),
      "seccomp is not enabled in your kernel, cannot run a custom seccomp profile",
    );
  });
});

describe("mounts", () => {
  const dests = (s: RuntimeSpec) => s.mounts.map((m) => m.destination);

  test("the default table in Docker's order, /dev/shm sized by ShmSize (default 64 MiB), per-container /etc files last", () => {
    const s = spec();
    assert.deepEqual(dests(s), [
      "/proc",
      "/dev",
      "/dev/pts",
      "/sys",
      "/sys/fs/cgroup",
      "/dev/mqueue",
      "/dev/shm",
      "/etc/resolv.conf",
      "/etc/hostname",
      "/etc/hosts",
    ]);
    assert.deepEqual(s.mounts[6]?.options, ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]);
    assert.deepEqual(s.mounts[7], {
      destination: "/etc/resolv.conf",
      type: "bind",
      source: "/var/lib/berth/containers/0123456789ab/resolv.conf",
      options: ["rbind", "rprivate"],
    });
    const big = spec((i) => (i.hostConfig.ShmSize = 1 << 30));
    assert.equal(big.mounts[6]?.options?.at(-1), "size=1073741824");
  });

  test("user mounts replace defaults at the same destination; a user /dev drops every /dev/* default", () => {
    const s = spec((i) => (i.mounts = [{ type: "tmpfs", destination: "/dev/shm", options: ["size=1g"] }]));
    const shm = s.mounts.filter((m) => m.destination === "/dev/shm");
    assert.deepEqual(shm, [
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "tmpfs",
        options: ["noexec", "nosuid", "nodev", "rprivate", "size=1g"],
      },
    ]);
    const dev = spec((i) => (i.mounts = [{ type: "bind", source: "/dev", destination: "/dev" }]));
    assert.deepEqual(dests(dev).slice(0, 4), ["/proc", "/sys", "/sys/fs/cgroup", "/dev"]);
  });

  test("--ipc none drops /dev/shm; --ipc host binds the host's", () => {
    assert.ok(!dests(spec((i) => (i.hostConfig.IpcMode = "none"))).includes("/dev/shm"));
    const host = spec((i) => (i.hostConfig.IpcMode = "host"));
    assert.deepEqual(
      host.mounts.find((m) => m.destination === "/dev/shm"),
      {
        destination: "/dev/shm",
        type: "bind",
        source: "/dev/shm",
        options: ["rbind", "rprivate"],
      },
    );
    assert.ok(!host.linux.namespaces.some((n) => n.type === "ipc"));
  });

  test("binds: rbind, ro (rro where supported), propagation; volumes without propagation; sorted by depth", () => {
    const s = spec((i) => {
      i.networkFiles = {};
      i.mounts = [
        { type: "bind", source: "/a", destination: "/x/y/z", readOnly: true },
        { type: "volume", source: "/v", destination: "/data" },
        { type: "bind", source: "/b", destination: "/x", propagation: "rshared", nonRecursive: true },
      ];
    });
    assert.deepEqual(s.mounts.slice(7), [
      { destination: "/data", type: "bind", source: "/v", options: ["rbind"] },
      { destination: "/x", type: "bind", source: "/b", options: ["bind", "rshared"] },
      { destination: "/x/y/z", type: "bind", source: "/a", options: ["rbind", "ro", "rprivate"] },
    ]);
    const rro = spec((i) => {
      i.host.recursiveReadOnly = true;
      i.mounts = [
        { type: "volume", source: "/v", destination: "/data", readOnly: true },
        { type: "bind", source: "/b", destination: "/b", readOnly: true, readOnlyNonRecursive: true },
      ];
    });
    assert.deepEqual(rro.mounts.find((m) => m.destination === "/data")?.options, ["rbind", "rro"]);
    assert.deepEqual(rro.mounts.find((m) => m.destination === "/b")?.options, ["rbind", "ro", "rprivate"]);
  });

  test("a user mount at /etc/hosts replaces the per-container file", () => {
    const s = spec(
      (i) => (i.mounts = [{ type: "bind", source: "/my/hosts", destination: "/etc/hosts", readOnly: true }]),
    );
    const hosts = s.mounts.filter((m) => m.destination === "/etc/hosts");
    assert.deepEqual(hosts, [
      { destination: "/etc/hosts", type: "bind", source: "/my/hosts", options: ["rbind", "ro", "rprivate"] },
    ]);
  });

  test("tmpfs: noexec,nosuid,nodev first, the last of conflicting options wins, bad options refused", () => {
    assert.deepEqual(
      mergeTmpfsOptions(["noexec", "nosuid", "nodev", "rprivate", "rw", "exec", "size=1m", "size=2m"]),
      ["nosuid", "nodev", "rprivate", "rw", "exec", "size=2m"],
    );
    errorKind(() => mergeTmpfsOptions(["bogus"]), 'invalid tmpfs option "bogus"');
    errorKind(() => mergeTmpfsOptions(["foo=1"]), 'invalid tmpfs option "foo"');
    assert.deepEqual(
      tmpfsOptionsFromMountSpec({
        ReadOnly: true,
        TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 },
      }),
      ["ro", "mode=1777", "size=64m"],
    );
    assert.deepEqual(tmpfsOptionsFromMountSpec({ TmpfsOptions: { SizeBytes: 1000 } }), ["size=1000"]);
  });

  test("read-only rootfs: root.readonly, per-container files ro, defaults untouched", () => {
    const s = spec((i) => (i.hostConfig.ReadonlyRootfs = true));
    assert.equal(s.root.readonly, true);
    assert.deepEqual(s.mounts.find((m) => m.destination === "/etc/hosts")?.options, [
      "rbind",
      "ro",
      "rprivate",
    ]);
    assert.deepEqual(s.mounts.find((m) => m.destination === "/dev")?.options, [
      "nosuid",
      "strictatime",
      "mode=755",
      "size=65536k",
    ]);
    assert.equal(spec().root.readonly, undefined);
  });

  test("relative destinations are refused", () => {
    errorKind(
      () => spec((i) => (i.mounts = [{ type: "volume", source: "/v", destination: "data" }])),
      /must be absolute/,
    );
  });
});

describe("linux", () => {
  test("masked paths incl. /proc/interrupts and thermal_throttle; read-only paths; HostConfig overrides", () => {
    const s = spec((i) => (i.host.thermalThrottlePaths = ["/sys/devices/system/cpu/cpu0/thermal_throttle"]));
    assert.ok(s.linux.maskedPaths?.includes("/proc/interrupts"));
    assert.equal(s.linux.maskedPaths?.at(-1), "/sys/devices/system/cpu/cpu0/thermal_throttle");
    assert.equal(s.linux.maskedPaths?.length, 13);
    assert.deepEqual(s.linux.readonlyPaths, [
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger",
    ]);
    const none = spec((i) => {
      i.hostConfig.MaskedPaths = [];
      i.hostConfig.ReadonlyPaths = ["/proc/x"];
    });
    assert.equal(none.linux.maskedPaths, undefined);
    assert.deepEqual(none.linux.readonlyPaths, ["/proc/x"]);
  });

  test("namespaces: per NetworkMode, cgroup per version, time only where supported", () => {
    const types = (s: RuntimeSpec) =>
      s.linux.namespaces.map((n) => (n.path ? `${n.type}=${n.path}` : n.type));
    assert.deepEqual(types(spec()), ["mount", "network", "uts", "pid", "ipc", "cgroup"]);
    assert.deepEqual(types(spec((i) => (i.host.cgroupVersion = 1))), [
      "mount",
      "network",
      "uts",
      "pid",
      "ipc",
    ]);
    assert.deepEqual(types(spec((i) => (i.hostConfig.CgroupnsMode = "host"))), [
      "mount",
      "network",
      "uts",
      "pid",
      "ipc",
    ]);
    assert.deepEqual(types(spec((i) => (i.host.timeNamespace = true))), [
      "mount",
      "network",
      "time",
      "uts",
      "pid",
      "ipc",
      "cgroup",
    ]);
    assert.deepEqual(types(spec((i) => (i.network = { kind: "path", path: "/var/run/netns/b1" }))), [
      "mount",
      "network=/var/run/netns/b1",
      "uts",
      "pid",
      "ipc",
      "cgroup",
    ]);
    assert.deepEqual(
      types(
        spec((i) => {
          i.network = { kind: "host" };
          i.hostConfig.NetworkMode = "host";
          i.hostConfig.PidMode = "host";
        }),
      ),
      ["mount", "uts", "ipc", "cgroup"],
    );
    assert.deepEqual(
      types(
        spec((i) => {
          i.hostConfig.PidMode = "container:abc";
          i.joinNamespaces = { pid: "/proc/42/ns/pid" };
        }),
      ),
      ["mount", "network", "uts", "pid=/proc/42/ns/pid", "ipc", "cgroup"],
    );
    errorKind(() => spec((i) => (i.hostConfig.IpcMode = "weird")), "invalid IPC mode: weird");
    errorKind(() => spec((i) => (i.hostConfig.CgroupnsMode = "x")), "invalid cgroup namespace mode: x");
  });

  test("default sysctls only with a namespace of the container's own; HostConfig.Sysctls win", () => {
    assert.deepEqual(spec().linux.sysctl, {
      "net.ipv4.ping_group_range": "0 2147483647",
      "net.ipv4.ip_unprivileged_port_start": "0",
    });
    assert.equal(spec((i) => (i.network = { kind: "host" })).linux.sysctl, undefined);
    const joined = spec((i) => {
      i.hostConfig.NetworkMode = "container:abc";
      i.network = { kind: "path", path: "/proc/9/ns/net" };
    });
    assert.equal(joined.linux.sysctl, undefined);
    assert.equal(
      spec((i) => (i.hostConfig.Sysctls = { "net.ipv4.ip_unprivileged_port_start": "1024" })).linux.sysctl?.[
        "net.ipv4.ip_unprivileged_port_start"
      ],
      "1024",
    );
  });

  test("device cgroup: deny all, the six allowed, fuse denied", () => {
    assert.deepEqual(spec().linux.resources.devices, [
      { allow: false, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 5, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 9, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 8, access: "rwm" },
      { allow: true, type: "c", major: 5, minor: 0, access: "rwm" },
      { allow: true, type: "c", major: 5, minor: 1, access: "rwm" },
      { allow: false, type: "c", major: 10, minor: 229, access: "rwm" },
    ]);
  });

  test("resources: memory and swap, cpus, shares, quota/period, cpuset, pids", () => {
    const r = (hc: SpecInput["hostConfig"], v: 1 | 2 = 2) =>
      spec((i) => {
        i.hostConfig = hc;
        i.host.cgroupVersion = v;
      }).linux.resources;
    assert.deepEqual(r({}), { devices: r({}).devices, blockIO: {} });
    assert.deepEqual(r({}, 1).memory, { disableOOMKiller: false });
    assert.deepEqual(r({ Memory: 1 << 30 }).memory, { limit: 1 << 30, swap: 2 * 2 ** 30 });
    assert.deepEqual(r({ Memory: 1 << 30, MemorySwap: -1 }).memory, { limit: 1 << 30 });
    assert.deepEqual(r({ Memory: 1 << 30, MemorySwap: 3 * 2 ** 30 }).memory, {
      limit: 1 << 30,
      swap: 3 * 2 ** 30,
    });
    const noSwap = planRuntimeSpec(
      input((i) => {
        i.hostConfig.Memory = 1 << 30;
        i.host.swapLimit = false;
      }),
    );
    assert.deepEqual(noSwap.spec.linux.resources.memory, { limit: 1 << 30 });
    assert.equal(noSwap.warnings.length, 1);
    errorKind(() => r({ Memory: 1000 }), "Minimum memory limit allowed is 6MB");
    errorKind(() => r({ Memory: 1 << 30, MemorySwap: 1 << 20 }), /Minimum memoryswap limit/);
    errorKind(() => r({ MemorySwap: 1 << 30 }), /always set the Memory limit/);
    assert.deepEqual(r({ NanoCpus: 1.5e9 }).cpu, { quota: 150000, period: 100000 });
    assert.deepEqual(r({ NanoCpus: 1e7 }).cpu, { quota: 1000, period: 100000 });
    assert.deepEqual(r({ CpuShares: 512, CpuQuota: 50000, CpuPeriod: 200000, CpusetCpus: "0,1" }).cpu, {
      shares: 512,
      quota: 50000,
      period: 200000,
      cpus: "0,1",
    });
    errorKind(
      () => r({ NanoCpus: 1e9, CpuQuota: 1000 }),
      "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
    );
    errorKind(
      () => r({ NanoCpus: 1e9, CpuPeriod: 1000 }),
      "Conflicting options: Nano CPUs and CPU Period cannot both be set",
    );
    errorKind(() => r({ CpuShares: -1 }), "invalid CPU shares (-1): value must be a positive integer");
    assert.deepEqual(r({ PidsLimit: 100 }).pids, { limit: 100 });
    assert.deepEqual(r({ PidsLimit: 0 }).pids, { limit: -1 });
    assert.deepEqual(r({ PidsLimit: -5 }).pids, { limit: -1 });
    assert.equal(r({ PidsLimit: null }).pids, undefined);
    assert.equal(spec().linux.cgroupsPath, "/berth/0123456789ab");
  });

  test("rlimits: Docker's NOFILE min(1048576, host hard) soft and hard; ulimits mapped; never above the host's hard limits", () => {
    assert.deepEqual(spec().process.rlimits, [{ type: "RLIMIT_NOFILE", hard: 20000, soft: 20000 }]);
    assert.deepEqual(spec((i) => (i.host.rlimitHard = { nofile: 4194304 })).process.rlimits, [
      { type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 },
    ]);
    const plan = planRuntimeSpec(
      input((i) => {
        i.hostConfig.Ulimits = [
          { Name: "nproc", Soft: 200000, Hard: 200000 },
          { Name: "NOFILE", Soft: 65536, Hard: 65536 },
          { Name: "core", Soft: -1, Hard: -1 },
        ];
      }),
    );
    assert.deepEqual(plan.spec.process.rlimits, [
      { type: "RLIMIT_NPROC", hard: 96365, soft: 96365 },
      { type: "RLIMIT_NOFILE", hard: 20000, soft: 20000 },
      { type: "RLIMIT_CORE", hard: RLIM_INFINITY, soft: RLIM_INFINITY },
    ]);
    assert.equal(plan.warnings.length, 2);
    assert.match(serializeRuntimeSpec(plan.spec), /"hard": 18446744073709551615,/);
    errorKind(
      () => spec((i) => (i.hostConfig.Ulimits = [{ Name: "bogus", Soft: 1, Hard: 1 }])),
      "invalid ulimit type: bogus",
    );
    errorKind(
      () => spec((i) => (i.hostConfig.Ulimits = [{ Name: "nofile", Soft: 10, Hard: 5 }])),
      "ulimit soft limit must be less than or equal to hard limit: 10 > 5",
    );
  });
});
