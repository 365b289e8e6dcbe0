/**
 * Networking through the real bin/berth with Debian's CNI plugins and aardvark-dns: the
 * tutorial's four web containers on host ports 3000-3003, port conflicts refused before the
 * container starts with nothing left behind, user networks resolving container names, and no
 * leaked network state (links, iptables rules, IPAM leases, namespaces) after many cycles.
 * Traffic goes only to 127.0.0.1 and to the containers' own addresses.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { DEFAULT_ROOT } from "../../src/config/roots.js";
import { openDatabase } from "../../src/metadata/db.js";
import { NetworkService } from "../../src/network/service.js";
import { loadNetworkSettings } from "../../src/network/settings.js";
import { exclusive, httpGet, runProgram, Store } from "./harness.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for a condition (the shared poller, with this file's default timeout). */
const until = (what: string, fn: () => Promise<boolean>, ms = 15_000) => waitFor(what, fn, ms);

/** A page with the container's hostname, served by busybox httpd on port 80. */
const WEB = ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"];

/**
 * What the store has made on the host for containers: veths on its bridge, rules, leases,
 * namespaces. The bridge's own static rules (its BERTH-<bridge> chains) stay while the bridge does.
 */
async function networkState(ids: readonly string[] = []) {
  const bridge = store.env.BERTH_BRIDGE ?? "";
  const links = (await runProgram("ip", ["-o", "link", "show", "master", bridge])).stdout
    .split("\n")
    .filter(Boolean);
  const subnetPrefix = (store.env.BERTH_BIP ?? "").split(".").slice(0, 3).join(".");
  const rules = (await runProgram("iptables-save", [])).stdout
    .split("\n")
    .filter(
      (l) =>
        l.startsWith("-A") &&
        !l.includes(`BERTH-${bridge}`) &&
        (l.includes(`${subnetPrefix}.`) || ids.some((id) => l.includes(id))),
    );
  const ipam = join(store.runroot, "cni", "ipam");
  const leases: string[] = [];
  for (const net of await readdir(ipam).catch(() => [] as string[])) {
    for (const f of await readdir(join(ipam, net)).catch(() => [] as string[]))
      if (f !== "lock" && !f.startsWith("last_reserved_ip")) leases.push(`${net}/${f}`);
  }
  const netns = await readdir(join(store.runroot, "netns")).catch(() => [] as string[]);
  return { links, rules, leases, netns };
}

async function assertNoNetworkState(ids: readonly string[] = []): Promise<void> {
  assert.deepEqual(await networkState(ids), { links: [], rules: [], leases: [], netns: [] });
}

