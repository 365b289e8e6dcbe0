/**
 * Stores side by side with default network settings (no BERTH_BRIDGE/BERTH_BIP: each store's
 * default bridge is named after its root and its subnet chosen beside everything on the host),
 * and berth beside Docker's and Podman's default networks, reproduced here with bridge devices,
 * namespaces, routes and rules this file makes and removes itself.
 *
 * These stores share the host with every other test file and with the machine's default store:
 * nothing here names a fixed device or subnet of berth's; the foreign bridges get names of this
 * process, and Docker's or Podman's subnet is only reproduced when no device holds it already.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { tearDownBridge } from "../../src/network/bridge.js";
import { formatSubnet, overlaps, parseSubnet, type Subnet } from "../../src/network/ipnet.js";
import { httpGet, runProgram, Store } from "./harness.js";

const stores: Store[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

async function newStore(): Promise<Store> {
  const s = await Store.create({ defaultNetwork: true });
  stores.push(s);
  await s.busybox();
  return s;
}

before(async () => {
  for (let i = 0; i < 3; i++) await newStore();
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  for (const s of stores) await s.cleanup();
});

/** Waits for a condition (the shared poller, with this file's default timeout). */
const until = (what: string, fn: () => Promise<boolean>, ms = 15_000) => waitFor(what, fn, ms);

/** A TCP port nothing listens on now (the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ host: "127.0.0.1", port: 0 }, () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const WEB = ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"];

async function inspect(store: Store, id: string, format: string): Promise<string> {
  return (await store.ok(["inspect", "-f", format, id])).stdout.trim();
}

async function subnetOf(store: Store): Promise<string> {
  return (
    await store.ok(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "bridge"])
  ).stdout.trim();
}

/** IPv4 addresses of every device on the host (device → CIDRs). */
async function hostAddresses(): Promise<Array<{ dev: string; subnet: Subnet }>> {
  const r = await runProgram("ip", ["-o", "-4", "addr", "show"]);
  const out: Array<{ dev: string; subnet: Subnet }> = [];
  for (const line of r.stdout.split("\n")) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line);
    if (m?.[1] && m[2]) out.push({ dev: m[1], subnet: parseSubnet(m[2], { loose: true }) });
  }
  return out;
}

