import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeResult, pluginStdin } from "./cni.js";
import { aardvarkConfig } from "./dns.js";
import { hostNames, hostsFile, parseExtraHost, resolvConf } from "./hosts.js";
import { carve, contains, formatSubnet, overlaps, parseIPv4, parseSubnet } from "./ipnet.js";
import { requestedPorts } from "./ports.js";

describe("ipnet", () => {
  test("parses, refuses host bits, tests containment and overlap, carves pools", () => {
    assert.equal(parseIPv4("10.1.2.3"), 10 * 2 ** 24 + 1 * 2 ** 16 + 2 * 256 + 3);
    assert.equal(parseIPv4("10.1.2.256"), undefined);
    const s = parseSubnet("172.18.0.0/16");
    assert.equal(formatSubnet(s), "172.18.0.0/16");
    assert.throws(() => parseSubnet("172.18.0.1/16"), /invalid subnet/);
    assert.equal(formatSubnet(parseSubnet("172.18.0.1/16", { loose: true })), "172.18.0.0/16");
    assert.ok(contains(s, parseIPv4("172.18.255.1") ?? 0));
    assert.ok(!contains(s, parseIPv4("172.19.0.1") ?? 0));
    assert.ok(overlaps(s, parseSubnet("172.18.4.0/24")));
    assert.ok(!overlaps(s, parseSubnet("172.19.0.0/24")));
    assert.deepEqual([...carve(parseSubnet("10.0.0.0/24"), 26)].map(formatSubnet), [
      "10.0.0.0/26",
      "10.0.0.64/26",
      "10.0.0.128/26",
      "10.0.0.192/26",
    ]);
  });
});

describe("hosts and resolv.conf", () => {
  test("Docker's /etc/hosts: defaults, --add-host (host-gateway), then the container's line", () => {
    assert.deepEqual(parseExtraHost("db:10.0.0.9"), ["db", "10.0.0.9"]);
    assert.deepEqual(parseExtraHost("v6:[::1]"), ["v6", "::1"]);
    assert.equal(parseExtraHost("bad"), undefined);
    const text = hostsFile({
      hostname: "abc",
      ip: "172.17.0.2",
      extraHosts: ["db:10.0.0.9", "gw:host-gateway"],
      hostGateway: "172.17.0.1",
    });
    assert.equal(
      text,
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n10.0.0.9\tdb\n172.17.0.1\tgw\n172.17.0.2\tabc\n",
    );
    assert.doesNotMatch(hostsFile({ hostname: "x", ip: "", extraHosts: [], hostGateway: "" }), /\tx$/m);
  });

  test("the container's line: the FQDN and its short alias, as Docker writes them", () => {
    assert.equal(hostNames("web"), "web");
    assert.equal(hostNames("web.example.com"), "web.example.com web");
    assert.equal(hostNames("web", "example.com"), "web.example.com web");
    const text = hostsFile({ hostname: "a.b", ip: "10.1.0.2", extraHosts: [], hostGateway: "" });
    assert.match(text, /\n10\.1\.0\.2\ta\.b a\n$/);
  });

  test("resolv.conf: the host's minus loopback resolvers, --dns/--dns-search/--dns-option, a network's DNS", () => {
    const host = "search corp.example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n";
    assert.equal(
      resolvConf({ host, dns: [], dnsSearch: [], dnsOptions: [] }),
      "search corp.example\nnameserver 10.0.0.2\noptions edns0\n",
    );
    assert.equal(
      resolvConf({ host: "nameserver 127.0.0.53\n", dns: [], dnsSearch: [], dnsOptions: [] }),
      "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
    );
    assert.equal(
      resolvConf({ host, dns: ["1.2.3.4"], dnsSearch: ["a.test"], dnsOptions: ["ndots:2"] }),
      "search a.test\nnameserver 1.2.3.4\noptions ndots:2\n",
    );
    assert.equal(
      resolvConf({ host, nameservers: ["172.18.0.1"], dns: ["1.2.3.4"], dnsSearch: [], dnsOptions: [] }),
      "search corp.example\nnameserver 172.18.0.1\noptions edns0 ndots:0\n",
    );
    // An ndots option of the container's own is kept as the only one (Docker's rule).
    assert.equal(
      resolvConf({ host, nameservers: ["172.18.0.1"], dns: [], dnsSearch: [], dnsOptions: ["ndots:3"] }),
      "search corp.example\nnameserver 172.18.0.1\noptions ndots:3\n",
    );
  });
});

