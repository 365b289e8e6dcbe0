/**
 * The tutorial through the real docker CLI (/usr/bin/docker, client only) against `berth serve`:
 * DOCKER_HOST points at a serve this test starts on a temporary store, DOCKER_CONFIG at a
 * temporary directory. Build (the classic builder's POST /build: no buildx here), history, four
 * `run -d -p` answering over 127.0.0.1 on free ports, ps, inspect, logs, `exec -it` under a
 * pseudo-terminal (script(1)), images, rm and the rmi refusal, tag/login/push/pull with a
 * registry on 127.0.0.1 and a second serve as the other machine, a named volume surviving rm,
 * the multi-stage build, cp, stats, events, system df, version and info.
 */
import assert from "node:assert/strict";
import { cp, readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ensureNodeImage } from "../../scripts/node-image.js";
import { runProgram, Store } from "./harness.js";
import { freePort, startRegistry, type TestRegistry } from "./registry-helpers.js";
import { dockerCliPresent, Serve } from "./serve-helpers.js";

const EXAMPLE = resolve(fileURLToPath(import.meta.url), "../../../../examples/node-app");
const IMAGE = "my-node-app:v1.0";
const NAMES = ["my-app-prod", "my-app-dev", "my-app-staging", "my-app-test"] as const;
const USER = "tutorial";
const PASSWORD = "s3cret-pass";

const present = await dockerCliPresent();
let store: Store;
let other: Store;
let serve: Serve;
let otherServe: Serve;
let registry: TestRegistry;
let app: string;
const ports = new Map<string, number>();
const started = Math.floor(Date.now() / 1000);

before(async () => {
  if (!present) return;
  store = await Store.create();
  other = await Store.create();
  await ensureNodeImage({ root: store.root, runroot: store.runroot, env: store.env });
  app = store.path("node-app");
  await cp(EXAMPLE, app, { recursive: true });
  registry = await startRegistry(store.path("registry"), {
    kind: "htpasswd",
    user: USER,
    password: PASSWORD,
  });
  serve = await Serve.start(store);
  otherServe = await Serve.start(other);
});

after(async () => {
  await serve?.stop();
  await otherServe?.stop();
  await registry?.stop();
  await other?.cleanup();
  await store?.cleanup();
});

/** A table as Docker prints it: rows of columns separated by two or more spaces. */
function table(out: string): string[][] {
  return out
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.trim().split(/ {2,}/));
}

