import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import { decodeNetworkConnect, decodeNetworkCreate, decodeNetworkDisconnect } from "./networks.js";
import { decodeVolumeCreate } from "./volumes.js";

test("network create: the body the docker 28 CLI sends", () => {
  const body = JSON.parse(
    '{"Driver":"bridge","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.9.0.0/24"}]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{"x":"y"},"Name":"n1"}',
  ) as unknown;
  assert.deepEqual(decodeNetworkCreate(body), {
    Name: "n1",
    Driver: "bridge",
    Internal: false,
    Attachable: false,
    IPAM: { Driver: "default", Config: [{ Subnet: "10.9.0.0/24" }] },
    Options: {},
    Labels: { x: "y" },
  });
});

test("network create: swarm-only settings and wrong types are refused", () => {
  const refused: Array<[unknown, string]> = [
    [{ Name: "n", Ingress: true }, "NotImplemented"],
    [{ Name: "n", Scope: "swarm" }, "NotImplemented"],
    [{ Name: "n", ConfigOnly: true }, "NotImplemented"],
    [{ Name: "n", ConfigFrom: { Network: "other" } }, "NotImplemented"],
    [{ Name: "n", IPAM: { Driver: "dhcp" } }, "NotImplemented"],
    [{ Name: "n", Internal: "yes" }, "InvalidArgument"],
    [{ Name: "n", Labels: { a: 1 } }, "InvalidArgument"],
    [{}, "InvalidArgument"],
    [[1], "InvalidArgument"],
  ];
  for (const [body, kind] of refused) {
    assert.throws(
      () => decodeNetworkCreate(body),
      (e: unknown) => isBerthError(e, kind as "InvalidArgument"),
      JSON.stringify(body),
    );
  }
});

test("network connect/disconnect bodies", () => {
  const body = JSON.parse(
    '{"Container":"c1","EndpointConfig":{"IPAMConfig":{"IPv4Address":"10.9.0.5"},"Links":null,"Aliases":["al"],"MacAddress":"","DriverOpts":{},"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}',
  ) as unknown;
  assert.deepEqual(decodeNetworkConnect(body), {
    Container: "c1",
    EndpointConfig: { IPAMConfig: { IPv4Address: "10.9.0.5" }, Aliases: ["al"] },
  });
  assert.deepEqual(decodeNetworkDisconnect({ Container: "c1", Force: true }), {
    Container: "c1",
    Force: true,
  });
  assert.throws(() => decodeNetworkConnect({}), /Container/);
  assert.throws(() => decodeNetworkConnect({ Container: "c", EndpointConfig: { Aliases: "a" } }), /Aliases/);
});

test("volume create body: name, driver, options, labels; a cluster volume is refused", () => {
  assert.deepEqual(
    decodeVolumeCreate({ Driver: "local", DriverOpts: { o: "1" }, Labels: { a: "b" }, Name: "v1" }),
    { Driver: "local", DriverOpts: { o: "1" }, Labels: { a: "b" }, Name: "v1" },
  );
  assert.deepEqual(decodeVolumeCreate({ Driver: "local" }), { Driver: "local" });
  assert.deepEqual(decodeVolumeCreate(undefined), {});
  assert.throws(
    () => decodeVolumeCreate({ ClusterVolumeSpec: { Group: "g" } }),
    (e: unknown) =>
      isBerthError(e, "Unavailable") && e.message.startsWith("This node is not a swarm manager."),
  );
  assert.throws(() => decodeVolumeCreate({ Name: 3 }), /Name must be a string/);
});