describe("CNI", () => {
  test("a plugin gets name, version, prevResult and only the runtimeConfig it declares", () => {
    const list = { cniVersion: "1.0.0", name: "net1" };
    const portmap = { type: "portmap", snat: true, capabilities: { portMappings: true } };
    const stdin = JSON.parse(
      pluginStdin(list, portmap, {
        prevResult: { ips: [] },
        runtimeConfig: { portMappings: [{ hostPort: 1 }], ips: ["10.0.0.5"] },
      }),
    );
    assert.deepEqual(stdin, {
      type: "portmap",
      snat: true,
      capabilities: { portMappings: true },
      cniVersion: "1.0.0",
      name: "net1",
      runtimeConfig: { portMappings: [{ hostPort: 1 }] },
      prevResult: { ips: [] },
    });
    const fw = JSON.parse(pluginStdin(list, { type: "firewall" }, { runtimeConfig: { ips: ["x"] } }));
    assert.equal(fw.runtimeConfig, undefined);
  });

  test("results are decoded, unknown fields kept raw", () => {
    const r = decodeResult({
      cniVersion: "1.0.0",
      interfaces: [{ name: "br0" }, { name: "eth0", mac: "aa:bb:cc:dd:ee:ff", sandbox: "/x" }],
      ips: [{ interface: 1, address: "10.0.0.2/24", gateway: "10.0.0.1" }],
      dns: {},
    });
    assert.equal(r.ips[0]?.address, "10.0.0.2/24");
    assert.equal(r.interfaces[1]?.mac, "aa:bb:cc:dd:ee:ff");
    assert.deepEqual(r.raw.dns, {});
    assert.throws(() => decodeResult([]), /not an object/);
  });
});

describe("ports and DNS configuration", () => {
  test("PortBindings and -P become port requests (ranges, chosen ports, protocols)", () => {
    const reqs = requestedPorts(
      { ExposedPorts: { "80/tcp": {}, "53/udp": {}, "8080/tcp": {} } },
      {
        PortBindings: {
          "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "3000" }],
          "8080/tcp": [{ HostPort: "9000-9010" }],
        },
        PublishAllPorts: true,
      },
    );
    assert.deepEqual(reqs, [
      { containerPort: 53, proto: "udp", hostIp: "", hostPortFrom: 0, hostPortTo: 0 },
      { containerPort: 80, proto: "tcp", hostIp: "127.0.0.1", hostPortFrom: 3000, hostPortTo: 3000 },
      { containerPort: 8080, proto: "tcp", hostIp: "", hostPortFrom: 9000, hostPortTo: 9010 },
    ]);
    assert.throws(
      () => requestedPorts({}, { PortBindings: { "80/tcp": [{ HostPort: "x" }] } }),
      /invalid hostPort/,
    );
    // HostPort "0" asks for an ephemeral port, as an empty one does (Docker's, and Testcontainers').
    assert.deepEqual(requestedPorts({}, { PortBindings: { "80/tcp": [{ HostPort: "0" }] } }), [
      { containerPort: 80, proto: "tcp", hostIp: "", hostPortFrom: 0, hostPortTo: 0 },
    ]);
  });

  test("aardvark-dns 1.4 configuration: listen address, then ID, IPv4, IPv6 (empty), names, servers", () => {
    assert.equal(
      aardvarkConfig({
        name: "n",
        gateway: "10.0.0.1",
        entries: [
          { containerId: "a".repeat(64), ipv4: "10.0.0.2", names: ["web", "alias"], dnsServers: [] },
          { containerId: "b".repeat(64), ipv4: "10.0.0.3", names: ["db"], dnsServers: ["1.1.1.1"] },
        ],
      }),
      `10.0.0.1\n${"a".repeat(64)} 10.0.0.2  web,alias\n${"b".repeat(64)} 10.0.0.3  db 1.1.1.1\n`,
    );
  });
});
