/**
 * dockerode (npm) against `berth serve` through its own API: containers (create/start, logs,
 * attach with modem.demuxStream, exec with demuxed output, putArchive/getArchive, wait, one-shot
 * stats, remove), images (buildImage from a tar, list filters, tag, get/load, push and pull
 * against a registry on 127.0.0.1 followed with modem.followProgress), volumes, networks and
 * events. The server runs on a temporary store with images made offline.
 */
import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import Docker from "dockerode";
import { pack } from "tar-stream";
import { Store } from "./harness.js";
import { startRegistry, type TestRegistry } from "./registry-helpers.js";
import { Serve } from "./serve-helpers.js";

const IMAGE = "berth-test/busybox:latest";
let store: Store;
let serve: Serve;
let registry: TestRegistry;
let docker: Docker;

before(async () => {
  store = await Store.create();
  await store.busybox(IMAGE);
  registry = await startRegistry(store.path("registry"));
  serve = await Serve.start(store);
  docker = new Docker({ socketPath: serve.sock });
});

after(async () => {
  await serve?.stop();
  await registry?.stop();
  await store?.cleanup();
});

function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer | string) => chunks.push(Buffer.from(c)));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  for (const [name, text] of Object.entries(files)) p.entry({ name, mode: 0o644 }, text);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Splits a multiplexed stream with dockerode's own demuxer. */
async function demux(stream: NodeJS.ReadableStream): Promise<{ out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const outText = collect(out);
  const errText = collect(err);
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on("end", () => resolve());
    stream.on("close", () => resolve());
    stream.on("error", reject);
  });
  out.end();
  err.end();
  return { out: (await outText).toString(), err: (await errText).toString() };
}

function follow(stream: NodeJS.ReadableStream): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (e: Error | null, res: Array<Record<string, unknown>>) =>
      e ? reject(e) : resolve(res),
    );
  });
}

