/**
 * The real `docker` CLI (28.x, no buildx: the classic builder) against `berth serve` on a
 * temporary store: build, images, tag, history, inspect, rmi, save/load, import, pull/push and
 * login against docker-registry on 127.0.0.1, volumes, networks, system df, and the answers of
 * an engine without swarm or plugins. curl over the unix socket checks status codes and error
 * bodies where the CLI hides them.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { busyboxRootfs } from "../../scripts/busybox-image.js";
import { BERTH, type RunOptions, type RunResult, runProgram, Store } from "./harness.js";
import { startRegistry, type TestRegistry } from "./registry-helpers.js";

/** The docker CLI on PATH (/usr/local/bin/docker on these machines). */
const DOCKER = (process.env.PATH ?? "/usr/local/bin:/usr/bin")
  .split(":")
  .map((d) => join(d, "docker"))
  .find((p) => existsSync(p));
const haveDocker = DOCKER !== undefined;

let store: Store;
let serve: ChildProcess | undefined;
let serveLog = "";
let sock: string;
let dockerConfig: string;

/** Runs the docker CLI against the serve of this file. */
function docker(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runProgram(DOCKER ?? "docker", args, {
    ...opts,
    env: { DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: dockerConfig, DOCKER_BUILDKIT: "0", ...opts.env },
  });
}

