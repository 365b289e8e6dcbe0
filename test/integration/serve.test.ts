/**
 * `berth serve` as a daemon: its flags, restart policies applied when it starts, SIGTERM leaving
 * containers running, one server per socket, bad requests answered without changing anything,
 * and SIGKILL in the middle of requests losing no container or image.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";
import { freePort } from "./registry-helpers.js";
import { Serve } from "./serve-helpers.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});

after(async () => {
  await store?.cleanup();
});

async function state(name: string): Promise<string> {
  const r = await store.berth(["inspect", "-f", "{{.State.Status}}", name]);
  return r.code === 0 ? r.stdout.trim() : `missing (${r.stderr.trim()})`;
}

/** What a reboot does to a container: its monitor and process die, nothing records the exit. */
async function killLikeAReboot(name: string): Promise<void> {
  const id = (await store.ok(["inspect", "-f", "{{.Id}}", name])).stdout.trim();
  const pid = Number((await store.ok(["inspect", "-f", "{{.State.Pid}}", name])).stdout.trim());
  const conmon = Number(await readFile(join(store.runroot, "conmon", `${id}.pid`), "utf8"));
  assert.ok(conmon > 0 && pid > 0);
  process.kill(conmon, "SIGKILL");
  process.kill(pid, "SIGKILL");
  // The process is gone once /proc no longer has it.
  for (let i = 0; i < 400; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`process ${pid} of ${name} did not die`);
}