describe("dockerode against berth serve", () => {
  test("ping and version", async () => {
    assert.equal(String(await docker.ping()), "OK");
    const v = await docker.version();
    assert.equal(v.Os, "linux");
  });

  test("a container: start, wait, logs, attach demuxed, remove", async () => {
    const c = await docker.createContainer({
      Image: IMAGE,
      Cmd: ["sh", "-c", "echo out; echo err >&2; exit 3"],
      Labels: { "berth.test": "dockerode" },
    });
    const attached = await c.attach({ stream: true, stdout: true, stderr: true });
    const split = demux(attached);
    await c.start();
    assert.deepEqual(await c.wait(), { StatusCode: 3, Error: null });
    assert.deepEqual(await split, { out: "out\n", err: "err\n" });
    const logs = await c.logs({ stdout: true, stderr: false, follow: false });
    assert.equal(logs.subarray(8).toString(), "out\n");
    const listed = await docker.listContainers({ all: true, filters: { label: ["berth.test=dockerode"] } });
    assert.deepEqual(
      listed.map((x) => x.Id),
      [c.id],
    );
    await c.remove();
    await assert.rejects(c.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  test("exec with demuxed output, archives and one-shot stats", async () => {
    const c = await docker.createContainer({ Image: IMAGE, Cmd: ["sleep", "300"] });
    await c.start();
    try {
      const exec = await c.exec({
        Cmd: ["sh", "-c", "echo to-out; echo to-err >&2; exit 4"],
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({ hijack: true, stdin: false });
      assert.deepEqual(await demux(stream), { out: "to-out\n", err: "to-err\n" });
      assert.equal((await exec.inspect()).ExitCode, 4);

      await c.putArchive(await tarOf({ "hello.txt": "hello archive\n" }), { path: "/tmp" });
      const archive = await c.getArchive({ path: "/tmp/hello.txt" });
      const tar = await collect(archive);
      assert.ok(tar.includes(Buffer.from("hello archive\n")));
      assert.equal(tar.subarray(0, 9).toString(), "hello.txt");
      await assert.rejects(
        c.getArchive({ path: "/no/such" }),
        (e: { statusCode?: number }) => e.statusCode === 404,
      );

      const stats = await c.stats({ stream: false });
      assert.equal(stats.id, c.id);
      assert.ok(stats.memory_stats.usage > 0);
    } finally {
      await c.remove({ force: true });
    }
  });

  test("images: buildImage from a tar, tag, list filters, get/load", async () => {
    const ctx = await tarOf({
      Dockerfile: `FROM ${IMAGE}\nCOPY greeting.txt /greeting.txt\nLABEL berth.test=dockerode\n`,
      "greeting.txt": "built by dockerode\n",
    });
    const progress = await follow(await docker.buildImage(Readable.from([ctx]), { t: "dockerode-built:1" }));
    assert.ok(!progress.some((p) => "error" in p), JSON.stringify(progress));
    assert.ok(progress.some((p) => typeof p.stream === "string" && p.stream.includes("Successfully tagged")));
    const built = docker.getImage("dockerode-built:1");
    assert.equal((await built.inspect()).Config.Labels?.["berth.test"], "dockerode");
    await built.tag({ repo: "dockerode-tagged", tag: "v2" });
    const listed = await docker.listImages({ filters: { reference: ["dockerode-tagged:*"] } });
    assert.deepEqual(
      listed.map((i) => i.Id),
      [(await built.inspect()).Id],
    );
    const saved = await collect(await docker.getImage("dockerode-tagged:v2").get());
    await docker.getImage("dockerode-tagged:v2").remove();
    await assert.rejects(docker.getImage("dockerode-tagged:v2").inspect());
    const loaded = await collect(await docker.loadImage(Readable.from([saved])));
    assert.match(loaded.toString(), /Loaded image: dockerode-tagged:v2/);
    assert.equal((await docker.getImage("dockerode-tagged:v2").inspect()).Id, (await built.inspect()).Id);
  });

  test("push and pull against the registry, followed with followProgress", async () => {
    const ref = `${registry.host}/dockerode/busybox`;
    const base = docker.getImage(IMAGE);
    await base.tag({ repo: ref, tag: "v1" });
    const pushed = await follow(await docker.getImage(`${ref}:v1`).push({}));
    assert.ok(!pushed.some((p) => "error" in p), JSON.stringify(pushed));
    await docker.getImage(`${ref}:v1`).remove();
    const pulled = await follow(await docker.pull(`${ref}:v1`));
    assert.ok(!pulled.some((p) => "error" in p), JSON.stringify(pulled));
    assert.equal((await docker.getImage(`${ref}:v1`).inspect()).Id, (await base.inspect()).Id);
  });

  test("volumes, networks and events", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await docker.createVolume({ Name: "dockerode-vol", Labels: { "berth.test": "vol" } });
    const vols = await docker.listVolumes({ filters: { label: ["berth.test=vol"] } });
    assert.deepEqual(
      vols.Volumes.map((v) => v.Name),
      ["dockerode-vol"],
    );
    const net = await docker.createNetwork({ Name: "dockerode-net" });
    const c = await docker.createContainer({
      Image: IMAGE,
      Cmd: ["sh", "-c", "echo kept > /data/f && cat /data/f"],
      HostConfig: { Binds: ["dockerode-vol:/data"], NetworkMode: "dockerode-net" },
    });
    await c.start();
    assert.equal((await c.wait()).StatusCode, 0);
    const info = await net.inspect();
    assert.equal(info.Name, "dockerode-net");
    await c.remove();
    await net.remove();
    await docker.getVolume("dockerode-vol").remove();
    await assert.rejects(docker.getVolume("dockerode-vol").inspect());
    const until = Math.floor(Date.now() / 1000) + 1;
    const events = await collect(await docker.getEvents({ since, until, filters: { container: [c.id] } }));
    const actions = events
      .toString()
      .split("\n")
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { Action: string }).Action);
    for (const a of ["create", "start", "die", "destroy"]) assert.ok(actions.includes(a), actions.join(","));
  });
});
