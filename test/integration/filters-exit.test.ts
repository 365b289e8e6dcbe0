/**
 * Docker's answers where scripts depend on them: `rm -f`/`rmi -f` of what is not there exit 0
 * silently; `ps --filter publish=` matches the host port (expose= the container port), with
 * ranges and protocols; `health=` values are checked; `rm --link` is refused, not ignored.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Store } from "./harness.js";
import { freePort } from "./registry-helpers.js";

let s: Store;

before(async () => {
  s = await Store.create();
  await s.busybox();
});
after(async () => {
  await s?.cleanup();
});

test("rm -f and rmi -f of something that does not exist exit 0 and print nothing", async () => {
  for (const args of [
    ["rm", "-f", "no-such-ctr"],
    ["rmi", "-f", "no-such-image:1"],
  ]) {
    const r = await s.berth(args);
    assert.equal(r.code, 0, args.join(" "));
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "");
  }
  // Without -f it is still an error, and a real one among missing ones is removed.
  const plain = await s.berth(["rm", "no-such-ctr"]);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /No such container: no-such-ctr/);
  await s.ok(["create", "--name", "real-one", "busybox", "true"]);
  const mixed = await s.berth(["rm", "-f", "gone", "real-one"]);
  assert.equal(mixed.code, 0);
  assert.equal(mixed.stdout, "real-one\n");
  const link = await s.berth(["rm", "--link", "x"]);
  assert.equal(link.code, 1);
  assert.match(link.stderr, /--link is not supported/);
});

test("ps --filter publish= matches the host port, expose= the container port", async () => {
  const host = await freePort();
  await s.ok([
    "run",
    "-d",
    "--name",
    "pub",
    "-p",
    `${host}:80`,
    "--expose",
    "9000/udp",
    "busybox",
    "sleep",
    "300",
  ]);
  await s.ok(["run", "-d", "--name", "plain", "busybox", "sleep", "300"]);
  const names = async (filter: string) =>
    (await s.ok(["ps", "--filter", filter, "--format", "{{.Names}}"])).stdout
      .split("\n")
      .filter(Boolean)
      .sort();
  assert.deepEqual(await names(`publish=${host}`), ["pub"]);
  assert.deepEqual(await names(`publish=${host}/tcp`), ["pub"]);
  assert.deepEqual(await names(`publish=${host}/udp`), []);
  assert.deepEqual(await names(`publish=${host - 1}-${host + 1}`), ["pub"]);
  // The container port is not the published one.
  assert.deepEqual(await names("publish=80"), host === 80 ? ["pub"] : []);
  assert.deepEqual(await names("expose=80"), ["pub"]);
  assert.deepEqual(await names("expose=9000/udp"), ["pub"]);
  assert.deepEqual(await names("expose=8990-9010/udp"), ["pub"]);
  const bad = await s.berth(["ps", "--filter", `publish=${host}:80`]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /filter for 'publish' should not contain ':'/);
});

test("ps --filter health= takes Docker's values only", async () => {
  const bogus = await s.berth(["ps", "--filter", "health=bogus"]);
  assert.notEqual(bogus.code, 0);
  assert.match(bogus.stderr, /Unrecognised filter value for health: bogus/);
  const none = (await s.ok(["ps", "--filter", "health=none", "--format", "{{.Names}}"])).stdout;
  assert.match(none, /plain/);
  assert.equal((await s.ok(["ps", "--filter", "health=healthy", "-q"])).stdout, "");
});
