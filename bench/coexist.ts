/**
 * `node dist/bench/coexist.js [--docker-first]`: berth beside the real Docker and Podman on one
 * host, each with its default network settings (berth: a store with no bridge or bip setting).
 * One engine's default bridge comes up first (berth's, or with --docker-first dockerd's), then the
 * others; then each engine runs a web server publishing a port on 127.0.0.1 and a client that
 * pings its own gateway and the server and fetches from it, all three engines' containers
 * running at once; the host fetches each published port. Prints every command with its result
 * and the bridges' subnets, as markdown, and exits non-zero when a check failed.
 *
 * The peers come from bench/peers.ts (installed when missing, dockerd on a temporary data root
 * for this run only, what they leave on the host removed at the end). Traffic: 127.0.0.1 and the
 * engines' container addresses only; no image is pulled (busybox from a file).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureBusyboxImage } from "../scripts/busybox-image.js";
import { tearDownBridge } from "../src/network/bridge.js";
import { argv, cleanup, createWorkspace, type EngineCli } from "./fixtures.js";
import { importIntoPeer, type Peers, startPeers } from "./peers.js";
import { run, until } from "./proc.js";

const out: string[] = [];
let failures = 0;
/** The run's temporary directory, written as $D in the transcript. */
let wsDir = "";
const shown = (text: string) => (wsDir ? text.split(wsDir).join("$D") : text);

function say(text: string): void {
  out.push(text);
  process.stderr.write(`coexist: ${text}\n`);
}

/** Runs a command, records it and its output in the transcript; returns its stdout. */
async function sh(cmd: string, args: readonly string[], check: "must" | "may" = "must"): Promise<string> {
  const r = await run(cmd, args);
  const text = shown(`${r.stdout}${r.stderr}`.trim());
  out.push(shown(`$ ${[cmd, ...args].join(" ")}`));
  if (text !== "") out.push(...text.split("\n").map((l) => `  ${l}`));
  if (r.code !== 0) {
    out.push(`  (exit ${r.code})`);
    if (check === "must") {
      failures++;
      process.stderr.write(`coexist: FAILED: ${cmd} ${args.join(" ")}: ${text}\n`);
    }
  }
  return r.stdout.trim();
}

/** The engine's name in container names and the transcript. */
function short(e: EngineCli): string {
  return e.name === "berth" ? "berth" : e.name === "Docker" ? "docker" : "podman";
}

/**
 * A shell command fetching the server's page over plain TCP with busybox nc (busybox-static's
 * wget crashes when it looks the address up).
 */
function fetch(ip: string): string {
  return `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${ip} 80 | tail -n 1`;
}

interface Placed {
  readonly engine: EngineCli;
  readonly port: number;
  readonly server: string;
  readonly client: string;
}

async function inspect(e: EngineCli, name: string, format: string): Promise<string> {
  return (await run(e.cmd, argv(e, ["inspect", "--format", format, name]))).stdout.trim();
}

