/**
 * Docker and Podman as the bench's peers (`--peers`): installed from Debian by
 * scripts/bench-peers.sh, each on a store of the run's own (a dockerd started on a temporary data
 * and exec root for the run only; Podman with temporary --root/--runroot/--tmpdir), given the
 * busybox image berth uses from a file (no registry), and everything they leave on the host
 * afterwards removed: the daemon, its bridge device and firewall chains, Podman's netavark chains
 * and shared lock file. Nothing here talks to a registry; every `run`/`create` says `--pull never`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { busyboxRootfs } from "../scripts/busybox-image.js";
import type { EngineCli, Workspace } from "./fixtures.js";
import { PEER_LINKS, peerLeavings } from "./leavings.js";
import { must, run, sleep, until } from "./proc.js";

const here = dirname(fileURLToPath(import.meta.url));
/** scripts/bench-peers.sh of this checkout (dist/bench → repo root). */
const INSTALL = resolve(here, "../../scripts/bench-peers.sh");

/** The docker CLIs on this machine kind: the installed 28.x, then Debian's own 20.10 client. */
const DOCKER_CLIENTS = ["/usr/local/bin/docker", "/usr/bin/docker"];

export async function installPeers(): Promise<void> {
  const r = await run("bash", [INSTALL]);
  if (r.code !== 0) throw new Error(`scripts/bench-peers.sh failed: ${r.stderr.trim()}`);
}

/** What of the peers' host-wide state existed before the run, so that only their leavings go. */
interface HostBefore {
  readonly links: ReadonlySet<string>;
  readonly rules: Readonly<Record<string, ReadonlySet<string>>>;
  readonly paths: ReadonlyMap<string, boolean>;
}

/** Files and directories a peer makes outside its store even with the paths it is given. */
const PEER_PATHS = [
  "/etc/docker/key.json",
  "/run/docker/plugins",
  "/run/docker",
  "/dev/shm/libpod_lock",
  "/run/containers/networks/ipam.db",
  "/run/containers/networks",
  "/run/containers",
];
const TABLES = ["filter", "nat"];

async function links(): Promise<Set<string>> {
  const r = await run("ip", ["-o", "link", "show"]);
  return new Set(
    r.stdout
      .split("\n")
      .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? "")
      .filter(Boolean),
  );
}

async function rules(table: string): Promise<string[]> {
  return (await run("iptables", ["-w", "-t", table, "-S"])).stdout.split("\n").filter(Boolean);
}

async function snapshotHost(): Promise<HostBefore> {
  const r: Record<string, ReadonlySet<string>> = {};
  for (const t of TABLES) r[t] = new Set(await rules(t));
  return {
    links: await links(),
    rules: r,
    paths: new Map(PEER_PATHS.map((p) => [p, existsSync(p)])),
  };
}

/**
 * Removes what the peers added to the host since `before`: their bridge devices, the rules in
 * the built-in chains that jump to their chains or name their bridges, then their chains.
 */
async function restoreHost(before: HostBefore): Promise<string[]> {
  const removed: string[] = [];
  for (const l of PEER_LINKS) {
    if (!before.links.has(l) && (await links()).has(l)) {
      await run("ip", ["link", "del", l]);
      removed.push(`link ${l}`);
    }
  }
  for (const t of TABLES) {
    const leavings = peerLeavings(before.rules[t] ?? new Set<string>(), await rules(t));
    for (const args of leavings.rules) {
      await run("iptables", ["-w", "-t", t, "-D", ...args]);
      removed.push(`${t}: -A ${args.join(" ")}`);
    }
    for (const c of leavings.chains) await run("iptables", ["-w", "-t", t, "-F", c]);
    for (const c of leavings.chains) {
      if ((await run("iptables", ["-w", "-t", t, "-X", c])).code === 0) removed.push(`${t}: chain ${c}`);
    }
  }
  for (const [p, existed] of before.paths) {
    if (existed || !existsSync(p)) continue;
    if (/\.(json|db)$|_lock$/.test(p)) await rm(p, { force: true });
    else await rmdir(p).catch(() => undefined); // only when empty
    if (!existsSync(p)) removed.push(p);
  }
  return removed;
}

/** A dockerd of the run's own, on a temporary data root and socket. */
export interface Dockerd {
  readonly sock: string;
  readonly client: string;
  readonly clientVersion: string;
  readonly serverVersion: string;
  readonly pid: number;
  stop(): Promise<void>;
}

async function startDockerd(dir: string): Promise<Dockerd> {
  await mkdir(dir, { recursive: true });
  const sock = join(dir, "docker.sock");
  const log = openSync(join(dir, "dockerd.log"), "a");
  // Its default bridge, iptables rules and userland proxy as Debian configures them: the bench
  // compares against Docker as a user gets it.
  const child: ChildProcess = spawn(
    "dockerd",
    [
      "--data-root",
      join(dir, "root"),
      "--exec-root",
      join(dir, "run"),
      "--pidfile",
      join(dir, "docker.pid"),
      "-H",
      `unix://${sock}`,
    ],
    { stdio: ["ignore", log, log] },
  );
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
      if (!done) child.kill("SIGKILL");
      await exited;
    }
    // Its containerd exits with it; one that does not is this run's own (its pid file is ours).
    const cpid = Number(
      (await readFile(join(dir, "run/containerd/containerd.pid"), "utf8").catch(() => "")).trim(),
    );
    if (cpid > 0 && (await readFile(`/proc/${cpid}/comm`, "utf8").catch(() => "")).trim() === "containerd") {
      process.kill(cpid, "SIGKILL");
    }
  };
  // Up once any client answers; then the first client in order that talks to it.
  const answers = async (c: string) =>
    run(c, ["-H", `unix://${sock}`, "version", "--format", "{{.Client.Version}} {{.Server.Version}}"]).catch(
      () => undefined,
    );
  const up = await until(async () => {
    if (child.exitCode !== null) return true;
    for (const c of DOCKER_CLIENTS) if ((await answers(c))?.code === 0) return true;
    return false;
  }, 60_000);
  let client: string | undefined;
  let versions = { client: "", server: "" };
  for (const c of up ? DOCKER_CLIENTS : []) {
    const r = await answers(c);
    if (r?.code === 0) {
      const [cv = "", sv = ""] = r.stdout.trim().split(" ");
      client = c;
      versions = { client: cv, server: sv };
      break;
    }
  }
  if (!up || client === undefined) {
    await stop();
    const text = await readFile(join(dir, "dockerd.log"), "utf8").catch(() => "");
    throw new Error(`dockerd did not come up: ${text.trim().split("\n").slice(-3).join(" / ")}`);
  }
  return {
    sock,
    client,
    clientVersion: versions.client,
    serverVersion: versions.server,
    pid: child.pid ?? 0,
    stop,
  };
}

