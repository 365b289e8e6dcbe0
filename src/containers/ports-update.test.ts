import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import type { HostConfig } from "../engine/types.js";
import { planPortsUpdate } from "./ports-update.js";

const hc: HostConfig = {
  NetworkMode: "default",
  PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }], "53/udp": [{ HostIp: "", HostPort: "" }] },
};
const opts = { name: "web", published: [] };

test("adds a binding beside the ones there, keeping the rest of the HostConfig", () => {
  const out = planPortsUpdate(hc, { Add: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "9090" }] } }, opts);
  assert.equal(out.NetworkMode, "default");
  assert.deepEqual(out.PortBindings?.["80/tcp"], [
    { HostIp: "", HostPort: "8080" },
    { HostIp: "127.0.0.1", HostPort: "9090" },
  ]);
  assert.deepEqual(
    hc.PortBindings?.["80/tcp"],
    [{ HostIp: "", HostPort: "8080" }],
    "the input is not changed",
  );
});

test("removes by host port, or every binding of a container port; removals come first", () => {
  const out = planPortsUpdate(
    hc,
    { Remove: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] }, Add: { "81/tcp": [{ HostPort: "8080" }] } },
    opts,
  );
  assert.deepEqual(out.PortBindings, {
    "53/udp": [{ HostIp: "", HostPort: "" }],
    "81/tcp": [{ HostIp: "", HostPort: "8080" }],
  });
  assert.deepEqual(planPortsUpdate(hc, { Remove: { "53/udp": [] } }, opts).PortBindings, {
    "80/tcp": [{ HostIp: "", HostPort: "8080" }],
  });
});

test("a binding berth chose the port of is removed by the port the running container got", () => {
  const out = planPortsUpdate(
    hc,
    { Remove: { "53/udp": [{ HostIp: "", HostPort: "40001" }] } },
    { name: "web", published: [{ hostIp: "0.0.0.0", hostPort: 40001, containerPort: 53, proto: "udp" }] },
  );
  assert.deepEqual(Object.keys(out.PortBindings ?? {}), ["80/tcp"]);
});

test("removing what is not published, adding what is, and bad bindings are errors", () => {
  const kind = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return isBerthError(err) ? `${err.kind}: ${err.message}` : "other";
    }
    return "none";
  };
  assert.equal(
    kind(() => planPortsUpdate(hc, { Remove: { "80/tcp": [{ HostPort: "9999" }] } }, opts)),
    "InvalidArgument: container web does not publish 9999:80/tcp",
  );
  assert.equal(
    kind(() => planPortsUpdate(hc, { Remove: { "81/tcp": [] } }, opts)),
    "InvalidArgument: container web does not publish 81/tcp",
  );
  assert.equal(
    kind(() => planPortsUpdate(hc, { Add: { "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "8080" }] } }, opts)),
    "Conflict: container web already publishes 0.0.0.0:8080:80/tcp",
  );
  assert.match(
    kind(() => planPortsUpdate(hc, { Add: { "80/xyz": [{}] } }, opts)),
    /^InvalidArgument: invalid port/,
  );
  assert.match(
    kind(() => planPortsUpdate(hc, { Add: { "80/tcp": [{ HostPort: "70000" }] } }, opts)),
    /^InvalidArgument: invalid hostPort: 70000/,
  );
  assert.match(
    kind(() => planPortsUpdate(hc, { Add: { "80/tcp": [{ HostIp: "nope", HostPort: "1" }] } }, opts)),
    /^InvalidArgument: invalid IP address: nope/,
  );
});
