/**
 * The container lifecycle (ContainerService's verbs, exit handling, restart policies, --rm,
 * recovery of a dead monitor) against the in-memory FakeRuntime; everything else is real: the
 * SQLite metadata, the image store with a one-layer image, volumes, the network service (the
 * containers use `--network none`), and the cross-process locks.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { LocalContentStore } from "../content/local-content-store.js";
import { makeTar, streamOf } from "../diff/test-support.js";
import type { ContainerCreateRequest } from "../engine/types.js";
import { parseTarget } from "../images/service.js";
import { ImageStore } from "../images/store.js";
import { type MetadataDb, openDatabase } from "../metadata/db.js";
import { VolumeMetadata } from "../metadata/volumes.js";
import { NetworkService } from "../network/service.js";
import { loadNetworkSettings } from "../network/settings.js";
import { CommandInvocationError } from "../runtime/errors.js";
import { FakeRuntime } from "../runtime/fake-runtime.js";
import { Snapshotter } from "../snapshots/snapshotter.js";
import { LockDir } from "../sys/lock.js";
import { LocalVolumeService } from "../volumes/service.js";
import { ContainerService } from "./service.js";

interface Env {
  readonly dir: string;
  readonly db: MetadataDb;
  readonly runtime: FakeRuntime;
  readonly svc: ContainerService;
}

async function openEnv(): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), "berth-lifecycle-"));
  const db = openDatabase(join(dir, "berth.db"));
  const content = new LocalContentStore({ blobs: join(dir, "blobs", "sha256"), ingest: join(dir, "ingest") });
  const snapshots = new Snapshotter(join(dir, "snapshots"));
  const images = new ImageStore({ db, content, snapshots });
  const layer = await images.ingestLayer(streamOf(await makeTar([{ name: "bin/sh", body: "#!" }])));
  await images.createImage({
    config: {
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
    },
    layers: [layer],
    tags: [parseTarget("img")],
  });
  const network = new NetworkService({
    db,
    netnsDir: join(dir, "run", "netns"),
    cniDir: join(dir, "run", "cni"),
    dnsDir: join(dir, "run", "aardvark"),
    settings: loadNetworkSettings(
      { BERTH_DAEMON_CONFIG: join(dir, "no-daemon.json") },
      { root: dir, defaultRoot: "/var/lib/berth" },
    ),
  });
  network.ensurePredefined();
  const runtime = new FakeRuntime(join(dir, "runtime"));
  const svc = new ContainerService({
    db,
    images,
    volumes: new LocalVolumeService({ db, dir: join(dir, "volumes") }),
    volumeMeta: new VolumeMetadata(db),
    driver: runtime,
    network,
    buildSpec: async (ctx) => JSON.stringify({ process: { args: ctx.rec.config.Cmd } }),
    locks: new LockDir(join(dir, "run", "locks")),
  });
  runtime.onExit = (id) => svc.cleanup(id);
  return { dir, db, runtime, svc };
}

async function create(env: Env, name: string, req: Partial<ContainerCreateRequest> = {}): Promise<string> {
  const { HostConfig, ...rest } = req;
  const r = await env.svc.create(
    { Image: "img", Cmd: ["sleep", "1000"], ...rest, HostConfig: { NetworkMode: "none", ...HostConfig } },
    { name },
  );
  return r.Id;
}

const status = (env: Env, id: string) => env.svc.meta.get(id)?.status;

describe("container lifecycle on the fake runtime", () => {
  let env: Env;
  beforeEach(async () => {
    env = await openEnv();
  });
  afterEach(async () => {
    await env.runtime.settled();
    env.db.close();
    await rm(env.dir, { recursive: true, force: true });
  });

  test("create, start, stop: the record follows the process, and stop releases the runtime", async () => {
    const id = await create(env, "web");
    assert.equal(status(env, id), "created");
    await env.svc.start("web");
    assert.equal(status(env, id), "running");
    assert.equal((await env.runtime.state(id))?.status, "running");
    assert.ok(env.runtime.isMounted(id));
    await env.svc.stop("web", { timeout: 5 });
    await env.runtime.settled();
    const rec = env.svc.meta.get(id);
    assert.equal(rec?.status, "exited");
    assert.equal(rec?.exitCode, 143);
    assert.equal(rec?.stoppedByUser, true);
    assert.equal(await env.runtime.state(id), undefined);
    assert.equal(env.runtime.isMounted(id), false);
  });

  test("a process that ignores TERM is killed after the stop timeout", async () => {
    const id = await create(env, "stubborn");
    await env.svc.start(id);
    env.runtime.ignoreTerm(id);
    await env.svc.stop(id, { timeout: 0 });
    assert.equal(env.svc.meta.get(id)?.exitCode, 137);
    assert.ok(env.runtime.calls.includes(`kill ${id} KILL`));
  });

  test("starts at once: one creates the process, the others find it running", async () => {
    const id = await create(env, "once");
    await Promise.all([env.svc.start("once"), env.svc.start("once"), env.svc.start(id)]);
    assert.equal(env.runtime.calls.filter((c) => c === `create ${id}`).length, 1);
    assert.equal(status(env, id), "running");
  });

  test("removes at once: one removes, the others say No such container", async () => {
    const id = await create(env, "gone");
    await env.svc.start(id);
    const results = await Promise.allSettled([
      env.svc.remove("gone", { force: true }),
      env.svc.remove("gone", { force: true }),
      env.svc.remove("gone", { force: true }),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of results) {
      if (r.status === "rejected") assert.ok(isBerthError(r.reason, "NotFound"), String(r.reason));
    }
    await env.runtime.settled();
    assert.equal(env.svc.meta.get(id), undefined);
    assert.deepEqual(await env.runtime.known(), []);
  });

  test("an exit seen by a read is recorded once, with the code conmon wrote", async () => {
    const id = await create(env, "short");
    await env.svc.start(id);
    env.runtime.onExit = async () => undefined; // no exit command this time
    env.runtime.exit(id, 3);
    const info = await env.svc.inspect("short");
    assert.equal(info.State.Status, "exited");
    assert.equal(info.State.ExitCode, 3);
    assert.equal(await env.runtime.state(id), undefined);
    assert.equal(await env.svc.wait(id), 3);
  });

  test("a monitor that died without an exit file leaves the container exited with 255", async () => {
    const id = await create(env, "lost");
    await env.svc.start(id);
    env.runtime.killMonitor(id);
    await env.svc.reconcile();
    assert.equal(status(env, id), "exited");
    assert.equal(env.svc.meta.get(id)?.exitCode, 255);
  });

  test("repair releases runtime state and mounts of containers that do not run", async () => {
    const id = await create(env, "leaky");
    await env.svc.start(id);
    // A process that died between its runtime's start and the record's save leaves this.
    env.svc.update(id, { status: "exited" });
    assert.deepEqual(await env.runtime.known(), [id]);
    await env.svc.recovery.repair();
    assert.deepEqual(await env.runtime.known(), []);
    assert.equal(env.runtime.isMounted(id), false);
    // A running one is left alone.
    const other = await create(env, "fine");
    await env.svc.start(other);
    await env.svc.recovery.repair();
    assert.deepEqual(await env.runtime.known(), [other]);
  });

  test("on-failure:2 restarts with back-off through the exit command, then stays exited", async () => {
    const id = await create(env, "flaky", {
      HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 } },
    });
    await env.svc.start(id);
    for (let i = 1; i <= 2; i++) {
      env.runtime.exit(id, 1);
      await env.runtime.settled();
      assert.equal(status(env, id), "running", `restart ${i}`);
      assert.equal(env.svc.meta.get(id)?.restartCount, i);
    }
    env.runtime.exit(id, 1);
    await env.runtime.settled();
    assert.equal(status(env, id), "exited");
    assert.equal(env.svc.meta.get(id)?.restartCount, 2);
    assert.equal(env.runtime.calls.filter((c) => c === `create ${id}`).length, 3);
  });

  test("a success does not restart on-failure; always restarts unless stopped by the user", async () => {
    const a = await create(env, "ok", { HostConfig: { RestartPolicy: { Name: "on-failure" } } });
    await env.svc.start(a);
    env.runtime.exit(a, 0);
    await env.runtime.settled();
    assert.equal(status(env, a), "exited");
    const b = await create(env, "always", { HostConfig: { RestartPolicy: { Name: "always" } } });
    await env.svc.start(b);
    env.runtime.exit(b, 0);
    await env.runtime.settled();
    assert.equal(status(env, b), "running");
    await env.svc.stop(b, { timeout: 1 });
    await env.runtime.settled();
    assert.equal(status(env, b), "exited");
  });

  test("a stop during the restart back-off keeps the container stopped", async () => {
    const id = await create(env, "backoff", { HostConfig: { RestartPolicy: { Name: "always" } } });
    await env.svc.start(id);
    let decided!: () => void;
    const restarting = new Promise<void>((r) => {
      decided = r;
    });
    // The exit command decides the restart, then waits out the back-off without the lock.
    env.runtime.onExit = async (x) => {
      const run = env.svc.cleanup(x);
      while (status(env, x) !== "restarting") await new Promise((r) => setImmediate(r));
      decided();
      await run;
    };
    env.runtime.exit(id, 1);
    await restarting;
    assert.equal(status(env, id), "restarting");
    await env.svc.stop(id);
    await env.runtime.settled();
    assert.equal(status(env, id), "exited");
    assert.equal(env.runtime.calls.filter((c) => c === `create ${id}`).length, 1);
  });

  test("--rm: the exit command removes the container and its runtime state", async () => {
    const id = await create(env, "temp", { HostConfig: { AutoRemove: true } });
    await env.svc.start(id);
    env.runtime.exit(id, 0);
    await env.runtime.settled();
    assert.equal(env.svc.meta.get(id), undefined);
    assert.deepEqual(await env.runtime.known(), []);
  });

  test("foreground --rm: the client does the exit work; the exit command, held back, is cancelled", async () => {
    const id = await create(env, "fg", { HostConfig: { AutoRemove: true } });
    await env.svc.start(id, { foreground: true });
    env.runtime.exit(id, 3);
    assert.deepEqual(env.runtime.heldExitCommands(), [id]);
    assert.equal(await env.svc.wait(id), 3);
    assert.equal(await env.svc.foregroundExit(id), true);
    assert.equal(env.svc.meta.get(id), undefined);
    assert.deepEqual(env.runtime.heldExitCommands(), []);
    // Done once: nothing is left for a second call, nor did the exit command ever run.
    assert.equal(await env.svc.foregroundExit(id), false);
    assert.equal(env.runtime.calls.filter((c) => c.startsWith("cancel exit command")).length, 1);
  });

  test("foreground client killed before the exit work: the held exit command does it", async () => {
    const id = await create(env, "fgk", { HostConfig: { AutoRemove: true } });
    await env.svc.start(id, { foreground: true });
    env.runtime.exit(id, 0);
    // The client never calls foregroundExit; the delay passes.
    env.runtime.releaseHeldExitCommands();
    await env.runtime.settled();
    assert.equal(env.svc.meta.get(id), undefined);
    assert.deepEqual(await env.runtime.known(), []);
  });

  test("foreground with a restart policy: the exit command is not held back (it restarts)", async () => {
    const id = await create(env, "fgr", {
      HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 1 } },
    });
    await env.svc.start(id, { foreground: true });
    env.runtime.exit(id, 1);
    assert.deepEqual(env.runtime.heldExitCommands(), []);
    assert.equal(await env.svc.foregroundExit(id), false);
    await env.runtime.settled();
    assert.equal(env.svc.meta.get(id)?.restartCount, 1);
  });

  test("a foreground container removed by another verb: its held exit command goes with it", async () => {
    const id = await create(env, "fgrm");
    await env.svc.start(id, { foreground: true });
    await env.svc.remove(id, { force: true });
    assert.deepEqual(env.runtime.heldExitCommands(), []);
    assert.equal(await env.svc.foregroundExit(id), true);
  });

  test("a command runc cannot run: 127, the record stays created, the runtime is released", async () => {
    const id = await create(env, "typo");
    env.runtime.failNextCreate = 'exec: "nosuch": executable file not found in $PATH';
    await assert.rejects(
      env.svc.start(id),
      (err: unknown) => err instanceof CommandInvocationError && err.exitCode === 127,
    );
    const rec = env.svc.meta.get(id);
    assert.equal(rec?.status, "created");
    assert.equal(rec?.exitCode, 127);
    assert.equal(env.runtime.isMounted(id), false);
  });

  test("kill of a stopped container is a Conflict; pause and unpause follow the process", async () => {
    const id = await create(env, "pp");
    await assert.rejects(env.svc.kill(id), (err: unknown) => isBerthError(err, "Conflict"));
    await env.svc.start(id);
    await env.svc.pause(id);
    assert.equal(status(env, id), "paused");
    assert.equal((await env.runtime.state(id))?.status, "paused");
    await assert.rejects(env.svc.start(id), (err: unknown) => isBerthError(err, "Conflict"));
    await env.svc.unpause(id);
    assert.equal(status(env, id), "running");
    await env.svc.kill(id, "SIGKILL");
    await env.runtime.settled();
    assert.equal(env.svc.meta.get(id)?.exitCode, 137);
  });

  test("restart is stop then start under one hold of the lock; rename waits its turn", async () => {
    const id = await create(env, "rs");
    await env.svc.start(id);
    const firstPid = env.svc.meta.get(id)?.pid;
    await Promise.all([env.svc.restart("rs", { timeout: 1 }), env.svc.rename("rs", "rs2")]);
    await env.runtime.settled();
    const rec = env.svc.meta.get(id);
    assert.equal(rec?.status, "running");
    assert.notEqual(rec?.pid, firstPid);
    assert.equal(rec?.name, "rs2");
    await assert.rejects(env.svc.rename("rs", "rs3"), (err: unknown) => isBerthError(err, "NotFound"));
  });
});
