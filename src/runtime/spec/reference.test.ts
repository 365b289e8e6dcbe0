/**
 * The golden specs under testdata/ were recorded from berth's own generator, so they are regression
 * snapshots (testdata/README.md). This suite checks the default one, `default-busybox.json`,
 * against references that do not come from berth:
 *  - Docker's defaults for `docker run IMAGE`: the 14 capabilities of Docker's run reference
 *    ("Runtime privilege and Linux capabilities"), and moby's template of every container's spec
 *    (`daemon/pkg/oci/defaults.go` DefaultLinuxSpec: mounts with their options, masked and
 *    read-only paths, the device cgroup rules), with the default 64 MiB /dev/shm
 *    (`daemon/config` DefaultShmSize), written out below as the facts they are;
 *  - what the real `runc spec` on this machine generates: the kernel file systems it mounts (type,
 *    source, options), and the paths it masks and makes read-only, which a spec for runc must keep.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// dist/src/runtime/spec → the checkout's src/runtime/spec/testdata (the JSON is not compiled).
const GOLDEN = resolve(here, "../../../../src/runtime/spec/testdata/default-busybox.json");

interface Mount {
  readonly destination: string;
  readonly type?: string;
  readonly source?: string;
  readonly options?: readonly string[];
}

interface Spec {
  readonly process: { readonly capabilities: Record<string, readonly string[] | undefined> };
  readonly mounts: readonly Mount[];
  readonly linux: {
    readonly maskedPaths?: readonly string[];
    readonly readonlyPaths?: readonly string[];
    readonly namespaces: ReadonlyArray<{ readonly type: string }>;
    readonly resources?: { readonly devices?: readonly unknown[] };
  };
}

/** The fields read below, checked for their shape (the rest of a spec is not looked at). */
function isSpec(v: unknown): v is Spec {
  if (typeof v !== "object" || v === null) return false;
  if (!("process" in v) || typeof v.process !== "object" || v.process === null) return false;
  if (!("capabilities" in v.process) || typeof v.process.capabilities !== "object") return false;
  if (!("mounts" in v) || !Array.isArray(v.mounts)) return false;
  if (!v.mounts.every((m: unknown) => typeof m === "object" && m !== null && "destination" in m))
    return false;
  return "linux" in v && typeof v.linux === "object" && v.linux !== null && "namespaces" in v.linux;
}

function readSpec(path: string): Spec {
  const v: unknown = JSON.parse(readFileSync(path, "utf8"));
  assert.ok(isSpec(v), `${path} is not a runtime spec`);
  return v;
}

/** Docker's default capabilities (docs: "Runtime privilege and Linux capabilities"). */
const DOCKER_CAPS = [
  "CAP_AUDIT_WRITE",
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_MKNOD",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_RAW",
  "CAP_SETFCAP",
  "CAP_SETGID",
  "CAP_SETPCAP",
  "CAP_SETUID",
  "CAP_SYS_CHROOT",
];

/** moby's DefaultLinuxSpec mounts, in its order, with /dev/shm sized to the 64 MiB default. */
const DOCKER_MOUNTS: readonly Mount[] = [
  { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
  {
    destination: "/dev",
    type: "tmpfs",
    source: "tmpfs",
    options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
  },
  {
    destination: "/dev/pts",
    type: "devpts",
    source: "devpts",
    options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
  },
  { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
  {
    destination: "/sys/fs/cgroup",
    type: "cgroup",
    source: "cgroup",
    options: ["ro", "nosuid", "noexec", "nodev"],
  },
  { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  {
    destination: "/dev/shm",
    type: "tmpfs",
    source: "shm",
    options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${64 * 1024 * 1024}`],
  },
];

/** moby's defaultLinuxMaskedPaths (before the per-CPU thermal_throttle entries of the host). */
const DOCKER_MASKED = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
];
const DOCKER_READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** moby's DefaultLinuxSpec device cgroup rules: deny all, then the standard devices, then no tun. */
const DOCKER_DEVICES = [
  { allow: false, access: "rwm" },
  ...[
    [1, 5],
    [1, 3],
    [1, 9],
    [1, 8],
    [5, 0],
    [5, 1],
  ].map(([major, minor]) => ({ allow: true, type: "c", major, minor, access: "rwm" })),
  { allow: false, type: "c", major: 10, minor: 229, access: "rwm" },
];

const golden = readSpec(GOLDEN);
const sorted = (xs: readonly string[] | undefined) => [...(xs ?? [])].sort();

describe("default-busybox.json against Docker's defaults", () => {
  test("the 14 capabilities in bounding, effective and permitted; none inheritable or ambient", () => {
    const caps = golden.process.capabilities;
    for (const set of ["bounding", "effective", "permitted"])
      assert.deepEqual(sorted(caps[set]), DOCKER_CAPS, set);
    for (const set of ["inheritable", "ambient"]) assert.deepEqual(caps[set] ?? [], [], set);
  });

  test("the template's mounts, in its order and with its options", () => {
    const kernel = golden.mounts.filter((m) => m.type !== "bind");
    assert.deepEqual(kernel, DOCKER_MOUNTS);
  });

  test("the masked and read-only paths, and the device cgroup rules", () => {
    assert.deepEqual(golden.linux.maskedPaths, DOCKER_MASKED);
    assert.deepEqual(golden.linux.readonlyPaths, DOCKER_READONLY);
    assert.deepEqual(golden.linux.resources?.devices, DOCKER_DEVICES);
  });
});

describe("default-busybox.json against `runc spec`", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-runc-spec-"));
  let runc: Spec;
  try {
    execFileSync("runc", ["spec"], { cwd: dir });
    runc = readSpec(join(dir, "config.json"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  test("every kernel file system runc mounts is mounted the same way (options may add to runc's)", () => {
    for (const r of runc.mounts) {
      const b = golden.mounts.find((m) => m.destination === r.destination);
      assert.ok(b, `${r.destination} is not mounted`);
      assert.equal(b.type, r.type, r.destination);
      assert.equal(b.source, r.source, r.destination);
      // runc's cgroup mount says relatime, the kernel's default, which Docker does not spell out;
      // /dev/shm is sized by --shm-size.
      const mine = new Set(b.options ?? []);
      for (const o of r.options ?? []) {
        if (o === "relatime" || (r.destination === "/dev/shm" && o.startsWith("size="))) continue;
        assert.ok(mine.has(o), `${r.destination} lacks ${o}`);
      }
    }
  });

  test("every path runc masks or makes read-only is masked or read-only", () => {
    for (const p of runc.linux.maskedPaths ?? []) assert.ok(golden.linux.maskedPaths?.includes(p), p);
    for (const p of runc.linux.readonlyPaths ?? []) assert.ok(golden.linux.readonlyPaths?.includes(p), p);
  });

  test("every namespace runc creates is created", () => {
    const mine = new Set(golden.linux.namespaces.map((n) => n.type));
    for (const n of runc.linux.namespaces) assert.ok(mine.has(n.type), n.type);
  });
});