describe("the default bridge network and published ports", () => {
  test("four containers of one image on host ports 3000-3003, each answering from its own container", async () => {
    await exclusive("ports-3000", async () => {
      const ids: string[] = [];
      try {
        for (const port of [3000, 3001, 3002, 3003]) {
          const r = await store.ok([
            "run",
            "-d",
            "--name",
            `web${port}`,
            "-p",
            `${port}:80`,
            "busybox",
            ...WEB,
          ]);
          ids.push(r.stdout.trim());
        }
        for (const [i, port] of [3000, 3001, 3002, 3003].entries()) {
          const id = ids[i] as string;
          await until(`port ${port} to answer`, async () => (await httpGet(port)) !== undefined);
          assert.equal(await httpGet(port), `${id.slice(0, 12)}\n`);
        }
        const ps = await store.ok(["ps", "--format", "{{.Names}} {{.Ports}}"]);
        assert.deepEqual(ps.stdout.split("\n").filter(Boolean).sort(), [
          "web3000 0.0.0.0:3000->80/tcp",
          "web3001 0.0.0.0:3001->80/tcp",
          "web3002 0.0.0.0:3002->80/tcp",
          "web3003 0.0.0.0:3003->80/tcp",
        ]);
        assert.equal((await store.ok(["port", "web3001"])).stdout, "80/tcp -> 0.0.0.0:3001\n");
        assert.equal(
          // publish= is the host port (Docker's PublicPort), expose= the container port.
          (await store.ok(["ps", "-q", "--filter", "publish=3000-3003/tcp"])).stdout.split("\n").length,
          5,
        );
        assert.equal((await store.ok(["ps", "-q", "--filter", "publish=81"])).stdout, "");
        assert.equal(
          (await store.ok(["ps", "-q", "--filter", "expose=80/tcp"])).stdout.split("\n").length,
          5,
        );
        assert.equal((await store.ok(["port", "web3001", "80"])).stdout, "0.0.0.0:3001\n");
        const notPublished = await store.berth(["port", "web3001", "81"]);
        assert.equal(notPublished.code, 1);
        assert.equal(notPublished.stderr, "Error: No public port '81/tcp' published for web3001\n");

        // inspect: NetworkSettings as Docker shows them.
        const ns = JSON.parse(
          (await store.ok(["inspect", "-f", "{{json .NetworkSettings}}", "web3002"])).stdout,
        );
        assert.deepEqual(ns.Ports, { "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "3002" }] });
        const gw = (store.env.BERTH_BIP ?? "").split("/")[0];
        assert.equal(ns.Gateway, gw);
        assert.equal(ns.Networks.bridge.Gateway, gw);
        assert.equal(ns.Networks.bridge.IPAddress, ns.IPAddress);
        assert.equal(ns.IPPrefixLen, 24);
        assert.match(ns.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
        assert.equal(ns.SandboxKey, join(store.runroot, "netns", ids[2] as string));
        // …and the container answers on its own address too.
        const hosts = (await store.ok(["exec", "web3002", "cat", "/etc/hosts"])).stdout;
        assert.match(
          hosts,
          new RegExp(`^${ns.IPAddress.replace(/\./g, "\\.")}\\t${(ids[2] as string).slice(0, 12)}$`, "m"),
        );

        // A host port another container holds: refused before the start, nothing half-made.
        const clash = await store.berth(["run", "-d", "--name", "clash", "-p", "3000:80", "busybox", ...WEB]);
        assert.notEqual(clash.code, 0);
        assert.match(clash.stderr, /Bind for 0\.0\.0\.0:3000 failed: port is already allocated/);
        const clashId = (await store.ok(["inspect", "-f", "{{.Id}}", "clash"])).stdout.trim();
        assert.equal((await store.ok(["inspect", "-f", "{{.State.Status}}", "clash"])).stdout, "created\n");
        assert.equal(await httpGet(3000), `${(ids[0] as string).slice(0, 12)}\n`);
        const state = await networkState([clashId]);
        assert.equal(state.links.length, 4);
        assert.equal(state.netns.includes(clashId), false);
        assert.deepEqual(
          state.rules.filter((l) => l.includes(clashId)),
          [],
        );
        await store.ok(["rm", "clash"]);
      } finally {
        if (ids.length > 0) await store.berth(["rm", "-f", ...ids]);
      }
      await assertNoNetworkState(ids);
    });
  });

  test("a host port something else listens on is refused with Docker's error", async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen({ host: "127.0.0.1", port: 0 }, () => r()));
    const addr = srv.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    try {
      const r = await store.berth(["run", "-d", "--name", "busy", "-p", `${port}:80`, "busybox", ...WEB]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`));
      await store.ok(["rm", "busy"]);
    } finally {
      srv.close();
    }
    await assertNoNetworkState();
  });

  test("-p CONTAINER picks a free host port, -P publishes every exposed port, ranges map one to one", async () => {
    const a = (await store.ok(["run", "-d", "-p", "80", "busybox", ...WEB])).stdout.trim();
    const b = (
      await store.ok(["run", "-d", "--expose", "80", "--expose", "81/udp", "-P", "busybox", ...WEB])
    ).stdout.trim();
    try {
      const pa = (await store.ok(["port", a, "80"])).stdout.trim();
      assert.match(pa, /^0\.0\.0\.0:\d+$/);
      const port = Number(pa.split(":")[1]);
      await until("the chosen port to answer", async () => (await httpGet(port)) !== undefined);
      assert.equal(await httpGet(port), `${a.slice(0, 12)}\n`);
      const pb = (await store.ok(["port", b])).stdout.split("\n").filter(Boolean);
      assert.equal(pb.length, 2);
      assert.match(pb[0] as string, /^80\/tcp -> 0\.0\.0\.0:\d+$/);
      assert.match(pb[1] as string, /^81\/udp -> 0\.0\.0\.0:\d+$/);
      const range = await store.berth(["create", "-p", "127.0.0.1:4100-4101:80-81", "busybox", "true"]);
      assert.equal(range.code, 0, range.stderr);
      const bindings = JSON.parse(
        (await store.ok(["inspect", "-f", "{{json .HostConfig.PortBindings}}", range.stdout.trim()])).stdout,
      );
      assert.deepEqual(bindings, {
        "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "4100" }],
        "81/tcp": [{ HostIp: "127.0.0.1", HostPort: "4101" }],
      });
      await store.ok(["rm", range.stdout.trim()]);
      // The PORTS column groups a range published on its own numbers, as Docker's CLI does.
      const grouped = (
        await store.ok([
          "run",
          "-d",
          "-p",
          "127.0.0.1:4110-4112:4110-4112",
          "-p",
          "127.0.0.1:4113:80",
          "busybox",
          "sleep",
          "30",
        ])
      ).stdout.trim();
      const column = await store.ok(["ps", "--filter", `id=${grouped}`, "--format", "{{.Ports}}"]);
      await store.ok(["rm", "-f", grouped]);
      assert.equal(column.stdout, "127.0.0.1:4110-4112->4110-4112/tcp, 127.0.0.1:4113->80/tcp\n");
    } finally {
      await store.berth(["rm", "-f", a, b]);
    }
    await assertNoNetworkState([a, b]);
  });

  test("/etc/hosts and resolv.conf as Docker writes them: --hostname, --add-host, --dns, --dns-search", async () => {
    const r = await store.ok([
      "run",
      "--rm",
      "--hostname",
      "box1",
      "--add-host",
      "db.local:10.9.9.9",
      "--add-host",
      "gw:host-gateway",
      "--dns",
      "10.1.2.3",
      "--dns-search",
      "example.test",
      "--dns-option",
      "ndots:2",
      "busybox",
      "sh",
      "-c",
      "cat /etc/hostname /etc/hosts /etc/resolv.conf; hostname",
    ]);
    const gw = (store.env.BERTH_BIP ?? "").split("/")[0] ?? "";
    assert.match(r.stdout, /^box1\n127\.0\.0\.1\tlocalhost\n/);
    assert.match(r.stdout, /^10\.9\.9\.9\tdb\.local$/m);
    assert.match(r.stdout, new RegExp(`^${gw.replace(/\./g, "\\.")}\\tgw$`, "m"));
    assert.match(r.stdout, /^\d+\.\d+\.\d+\.\d+\tbox1$/m);
    assert.match(r.stdout, /^search example\.test\nnameserver 10\.1\.2\.3\noptions ndots:2\n/m);
    assert.match(r.stdout, /box1\n$/);
    const none = await store.ok([
      "run",
      "--rm",
      "--network",
      "none",
      "busybox",
      "sh",
      "-c",
      "ip -o link | wc -l",
    ]);
    assert.equal(none.stdout.trim(), "1");
    await assertNoNetworkState();
  });

  test("the exit of a container, its crash and a killed berth leave no network state", async () => {
    // Exits by itself: conmon's exit command (container cleanup) tears the network down.
    const quick = (await store.ok(["run", "-d", "busybox", "true"])).stdout.trim();
    await until("the container to exit", async () => {
      const s = (await store.ok(["inspect", "-f", "{{.State.Status}}", quick])).stdout.trim();
      return s === "exited" && (await networkState()).netns.length === 0;
    });
    // Crash: the container's process and its conmon killed with SIGKILL behind berth's back.
    const crash = (await store.ok(["run", "-d", "busybox", "sleep", "60"])).stdout.trim();
    const pid = Number((await store.ok(["inspect", "-f", "{{.State.Pid}}", crash])).stdout.trim());
    const conmon = Number(
      (await runProgram("cat", [join(store.runroot, "conmon", `${crash}.pid`)])).stdout.trim(),
    );
    process.kill(conmon, "SIGKILL");
    process.kill(pid, "SIGKILL");
    await until("ps to notice the crash", async () => {
      await store.ok(["ps", "-a"]);
      return (await networkState()).netns.length === 0;
    });
    await store.ok(["rm", "-f", quick, crash]);
    await assertNoNetworkState([quick, crash]);
  });

  test("a foreground run --rm killed before its container exits: conmon's held exit command removes it", async () => {
    // The foreground client does the exit work itself and holds conmon's exit command back; killed
    // first, it leaves the exit command to remove the container and its network state.
    const [cmd = "", ...args] = store.argv(["run", "--rm", "--name", "fgkill", "busybox", "sleep", "3"]);
    const child = spawn(cmd, args, { stdio: "ignore", env: { ...process.env, ...store.env } });
    const closed = new Promise((r) => child.on("close", r));
    const id = await waitFor(
      "the container to run",
      async () =>
        (await store.ok(["ps", "-q", "--no-trunc", "--filter", "name=fgkill"])).stdout.trim() || false,
      15_000,
    );
    child.kill("SIGKILL");
    await closed;
    await until(
      "the exit command to remove the container",
      async () => (await store.ok(["ps", "-aq", "--filter", "name=fgkill"])).stdout.trim() === "",
      30_000,
    );
    await assertNoNetworkState([id]);
  });

  test("berth killed with SIGKILL at any point of run: the next command repairs the network state", async () => {
    for (const delay of [150, 300, 450, 600, 800, 1100]) {
      // In remote mode the process killed is the client: the server finishes or undoes the run.
      const [cmd = "", ...args] = store.argv(["run", "-d", "-p", "80", "busybox", "sleep", "30"]);
      const child = spawn(cmd, args, { stdio: "ignore", env: { ...process.env, ...store.env } });
      const closed = new Promise((r) => child.on("close", r));
      await sleep(delay);
      child.kill("SIGKILL");
      await closed;
    }
    await store.ok(["ps", "-a"]);
    const ids = (await store.ok(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
    if (ids.length > 0) await store.ok(["rm", "-f", ...ids]);
    await store.ok(["ps", "-a"]);
    await assertNoNetworkState(ids);
  });

  test("50 create/start/rm cycles leave no links, rules, leases or namespaces", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const id = (await store.ok(["create", "-p", "80", "busybox", "sleep", "30"])).stdout.trim();
      ids.push(id);
      await store.ok(["start", id]);
      await store.ok(["rm", "-f", id]);
    }
    await assertNoNetworkState(ids);
  });
});

describe("user-defined networks", () => {
  test("containers on a user network reach each other by name and alias; rm of a used network refused", async () => {
    const created = await store.ok(["network", "create", "--label", "purpose=test", "appnet"]);
    assert.match(created.stdout, /^[a-f0-9]{64}\n$/);
    const dup = await store.berth(["network", "create", "appnet"]);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /network with name appnet already exists/);
    const ls = await store.ok(["network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"]);
    assert.deepEqual(ls.stdout.split("\n").filter(Boolean), [
      "appnet bridge local",
      "bridge bridge local",
      "host host local",
      "none null local",
    ]);
    assert.equal(
      (await store.ok(["network", "ls", "-q", "-f", "label=purpose=test"])).stdout,
      `${created.stdout.slice(0, 12)}\n`,
    );
    const srv = (
      await store.ok([
        "run",
        "-d",
        "--name",
        "api",
        "--network",
        "appnet",
        "--network-alias",
        "backend",
        "busybox",
        ...WEB,
      ])
    ).stdout.trim();
    try {
      const client = await store.ok([
        "run",
        "--rm",
        "--network",
        "appnet",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://api/ && break; sleep 0.3; done; wget -qO- http://backend/",
      ]);
      assert.equal(client.stdout, `${srv.slice(0, 12)}\n${srv.slice(0, 12)}\n`);
      assert.equal(
        (await store.ok(["ps", "-q", "--no-trunc", "--filter", "network=appnet"])).stdout,
        `${srv}\n`,
      );
      assert.equal((await store.ok(["ps", "-q", "--filter", "network=bridge"])).stdout, "");
      assert.equal((await store.ok(["inspect", "-f", "{{.Driver}}", "appnet"])).stdout, "bridge\n");
      const inspect = JSON.parse((await store.ok(["network", "inspect", "appnet"])).stdout);
      assert.equal(inspect[0].Name, "appnet");
      assert.deepEqual(inspect[0].Labels, { purpose: "test" });
      assert.equal(inspect[0].Containers[srv].Name, "api");
      const inUse = await store.berth(["network", "rm", "appnet"]);
      assert.equal(inUse.code, 1);
      assert.match(inUse.stderr, /has active endpoints/);
      const pre = await store.berth(["network", "rm", "bridge"]);
      assert.equal(
        pre.stderr,
        "Error response from daemon: bridge is a pre-defined network and cannot be removed\n",
      );
    } finally {
      await store.berth(["rm", "-f", srv]);
    }
    // A stopped container configured for it refuses the removal too, as Docker's does.
    const idle = (
      await store.ok(["create", "--network", "appnet", "--name", "idle", "busybox", "true"])
    ).stdout.trim();
    const refused = await store.berth(["network", "rm", "appnet"]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `Error response from daemon: error while removing network: network appnet has active endpoints (name:"idle" id:"${idle.slice(0, 12)}")\n`,
    );
    await store.ok(["rm", idle]);
    assert.equal((await store.ok(["network", "rm", "appnet"])).stdout, "appnet\n");
    const links = await runProgram("ip", ["-o", "link", "show", `br-${created.stdout.slice(0, 12)}`]);
    assert.notEqual(links.code, 0);
    await assertNoNetworkState([srv]);
  });

  test("--subnet/--gateway/--ip, connect and disconnect, --internal, prune", async () => {
    const pool = JSON.parse(store.env.BERTH_DEFAULT_ADDRESS_POOLS ?? "[]")[0].base as string;
    const [a, b, c] = pool.split("/")[0]?.split(".") ?? [];
    const subnet = `${a}.${b}.${Number(c) + 3}.0/26`;
    const gateway = `${a}.${b}.${Number(c) + 3}.62`;
    const fixed = `${a}.${b}.${Number(c) + 3}.10`;
    await store.ok(["network", "create", "--subnet", subnet, "--gateway", gateway, "fixed"]);
    await store.ok(["network", "create", "--internal", "inner"]);
    const ip = await store.ok([
      "run",
      "--rm",
      "--network",
      "fixed",
      "--ip",
      fixed,
      "busybox",
      "ip",
      "-4",
      "-o",
      "addr",
      "show",
      "eth0",
    ]);
    assert.match(ip.stdout, new RegExp(` ${fixed.replace(/\./g, "\\.")}/26 `));
    const badIp = await store.berth(["create", "--ip", fixed, "busybox", "true"]);
    assert.notEqual(badIp.code, 0);
    assert.match(badIp.stderr, /user specified IP address is supported on user defined networks only/);
    const id = (await store.ok(["run", "-d", "--network", "fixed", "busybox", "sleep", "60"])).stdout.trim();
    try {
      await store.ok(["network", "connect", "--alias", "second", "inner", id]);
      const links = await store.ok([
        "exec",
        id,
        "sh",
        "-c",
        "ip -o -4 addr | awk '{print $2}' | sort | tr '\\n' ' '",
      ]);
      assert.equal(links.stdout, "eth0 eth1 lo ");
      const nets = JSON.parse(
        (await store.ok(["inspect", "-f", "{{json .NetworkSettings.Networks}}", id])).stdout,
      );
      assert.deepEqual(Object.keys(nets).sort(), ["fixed", "inner"]);
      await store.ok(["network", "disconnect", "inner", id]);
      const after = await store.ok([
        "exec",
        id,
        "sh",
        "-c",
        "ip -o -4 addr | awk '{print $2}' | sort | tr '\\n' ' '",
      ]);
      assert.equal(after.stdout, "eth0 lo ");
    } finally {
      await store.berth(["rm", "-f", id]);
    }
    const pruned = await store.ok(["network", "prune", "-f"]);
    assert.deepEqual(pruned.stdout.split("\n").filter(Boolean).sort(), [
      "Deleted Networks:",
      "fixed",
      "inner",
    ]);
    assert.equal((await store.ok(["network", "ls", "-q", "-f", "type=custom"])).stdout, "");
    await assertNoNetworkState([id]);
  });

  test("--network host and container:ID", async () => {
    // The host's own devices: its loopback's and first device's lines as the host sees them
    // (other tests add and remove devices meanwhile, so not a count of all).
    const hostDev = (
      await runProgram("sh", ["-c", "ip -o -4 addr show | grep -v ' lo ' | head -1 | cut -d' ' -f2"])
    ).stdout.trim();
    const host = await store.ok([
      "run",
      "--rm",
      "--network",
      "host",
      "busybox",
      "ip",
      "-o",
      "-4",
      "addr",
      "show",
      hostDev,
    ]);
    const mine = await runProgram("ip", ["-o", "-4", "addr", "show", hostDev]);
    assert.equal(host.stdout.split(/\s+/)[3], mine.stdout.split(/\s+/)[3]);
    assert.match(host.stdout, /inet /);
    const first = (await store.ok(["run", "-d", "--name", "first", "busybox", "sleep", "60"])).stdout.trim();
    try {
      const own = (await store.ok(["exec", first, "ip", "-4", "-o", "addr", "show", "eth0"])).stdout.split(
        /\s+/,
      )[3];
      const joined = await store.ok([
        "run",
        "--rm",
        "--network",
        "container:first",
        "busybox",
        "ip",
        "-4",
        "-o",
        "addr",
        "show",
        "eth0",
      ]);
      assert.equal(joined.stdout.split(/\s+/)[3], own);
      // It shares the other container's hostname too, as Docker's does.
      const names = await store.ok(["run", "--rm", "--network", "container:first", "busybox", "hostname"]);
      assert.equal(names.stdout, `${first.slice(0, 12)}\n`);
      const named = (
        await store.ok(["run", "-d", "--name", "named", "--hostname", "web", "busybox", "sleep", "60"])
      ).stdout.trim();
      const other = await store.ok(["run", "--rm", "--network", "container:named", "busybox", "hostname"]);
      await store.ok(["rm", "-f", named]);
      assert.equal(other.stdout, "web\n");
    } finally {
      await store.berth(["rm", "-f", first]);
    }
    await assertNoNetworkState([first]);
  });
});

describe("sandboxes for build steps", () => {
  test("attachSandbox gives a namespace on the default bridge; detachSandbox leaves nothing", async () => {
    await store.ok(["ps"]); // the default network's record follows this store's settings
    const db = openDatabase(join(store.root, "berth.db"));
    try {
      const net = new NetworkService({
        db,
        netnsDir: join(store.runroot, "netns"),
        cniDir: join(store.runroot, "cni"),
        dnsDir: join(store.runroot, "aardvark"),
        settings: loadNetworkSettings(
          { ...process.env, ...store.env },
          { root: store.root, defaultRoot: DEFAULT_ROOT },
        ),
      });
      const id = randomBytes(32).toString("hex");
      const a = await net.attachSandbox(id);
      try {
        const prefix = (store.env.BERTH_BIP ?? "").split(".").slice(0, 3).join(".");
        assert.ok(a.ip.startsWith(`${prefix}.`), a.ip);
        const inside = await runProgram("nsenter", [
          `--net=${a.netnsPath}`,
          "ip",
          "-4",
          "-o",
          "addr",
          "show",
          "eth0",
        ]);
        assert.match(inside.stdout, new RegExp(` ${a.ip.replace(/\./g, "\\.")}/24 `));
        // A live owner's sandbox survives another command's reconcile.
        await store.ok(["ps"]);
        assert.deepEqual((await networkState()).netns, [id]);
      } finally {
        await net.detachSandbox(id);
      }
      await assertNoNetworkState([id]);
    } finally {
      db.close();
    }
  });
});