async function dockerOk(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await docker(args, opts);
  assert.equal(r.code, 0, `docker ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** One request with curl over the unix socket: status and body. */
async function api(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  const args = ["-s", "--unix-socket", sock, "-X", method, "-w", "\n%{http_code}", `http://localhost${path}`];
  if (body !== undefined) args.push("-H", "Content-Type: application/json", "--data-binary", body);
  const r = await runProgram("curl", args);
  const cut = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

async function waitForSocket(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await api("GET", "/_ping").catch(() => ({ status: 0, body: "" }));
    if (r.status === 200) return;
    if (Date.now() > deadline || serve?.exitCode !== null)
      throw new Error(`berth serve did not start: ${serveLog}`);
    await new Promise((r2) => setTimeout(r2, 100));
  }
}

before(async () => {
  if (!haveDocker) return;
  store = await Store.create();
  await store.busybox();
  sock = store.path("api.sock");
  dockerConfig = store.path("docker-config");
  await mkdir(dockerConfig, { recursive: true });
  serve = spawn(BERTH, ["--root", store.root, "--runroot", store.runroot, "serve", "-H", `unix://${sock}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...store.env },
  });
  serve.stdout?.on("data", (c: Buffer) => {
    serveLog += c.toString();
  });
  serve.stderr?.on("data", (c: Buffer) => {
    serveLog += c.toString();
  });
  await waitForSocket();
});

after(async () => {
  if (serve && serve.exitCode === null) {
    const exited = new Promise((r) => serve?.once("exit", r));
    serve.kill("SIGTERM");
    await exited;
  }
  await store?.cleanup();
});

const skip = haveDocker ? false : "the docker CLI is not installed (no docker on PATH)";

describe("docker build through berth serve (classic builder)", { skip }, () => {
  test("-t twice, --build-arg, --label, -f inside the context: Step lines, Successfully built/tagged", async () => {
    const ctx = store.path("build-ctx");
    await mkdir(join(ctx, "sub"), { recursive: true });
    await writeFile(
      join(ctx, "sub", "Build.dockerfile"),
      'FROM busybox\nARG GREETING=default\nRUN echo "$GREETING" > /greeting && echo ran\nCMD ["cat", "/greeting"]\n',
    );
    const r = await dockerOk([
      "build",
      "-t",
      "built:one",
      "-t",
      "built:two",
      "--build-arg",
      "GREETING=hello-arg",
      "--label",
      "org.test=yes",
      "-f",
      join(ctx, "sub", "Build.dockerfile"),
      ctx,
    ]);
    assert.match(r.stdout, /^Step 1\/2 : FROM docker\.io\/library\/busybox:latest$/m);
    assert.match(r.stdout, /^Step 2\/2 : RUN echo "\$GREETING" > \/greeting && echo ran$/m);
    assert.match(r.stdout, /^ran$/m);
    const built = /^Successfully built ([0-9a-f]{12})$/m.exec(r.stdout);
    assert.ok(built, r.stdout);
    assert.match(r.stdout, /^Successfully tagged built:one\nSuccessfully tagged built:two$/m);
    const inspect = JSON.parse((await dockerOk(["image", "inspect", "built:two"])).stdout) as Array<{
      Id: string;
      RepoTags: string[];
      Config: { Labels: Record<string, string>; Cmd: string[] };
    }>;
    assert.equal(inspect[0]?.Id.slice(7, 19), built[1]);
    assert.deepEqual(inspect[0]?.RepoTags.sort(), ["built:one", "built:two"]);
    assert.equal(inspect[0]?.Config.Labels["org.test"], "yes");
    const run = await store.ok(["run", "--rm", "built:one"]);
    assert.equal(run.stdout, "hello-arg\n");
    // The same build again: every step from the cache.
    const again = await dockerOk([
      "build",
      "-t",
      "built:one",
      "--build-arg",
      "GREETING=hello-arg",
      "--label",
      "org.test=yes",
      "-f",
      join(ctx, "sub", "Build.dockerfile"),
      ctx,
    ]);
    assert.match(again.stdout, /^ ---> Using cache$/m);
    assert.match(again.stdout, new RegExp(`^Successfully built ${built[1]}$`, "m"));
  });

  test("-f outside the context, --target, -q prints only the image ID", async () => {
    const ctx = store.path("ctx-target");
    await mkdir(ctx, { recursive: true });
    const dockerfile = store.path("Outside.dockerfile");
    await writeFile(
      dockerfile,
      'FROM busybox AS first\nRUN echo first > /f\nFROM busybox AS second\nCOPY --from=first /f /g\nRUN echo second >> /g\nCMD ["cat", "/g"]\n',
    );
    const q = await dockerOk([
      "build",
      "-q",
      "--target",
      "first",
      "-t",
      "stage:first",
      "-f",
      dockerfile,
      ctx,
    ]);
    assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const full = await dockerOk(["build", "-q", "-t", "stage:second", "-f", dockerfile, ctx]);
    assert.notEqual(full.stdout, q.stdout);
    assert.equal((await store.ok(["run", "--rm", "stage:second"])).stdout, "first\nsecond\n");
    const first = await store.ok(["run", "--rm", "stage:first", "cat", "/f"]);
    assert.equal(first.stdout, "first\n");
  });

  test("a failing RUN: the step's output, the error, exit 1, no image; refused options name themselves", async () => {
    const ctx = store.path("ctx-fail");
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, "Dockerfile"), "FROM busybox\nRUN echo before-failing; exit 3\n");
    const before = (await dockerOk(["images", "-q", "-a"])).stdout;
    const r = await docker(["build", "-t", "never:made", ctx]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^before-failing$/m);
    assert.match(r.stderr + r.stdout, /did not complete successfully: exit code: 3/);
    assert.equal((await dockerOk(["images", "-q", "-a"])).stdout, before);
    const refused = await docker(["build", "--cache-from", "busybox", ctx]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Error response from daemon: cache-from \(cachefrom\) is not supported/);
    const platform = await docker(["build", "--platform", "linux/s390x", ctx]);
    assert.equal(platform.code, 1);
    assert.match(platform.stderr, /building for linux\/s390x is not supported/);
  });

  test("builder prune through /build/prune", async () => {
    const r = await dockerOk(["builder", "prune", "-a", "-f"]);
    assert.match(r.stdout, /Total reclaimed space:/);
  });
});

describe("images through berth serve", { skip }, () => {
  test("images, tag, history, inspect, rmi and its refusals", async () => {
    await dockerOk(["tag", "busybox", "retag/busybox:v1"]);
    const list = await dockerOk(["images", "--format", "{{.Repository}}:{{.Tag}}", "retag/busybox"]);
    assert.equal(list.stdout, "retag/busybox:v1\n");
    const history = await dockerOk(["history", "--format", "{{.Size}}", "retag/busybox:v1"]);
    assert.ok(history.stdout.trim().length > 0);
    const missing = await docker(["rmi", "no/such:image"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: no\/such:image/);
    const untag = await dockerOk(["rmi", "retag/busybox:v1"]);
    assert.equal(untag.stdout, "Untagged: retag/busybox:v1\n");
    const gone = await api("GET", "/v1.50/images/retag%2Fbusybox:v1/json");
    assert.equal(gone.status, 404);
    assert.deepEqual(JSON.parse(gone.body), { message: "No such image: retag/busybox:v1" });
    const inUse = await store.ok(["create", "--name", "holds-busybox", "busybox", "true"]);
    const refused = await docker(["rmi", "busybox"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /conflict: unable to remove repository reference "busybox"/);
    await store.ok(["rm", inUse.stdout.trim()]);
  });

  test("save two images, remove them, load them back; import with --change and --message", async () => {
    await dockerOk(["tag", "busybox", "saved:a"]);
    await dockerOk(["tag", "busybox", "saved:b"]);
    const tar = store.path("saved.tar");
    await dockerOk(["save", "-o", tar, "saved:a", "saved:b"]);
    await dockerOk(["rmi", "saved:a", "saved:b"]);
    const load = await dockerOk(["load", "-i", tar]);
    assert.match(load.stdout, /^Loaded image: saved:a$/m);
    assert.match(load.stdout, /^Loaded image: saved:b$/m);
    const missing = await docker(["save", "-o", store.path("none.tar"), "saved:a", "not:there"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: not:there/);

    const rootfs = store.path("rootfs.tar");
    await writeFile(rootfs, await busyboxRootfs());
    const imported = await dockerOk([
      "import",
      "-c",
      'CMD ["echo", "imported"]',
      "-c",
      "ENV FROM_IMPORT=1",
      "-m",
      "made by import",
      rootfs,
      "imported:x",
    ]);
    assert.match(imported.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const cfg = await dockerOk([
      "image",
      "inspect",
      "-f",
      "{{json .Config.Cmd}} {{json .Config.Env}}",
      "imported:x",
    ]);
    assert.match(cfg.stdout, /^\["echo","imported"\] \[.*"FROM_IMPORT=1".*\]\n$/);
    const comment = await dockerOk(["history", "--format", "{{.Comment}}", "imported:x"]);
    assert.equal(comment.stdout, "made by import\n");
    assert.equal((await store.ok(["run", "--rm", "imported:x"])).stdout, "imported\n");
  });

  test("load without quiet streams Loading layer progress for layers the store lacks", async () => {
    const dir = store.path("unique-layer");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "only-here.txt"), `made at ${Date.now()}\n`.repeat(2000));
    const tarPath = store.path("unique-layer.tar");
    const tar = await runProgram("tar", ["-C", dir, "-cf", tarPath, "."]);
    assert.equal(tar.code, 0, tar.stderr);
    await dockerOk(["import", tarPath, "unique:1"]);
    const saved = store.path("unique-saved.tar");
    await dockerOk(["save", "-o", saved, "unique:1"]);
    await dockerOk(["rmi", "unique:1"]);
    const r = await runProgram("curl", [
      "-s",
      "--unix-socket",
      sock,
      "-X",
      "POST",
      "-H",
      "Content-Type: application/x-tar",
      "--data-binary",
      `@${saved}`,
      "http://localhost/v1.50/images/load?quiet=0",
    ]);
    const lines = r.stdout
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map(
        (l) =>
          JSON.parse(l) as {
            status?: string;
            stream?: string;
            progressDetail?: { current: number; total: number };
          },
      );
    const progress = lines.filter((l) => l.status === "Loading layer");
    assert.ok(progress.length > 0, r.stdout);
    const last = progress[progress.length - 1];
    assert.ok(last?.progressDetail && last.progressDetail.current === last.progressDetail.total, r.stdout);
    assert.deepEqual(lines[lines.length - 1], { stream: "Loaded image: unique:1\n" });
  });

  test("prune, search, and the JSON of /images/json with shared-size", async () => {
    const list = await api("GET", "/v1.50/images/json?shared-size=1");
    assert.equal(list.status, 200);
    const images = JSON.parse(list.body) as Array<{ SharedSize: number }>;
    assert.ok(images.length > 0 && images.every((i) => i.SharedSize >= 0));
    const search = await docker(["search", "busybox"]);
    assert.equal(search.code, 1);
    assert.match(search.stderr, /image search is not supported/);
    await dockerOk(["image", "prune", "-f"]);
  });
});

describe("pull, push and login against docker-registry on 127.0.0.1", { skip }, () => {
  let open: TestRegistry;
  let locked: TestRegistry;
  before(async () => {
    open = await startRegistry(store.path("registry-open"));
    locked = await startRegistry(store.path("registry-auth"), {
      kind: "htpasswd",
      user: "tester",
      password: "s3cret",
    });
  });
  after(async () => {
    await open?.stop();
    await locked?.stop();
  });

  test("push with progress, pull back after rmi, distribution inspect, a missing image is 404", async () => {
    const ref = `${open.host}/it/busybox:1.0`;
    await dockerOk(["tag", "busybox", ref]);
    const push = await dockerOk(["push", ref]);
    assert.match(
      push.stdout,
      new RegExp(`^The push refers to repository \\[${open.host}/it/busybox\\]$`, "m"),
    );
    assert.match(push.stdout, /: Pushed$/m);
    const m = /^1\.0: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(push.stdout);
    assert.ok(m, push.stdout);
    const dist = await api("GET", `/v1.50/distribution/${open.host}/it/busybox:1.0/json`);
    assert.equal(dist.status, 200);
    const desc = JSON.parse(dist.body) as {
      Descriptor: { digest: string };
      Platforms: Array<{ os: string }>;
    };
    assert.equal(desc.Descriptor.digest, m[1]);
    assert.equal(desc.Platforms[0]?.os, "linux");
    await dockerOk(["rmi", ref]);
    const pull = await dockerOk(["pull", ref]);
    assert.match(pull.stdout, /^1\.0: Pulling from it\/busybox$/m);
    assert.match(pull.stdout, new RegExp(`^Digest: ${m[1]}$`, "m"));
    assert.match(pull.stdout, /^Status: (Downloaded newer image|Image is up to date) for /m);
    const missing = await api("POST", `/v1.50/images/create?fromImage=${open.host}/it/nothere&tag=latest`);
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).message as string, /manifest unknown/);
    const cli = await docker(["pull", `${open.host}/it/nothere`]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /not found/);
  });

  test("login (POST /auth), then push and pull with X-Registry-Auth; a wrong password is refused", async () => {
    const bad = await docker(["login", "-u", "tester", "--password-stdin", locked.host], {
      input: "wrong\n",
    });
    assert.equal(bad.code, 1);
    const denied = await docker(["push", `${locked.host}/private/busybox:1`]);
    assert.equal(denied.code, 1);
    const login = await dockerOk(["login", "-u", "tester", "--password-stdin", locked.host], {
      input: "s3cret\n",
    });
    assert.match(login.stdout, /Login Succeeded/);
    const ref = `${locked.host}/private/busybox:1`;
    await dockerOk(["tag", "busybox", ref]);
    await dockerOk(["push", ref]);
    await dockerOk(["rmi", ref]);
    const pull = await dockerOk(["pull", ref]);
    assert.match(pull.stdout, /^Status: /m);
    // A build whose base is in the locked registry pulls it with X-Registry-Config's credentials.
    await dockerOk(["rmi", ref]);
    const ctx = store.path("ctx-private");
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, "Dockerfile"), `FROM ${ref}\nRUN echo private-base\n`);
    const built = await dockerOk(["build", "-q", ctx]);
    assert.match(built.stdout, /^sha256:[0-9a-f]{64}\n$/);
    await dockerOk(["logout", locked.host]);
    await dockerOk(["rmi", ref]);
    const anonymous = await docker(["build", "-q", "--no-cache", ctx]);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /failed to resolve source metadata/);
  });
});

describe("volumes, networks, system df through berth serve", { skip }, () => {
  test("volume create/ls with filters/inspect/rm/prune", async () => {
    await dockerOk(["volume", "create", "--label", "purpose=it", "vol-one"]);
    await dockerOk(["volume", "create", "vol-two"]);
    const ls = await dockerOk(["volume", "ls", "-q", "--filter", "label=purpose=it"]);
    assert.equal(ls.stdout, "vol-one\n");
    const inspect = await dockerOk(["volume", "inspect", "-f", "{{.Driver}} {{.Labels.purpose}}", "vol-one"]);
    assert.equal(inspect.stdout, "local it\n");
    await dockerOk(["volume", "rm", "vol-one"]);
    const missing = await docker(["volume", "inspect", "vol-one"]);
    assert.equal(missing.code, 1);
    const prune = await dockerOk(["volume", "prune", "-a", "-f"]);
    assert.match(prune.stdout, /vol-two/);
    const bad = await api("POST", "/v1.50/volumes/create", '{"Name": 5}');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message as string, /Name must be a string/);
  });

  test("network create/ls/inspect/connect/disconnect/rm/prune", async () => {
    const id = (await dockerOk(["network", "create", "--label", "purpose=it", "it-net"])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ls = await dockerOk(["network", "ls", "--format", "{{.Name}}", "--filter", "label=purpose=it"]);
    assert.equal(ls.stdout, "it-net\n");
    const c = (await store.ok(["create", "--name", "net-member", "busybox", "sleep", "30"])).stdout.trim();
    await dockerOk(["network", "connect", "--alias", "member-alias", "it-net", "net-member"]);
    const nets = await store.ok(["inspect", "-f", "{{json .NetworkSettings.Networks}}", c]);
    assert.match(nets.stdout, /"it-net"/);
    assert.match(nets.stdout, /member-alias/);
    // In use, and pre-defined: refused with Docker's 403 (libnetwork's errors are Forbidden).
    const inUse = await api("DELETE", "/v1.50/networks/it-net");
    assert.equal(inUse.status, 403);
    assert.match(JSON.parse(inUse.body).message as string, /network it-net has active endpoints/);
    const predefined = await api("DELETE", "/v1.50/networks/bridge");
    assert.equal(predefined.status, 403);
    assert.equal(
      JSON.parse(predefined.body).message,
      "bridge is a pre-defined network and cannot be removed",
    );
    await dockerOk(["network", "disconnect", "it-net", "net-member"]);
    const after = await store.ok(["inspect", "-f", "{{json .NetworkSettings.Networks}}", c]);
    assert.doesNotMatch(after.stdout, /"it-net"/);
    await store.ok(["rm", c]);
    await dockerOk(["network", "rm", "it-net"]);
    const gone = await docker(["network", "inspect", "it-net"]);
    assert.equal(gone.code, 1);
    await dockerOk(["network", "create", "it-prunable"]);
    const prune = await dockerOk(["network", "prune", "-f"]);
    assert.match(prune.stdout, /it-prunable/);
  });

  test("system df, and type= narrowing the answer", async () => {
    const df = await dockerOk(["system", "df"]);
    assert.match(df.stdout, /^Images\s+\d+/m);
    assert.match(df.stdout, /^Local Volumes\s+\d+/m);
    assert.match(df.stdout, /^Build Cache\s+\d+/m);
    const narrow = await api("GET", "/v1.50/system/df?type=volume");
    const body = JSON.parse(narrow.body) as { Images: unknown; Volumes: unknown };
    assert.equal(body.Images, null);
    assert.ok(Array.isArray(body.Volumes));
    const bad = await api("GET", "/v1.50/system/df?type=nonsense");
    assert.equal(bad.status, 400);
  });
});

describe("events through berth serve", { skip }, () => {
  test("past events between --since and --until with a filter; a live stream sees a new event", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await dockerOk(["volume", "create", "ev-vol"]);
    await dockerOk(["volume", "rm", "ev-vol"]);
    const until = Math.ceil(Date.now() / 1000);
    const past = await dockerOk([
      "events",
      "--since",
      String(since),
      "--until",
      String(until),
      "--filter",
      "type=volume",
      "--format",
      "{{.Type}} {{.Action}} {{.Actor.ID}}",
    ]);
    // Other tests of this store may make volumes in the same second: ev-vol's two events must be
    // there, in order, whatever else the window holds.
    assert.match(past.stdout, /(^|\n)volume create ev-vol\n(.*\n)*volume destroy ev-vol\n/);
    // Live: the stream replays from `since` before it follows, so however late it subscribes the
    // network created now shows up; then the client leaves.
    const live = spawn(
      DOCKER ?? "docker",
      [
        "events",
        "--since",
        String(until),
        "--filter",
        "type=network",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
      ],
      {
        env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: dockerConfig },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let seen = "";
    const found = new Promise<void>((resolve) => {
      live.stdout?.on("data", (c: Buffer) => {
        seen += c.toString();
        if (seen.includes("create ev-net")) resolve();
      });
    });
    await dockerOk(["network", "create", "ev-net"]);
    await found;
    const exited = new Promise((r) => live.once("exit", r));
    live.kill("SIGTERM");
    await exited;
    await dockerOk(["network", "rm", "ev-net"]);
  });

  test("a stream with only past times ends; bad filters and times are 400", async () => {
    const now = Math.floor(Date.now() / 1000);
    const past = await dockerOk(["events", "--since", String(now - 60), "--until", String(now - 30)]);
    assert.equal(past.code, 0);
    const bad = await api("GET", `/v1.50/events?filters=${encodeURIComponent('{"bogus":["x"]}')}`);
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message as string, /bogus/);
    const order = await api("GET", `/v1.50/events?since=${now}&until=${now - 10}`);
    assert.equal(order.status, 400);
    assert.match(JSON.parse(order.body).message as string, /cannot be after `until`/);
    const form = await api("GET", "/v1.50/events?since=10m");
    assert.equal(form.status, 400);
  });
});

describe("what an engine without swarm, plugins or BuildKit answers", { skip }, () => {
  test("swarm endpoints 503 with dockerd's words; plugins empty; /session not supported", async () => {
    const nodes = await docker(["node", "ls"]);
    assert.equal(nodes.code, 1);
    assert.equal(
      nodes.stderr.trim(),
      'Error response from daemon: This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.',
    );
    const leave = await docker(["swarm", "leave"]);
    assert.equal(leave.code, 1);
    assert.equal(leave.stderr.trim(), "Error response from daemon: This node is not part of a swarm");
    for (const path of [
      "/v1.50/services",
      "/v1.50/secrets",
      "/v1.50/configs",
      "/v1.50/tasks",
      "/v1.50/swarm",
    ]) {
      assert.equal((await api("GET", path)).status, 503, path);
    }
    const plugins = await dockerOk(["plugin", "ls", "-q"]);
    assert.equal(plugins.stdout, "");
    const session = await api("POST", "/v1.50/session");
    assert.equal(session.status, 501);
    assert.match(JSON.parse(session.body).message as string, /not supported/);
  });
});