async function main(): Promise<number> {
  const dockerFirst = process.argv.includes("--docker-first");
  const ws = await createWorkspace();
  wsDir = ws.dir;
  // berth with its defaults: no BERTH_BRIDGE/BERTH_BIP, so its store's bridge and subnet are
  // chosen as a user's would be.
  delete process.env.BERTH_BRIDGE;
  delete process.env.BERTH_BIP;
  process.env.DOCKER_CONFIG = join(ws.dir, "docker-config");
  await mkdir(process.env.DOCKER_CONFIG, { recursive: true });
  await writeFile(join(process.env.DOCKER_CONFIG, "config.json"), "{}\n");
  const berth = ws.berth;
  let peers: Peers | undefined;
  const placed: Placed[] = [];
  let berthBridge = "";
  try {
    await ensureBusyboxImage({ root: berth.prefix[1], runroot: berth.prefix[3] });
    say(
      `order: ${dockerFirst ? "dockerd first, then berth, then Podman" : "berth first, then dockerd, then Podman"}`,
    );
    say(`routes before: ${(await run("ip", ["-4", "route"])).stdout.trim().split("\n").length} IPv4 routes`);
    const berthUp = async () => {
      // The first container on the default network brings berth's bridge up.
      await sh(berth.cmd, argv(berth, ["run", "--rm", berth.image, "true"]));
      berthBridge = await sh(berth.cmd, [
        ...berth.prefix,
        "network",
        "inspect",
        "--format",
        '{{index .Options "com.docker.network.bridge.name"}} {{range .IPAM.Config}}{{.Subnet}} gateway {{.Gateway}}{{end}}',
        "bridge",
      ]);
      berthBridge = berthBridge.split(" ")[0] ?? "";
    };
    if (!dockerFirst) await berthUp();
    peers = await startPeers(ws);
    for (const p of peers.engines) await importIntoPeer(ws, p);
    const docker = peers.engines.find((e) => e.name === "Docker");
    const podman = peers.engines.find((e) => e.name === "Podman");
    if (docker)
      await sh(
        docker.cmd,
        argv(docker, [
          "network",
          "inspect",
          "--format",
          "{{range .IPAM.Config}}{{.Subnet}} gateway {{.Gateway}}{{end}}",
          "bridge",
        ]),
      );
    if (dockerFirst) await berthUp();
    const engines = [berth, ...(docker ? [docker] : []), ...(podman ? [podman] : [])];
    let port = 18080;
    for (const e of engines) {
      port++;
      const tag = short(e);
      const server = `coexist-${tag}-web`;
      const client = `coexist-${tag}-client`;
      await sh(
        e.cmd,
        argv(e, [
          "run",
          ...e.runFlags,
          "-d",
          "--name",
          server,
          "-p",
          `127.0.0.1:${port}:80`,
          e.image,
          "sh",
          "-c",
          `mkdir -p /www && echo hello from ${tag} > /www/index.html && exec httpd -f -p 80 -h /www`,
        ]),
      );
      // Podman drops CAP_NET_RAW by default (Docker and berth keep it): ping needs it.
      const raw = e.name === "Podman" ? ["--cap-add", "NET_RAW"] : [];
      await sh(
        e.cmd,
        argv(e, ["run", ...e.runFlags, ...raw, "-d", "--name", client, e.image, "sleep", "600"]),
      );
      placed.push({ engine: e, port, server, client });
    }
    say("all containers of the three engines running at once:");
    await sh("ip", ["-4", "-br", "addr", "show", "type", "bridge"]);
    await sh("ip", ["-4", "route"]);
    for (const p of placed) {
      const e = p.engine;
      const ip = await inspect(e, p.server, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");
      const gw = await inspect(e, p.client, "{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}");
      say(`${short(e)}: server ${ip}, client's gateway ${gw}`);
      await sh(e.cmd, argv(e, ["exec", p.client, "ping", "-c", "2", "-W", "2", gw]));
      await sh(e.cmd, argv(e, ["exec", p.client, "ping", "-c", "2", "-W", "2", ip]));
      await sh(e.cmd, argv(e, ["exec", p.client, "sh", "-c", fetch(ip)]));
      // The server may take a moment to listen: wait for the published port to answer.
      await until(
        async () => (await run("curl", ["-s", "-m", "2", `http://127.0.0.1:${p.port}/`])).code === 0,
        15_000,
      );
      await sh("curl", ["-s", "-m", "5", `http://127.0.0.1:${p.port}/`]);
    }
    // Across engines (informational: no engine promises it; Docker isolates only its own networks).
    for (const from of placed) {
      for (const to of placed) {
        if (from === to) continue;
        const ip = await inspect(
          to.engine,
          to.server,
          "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        );
        await sh(from.engine.cmd, argv(from.engine, ["exec", from.client, "sh", "-c", fetch(ip)]), "may");
      }
    }
    // Each engine's own bridge still answers after the others added their rules: berth's default
    // bridge's subnet against docker0's and podman0's.
    const subnets = (await run("ip", ["-4", "-o", "addr", "show", "type", "bridge"])).stdout
      .split("\n")
      .map((l) => l.split(/\s+/))
      .filter((f) => ["docker0", "podman0", "cni-podman0", berthBridge].includes(f[1] ?? ""))
      .map((f) => `${f[1]} ${f[3]}`);
    say(`bridges of the three engines: ${subnets.join(", ")}`);
  } finally {
    for (const p of placed) {
      await run(p.engine.cmd, argv(p.engine, ["rm", ...p.engine.rmFlags, p.server, p.client]));
    }
    const removed = (await peers?.stop()) ?? [];
    if (removed.length > 0)
      say(
        `removed what the peers left: ${removed.length} items (docker0, DOCKER and NETAVARK chains and their jumps)`,
      );
    if (berthBridge)
      await tearDownBridge(berthBridge, join(berth.prefix[3] ?? "", "cni/bridges")).catch(() => undefined);
    await cleanup(ws);
  }
  process.stdout.write(`${["```", ...out, "```"].join("\n")}\n`);
  say(failures === 0 ? "every check passed" : `${failures} check(s) failed`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`coexist: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
