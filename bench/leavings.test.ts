import assert from "node:assert/strict";
import { test } from "node:test";
import { peerLeavings, ruleArgs } from "./leavings.js";

test("ruleArgs: splits an iptables -S line, keeping a quoted comment whole", () => {
  assert.deepEqual(
    ruleArgs('-A FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD'),
    ["FORWARD", "-m", "comment", "--comment", "netavark firewall plugin rules", "-j", "NETAVARK_FORWARD"],
  );
  assert.deepEqual(ruleArgs("-N DOCKER"), ["DOCKER"]);
});

test("peerLeavings: dockerd's and netavark's new rules and chains, nothing of berth's or older", () => {
  const before = new Set([
    "-P FORWARD ACCEPT",
    "-N BERTH-berth0",
    "-A FORWARD -j BERTH-berth0",
    "-A BERTH-berth0 -i berth0 -j ACCEPT",
    // A DOCKER chain left from before the run is not the run's to remove.
    "-N DOCKER-OLD",
  ]);
  const now = [
    "-P FORWARD ACCEPT",
    "-N BERTH-berth0",
    "-N DOCKER",
    "-N DOCKER-USER",
    "-N NETAVARK_FORWARD",
    "-N DOCKER-OLD",
    "-N BERTH-berth-1234abcd",
    "-A FORWARD -j DOCKER-USER",
    "-A FORWARD -j BERTH-berth0",
    "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
    '-A FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD',
    "-A FORWARD -j BERTH-berth-1234abcd",
    "-A FORWARD -j DOCKER-OLD",
    "-A BERTH-berth0 -i berth0 -j ACCEPT",
    "-A BERTH-berth-1234abcd -i berth-1234abcd -j ACCEPT",
    "-A DOCKER-USER -j RETURN",
    "-A POSTROUTING -s 172.21.0.0/16 ! -o docker0 -j MASQUERADE",
  ];
  const got = peerLeavings(before, now);
  assert.deepEqual(got.chains, ["DOCKER", "DOCKER-USER", "NETAVARK_FORWARD"]);
  assert.deepEqual(got.rules, [
    ["FORWARD", "-j", "DOCKER-USER"],
    ["FORWARD", "-o", "docker0", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
    ["FORWARD", "-i", "docker0", "!", "-o", "docker0", "-j", "ACCEPT"],
    ["FORWARD", "-m", "comment", "--comment", "netavark firewall plugin rules", "-j", "NETAVARK_FORWARD"],
    ["POSTROUTING", "-s", "172.21.0.0/16", "!", "-o", "docker0", "-j", "MASQUERADE"],
  ]);
});
