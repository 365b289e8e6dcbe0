/**
 * Container endpoints of `berth serve` at the HTTP level, for what the docker CLI does not show:
 * the multiplexed framing byte for byte, the hijacked attach with half-close, the plain attach
 * form docker-py uses, exec inspect's exit code, wait's conditions, and errors by status.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";
import { Serve } from "./serve-helpers.js";

let store: Store;
let serve: Serve;

before(async () => {
  store = await Store.create();
  await store.busybox();
  serve = await Serve.start(store);
});

after(async () => {
  await serve?.stop();
  await store?.cleanup();
});

/** Splits a multiplexed stream into [stream, text] frames. */
function frames(buf: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out.push([buf[i] ?? -1, buf.subarray(i + 8, i + 8 + size).toString()]);
    i += 8 + size;
  }
  assert.equal(i, buf.length, "the stream ends on a frame boundary");
  return out;
}

/** A raw HTTP/1.1 request on the socket; resolves with the response head once it arrived. */
function rawRequest(
  method: string,
  path: string,
  /** endInput: half-close right after the request, before the answer (no input at all). */
  opts: { body?: string; upgrade?: boolean; endInput?: boolean } = {},
): Promise<{ head: string; socket: Socket; rest: () => Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(serve.sock);
    let buf = Buffer.alloc(0);
    let resolved = false;
    const chunks: Buffer[] = [];
    let ended: () => void = () => undefined;
    const done = new Promise<void>((r) => {
      ended = r;
    });
    socket.on("data", (d: Buffer) => {
      if (resolved) {
        chunks.push(d);
        return;
      }
      buf = Buffer.concat([buf, d]);
      const at = buf.indexOf("\r\n\r\n");
      if (at < 0) return;
      resolved = true;
      chunks.push(buf.subarray(at + 4));
      resolve({
        head: buf.subarray(0, at).toString(),
        socket,
        rest: async () => {
          await done;
          return Buffer.concat(chunks);
        },
      });
    });
    socket.on("end", () => ended());
    socket.on("close", () => ended());
    socket.on("error", reject);
    const body = opts.body ?? "";
    socket.write(
      `${method} ${path} HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        (opts.upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : "Connection: close\r\n") +
        `\r\n${body}`,
    );
    if (opts.endInput) socket.end();
  });
}

async function create(body: object, name?: string): Promise<string> {
  const r = await serve.request(
    "POST",
    `/v1.50/containers/create${name ? `?name=${name}` : ""}`,
    JSON.stringify({ Image: "busybox", ...body }),
    { "Content-Type": "application/json" },
  );
  assert.equal(r.status, 201, r.body);
  return JSON.parse(r.body).Id;
}

async function waitExit(id: string): Promise<number> {
  const r = await serve.request("POST", `/containers/${id}/wait`);
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body).StatusCode;
}

describe("container endpoints over HTTP", () => {
  test("logs: one frame per write and stream without a TTY, raw with one; tail; follow ends at the exit", async () => {
    const id = await create({ Cmd: ["sh", "-c", "echo out; echo err >&2; echo more"] });
    assert.equal((await serve.request("POST", `/containers/${id}/start`)).status, 204);
    assert.equal(await waitExit(id), 0);
    const logs = await rawRequest("GET", `/containers/${id}/logs?stdout=1&stderr=1`);
    assert.match(logs.head, /^HTTP\/1\.1 200 /);
    assert.match(logs.head, /Content-Type: application\/vnd\.docker\.multiplexed-stream/i);
    const body = await logs.rest();
    // Chunked transfer encoding around the frames: take the frames out of the chunks.
    const dechunked = dechunk(body);
    const got = frames(dechunked);
    // stdout and stderr are two pipes: their order against each other is not kept (as Docker).
    assert.deepEqual(
      got.filter(([s]) => s === 1),
      [
        [1, "out\n"],
        [1, "more\n"],
      ],
    );
    assert.deepEqual(
      got.filter(([s]) => s === 2),
      [[2, "err\n"]],
    );
    const onlyErr = await serve.request("GET", `/containers/${id}/logs?stderr=1`);
    assert.deepEqual(frames(Buffer.from(onlyErr.body, "latin1")), [[2, "err\n"]]);
    // tail counts the log's records before the streams are chosen, as Docker's log reader does.
    const tail = await serve.request("GET", `/containers/${id}/logs?stdout=1&stderr=1&tail=1`);
    assert.equal(frames(Buffer.from(tail.body, "latin1")).length, 1);
    assert.equal((await serve.request("GET", `/containers/${id}/logs`)).status, 400);

    const tty = await create({ Tty: true, Cmd: ["echo", "on a terminal"] });
    await serve.request("POST", `/containers/${tty}/start`);
    assert.equal(await waitExit(tty), 0);
    const raw = await serve.request("GET", `/containers/${tty}/logs?stdout=1`);
    assert.equal(raw.headers["content-type"], "application/vnd.docker.raw-stream");
    assert.equal(raw.body, "on a terminal\r\n");

    const slow = await create({ Cmd: ["sh", "-c", "echo a; sleep 1; echo b"] });
    await serve.request("POST", `/containers/${slow}/start`);
    const followed = await serve.request("GET", `/containers/${slow}/logs?stdout=1&follow=1`);
    assert.deepEqual(frames(Buffer.from(followed.body, "latin1")), [
      [1, "a\n"],
      [1, "b\n"],
    ]);
    for (const c of [id, tty, slow])
      assert.equal((await serve.request("DELETE", `/containers/${c}`)).status, 204);
  });

  test("attach before start: 101 UPGRADED, stdin half-closed, the output until the exit", async () => {
    const id = await create({
      Cmd: ["sh", "-c", "cat; echo done >&2"],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    const attach = await rawRequest(
      "POST",
      `/v1.50/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1`,
      {
        upgrade: true,
      },
    );
    assert.match(attach.head, /^HTTP\/1\.1 101 UPGRADED/);
    assert.match(attach.head, /Upgrade: tcp/);
    assert.equal((await serve.request("POST", `/containers/${id}/start`)).status, 204);
    attach.socket.write("hello through stdin\n");
    attach.socket.end();
    const out = frames(await attach.rest());
    assert.deepEqual(
      out.filter(([s]) => s === 1),
      [[1, "hello through stdin\n"]],
    );
    assert.deepEqual(
      out.filter(([s]) => s === 2),
      [[2, "done\n"]],
    );
    assert.equal(await waitExit(id), 0);
    await serve.request("DELETE", `/containers/${id}`);
  });

  test("an input that ends before the server reads it (attach or exec of `< /dev/null`) still ends stdin", {
    // Without the end, the container would wait for stdin for ever.
    timeout: 120_000,
  }, async () => {
    // The half-close comes with the request, so it is there before the session is: the server
    // must take an end it was told about before it started reading as the end of stdin.
    const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  -\n";
    const id = await create({ Cmd: ["sha256sum"], OpenStdin: true, StdinOnce: true });
    assert.equal((await serve.request("POST", `/containers/${id}/start`)).status, 204);
    const attach = await rawRequest("POST", `/v1.50/containers/${id}/attach?stream=1&stdin=1&stdout=1`, {
      upgrade: true,
      endInput: true,
    });
    assert.match(attach.head, /^HTTP\/1\.1 101 UPGRADED/);
    assert.deepEqual(frames(await attach.rest()), [[1, empty]]);
    assert.equal(await waitExit(id), 0);

    const box = await create({ Cmd: ["sleep", "1000"] });
    assert.equal((await serve.request("POST", `/containers/${box}/start`)).status, 204);
    const ex = await serve.request(
      "POST",
      `/containers/${box}/exec`,
      JSON.stringify({ Cmd: ["sha256sum"], AttachStdin: true, AttachStdout: true }),
      { "Content-Type": "application/json" },
    );
    assert.equal(ex.status, 201, ex.body);
    const execId = JSON.parse(ex.body).Id;
    const started = await rawRequest("POST", `/v1.50/exec/${execId}/start`, {
      body: JSON.stringify({ Detach: false, Tty: false }),
      upgrade: true,
      endInput: true,
    });
    assert.match(started.head, /^HTTP\/1\.1 101 UPGRADED/);
    assert.deepEqual(frames(await started.rest()), [[1, empty]]);
    const inspect = await serve.request("GET", `/exec/${execId}/json`);
    assert.equal(JSON.parse(inspect.body).ExitCode, 0);
    for (const c of [id, box])
      assert.equal((await serve.request("DELETE", `/containers/${c}?force=1`)).status, 204);
  });

  test("the plain attach form (no Upgrade header): 200 and the stream as the body", async () => {
    const id = await create({ Cmd: ["sh", "-c", "sleep 0.5; echo plain"] });
    const attach = await rawRequest("POST", `/containers/${id}/attach?stream=1&stdout=1`);
    assert.match(attach.head, /^HTTP\/1\.1 200 OK/);
    assert.doesNotMatch(attach.head, /Transfer-Encoding/i);
    assert.equal((await serve.request("POST", `/containers/${id}/start`)).status, 204);
    assert.deepEqual(frames(await attach.rest()), [[1, "plain\n"]]);
    await serve.request("DELETE", `/containers/${id}?force=1`);
  });

  test("exec: attached with its exit code in inspect, detached, unknown ones 404", async () => {
    const id = await create({ Cmd: ["sleep", "1000"] });
    await serve.request("POST", `/containers/${id}/start`);
    const ex = await serve.request(
      "POST",
      `/containers/${id}/exec`,
      JSON.stringify({ Cmd: ["sh", "-c", "echo in-exec; exit 7"], AttachStdout: true, AttachStderr: true }),
    );
    assert.equal(ex.status, 201, ex.body);
    const execId: string = JSON.parse(ex.body).Id;
    const before = JSON.parse((await serve.request("GET", `/exec/${execId}/json`)).body);
    assert.equal(before.Running, false);
    assert.equal(before.ExitCode, null);
    const started = await rawRequest("POST", `/exec/${execId}/start`, {
      body: JSON.stringify({ Detach: false, Tty: false }),
      upgrade: true,
    });
    assert.match(started.head, /^HTTP\/1\.1 101 /);
    assert.deepEqual(frames(await started.rest()), [[1, "in-exec\n"]]);
    const after = JSON.parse((await serve.request("GET", `/exec/${execId}/json`)).body);
    assert.equal(after.ExitCode, 7);
    assert.equal(after.Running, false);
    assert.equal(after.ContainerID, id);
    // Starting it again is a conflict.
    assert.equal((await serve.request("POST", `/exec/${execId}/start`, "{}")).status, 409);

    const missing = await serve.request("POST", `/containers/${id}/exec`, JSON.stringify({ Cmd: [] }));
    assert.equal(missing.status, 400);
    const detached = JSON.parse(
      (await serve.request("POST", `/containers/${id}/exec`, JSON.stringify({ Cmd: ["touch", "/tmp/bg"] })))
        .body,
    ).Id;
    assert.equal((await serve.request("POST", `/exec/${detached}/start`, '{"Detach": true}')).status, 200);
    const unknown = await serve.request("GET", "/exec/nope/json");
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(unknown.body), { message: "No such exec instance: nope" });

    const stopped = await create({ Cmd: ["true"] });
    const refused = await serve.request(
      "POST",
      `/containers/${stopped}/exec`,
      JSON.stringify({ Cmd: ["ls"] }),
    );
    assert.equal(refused.status, 409);
    assert.match(JSON.parse(refused.body).message, /is not running/);
    assert.equal((await serve.request("POST", `/containers/${stopped}/resize?h=10&w=10`)).status, 409);
    await serve.request("DELETE", `/containers/${id}?force=1`);
    await serve.request("DELETE", `/containers/${stopped}`);
  });

  test("wait: next-exit waits for the next run, removed for the removal; top, changes, rename, commit", async () => {
    const id = await create({ Cmd: ["sh", "-c", "echo x > /made; sleep 1; exit 3"] }, "waiter");
    const nextExit = serve.request("POST", `/containers/${id}/wait?condition=next-exit`);
    await serve.request("POST", `/containers/${id}/start`);
    const top = await serve.request("GET", `/containers/${id}/top`);
    assert.equal(top.status, 200);
    assert.ok(JSON.parse(top.body).Titles.includes("PID"));
    assert.deepEqual(JSON.parse((await nextExit).body), { StatusCode: 3, Error: null });
    const changes = JSON.parse((await serve.request("GET", `/containers/${id}/changes`)).body);
    assert.ok(changes.some((c: { Path: string; Kind: number }) => c.Path === "/made" && c.Kind === 1));
    assert.equal((await serve.request("POST", `/containers/${id}/rename?name=waiter2`)).status, 204);
    const commit = await serve.request("POST", `/commit?container=waiter2&repo=committed&tag=1&comment=api`);
    assert.equal(commit.status, 201, commit.body);
    assert.match(JSON.parse(commit.body).Id, /^sha256:[0-9a-f]{64}$/);

    const gone = await create({ Cmd: ["sh", "-c", "exit 5"], HostConfig: { AutoRemove: true } });
    const removed = serve.request("POST", `/containers/${gone}/wait?condition=removed`);
    await serve.request("POST", `/containers/${gone}/start`);
    assert.deepEqual(JSON.parse((await removed).body), { StatusCode: 5, Error: null });
    assert.equal((await serve.request("GET", `/containers/${gone}/json`)).status, 404);
    await serve.request("DELETE", `/containers/${id}`);
    await store.ok(["rmi", "committed:1"]);
  });

  test("update: limits and restart policy recorded and applied; wrong types and lists refused", async () => {
    const id = await create({ Cmd: ["sleep", "1000"] });
    await serve.request("POST", `/containers/${id}/start`);
    const up = await serve.request(
      "POST",
      `/containers/${id}/update`,
      JSON.stringify({
        Memory: 64 * 1024 * 1024,
        MemorySwap: 128 * 1024 * 1024,
        RestartPolicy: { Name: "always" },
      }),
    );
    assert.equal(up.status, 200, up.body);
    assert.ok(Array.isArray(JSON.parse(up.body).Warnings));
    const info = JSON.parse((await serve.request("GET", `/containers/${id}/json`)).body);
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(info.HostConfig.RestartPolicy.Name, "always");
    const wrong = await serve.request("POST", `/containers/${id}/update`, '{"Memory": "64m"}');
    assert.equal(wrong.status, 400);
    assert.match(JSON.parse(wrong.body).message, /Memory must be an integer/);
    const lists = await serve.request(
      "POST",
      `/containers/${id}/update`,
      '{"Ulimits": [{"Name": "nofile"}]}',
    );
    assert.equal(lists.status, 400);
    assert.match(JSON.parse(lists.body).message, /Ulimits cannot be updated: not supported/);
    // A stats stream: readings arrive as JSON lines while the container runs.
    const stream = await rawRequest("GET", `/containers/${id}/stats?stream=1`);
    assert.match(stream.head, /^HTTP\/1\.1 200 /);
    const first = await new Promise<string>((resolve) => {
      let text = "";
      stream.socket.on("data", (d: Buffer) => {
        text += d.toString();
        if (/"read"/.test(text) && text.includes("\n")) resolve(text);
      });
    });
    assert.match(first, /"pids_stats"/);
    stream.socket.destroy();
    assert.equal((await serve.request("DELETE", `/containers/${id}?force=1`)).status, 204);
  });

  test("containers started at once on one network, while others list: all attached, each resolves the others", async () => {
    // As `docker-compose start` does: one request per container in parallel. Listing runs the
    // reconcile that repairs attachments of containers that do not run; it must leave those
    // being started alone, and the DNS server must take every container in.
    const net = await serve.request("POST", "/networks/create", JSON.stringify({ Name: "par-net" }), {
      "Content-Type": "application/json",
    });
    assert.equal(net.status, 201, net.body);
    const names = ["par0", "par1", "par2", "par3"];
    const ids: string[] = [];
    for (const n of names)
      ids.push(await create({ Cmd: ["sleep", "1000"], HostConfig: { NetworkMode: "par-net" } }, n));
    for (let round = 0; round < 2; round++) {
      let starting = true;
      const listing = (async () => {
        while (starting) await serve.request("GET", "/containers/json?all=1");
      })();
      const starts = await Promise.all(ids.map((id) => serve.request("POST", `/containers/${id}/start`)));
      starting = false;
      await listing;
      for (const r of starts) assert.equal(r.status, 204, r.body);
      for (const id of ids) {
        const state = JSON.parse((await serve.request("GET", `/containers/${id}/json`)).body).State;
        assert.equal(state.Status, "running", `${id}: ${state.Error}`);
      }
      for (const n of names) {
        const r = await store.berth(["exec", "par0", "nslookup", n]);
        assert.equal(r.code, 0, `${n}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /Address: 100\./);
      }
      const stops = await Promise.all(ids.map((id) => serve.request("POST", `/containers/${id}/stop?t=0`)));
      for (const r of stops) assert.equal(r.status, 204, r.body);
    }
    for (const id of ids) await serve.request("DELETE", `/containers/${id}?force=1`);
    assert.equal((await serve.request("DELETE", "/networks/par-net")).status, 204);
  });
});

/** Removes HTTP/1.1 chunked transfer encoding from a body. */
function dechunk(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", i);
    if (eol < 0) break;
    const size = Number.parseInt(buf.subarray(i, eol).toString(), 16);
    if (!size) break;
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}