/** The peers of a run, with what stops and removes them. */
export interface Peers {
  readonly engines: EngineCli[];
  readonly dockerd: Dockerd | undefined;
  readonly podmanVersion: string | undefined;
  /** One line per peer on what it is and how it runs, for the table's header. */
  readonly about: string[];
  /** Stops dockerd and removes what the peers left on the host; returns what it removed. */
  stop(): Promise<string[]>;
}

export async function startPeers(ws: Workspace): Promise<Peers> {
  await installPeers();
  const before = await snapshotHost();
  const engines: EngineCli[] = [];
  const about: string[] = [];
  let dockerd: Dockerd | undefined;
  try {
    dockerd = await startDockerd(join(ws.dir, "docker"));
    engines.push({
      name: "Docker",
      cmd: dockerd.client,
      prefix: ["-H", `unix://${dockerd.sock}`],
      image: "berth-bench/busybox:latest",
      runFlags: ["--pull", "never"],
      rmFlags: ["-f"],
      insecureRegistryFlags: [],
    });
    about.push(
      `- Docker: dockerd ${dockerd.serverVersion} (Debian's docker.io, its own containerd, runc; default bridge, iptables and userland proxy) on a temporary data root, driven by the docker CLI ${dockerd.clientVersion} at ${dockerd.client} (API negotiated down to dockerd's 1.41); builds with the classic builder (DOCKER_BUILDKIT=0)`,
    );
  } catch (err) {
    about.push(`- Docker: not measured (${err instanceof Error ? err.message : String(err)})`);
  }
  const podmanVersion = (await run("podman", ["--version"]).catch(() => undefined))?.stdout.trim();
  const podmanDir = join(ws.dir, "podman");
  if (podmanVersion) {
    engines.push({
      name: "Podman",
      cmd: "podman",
      prefix: [
        "--root",
        join(podmanDir, "root"),
        "--runroot",
        join(podmanDir, "run"),
        "--tmpdir",
        join(podmanDir, "tmp"),
      ],
      image: "localhost/berth-bench/busybox:latest",
      runFlags: ["--pull", "never"],
      // Podman's rm -f stops with the stop timeout (10 s) first; -t 0 kills at once as Docker does.
      rmFlags: ["-f", "-t", "0"],
      insecureRegistryFlags: ["--tls-verify=false"],
    });
    about.push(
      `- Podman: ${podmanVersion.replace(/^podman version /, "")} (Debian's, rootful, runc, cgroupfs, netavark) on a temporary --root/--runroot/--tmpdir; \`rm -f -t 0\` in place of \`rm -f\``,
    );
  }
  const stop = async () => {
    for (const e of engines) {
      // Everything the run made in the peers' stores: containers, images, volumes.
      const ids = (await run(e.cmd, [...e.prefix, "ps", "-aq"])).stdout.split("\n").filter(Boolean);
      if (ids.length > 0) await run(e.cmd, [...e.prefix, "rm", ...e.rmFlags, "-v", ...ids]);
      await run(e.cmd, [...e.prefix, "image", "prune", "-a", "-f"]);
      await run(e.cmd, [...e.prefix, "volume", "prune", "-f"]);
    }
    await dockerd?.stop();
    // The stores themselves are unmounted and removed with the workspace (fixtures' cleanup()).
    return restoreHost(before);
  };
  return { engines, dockerd, podmanVersion, about, stop };
}

/** Imports the busybox root filesystem into a peer engine under its bench tag, from a file. */
export async function importIntoPeer(ws: Workspace, e: EngineCli): Promise<void> {
  const file = join(ws.dir, "busybox-rootfs.tar");
  if (!existsSync(file)) await writeFile(file, await busyboxRootfs());
  await must(e.cmd, [...e.prefix, "import", "--change", 'CMD ["sh"]', file, e.image]);
}

/** Resident set (KiB) of a process and its descendants: dockerd with containerd. */
export async function treeRss(pid: number): Promise<number> {
  const children = async (p: number): Promise<number[]> => {
    const out: number[] = [];
    for (const t of await readdir(`/proc/${p}/task`).catch(() => [])) {
      const text = await readFile(`/proc/${p}/task/${t}/children`, "utf8").catch(() => "");
      for (const c of text.split(" ").filter(Boolean)) out.push(Number(c));
    }
    return out;
  };
  let total = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() ?? 0;
    const status = await readFile(`/proc/${p}/status`, "utf8").catch(() => "");
    total += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    queue.push(...(await children(p)));
  }
  return total;
}