async function sh(cmd: string, args: readonly string[]): Promise<string> {
  const r = await runProgram(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe("beside Docker's and Podman's default networks", () => {
  /**
   * A foreign engine's bridge as Docker or Podman makes it: the device, its gateway address, a
   * "container" (a namespace with a veth on the bridge and a web server) and the engine's rules
   * (masquerading and forwarding for its subnet). Skipped when a device already holds the
   * subnet (the real engine, or another berth store): its address is then simply in use.
   */
  async function foreignEngine(
    name: string,
    cidr: string,
  ): Promise<{ ip: string; rules: () => Promise<string[]> } | undefined> {
    const subnet = parseSubnet(cidr, { loose: true });
    if ((await hostAddresses()).some((a) => overlaps(a.subnet, subnet))) return undefined;
    const [gw = ""] = cidr.split("/");
    const ip = gw.replace(/\.1$/, ".2");
    const prefix = cidr.split("/")[1] ?? "";
    const br = `${name}${process.pid.toString(36)}`.slice(0, 15);
    const ns = `${br}ns`;
    const veth = `${br}v`.slice(0, 15);
    cleanups.push(async () => {
      await runProgram("ip", ["netns", "pids", ns]).then(async (r) => {
        for (const pid of r.stdout.split("\n").filter(Boolean)) await runProgram("kill", [pid]);
      });
      await runProgram("ip", ["netns", "del", ns]);
      await runProgram("ip", ["link", "del", br]);
      await runProgram("iptables", [
        "-t",
        "nat",
        "-D",
        "POSTROUTING",
        "-s",
        formatSubnet(subnet),
        "!",
        "-o",
        br,
        "-j",
        "MASQUERADE",
      ]);
      await runProgram("iptables", [
        "-D",
        "FORWARD",
        "-o",
        br,
        "-m",
        "conntrack",
        "--ctstate",
        "RELATED,ESTABLISHED",
        "-j",
        "ACCEPT",
      ]);
      await runProgram("iptables", ["-D", "FORWARD", "-i", br, "-j", "ACCEPT"]);
    });
    await sh("ip", ["link", "add", "name", br, "type", "bridge"]);
    await sh("ip", ["addr", "add", cidr, "dev", br]);
    await sh("ip", ["link", "set", br, "up"]);
    await sh("ip", ["netns", "add", ns]);
    await sh("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await sh("ip", ["link", "set", veth, "master", br, "up"]);
    await sh("ip", ["-n", ns, "addr", "add", `${ip}/${prefix}`, "dev", "eth0"]);
    await sh("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    await sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await sh("ip", ["-n", ns, "route", "add", "default", "via", gw]);
    await sh("iptables", [
      "-t",
      "nat",
      "-A",
      "POSTROUTING",
      "-s",
      formatSubnet(subnet),
      "!",
      "-o",
      br,
      "-j",
      "MASQUERADE",
    ]);
    await sh("iptables", [
      "-I",
      "FORWARD",
      "-o",
      br,
      "-m",
      "conntrack",
      "--ctstate",
      "RELATED,ESTABLISHED",
      "-j",
      "ACCEPT",
    ]);
    await sh("iptables", ["-I", "FORWARD", "-i", br, "-j", "ACCEPT"]);
    // Its container's web server (the host's busybox), answering with the engine's name.
    await sh("sh", ["-c", `mkdir -p /tmp/${br}www && echo ${name} > /tmp/${br}www/index.html`]);
    cleanups.push(() => runProgram("rm", ["-rf", `/tmp/${br}www`]));
    await sh("ip", ["netns", "exec", ns, "busybox", "httpd", "-p", "8080", "-h", `/tmp/${br}www`]);
    const rules = async () =>
      (await sh("iptables-save", [])).split("\n").filter((l) => l.startsWith("-A") && l.includes(br));
    return { ip, rules };
  }

  test("a new store avoids docker0's, podman0's and any routed subnet; no engine's rules break the other's traffic", async () => {
    const docker = await foreignEngine("btdk", "172.17.0.1/16");
    const podman = await foreignEngine("btpm", "10.88.0.1/16");
    // Any route on the host: the first /16 of Docker's pools that nothing uses, routed via a device.
    const used = (await hostAddresses()).map((a) => a.subnet);
    let routed: Subnet | undefined;
    for (let b = 18; b <= 31 && !routed; b++) {
      const cand = parseSubnet(`172.${b}.0.0/16`);
      if (!used.some((u) => overlaps(u, cand))) routed = cand;
    }
    const dummy = `btrt${process.pid.toString(36)}`.slice(0, 15);
    if (routed) {
      cleanups.push(() => runProgram("ip", ["link", "del", dummy]));
      await sh("ip", ["link", "add", dummy, "type", "bridge"]);
      await sh("ip", ["link", "set", dummy, "up"]);
      await sh("ip", ["route", "add", formatSubnet(routed), "dev", dummy]);
    }
    const before = [...((await docker?.rules()) ?? []), ...((await podman?.rules()) ?? [])];

    const s = await newStore();
    const id = (await s.ok(["run", "-d", "-p", "80", "busybox", ...WEB])).stdout.trim();
    const subnet = parseSubnet(await subnetOf(s));
    assert.ok(!overlaps(subnet, parseSubnet("172.17.0.0/16")) || !docker, "took docker0's subnet");
    assert.ok(!overlaps(subnet, parseSubnet("10.88.0.0/16")) || !podman, "took podman0's subnet");
    if (routed) assert.ok(!overlaps(subnet, routed), `took the routed ${formatSubnet(routed)}`);
    for (const a of await hostAddresses())
      if (a.dev !== s.bridge) assert.ok(!overlaps(a.subnet, subnet), `overlaps ${a.dev}`);

    // berth's container is reachable on 127.0.0.1 and reaches the foreign engines' containers;
    // theirs still reach their gateway (their traffic and rules untouched).
    const port = Number(
      await inspect(s, id, '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}'),
    );
    await until("berth's web server", async () => (await httpGet(port)) !== undefined);
    for (const [name, eng] of [
      ["btdk", docker],
      ["btpm", podman],
    ] as const) {
      if (!eng) continue;
      const r = await s.ok(["exec", id, "wget", "-q", "-O", "-", `http://${eng.ip}:8080/`]);
      assert.equal(r.stdout.trim(), name);
      const ns = `${name}${process.pid.toString(36)}`.slice(0, 15);
      const gw = eng.ip.replace(/\.2$/, ".1");
      const ping = await runProgram("ip", [
        "netns",
        "exec",
        `${ns}ns`,
        "busybox",
        "ping",
        "-c",
        "1",
        "-W",
        "2",
        gw,
      ]);
      assert.equal(ping.code, 0, ping.stderr);
    }
    await s.ok(["rm", "-f", id]);
    const during = [...((await docker?.rules()) ?? []), ...((await podman?.rules()) ?? [])];
    assert.deepEqual(during, before);
  });

  test("a foreign engine that comes first after a reboot takes the store's subnet: the store moves", async () => {
    const s = await newStore();
    assert.equal((await s.ok(["run", "--rm", "busybox", "true"])).code, 0);
    const was = await subnetOf(s);
    // A reboot: berth's bridge and rules are gone (the tmpfs runroot is kept here; its marker
    // then names a device that is gone). Another engine's bridge comes up on the same subnet.
    await sh("ip", ["link", "del", s.bridge]);
    const [base = ""] = was.split("/");
    const foreign = `btfe${process.pid.toString(36)}`.slice(0, 15);
    cleanups.push(() => runProgram("ip", ["link", "del", foreign]));
    await sh("ip", ["link", "add", "name", foreign, "type", "bridge"]);
    await sh("ip", ["addr", "add", `${base.replace(/\.0$/, ".1")}/${was.split("/")[1]}`, "dev", foreign]);
    await sh("ip", ["link", "set", foreign, "up"]);
    const id = (await s.ok(["run", "-d", "busybox", "sleep", "30"])).stdout.trim();
    const now = await subnetOf(s);
    assert.notEqual(now, was);
    assert.ok(!overlaps(parseSubnet(now), parseSubnet(was)));
    const ip = await inspect(s, id, "{{.NetworkSettings.IPAddress}}");
    assert.ok(parseSubnet(`${ip}/${now.split("/")[1]}`, { loose: true }).base === parseSubnet(now).base, ip);
    await s.ok(["rm", "-f", id]);
  });
});

describe("stores side by side with default settings", () => {
  test("three stores run containers with published ports at once, each on its own bridge and subnet", async () => {
    const runs = await Promise.all(
      stores.slice(0, 3).map(async (s) => {
        const id = (await s.ok(["run", "-d", "-p", "80", "busybox", ...WEB])).stdout.trim();
        return { s, id };
      }),
    );
    const seen = new Set<string>();
    const subnets: Subnet[] = [];
    const bridges = new Set<string>();
    for (const { s, id } of runs) {
      const ip = await inspect(s, id, "{{.NetworkSettings.IPAddress}}");
      assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
      assert.ok(!seen.has(ip), `address ${ip} handed out twice`);
      seen.add(ip);
      const subnet = parseSubnet(await subnetOf(s));
      for (const other of subnets) assert.ok(!overlaps(other, subnet), `${formatSubnet(subnet)} overlaps`);
      subnets.push(subnet);
      bridges.add(s.bridge);
      // The bridge has the store's gateway and nothing else.
      const addrs = (await hostAddresses()).filter((a) => a.dev === s.bridge);
      assert.deepEqual(
        addrs.map((a) => formatSubnet(a.subnet)),
        [formatSubnet(subnet)],
      );
      const port = Number(
        await inspect(s, id, '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}'),
      );
      const hostname = await inspect(s, id, "{{.Config.Hostname}}");
      let body: string | undefined;
      await until(`the web server of ${id.slice(0, 12)}`, async () => {
        body = await httpGet(port);
        return body !== undefined;
      });
      assert.equal(body?.trim(), hostname);
    }
    assert.equal(bridges.size, 3);
    for (const { s, id } of runs) await s.ok(["rm", "-f", id]);
  });

  test("a host port published by one store is refused to another with Docker's error, also when both ask at once", async () => {
    const [a, b, c] = stores;
    if (!a || !b || !c) throw new Error("stores missing");
    const port = await freePort();
    const first = (await a.ok(["run", "-d", "-p", `${port}:80`, "busybox", ...WEB])).stdout.trim();
    const r = await b.berth(["run", "-d", "--name", "taken", "-p", `${port}:80`, "busybox", ...WEB]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /port is already allocated/);
    assert.equal(await inspect(b, "taken", "{{.State.Running}}"), "false");
    await b.ok(["rm", "taken"]);
    await a.ok(["rm", "-f", first]);

    // Both at once: exactly one gets the port.
    const racePort = await freePort();
    const results = await Promise.all(
      [b, c].map((s) => s.berth(["run", "-d", "-p", `${racePort}:80`, "busybox", ...WEB])),
    );
    const won = results.filter((x) => x.code === 0);
    assert.equal(won.length, 1, results.map((x) => x.stderr).join("\n"));
    const lost = results.find((x) => x.code !== 0);
    assert.match(lost?.stderr ?? "", /port is already allocated/);
    for (const s of [b, c]) {
      const ids = (await s.ok(["ps", "-aq"])).stdout.split("\n").filter(Boolean);
      if (ids.length > 0) await s.ok(["rm", "-f", ...ids]);
    }
  });

  test("a stale bridge device with another address does not break start: the store's address replaces it", async () => {
    const s = await newStore();
    // Before the store's first container: a device of its name is left with a foreign address.
    const stale = `10.253.${process.pid % 250}.1/24`;
    await sh("ip", ["link", "add", "name", s.bridge, "type", "bridge"]);
    await sh("ip", ["addr", "add", stale, "dev", s.bridge]);
    await sh("ip", ["link", "set", s.bridge, "up"]);
    assert.equal((await s.ok(["run", "--rm", "busybox", "echo", "hi"])).stdout, "hi\n");
    const subnet = await subnetOf(s);
    const addrs = (await hostAddresses())
      .filter((a) => a.dev === s.bridge)
      .map((a) => formatSubnet(a.subnet));
    assert.deepEqual(addrs, [subnet]);
    // After it: someone gives the device another address behind berth's back.
    await sh("ip", ["addr", "flush", "dev", s.bridge]);
    await sh("ip", ["addr", "add", stale, "dev", s.bridge]);
    assert.equal((await s.ok(["run", "--rm", "busybox", "echo", "again"])).stdout, "again\n");
    const again = (await hostAddresses())
      .filter((a) => a.dev === s.bridge)
      .map((a) => formatSubnet(a.subnet));
    assert.deepEqual(again, [await subnetOf(s)]);
  });
});

describe("one store never silences another's published ports, nor its own", () => {
  /** Devices holding an address in `cidr`'s subnet. */
  async function holders(cidr: string): Promise<string[]> {
    const subnet = parseSubnet(cidr, { loose: true });
    return (await hostAddresses())
      .filter((a) => overlaps(a.subnet, subnet))
      .map((a) => a.dev)
      .sort();
  }

  /** A store with its own slot (BERTH_BRIDGE, BERTH_BIP), busybox in it, cleaned up after the file. */
  async function slotStore(): Promise<Store> {
    const s = await Store.create();
    stores.push(s);
    await s.busybox();
    return s;
  }

  test("a bip another device's address covers is refused, naming the device; that device's published port keeps answering", async () => {
    const a = await slotStore();
    const b = await slotStore();
    const port = await freePort();
    const web = (await a.ok(["run", "-d", "-p", `127.0.0.1:${port}:80`, "busybox", ...WEB])).stdout.trim();
    await until("a's web server", async () => (await httpGet(port)) !== undefined);
    const bip = a.env.BERTH_BIP ?? "";
    await b.reopen({ BERTH_BIP: bip });
    const r = await b.berth(["run", "--rm", "busybox", "true"]);
    await b.reopen();
    assert.notEqual(r.code, 0);
    const subnet = formatSubnet(parseSubnet(bip, { loose: true }));
    assert.match(
      r.stderr,
      new RegExp(`its subnet ${subnet.replaceAll(".", "\\.")} \\(bip\\) overlaps .* of device ${a.bridge}`),
    );
    // Nothing of b's holds the subnet; a's container still answers on its port.
    assert.deepEqual(await holders(bip), [a.bridge]);
    assert.equal((await httpGet(port))?.trim(), await inspect(a, web, "{{.Config.Hostname}}"));
    await a.ok(["rm", "-f", web]);
  });

  test("a store opened with another bridge setting moves its default network to the new device and leaves no device with its subnet behind", async () => {
    const s = await slotStore();
    const bip = s.env.BERTH_BIP ?? "";
    assert.equal((await s.ok(["run", "--rm", "busybox", "true"])).code, 0);
    assert.deepEqual(await holders(bip), [s.bridge]);
    // The same store with another device named: its containers are on that device, reachable
    // (the old device, had it stayed with the same subnet, would hold the older route).
    const alt = `btal${process.pid.toString(36)}`.slice(0, 15);
    cleanups.push(() => tearDownBridge(alt, join(s.runroot, "cni", "bridges")));
    await s.reopen({ BERTH_BRIDGE: alt });
    const port = await freePort();
    const id = (await s.ok(["run", "-d", "-p", `127.0.0.1:${port}:80`, "busybox", ...WEB])).stdout.trim();
    await until("the web server on the new device", async () => (await httpGet(port)) !== undefined);
    assert.deepEqual(await holders(bip), [alt]);
    await s.ok(["rm", "-f", id]);
    await s.reopen();
    // And back: the store's own setting again, one device again.
    const again = await freePort();
    const id2 = (await s.ok(["run", "-d", "-p", `127.0.0.1:${again}:80`, "busybox", ...WEB])).stdout.trim();
    await until(
      "the web server back on the store's device",
      async () => (await httpGet(again)) !== undefined,
    );
    assert.deepEqual(await holders(bip), [s.bridge]);
    await s.ok(["rm", "-f", id2]);
  });

  test("a published port on 127.0.0.1 answers throughout while another store churns networks, containers and published ports", async () => {
    const quiet = await slotStore();
    const busy = await slotStore();
    const port = await freePort();
    const web = (
      await quiet.ok(["run", "-d", "-p", `127.0.0.1:${port}:80`, "busybox", ...WEB])
    ).stdout.trim();
    await until("the quiet store's web server", async () => (await httpGet(port)) !== undefined);
    let polls = 0;
    const silent: number[] = [];
    let churning = true;
    const poller = (async () => {
      while (churning) {
        polls++;
        if ((await httpGet(port, 5000)) === undefined) silent.push(polls);
      }
    })();
    try {
      for (let round = 0; round < 3; round++) {
        const net = `churn${round}`;
        await busy.ok(["network", "create", net]);
        const p = await freePort();
        const c = (
          await busy.ok(["run", "-d", "--network", net, "-p", `127.0.0.1:${p}:80`, "busybox", ...WEB])
        ).stdout.trim();
        await until(
          `the busy store's web server (round ${round})`,
          async () => (await httpGet(p)) !== undefined,
        );
        const d = (await busy.ok(["run", "-d", "busybox", ...WEB])).stdout.trim();
        const q = await freePort();
        await busy.ok(["update", "--publish-add", `127.0.0.1:${q}:80`, d]);
        await until(`the port added in round ${round}`, async () => (await httpGet(q)) !== undefined);
        await busy.ok(["update", "--publish-rm", `127.0.0.1:${q}:80`, d]);
        await busy.ok(["rm", "-f", c, d]);
        await busy.ok(["network", "rm", net]);
      }
    } finally {
      churning = false;
      await poller;
    }
    assert.ok(polls > 0);
    assert.deepEqual(silent, [], `${silent.length} of ${polls} requests to the quiet store went unanswered`);
    await quiet.ok(["rm", "-f", web]);
  });
});