describe("berth serve", () => {
  test("refuses plain TCP off loopback and bad addresses with one line; serves TCP on loopback", async () => {
    const r = await store.berth(["serve", "-H", "tcp://0.0.0.0:2375"]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^refusing to serve tcp:\/\/0\.0\.0\.0:2375 without TLS/);
    const bad = await store.berth(["serve", "-H", "fd://"]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /fd:\/\/ scheme is not supported/);
    const noKeys = await store.berth(["serve", "--tlsverify", "-H", "tcp://10.1.2.3:2376"]);
    assert.equal(noKeys.code, 125);
    assert.match(noKeys.stderr, /--tlsverify needs --tlscacert, --tlscert and --tlskey/);
    const level = await store.berth(["serve", "--log-level", "loud"]);
    assert.equal(level.code, 125);
    assert.match(level.stderr, /unable to parse logging level: loud/);

    const port = await freePort();
    const serve = await Serve.start(store, ["-H", `tcp://127.0.0.1:${port}`]);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/_ping`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("api-version"), "1.50");
      assert.equal(await res.text(), "OK");
    } finally {
      assert.equal(await serve.stop(), 0);
    }
  });

  test("starts containers by restart policy, refuses a second server, leaves containers running on SIGTERM", async () => {
    await store.ok(["run", "-d", "--name", "pol-always", "--restart", "always", "busybox", "sleep", "1000"]);
    await store.ok([
      "run",
      "-d",
      "--name",
      "pol-unless",
      "--restart",
      "unless-stopped",
      "busybox",
      "sleep",
      "1000",
    ]);
    await store.ok([
      "run",
      "-d",
      "--name",
      "pol-stopped",
      "--restart",
      "unless-stopped",
      "busybox",
      "sleep",
      "1000",
    ]);
    await store.ok(["run", "-d", "--name", "pol-none", "busybox", "sleep", "1000"]);
    await store.ok(["stop", "-t", "0", "pol-stopped"]);
    for (const n of ["pol-always", "pol-unless", "pol-none"]) await killLikeAReboot(n);

    const serve = await Serve.start(store, ["--log-level", "debug"]);
    try {
      await serve.waitForLog("berth serve is ready");
      assert.equal(await state("pol-always"), "running");
      assert.equal(await state("pol-unless"), "running");
      assert.equal(await state("pol-stopped"), "exited");
      assert.equal(await state("pol-none"), "exited");
      assert.match(serve.log, /started by its restart policy/);

      // One server per socket: the second says so in one line and exits 1.
      const second = await store.berth(["serve", "-H", serve.host]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /already listening on unix:\/\/.*serve\.sock/);
      assert.equal(await serve.answers(), true);
    } finally {
      assert.equal(await serve.stop("SIGTERM"), 0);
    }
    assert.match(serve.log, /received SIGTERM, shutting down/);
    // conmon holds the containers: they outlive the server.
    assert.equal(await state("pol-always"), "running");
    assert.equal(await serve.answers(), false);
    await store.ok(["rm", "-f", "pol-always", "pol-unless", "pol-stopped", "pol-none"]);
  });

  test("bad requests get 4xx with Docker's body and change nothing; 304 for start/stop without effect", async () => {
    const serve = await Serve.start(store);
    try {
      const before = (await store.ok(["ps", "-aq"])).stdout;
      const create = (body: string) =>
        serve.request("POST", "/v1.50/containers/create", body, { "Content-Type": "application/json" });
      const cases: Array<[string, RegExp]> = [
        ["{not json", /^invalid JSON/],
        ['{"Image": "busybox", "Cmd": 5}', /Cmd must be a list of strings/],
        ['{"Image": "busybox", "HostConfig": {"Memory": "lots"}}', /HostConfig\.Memory must be an integer/],
        [
          '{"Image": "busybox", "HostConfig": {"BlkioWeight": 300}}',
          /HostConfig\.BlkioWeight is not supported/,
        ],
        [
          '{"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}}',
          /invalid restart policy/,
        ],
        [
          '{"Image": "busybox", "HostConfig": {"LogConfig": {"Type": "syslog"}}}',
          /log driver "syslog" is not supported/,
        ],
        ["[1, 2]", /must be an object/],
      ];
      for (const [body, message] of cases) {
        const r = await create(body);
        assert.equal(r.status, 400, `${body}: ${r.body}`);
        assert.match(JSON.parse(r.body).message, message);
      }
      const badName = await serve.request(
        "POST",
        "/containers/create?name=no%20spaces",
        '{"Image":"busybox"}',
      );
      assert.equal(badName.status, 400);
      const noImage = await create('{"Image": "not-here:1"}');
      assert.equal(noImage.status, 404);
      assert.match(JSON.parse(noImage.body).message, /No such image: not-here:1/);
      const tooBig = await create(
        JSON.stringify({ Image: "busybox", Env: ["X=".padEnd(9 * 1024 * 1024, "x")] }),
      );
      assert.equal(tooBig.status, 413);
      assert.equal((await store.ok(["ps", "-aq"])).stdout, before, "nothing was created");

      const missing = await serve.request("GET", "/containers/nothing-here/json");
      assert.equal(missing.status, 404);
      assert.deepEqual(JSON.parse(missing.body), { message: "No such container: nothing-here" });
      assert.equal((await serve.request("GET", "/containers/json?limit=ten")).status, 400);
      assert.equal((await serve.request("GET", '/containers/json?filters={"status":5}')).status, 400);

      const id = JSON.parse((await create('{"Image": "busybox", "Cmd": ["sleep", "1000"]}')).body).Id;
      assert.equal((await serve.request("POST", `/containers/${id}/stop`)).status, 304);
      assert.equal((await serve.request("POST", `/containers/${id}/start`)).status, 204);
      assert.equal((await serve.request("POST", `/containers/${id}/start`)).status, 304);
      assert.equal((await serve.request("POST", `/containers/${id}/wait?condition=sometime`)).status, 400);
      assert.equal((await serve.request("POST", `/containers/${id}/kill?signal=NOPE`)).status, 400);
      assert.equal((await serve.request("POST", `/containers/${id}/stop?t=0`)).status, 204);
      assert.equal((await serve.request("POST", `/containers/${id}/stop`)).status, 304);
      assert.equal((await serve.request("DELETE", `/containers/${id}`)).status, 204);
      assert.equal(await serve.answers(), true);
      assert.doesNotMatch(serve.log, /unhandled failure/);
      // Mutating requests are logged at info.
      assert.match(serve.log, /level=info msg="POST \/v1\.50\/containers\/create" status=400/);
    } finally {
      assert.equal(await serve.stop(), 0);
    }
  });

  test("SIGKILL in the middle of requests loses no container or image; the next serve repairs", async () => {
    const images = (await store.ok(["images", "-q", "--no-trunc"])).stdout;
    const serve = await Serve.start(store);
    const created: string[] = [];
    const work: Array<Promise<void>> = [];
    for (let i = 0; i < 6; i++) {
      work.push(
        (async () => {
          const r = await serve
            .request(
              "POST",
              `/containers/create?name=crash-${i}`,
              '{"Image":"busybox","Cmd":["sleep","1000"]}',
            )
            .catch(() => undefined);
          if (r?.status !== 201) return;
          const id: string = JSON.parse(r.body).Id;
          created.push(id);
          await serve.request("POST", `/containers/${id}/start`).catch(() => undefined);
        })(),
      );
    }
    // Kill it while those requests are in flight: once the first container exists.
    for (let i = 0; i < 400 && created.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await serve.stop("SIGKILL"), null);
    await Promise.all(work);
    assert.ok(created.length > 0);

    const next = await Serve.start(store);
    try {
      await next.waitForLog("berth serve is ready");
      // Every container whose create was answered is there, whole, and can be driven.
      for (const id of created) {
        const r = await next.request("GET", `/containers/${id}/json`);
        assert.equal(r.status, 200, r.body);
        const info = JSON.parse(r.body);
        assert.equal(info.Id, id);
        const start = await next.request("POST", `/containers/${id}/start`);
        assert.ok([204, 304].includes(start.status), start.body);
        assert.equal(
          JSON.parse((await next.request("GET", `/containers/${id}/json`)).body).State.Running,
          true,
        );
      }
      // The list answers for every container (no half-created one breaks it), images unchanged.
      const list = await next.request("GET", "/containers/json?all=1");
      assert.equal(list.status, 200);
      assert.equal((await store.ok(["images", "-q", "--no-trunc"])).stdout, images);
      const rm = await store.berth(["rm", "-f", ...created]);
      assert.equal(rm.code, 0, rm.stderr);
    } finally {
      await next.stop();
    }
    // Containers whose create was cut off before its answer are removed or removable.
    const left = (await store.ok(["ps", "-aq", "--filter", "name=crash-"])).stdout
      .split("\n")
      .filter(Boolean);
    if (left.length > 0) await store.ok(["rm", "-f", ...left]);
  });
});
