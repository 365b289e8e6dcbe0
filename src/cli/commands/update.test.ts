import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePublish } from "./run-flags.js";
import { portsUpdate } from "./update.js";

test("parsePublish reads Docker's -p syntax: ranges, host ranges, protocols, addresses", () => {
  assert.deepEqual(parsePublish(["127.0.0.1:8080-8081:80-81/udp"]).bindings, {
    "80/udp": [{ HostIp: "127.0.0.1", HostPort: "8080" }],
    "81/udp": [{ HostIp: "127.0.0.1", HostPort: "8081" }],
  });
  assert.deepEqual(parsePublish(["8080-8090:80"]).bindings, {
    "80/tcp": [{ HostIp: "", HostPort: "8080-8090" }],
  });
  assert.deepEqual(parsePublish(["80"]).bindings, { "80/tcp": [{ HostIp: "", HostPort: "" }] });
  assert.deepEqual(parsePublish(["[::1]:8080:80"]).bindings, {
    "80/tcp": [{ HostIp: "::1", HostPort: "8080" }],
  });
  assert.throws(
    () => parsePublish(["8080-8082:80-81"]),
    /invalid ranges specified for container and host Ports/,
  );
  assert.throws(() => parsePublish(["8080:80/xyz"]), /invalid proto: xyz/);
  assert.throws(() => parsePublish(["1.2.3:8080:80"]), /invalid IP address: 1\.2\.3/);
  assert.throws(() => parsePublish(["x:80"]), /invalid hostPort: x/);
});

test("--publish-add and --publish-rm become one ports update; a bare container port removes all its bindings", () => {
  assert.equal(portsUpdate([], []), undefined);
  assert.deepEqual(portsUpdate(["8080:80"], ["9090:90/udp", "81"]), {
    Add: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] },
    Remove: { "90/udp": [{ HostIp: "", HostPort: "9090" }], "81/tcp": [] },
  });
});
