/**
 * `berth container update --publish-add/--publish-rm` through the real bin/berth: a port added
 * to a running container answers on 127.0.0.1 at once and stops answering when removed; a host
 * port another container holds is refused with Docker's words and nothing changes; a stopped
 * container starts with the port it was given. `port`, `ps` and inspect show each state. Host
 * ports are chosen free at run time (never 3000-3003). Traffic goes only to 127.0.0.1.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { httpGet, runProgram, Store } from "./harness.js";

const WEB = [
  "sh",
  "-c",
  "mkdir -p /www && echo hello-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www",
];

/** A port the kernel has free now on 127.0.0.1 (not in the fixed 3000-3003 other suites use). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once("error", reject);
      srv.listen({ host: "127.0.0.1", port: 0 }, () => {
        const a = srv.address();
        const p = typeof a === "object" && a ? a.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port < 3000 || port > 3003) return port;
  }
}

/** Waits for a condition (the shared poller, with this file's default timeout). */
const until = (what: string, fn: () => Promise<boolean>, ms = 15_000) => waitFor(what, fn, ms);

describe("container update --publish-add / --publish-rm", () => {
  let store: Store;
  before(async () => {
    store = await Store.create();
    await store.busybox();
  });
  after(async () => {
    await store.cleanup();
  });

  const inspect = async (name: string, format: string) =>
    (await store.ok(["inspect", "--format", format, name])).stdout.trim();

  it("a port added to a running container answers on 127.0.0.1, and stops when removed", async () => {
    await store.ok(["run", "-d", "--name", "web", "busybox", ...WEB]);
    const id = (await store.ok(["inspect", "--format", "{{.Id}}", "web"])).stdout.trim();
    const port = await freePort();
    const add = await store.berth(["container", "update", "--publish-add", `127.0.0.1:${port}:80`, "web"]);
    assert.deepEqual([add.code, add.stdout, add.stderr], [0, "web\n", ""]);
    let body: string | undefined;
    await until(`web on 127.0.0.1:${port}`, async () => {
      body = await httpGet(port);
      return body !== undefined;
    });
    assert.equal(body, `hello-${id.slice(0, 12)}\n`);
    assert.equal((await store.ok(["port", "web"])).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
    assert.equal(
      (await store.ok(["ps", "--filter", "name=web", "--format", "{{.Ports}}"])).stdout,
      `127.0.0.1:${port}->80/tcp\n`,
    );
    assert.equal(
      await inspect("web", "{{json .HostConfig.PortBindings}} {{json .NetworkSettings.Ports}}"),
      `{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"${port}"}]} {"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"${port}"}]}`,
    );

    // A host port another container holds: Docker's refusal, and nothing changes.
    const taken = await freePort();
    await store.ok(["run", "-d", "--name", "holder", "-p", `127.0.0.1:${taken}:80`, "busybox", ...WEB]);
    const refused = await store.berth(["update", "--publish-add", `127.0.0.1:${taken}:80`, "web"]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      new RegExp(`Bind for 127\\.0\\.0\\.1:${taken} failed: port is already allocated`),
    );
    assert.equal(refused.stdout, "");
    assert.equal((await store.ok(["port", "web"])).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
    assert.equal(
      await inspect("web", "{{json .HostConfig.PortBindings}}"),
      `{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"${port}"}]}`,
    );
    assert.ok((await httpGet(port)) !== undefined, "the port web had still answers");

    // Removing what is not published is an error; removing the port stops the forwarding.
    const notThere = await store.berth(["update", "--publish-rm", "1:80", "web"]);
    assert.notEqual(notThere.code, 0);
    assert.match(notThere.stderr, /container web does not publish 1:80\/tcp/);
    const rm = await store.berth(["update", "--publish-rm", `127.0.0.1:${port}:80`, "web"]);
    assert.deepEqual([rm.code, rm.stdout, rm.stderr], [0, "web\n", ""]);
    await until(`nothing on 127.0.0.1:${port}`, async () => (await httpGet(port)) === undefined);
    assert.equal((await store.ok(["port", "web"])).stdout, "");
    const nat = await runProgram("iptables-save", ["-t", "nat"]);
    assert.ok(!nat.stdout.includes(`--dports ${port} `), "no forwarding rule is left for the removed port");
    assert.ok(nat.stdout.includes(`--dports ${taken} `), "the other container's rule stays");
    assert.equal((await store.ok(["ps", "--filter", "name=web", "--format", "{{.Ports}}"])).stdout, "\n");
    assert.equal(
      await inspect("web", "{{json .HostConfig.PortBindings}} {{json .NetworkSettings.Ports}}"),
      "{} {}",
    );
    // The other container's port is untouched, and the freed port can be taken again.
    assert.ok((await httpGet(taken)) !== undefined);
    await store.ok(["update", "--publish-add", `127.0.0.1:${port}:80`, "web"]);
    await until(`web again on 127.0.0.1:${port}`, async () => (await httpGet(port)) !== undefined);
    // Stopping releases it (the forwarding of a stopped container is gone), the binding stays recorded.
    await store.ok(["stop", "-t", "1", "web"]);
    assert.equal(
      await inspect("web", "{{json .HostConfig.PortBindings}}"),
      `{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"${port}"}]}`,
    );
    assert.equal(await httpGet(port), undefined);
  });

  it("a stopped container starts with the port added while it was stopped", async () => {
    await store.ok(["create", "--name", "later", "busybox", ...WEB]);
    const port = await freePort();
    const add = await store.berth(["update", "--publish-add", `127.0.0.1:${port}:80`, "later"]);
    assert.deepEqual([add.code, add.stdout, add.stderr], [0, "later\n", ""]);
    assert.equal(
      await inspect("later", "{{json .HostConfig.PortBindings}}"),
      `{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"${port}"}]}`,
    );
    assert.equal((await store.ok(["port", "later"])).stdout, "");
    await store.ok(["start", "later"]);
    await until(`later on 127.0.0.1:${port}`, async () => (await httpGet(port)) !== undefined);
    assert.equal((await store.ok(["port", "later"])).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
  });

  it("containers without a bridge network refuse, as Docker refuses -p there", async () => {
    await store.ok(["create", "--name", "hostnet", "--network", "host", "busybox", "true"]);
    const r = await store.berth(["update", "--publish-add", "8080:80", "hostnet"]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /conflicting options: port publishing and the container type network mode \(host\)/,
    );
  });
});
