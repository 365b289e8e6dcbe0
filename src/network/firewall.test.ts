import assert from "node:assert/strict";
import { test } from "node:test";
import { chainOf, dnsTable, dnsTableOf, parseIptablesSave, setupRules, teardownRules } from "./firewall.js";

const EMPTY = parseIptablesSave(
  "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n",
);

test("a bridge's first set-up writes its chains and both jumps", () => {
  const text = setupRules({ bridge: "berth0", subnet: "172.18.0.0/16", internal: false }, EMPTY);
  assert.equal(
    text,
    [
      "*filter",
      ":BERTH-berth0 - [0:0]",
      "-A BERTH-berth0 -o berth0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
      "-A BERTH-berth0 -i berth0 -j ACCEPT",
      "-I FORWARD 1 -j BERTH-berth0",
      "COMMIT",
      "*nat",
      ":BERTH-berth0 - [0:0]",
      "-A BERTH-berth0 ! -o berth0 -j MASQUERADE",
      "-A POSTROUTING -s 172.18.0.0/16 -j BERTH-berth0",
      "COMMIT",
      "",
    ].join("\n"),
  );
});

test("set-up again keeps existing jumps, replaces a jump of an earlier subnet; internal keeps traffic on the bridge", () => {
  const dump = parseIptablesSave(
    [
      "*filter",
      ":FORWARD DROP [0:0]",
      ":DOCKER-USER - [0:0]",
      ":BERTH-br1 - [0:0]",
      "-A FORWARD -j DOCKER-USER",
      "-A FORWARD -j BERTH-br1",
      "COMMIT",
      "*nat",
      ":POSTROUTING ACCEPT [0:0]",
      ":BERTH-br1 - [0:0]",
      "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
      "-A POSTROUTING -s 10.1.0.0/16 -j BERTH-br1",
      "COMMIT",
    ].join("\n"),
  );
  const text = setupRules({ bridge: "br1", subnet: "10.2.0.0/16", internal: true }, dump);
  assert.ok(!text.includes("-I FORWARD"));
  assert.ok(text.includes("-D POSTROUTING -s 10.1.0.0/16 -j BERTH-br1\n"));
  assert.ok(text.includes("-A POSTROUTING -s 10.2.0.0/16 -j BERTH-br1\n"));
  assert.ok(text.includes("-A BERTH-br1 -i br1 -j DROP\n"));
  assert.ok(!text.includes("MASQUERADE"));
  assert.ok(!text.includes("docker0"), "another engine's rules are never touched");
});

test("teardown removes the jumps and chains of one bridge only; nothing to do gives no input", () => {
  const dump = parseIptablesSave(
    [
      "*filter",
      ":BERTH-a - [0:0]",
      ":BERTH-ab - [0:0]",
      "-A FORWARD -j BERTH-a",
      "-A FORWARD -j BERTH-ab",
      "COMMIT",
      "*nat",
      ":BERTH-a - [0:0]",
      "-A POSTROUTING -s 10.1.0.0/16 -j BERTH-a",
      "COMMIT",
    ].join("\n"),
  );
  assert.equal(
    teardownRules("a", dump),
    [
      "*filter",
      "-D FORWARD -j BERTH-a",
      "-F BERTH-a",
      "-X BERTH-a",
      "COMMIT",
      "*nat",
      "-D POSTROUTING -s 10.1.0.0/16 -j BERTH-a",
      "-F BERTH-a",
      "-X BERTH-a",
      "COMMIT",
      "",
    ].join("\n"),
  );
  assert.equal(teardownRules("zz", dump), "");
  assert.equal(chainOf("berth-0123abcd").length <= 28, true);
});

test("the DNS table leads port 53 of each gateway to the current server, and both servers' answers back from 53", () => {
  const text = dnsTable(dnsTableOf("0123abcd"), ["100.64.0.1", "100.64.0.65"], {
    current: 10054,
    all: [10053, 10054],
  });
  const lines = text.split("\n").map((l) => l.trim());
  // Created, deleted and written again in one `nft -f` transaction: no moment without the table.
  assert.deepEqual(lines.slice(0, 3), [
    "table ip berth_dns_0123abcd",
    "delete table ip berth_dns_0123abcd",
    "table ip berth_dns_0123abcd {",
  ]);
  const query = "ip daddr { 100.64.0.1, 100.64.0.65 } udp dport 53 notrack udp dport set 10054";
  assert.equal(lines.filter((l) => l === query).length, 2);
  assert.ok(lines.includes("type filter hook prerouting priority raw; policy accept;"));
  assert.ok(lines.includes("type filter hook output priority raw; policy accept;"));
  assert.ok(
    lines.includes(
      "ip saddr { 100.64.0.1, 100.64.0.65 } udp sport { 10053, 10054 } notrack udp sport set 53",
    ),
  );
  assert.ok(text.endsWith("}\n"));
});

test("the DNS table with no gateway is only removed", () => {
  assert.equal(
    dnsTable("berth_dns_x", [], { current: 0, all: [10053, 10054] }),
    "table ip berth_dns_x\ndelete table ip berth_dns_x\n",
  );
});
