/**
 * What the benchmarks run on: a temporary berth store, a runc bundle of the same busybox root
 * filesystem (the floor), the build context, and the engines found on this machine. Everything
 * lives under one temporary directory that cleanup() removes with every container, mount and
 * runc state in it.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BERTH, busyboxRootfs } from "../scripts/busybox-image.js";
import { tearDownBridge } from "../src/network/bridge.js";
import { must, run } from "./proc.js";

export { BERTH };

/** A container engine's command line: berth with its own store, or Docker/Podman when installed. */
export interface EngineCli {
  /** "baseline": another berth checkout's bin/berth on the same store (`--baseline`). */
  /** "berth API": the docker CLI against a `berth serve` on berth's store. */
  readonly name: "berth" | "baseline" | "berth API" | "Docker" | "Podman";
  readonly cmd: string;
  /** Arguments before the command (berth and Podman: their temporary stores). */
  readonly prefix: readonly string[];
  /** The busybox image as this engine knows it. */
  readonly image: string;
  /** Flags `run` and `create` take before the image (the peers: `--pull never`). */
  readonly runFlags: readonly string[];
  /** `rm`'s flags that remove a running container (Podman: `-f -t 0`). */
  readonly rmFlags: readonly string[];
  /** Flags for push/pull to the plain-HTTP registry on 127.0.0.1. */
  readonly insecureRegistryFlags: readonly string[];
}

export function argv(e: EngineCli, args: readonly string[]): string[] {
  return [...e.prefix, ...args];
}

export interface Workspace {
  readonly dir: string;
  readonly berth: EngineCli;
  /** A second berth store for load and pull, emptied after each run. */
  readonly side: EngineCli;
  readonly runcRoot: string;
  /** berth's default bridge device for this run (BERTH_BRIDGE). */
  readonly bridge: string;
}

export async function createWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "berth-bench-"));
  const store = (name: string): EngineCli => ({
    name: "berth",
    cmd: BERTH,
    prefix: ["--root", join(dir, name, "root"), "--runroot", join(dir, name, "run")],
    image: "busybox:latest",
    runFlags: [],
    rmFlags: ["-f"],
    insecureRegistryFlags: [],
  });
  return {
    dir,
    berth: store("main"),
    side: store("side"),
    runcRoot: join(dir, "runc"),
    bridge: `bb${process.pid.toString(36)}`.slice(0, 15),
  };
}

/**
 * A runc bundle of the busybox root filesystem: `runc spec` with the process set to `true`, no
 * terminal, and no rlimit above this process's hard limits (the machine lacks CAP_SYS_RESOURCE).
 */
export async function prepareBundle(ws: Workspace): Promise<string> {
  const bundle = join(ws.dir, "bundle");
  const rootfs = join(bundle, "rootfs");
  await mkdir(rootfs, { recursive: true });
  await must("tar", ["-x", "-C", rootfs, "-f", "-"], { input: await busyboxRootfs() });
  await must("runc", ["spec", "-b", bundle]);
  const spec: unknown = JSON.parse(await readFile(join(bundle, "config.json"), "utf8"));
  if (typeof spec !== "object" || spec === null || !("process" in spec)) {
    throw new Error("runc spec wrote no process");
  }
  const proc = spec.process;
  if (typeof proc !== "object" || proc === null) throw new Error("runc spec wrote no process");
  const hardNofile = Number((await must("sh", ["-c", "ulimit -Hn"])).stdout.trim());
  Object.assign(proc, {
    args: ["true"],
    terminal: false,
    rlimits: [{ type: "RLIMIT_NOFILE", hard: hardNofile, soft: Math.min(1024, hardNofile) }],
  });
  await writeFile(join(bundle, "config.json"), JSON.stringify(spec, null, 2));
  return bundle;
}

/** A 1 MB file COPY plus a RUN, on the busybox image as `e` names it; a directory per engine. */
export async function prepareBuildContext(ws: Workspace, e: EngineCli): Promise<string> {
  const image = e.image;
  const ctx = join(ws.dir, `build-context-${e.name.replace(/\W/g, "-").toLowerCase()}`);
  await mkdir(ctx, { recursive: true });
  await writeFile(join(ctx, "data.bin"), randomBytes(1024 * 1024));
  await writeFile(
    join(ctx, "Dockerfile"),
    `FROM ${image}\nCOPY data.bin /data.bin\nRUN wc -c /data.bin > /size.txt && sha256sum /data.bin > /data.sha256\n`,
  );
  return ctx;
}

/** Removes every container of an engine's store (killing running ones). */
export async function removeAllContainers(e: EngineCli): Promise<void> {
  const ids = (await run(e.cmd, argv(e, ["ps", "-aq", "--no-trunc"]))).stdout.split("\n").filter(Boolean);
  for (let i = 0; i < ids.length; i += 200) {
    await run(e.cmd, argv(e, ["rm", ...e.rmFlags, "-v", ...ids.slice(i, i + 200)]));
  }
}

/**
 * Removes everything berth's side of the run made: containers of its stores, leftover runc state,
 * mounts under the workspace (the peers' stores included), then the workspace itself. The peers'
 * containers and host leftovers are removed by their own stop() first.
 */
export async function cleanup(ws: Workspace): Promise<void> {
  for (const e of [ws.berth, ws.side]) await removeAllContainers(e).catch(() => undefined);
  for (const root of [ws.runcRoot, join(ws.dir, "main/run/runc"), join(ws.dir, "side/run/runc")]) {
    const list = await run("runc", ["--root", root, "list", "-q"]).catch(() => undefined);
    for (const id of list?.stdout.split("\n").filter(Boolean) ?? []) {
      await run("runc", ["--root", root, "delete", "-f", id]).catch(() => undefined);
    }
  }
  await tearDownBridge(ws.bridge, join(ws.dir, "main/run/cni/bridges")).catch(() => undefined);
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  const mounts = mountinfo
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(`${ws.dir}/`))
    .sort()
    .reverse();
  for (const m of mounts) await run("umount", ["-l", m]).catch(() => undefined);
  await rm(ws.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

/** How many containers a berth store holds on disk (the --rm cleanup removes the directory last). */
export async function containerDirs(e: EngineCli): Promise<number> {
  const root = e.prefix[1];
  if ((e.name !== "berth" && e.name !== "baseline") || root === undefined) return 0;
  return (await readdir(join(root, "containers")).catch(() => [])).length;
}