/** GET http://127.0.0.1:PORT/, retried while the app starts (up to 20 s). */
async function get(port: number): Promise<string> {
  const deadline = Date.now() + 20_000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      return await res.text();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}: ${String(last)}`);
}

const docker = (args: readonly string[], opts = {}) => serve.docker(args, opts);
const ok = (args: readonly string[], opts = {}) => serve.dockerOk(args, opts);

async function shortId(name: string): Promise<string> {
  return (await ok(["inspect", "-f", "{{.Id}}", name])).stdout.trim().slice(0, 12);
}

describe("the tutorial through the docker CLI and berth serve", {
  skip: !present && "no docker CLI on this machine",
}, () => {
  test("docker version and docker info describe berth", async () => {
    const v = await ok(["version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}"]);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\S* 1\.50 linux\n$/);
    const info = await ok(["info", "--format", "{{.Driver}} {{.OSType}} {{.DockerRootDir}}"]);
    assert.equal(info.stdout, `overlay linux ${store.root}\n`);
  });

  test("docker build -t my-node-app:v1.0 . and docker history", async () => {
    const build = await docker(["build", "-t", IMAGE, "."], { cwd: app });
    assert.equal(build.code, 0, build.stderr + build.stdout);
    assert.match(build.stdout, /Successfully tagged my-node-app:v1\.0/);
    const rows = table((await ok(["history", IMAGE])).stdout);
    assert.deepEqual(rows[0], ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
    const createdBy = (await ok(["history", "--no-trunc", "--format", "{{.CreatedBy}}", IMAGE])).stdout;
    assert.match(createdBy.split("\n")[0] ?? "", /CMD \["npm" "start"\]/);
    assert.match(createdBy, /RUN .*npm install/);
    assert.match(createdBy, /WORKDIR \/app/);
  });

  test("four docker run -d -p on free ports, each answering over 127.0.0.1 from its own container", async () => {
    for (const name of NAMES) {
      const port = await freePort();
      ports.set(name, port);
      const r = await ok(["run", "-d", "--name", name, "-p", `127.0.0.1:${port}:3000`, IMAGE]);
      assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    }
    const seen = new Set<string>();
    for (const name of NAMES) {
      const id = await shortId(name);
      assert.match(await get(ports.get(name) ?? 0), new RegExp(`^Hello from ${id} `));
      seen.add(id);
    }
    assert.equal(seen.size, 4);
  });

  test('docker ps --format "table …" and docker ps -s', async () => {
    const rows = table(
      (await ok(["ps", "--format", "table {{.Names}}\t{{.Image}}\t{{.Ports}}\t{{.Status}}"])).stdout,
    );
    assert.deepEqual(rows[0], ["NAMES", "IMAGE", "PORTS", "STATUS"]);
    assert.equal(rows.length, 5);
    for (const name of NAMES) {
      const row = rows.find((r) => r[0] === name);
      assert.ok(row, `${name} listed`);
      assert.equal(row[1], IMAGE);
      assert.match(row[2] ?? "", new RegExp(`127\\.0\\.0\\.1:${ports.get(name)}->3000/tcp`));
      assert.match(row[3] ?? "", /^Up /);
    }
    const sized = table((await ok(["ps", "-s", "--format", "table {{.Names}}\t{{.Size}}"])).stdout);
    assert.deepEqual(sized[0], ["NAMES", "SIZE"]);
    for (const row of sized.slice(1))
      assert.match(row[1] ?? "", /^\d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?MB\)$/);
  });

  test("docker image inspect, docker logs, docker exec -it under a pseudo-terminal", async () => {
    const doc: unknown = JSON.parse((await ok(["image", "inspect", IMAGE])).stdout);
    assert.ok(Array.isArray(doc) && doc.length === 1);
    const img: unknown = doc[0];
    assert.ok(typeof img === "object" && img !== null && "Config" in img);
    const config = img.Config;
    assert.ok(typeof config === "object" && config !== null);
    assert.deepEqual("Cmd" in config ? config.Cmd : undefined, ["npm", "start"]);
    assert.deepEqual("ExposedPorts" in config ? config.ExposedPorts : undefined, { "3000/tcp": {} });

    const logs = await ok(["logs", "my-app-prod"]);
    assert.match(logs.stdout, /my-node-app listening on port 3000 in container [0-9a-f]{12}/);
    const tail = await ok(["logs", "--tail", "1", "--timestamps", "my-app-prod"]);
    assert.match(tail.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z .+\n$/);

    const line = `docker exec -it my-app-prod sh`;
    const typed = await runProgram("script", ["-qec", line, "/dev/null"], {
      stdinScript: [
        [/# /, "hostname; ls /app\r"],
        [/server\.js/, "exit 3\r"],
      ],
      env: { DOCKER_HOST: serve.host, DOCKER_CONFIG: serve.dockerConfig },
    });
    assert.equal(typed.code, 3, typed.stdout);
    assert.match(typed.stdout, new RegExp(await shortId("my-app-prod")));
    assert.match(typed.stdout, /server\.js/);
  });

  test('docker images --format "table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}"', async () => {
    const rows = table(
      (await ok(["images", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.Size}}"])).stdout,
    );
    assert.deepEqual(rows[0], ["REPOSITORY", "TAG", "SIZE"]);
    const mine = rows.find((r) => r[0] === "my-node-app");
    assert.equal(mine?.[1], "v1.0");
    assert.match(mine?.[2] ?? "", /^\d+(\.\d+)?MB$/);
  });

  test("docker cp both ways and docker stats --no-stream", async () => {
    const file = store.path("note.txt");
    await writeFile(file, "from the host\n");
    await ok(["cp", file, "my-app-dev:/tmp/note.txt"]);
    assert.equal((await ok(["exec", "my-app-dev", "cat", "/tmp/note.txt"])).stdout, "from the host\n");
    await ok(["exec", "my-app-dev", "sh", "-c", "mkdir -p /tmp/out && echo back > /tmp/out/b.txt"]);
    await ok(["cp", "my-app-dev:/tmp/out", store.path("out")]);
    assert.equal(await readFile(store.path("out", "b.txt"), "utf8"), "back\n");
    const missing = await docker(["cp", "my-app-dev:/no/such", store.path("x")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Could not find the file \/no\/such in container my-app-dev/);

    const stats = table((await ok(["stats", "--no-stream", "my-app-prod", "my-app-dev"])).stdout);
    assert.deepEqual(stats[0], [
      "CONTAINER ID",
      "NAME",
      "CPU %",
      "MEM USAGE / LIMIT",
      "MEM %",
      "NET I/O",
      "BLOCK I/O",
      "PIDS",
    ]);
    assert.equal(stats.length, 3);
    for (const row of stats.slice(1)) {
      assert.match(row[2] ?? "", /^\d+\.\d\d%$/);
      assert.match(row[3] ?? "", /^\d+(\.\d+)?[KMG]iB \/ \d+(\.\d+)?[KMG]iB$/);
      assert.match(row[7] ?? "", /^[1-9]\d*$/);
    }
  });

  test("docker rm of a running container is refused; stop then rm keeps the image", async () => {
    const running = await docker(["rm", "my-app-test"]);
    assert.equal(running.code, 1);
    assert.match(running.stderr, /container is running: stop the container before removing or force remove/);
    await ok(["stop", "my-app-test"]);
    assert.equal((await ok(["rm", "my-app-test"])).stdout, "my-app-test\n");
    assert.equal((await docker(["inspect", "my-app-test"])).code, 1);
    await ok(["image", "inspect", IMAGE]);
  });

  test("tag, login, push, and pull on another machine", async () => {
    const shared = `${registry.host}/username/my-node-app:v1.0`;
    await ok(["tag", IMAGE, shared]);
    try {
      await pushAndPull(shared);
    } finally {
      await docker(["rmi", shared]);
    }
  });

  async function pushAndPull(shared: string): Promise<void> {
    const refused = await docker(["push", shared]);
    assert.equal(refused.code, 1);
    const login = await docker(["login", "-u", USER, "--password-stdin", registry.host], { input: PASSWORD });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const push = await ok(["push", shared]);
    assert.match(push.stdout, /v1\.0: digest: sha256:[0-9a-f]{64} size: \d+/);
    // The other machine has its own serve and its own docker config.
    const otherLogin = await otherServe.docker(["login", "-u", USER, "--password-stdin", registry.host], {
      input: PASSWORD,
    });
    assert.equal(otherLogin.code, 0, otherLogin.stderr);
    const pull = await otherServe.dockerOk(["pull", shared]);
    assert.match(pull.stdout, /Status: Downloaded newer image for /);
    assert.equal(
      (await otherServe.dockerOk(["image", "inspect", "-f", "{{.Id}}", shared])).stdout,
      (await ok(["image", "inspect", "-f", "{{.Id}}", IMAGE])).stdout,
    );
  }

  test("a named volume survives docker rm", async () => {
    await ok(["run", "-d", "--name", "vol-app", "-v", "app-data:/app/data", IMAGE]);
    await ok(["exec", "vol-app", "sh", "-c", "echo kept > /app/data/myfile.txt"]);
    await ok(["rm", "-f", "vol-app"]);
    await ok(["run", "-d", "--name", "vol-app", "-v", "app-data:/app/data", IMAGE]);
    assert.equal((await ok(["exec", "vol-app", "cat", "/app/data/myfile.txt"])).stdout, "kept\n");
    await ok(["rm", "-f", "vol-app"]);
    await ok(["volume", "rm", "app-data"]);
  });

  test("docker rmi is refused while containers use the image", async () => {
    const refused = await docker(["rmi", IMAGE]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /conflict: unable to remove repository reference "my-node-app:v1\.0" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/,
    );
    await ok(["image", "inspect", IMAGE]);
  });

  test("the multi-stage build", async () => {
    const build = await docker(["build", "-f", "Dockerfile.multistage", "-t", "my-app:1.2.3", "."], {
      cwd: app,
    });
    assert.equal(build.code, 0, build.stderr + build.stdout);
    const id = (await ok(["images", "-q", "my-app:1.2.3"])).stdout.trim();
    assert.match(id, /^[0-9a-f]{12}$/);
    const config = (
      await ok(["image", "inspect", "-f", "{{json .Config.Cmd}} {{.Config.WorkingDir}}", "my-app:1.2.3"])
    ).stdout;
    assert.equal(config, '["npm","start"] /app\n');
    // The final stage is the alpine-tagged base plus the app: the builder stage is not in it.
    const files = (await ok(["run", "--rm", "my-app:1.2.3", "ls", "/app"])).stdout.split("\n");
    assert.ok(files.includes("node_modules") && files.includes("server.js"), files.join(" "));
  });

  test("docker system df and docker events", async () => {
    const df = table((await ok(["system", "df"])).stdout);
    assert.deepEqual(df[0], ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
    assert.deepEqual(
      df.slice(1).map((r) => r[0]),
      ["Images", "Containers", "Local Volumes", "Build Cache"],
    );
    const until = Math.floor(Date.now() / 1000) + 1;
    // What the tutorial did, from the engine's journal: the named volume made and removed.
    const events = await ok([
      "events",
      "--since",
      String(started),
      "--until",
      String(until),
      "--filter",
      "type=volume",
      "--format",
      "{{.Type}} {{.Action}} {{.Actor.ID}}",
    ]);
    const lines = events.stdout.split("\n").filter(Boolean);
    assert.ok(lines.includes("volume create app-data"), events.stdout);
    assert.ok(lines.includes("volume destroy app-data"), events.stdout);
    const tags = await ok([
      "events",
      "--since",
      String(started),
      "--until",
      String(until),
      "--filter",
      "type=image",
      "--filter",
      "event=tag",
      "--format",
      "{{.Actor.Attributes.name}}",
    ]);
    assert.ok(tags.stdout.split("\n").includes(IMAGE), tags.stdout);
  });

  test("nothing the server could not answer", () => {
    assert.doesNotMatch(serve.log, /unhandled failure/);
    assert.doesNotMatch(otherServe.log, /unhandled failure/);
  });
});
