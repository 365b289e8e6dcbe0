/**
 * Acceptance test: every command of the tutorial the project was created from ("Docker Image vs
 * Container: Key Differences", ../shared/seed/000_9311c6ad5eabb38b.txt), run through bin/berth in
 * the tutorial's order with `berth` for `docker`, asserting that each does what the tutorial says
 * with Docker's output shape and exit codes — its three "common misconceptions" included.
 *
 * Its own temporary store; the base image is scripts/node-image.ts's (no Docker Hub); the registry
 * is Debian's docker-registry on 127.0.0.1, and "another machine" a second temporary store. Host
 * ports 3000-3003 are held through exclusive("ports-3000") for the whole file, as the networking
 * test does. Where the tutorial's text cannot run as written (a push to Docker Hub, `docker rm` of
 * a running container, its multi-stage text without WORKDIR), the test asserts Docker's behaviour
 * for the text as written and then runs the working form.
 */
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { exclusive, runProgram, Store } from "./harness.js";
import { startRegistry, type TestRegistry } from "./registry-helpers.js";

const EXAMPLE = resolve(fileURLToPath(import.meta.url), "../../../../examples/node-app");
const IMAGE = "my-node-app:v1.0";
const APPS = [
  { name: "my-app-prod", port: 3000 },
  { name: "my-app-dev", port: 3001 },
  { name: "my-app-staging", port: 3002 },
  { name: "my-app-test", port: 3003 },
] as const;

let store: Store;
let otherMachine: Store;
let registry: TestRegistry;
let app: string;
let releasePorts: () => void = () => undefined;
let portsLock: Promise<void> = Promise.resolve();

before(async () => {
  // Hold host ports 3000-3003 for the whole file.
  await new Promise<void>((acquired) => {
    portsLock = exclusive("ports-3000", async () => {
      acquired();
      await new Promise<void>((r) => {
        releasePorts = r;
      });
    });
  });
  store = await Store.create();
  otherMachine = await Store.create();
  await store.nodeImage();
  app = store.path("node-app");
  await cp(EXAMPLE, app, { recursive: true });
  registry = await startRegistry(store.path("registry"));
});

after(async () => {
  await registry?.stop();
  await otherMachine?.cleanup();
  await store?.cleanup();
  releasePorts();
  await portsLock;
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

async function shortId(name: string, s = store): Promise<string> {
  return (await s.ok(["inspect", "-f", "{{.Id}}", name])).stdout.trim().slice(0, 12);
}

/** `docker exec -it NAME sh` typed at a terminal: berth runs inside script(1), which gives it a pty. */
function execItSh(name: string, typed: string) {
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const line = store.argv(["exec", "-it", name, "sh"]).map(q).join(" ");
  return runProgram("script", ["-qec", line, "/dev/null"], { input: typed, env: store.env });
}

describe("What is a Docker image?", () => {
  test("docker build -t my-node-app:v1.0 . builds the tutorial's Dockerfile", async () => {
    const r = await store.berth(["build", "-t", IMAGE, "."], { cwd: app });
    assert.equal(r.code, 0, r.stderr);
    const images = table((await store.ok(["images", "my-node-app"])).stdout);
    assert.deepEqual(images[0], ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]);
    assert.equal(images.length, 2);
    assert.deepEqual(images[1]?.slice(0, 2), ["my-node-app", "v1.0"]);
  });

  test("docker history my-node-app:v1.0 shows a row per layer, newest first, the base image's below", async () => {
    const rows = table((await store.ok(["history", IMAGE])).stdout);
    assert.deepEqual(rows[0], ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
    const full = (
      await store.ok(["history", "--no-trunc", "--format", "{{.CreatedBy}}\t{{.Size}}", IMAGE])
    ).stdout
      .trimEnd()
      .split("\n")
      .map((l) => l.split("\t"));
    const expected: Array<[RegExp, "empty" | "data"]> = [
      [/CMD \["npm" "start"\]/, "empty"],
      [/EXPOSE (map\[3000\/tcp:\{\}\]|\[3000\/tcp\]|3000)/, "empty"],
      [/COPY \. \./, "data"],
      [/RUN .*npm install/, "data"],
      [/COPY package\*\.json \.\//, "data"],
      [/WORKDIR \/app/, "empty"],
      [/CMD \["node"\]/, "empty"],
    ];
    assert.ok(full.length >= expected.length + 3, `history:\n${full.join("\n")}`);
    expected.forEach(([pattern, kind], i) => {
      const [createdBy = "", size = ""] = full[i] ?? [];
      assert.match(createdBy, pattern);
      if (kind === "empty") assert.equal(size, "0B", `${createdBy} should be an empty layer`);
    });
    // COPY . . brings the app (server.js and more), RUN npm install its lockfile.
    assert.notEqual(full[2]?.[1], "0B");
    // The image's own rows carry its ID on top only; the base image's rows come from node:18-alpine.
    assert.match(rows[1]?.[0] ?? "", /^[0-9a-f]{12}$/);
  });
});

describe("Layers are cached and reused", () => {
  test("building again reuses every step from the cache: the same image", async () => {
    const before = (await store.ok(["images", "-q", "--no-trunc", IMAGE])).stdout;
    const r = await store.ok(["build", "-t", IMAGE, "."], { cwd: app });
    assert.equal((r.stderr.match(/^#\d+ CACHED$/gm) ?? []).length, 4, r.stderr);
    assert.equal((await store.ok(["images", "-q", "--no-trunc", IMAGE])).stdout, before);
  });
});

describe("What is a Docker container?", () => {
  test("docker run -d --name my-app-prod -p 3000:3000 my-node-app:v1.0, then docker ps", async () => {
    const r = await store.ok(["run", "-d", "--name", "my-app-prod", "-p", "3000:3000", IMAGE]);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    const rows = table((await store.ok(["ps"])).stdout);
    assert.deepEqual(rows[0], ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]);
    assert.equal(rows.length, 2);
    const [id, image, command, , status, ports, name] = rows[1] ?? [];
    assert.equal(id, r.stdout.slice(0, 12));
    assert.equal(image, IMAGE);
    assert.equal(command, '"docker-entrypoint.s…"');
    assert.match(status ?? "", /^Up /);
    assert.match(ports ?? "", /0\.0\.0\.0:3000->3000\/tcp/);
    assert.equal(name, "my-app-prod");
  });
});

describe("The image-container relationship in practice", () => {
  test("three more containers of the same image on ports 3001-3003, listed by ps --format table", async () => {
    for (const { name, port } of APPS.slice(1)) {
      await store.ok(["run", "-d", "--name", name, "-p", `${port}:3000`, IMAGE]);
    }
    const rows = table(
      (await store.ok(["ps", "--format", "table {{.Names}}\t{{.Image}}\t{{.Ports}}\t{{.Status}}"])).stdout,
    );
    assert.deepEqual(rows[0], ["NAMES", "IMAGE", "PORTS", "STATUS"]);
    assert.equal(rows.length, 5);
    for (const { name, port } of APPS) {
      const row = rows.find((r) => r[0] === name);
      assert.ok(row, `${name} listed`);
      assert.equal(row[1], IMAGE);
      assert.match(row[2] ?? "", new RegExp(`0\\.0\\.0\\.0:${port}->3000/tcp`));
      assert.match(row[3] ?? "", /^Up /);
    }
  });

  test("each answers on its own port from its own container", async () => {
    const seen = new Set<string>();
    for (const { name, port } of APPS) {
      const id = await shortId(name);
      const reply = await get(port);
      assert.match(reply, new RegExp(`^Hello from ${id} `));
      seen.add(id);
    }
    assert.equal(seen.size, 4);
  });
});

describe("Debugging application issues", () => {
  test("docker image inspect my-node-app:v1.0: the image's build-time facts", async () => {
    const r = await store.ok(["image", "inspect", IMAGE]);
    const doc: unknown = JSON.parse(r.stdout);
    assert.ok(Array.isArray(doc) && doc.length === 1);
    const [img] = doc as Array<Record<string, unknown>>;
    const config = img?.Config as Record<string, unknown>;
    assert.deepEqual(img?.RepoTags, [IMAGE]);
    assert.deepEqual(config.Cmd, ["npm", "start"]);
    assert.deepEqual(config.Entrypoint, ["docker-entrypoint.sh"]);
    assert.equal(config.WorkingDir, "/app");
    assert.deepEqual(config.ExposedPorts, { "3000/tcp": {} });
  });

  test("docker logs my-app-prod: the container's run-time output", async () => {
    const r = await store.ok(["logs", "my-app-prod"]);
    assert.match(r.stdout, /> my-node-app@1\.0\.0 start\n> node server\.js/);
    assert.match(r.stdout, /my-node-app listening on port 3000 in container [0-9a-f]{12}/);
    assert.match(r.stdout, /GET \//);
  });

  test("docker exec -it my-app-prod sh: a shell inside the running container", async () => {
    const r = await execItSh("my-app-prod", "hostname; ls /app; exit 3\n");
    assert.equal(r.code, 3);
    assert.match(r.stdout, new RegExp(await shortId("my-app-prod")));
    assert.match(r.stdout, /package\.json/);
    assert.match(r.stdout, /server\.js/);
  });
});

describe("Storage and cleanup", () => {
  test('docker images --format "table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}"', async () => {
    const rows = table(
      (await store.ok(["images", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.Size}}"])).stdout,
    );
    assert.deepEqual(rows[0], ["REPOSITORY", "TAG", "SIZE"]);
    const mine = rows.find((r) => r[0] === "my-node-app");
    assert.equal(mine?.[1], "v1.0");
    assert.match(mine?.[2] ?? "", /^\d+(\.\d+)?MB$/);
  });

  test('docker ps -s --format "table {{.Names}}\\t{{.Image}}\\t{{.Size}}": writable layer and virtual size', async () => {
    const rows = table(
      (await store.ok(["ps", "-s", "--format", "table {{.Names}}\t{{.Image}}\t{{.Size}}"])).stdout,
    );
    assert.deepEqual(rows[0], ["NAMES", "IMAGE", "SIZE"]);
    assert.equal(rows.length, 5);
    for (const row of rows.slice(1)) {
      assert.equal(row[1], IMAGE);
      assert.match(row[2] ?? "", /^\d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?MB\)$/);
    }
  });

  test("docker rm my-app-test removes the container and keeps the image", async () => {
    // As written it names a running container: Docker refuses, asking for -f or a stop.
    const running = await store.berth(["rm", "my-app-test"]);
    assert.equal(running.code, 1);
    assert.match(running.stderr, /container is running: stop the container before removing or force remove/);
    await store.ok(["stop", "my-app-test"]);
    assert.equal((await store.ok(["rm", "my-app-test"])).stdout, "my-app-test\n");
    assert.equal((await store.berth(["inspect", "my-app-test"])).code, 1);
    await store.ok(["image", "inspect", IMAGE]);
  });
});

describe("Sharing and deployment", () => {
  test("docker tag my-node-app:v1.0 username/my-node-app:v1.0", async () => {
    await store.ok(["tag", IMAGE, "username/my-node-app:v1.0"]);
    const ids = (await store.ok(["images", "-q", "--filter", "reference=*/my-node-app"])).stdout;
    assert.equal(ids, `${(await store.ok(["images", "-q", IMAGE])).stdout}`);
    // Pushing it would go to Docker Hub: the rest of the section uses a registry on 127.0.0.1.
    await store.ok(["rmi", "username/my-node-app:v1.0"]);
  });

  test("docker push, docker pull on another machine, docker run -d from the shared image", async () => {
    const shared = `${registry.host}/username/my-node-app:v1.0`;
    await store.ok(["tag", IMAGE, shared]);
    const push = await store.ok(["push", shared]);
    assert.match(push.stdout, /v1\.0: digest: sha256:[0-9a-f]{64} size: \d+/);
    const pull = await otherMachine.ok(["pull", shared]);
    assert.match(pull.stdout, /Status: Downloaded newer image for /);
    assert.equal(
      (await otherMachine.ok(["image", "inspect", "-f", "{{.Id}}", shared])).stdout,
      (await store.ok(["image", "inspect", "-f", "{{.Id}}", IMAGE])).stdout,
    );
    const id = (await otherMachine.ok(["run", "-d", shared])).stdout.trim();
    const deadline = Date.now() + 20_000;
    let logs = "";
    while (Date.now() < deadline && !logs.includes("listening on port 3000")) {
      logs = (await otherMachine.ok(["logs", id])).stdout;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(logs, new RegExp(`listening on port 3000 in container ${id.slice(0, 12)}`));
    await otherMachine.ok(["rm", "-f", id]);
    // Back to one tag, so that rmi below meets the tutorial's conflict.
    await store.ok(["rmi", shared]);
  });
});

describe("Common misconceptions", () => {
  test('"I deleted the container, why is the image still there?"', async () => {
    await store.ok(["rm", "-f", "my-app-prod"]);
    const images = await runProgram("sh", ["-c", `"$@" images | grep my-node-app`, "sh", ...store.argv([])], {
      env: store.env,
    });
    assert.equal(images.code, 0);
    assert.match(images.stdout, /^my-node-app\s+v1\.0\s+[0-9a-f]{12}\s/);
  });

  test('"My changes disappeared when I restarted the container"', async () => {
    await store.ok(["run", "-d", "--name", "my-app-prod", "-p", "3000:3000", IMAGE]);
    const typed = await execItSh("my-app-prod", 'echo "temporary data" > /tmp/myfile.txt\nexit\n');
    assert.equal(typed.code, 0);
    assert.equal(
      (await store.ok(["exec", "my-app-prod", "cat", "/tmp/myfile.txt"])).stdout,
      "temporary data\n",
    );
    // `docker rm my-app-prod` of a running container needs -f (or a stop first).
    await store.ok(["rm", "-f", "my-app-prod"]);
    await store.ok(["run", "-d", "--name", "my-app-prod", "-p", "3000:3000", IMAGE]);
    const gone = await store.berth(["exec", "my-app-prod", "cat", "/tmp/myfile.txt"]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, "cat: can't open '/tmp/myfile.txt': No such file or directory\n");
    assert.match(await get(3000), /^Hello from /);

    // To persist data, use volumes.
    await store.ok(["rm", "-f", "my-app-prod"]);
    await store.ok([
      "run",
      "-d",
      "--name",
      "my-app-prod",
      "-p",
      "3000:3000",
      "-v",
      "app-data:/app/data",
      IMAGE,
    ]);
    await store.ok(["exec", "my-app-prod", "sh", "-c", 'echo "kept" > /app/data/myfile.txt']);
    await store.ok(["rm", "-f", "my-app-prod"]);
    await store.ok([
      "run",
      "-d",
      "--name",
      "my-app-prod",
      "-p",
      "3000:3000",
      "-v",
      "app-data:/app/data",
      IMAGE,
    ]);
    assert.equal((await store.ok(["exec", "my-app-prod", "cat", "/app/data/myfile.txt"])).stdout, "kept\n");
    assert.match(await get(3000), /^Hello from /);
  });

  test('"Why can\'t I delete this image?"', async () => {
    const refused = await store.berth(["rmi", IMAGE]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /conflict: unable to remove repository reference "my-node-app:v1\.0" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/,
    );
    await store.ok(["image", "inspect", IMAGE]);
    const users = (await store.ok(["ps", "-aq", "--filter", `ancestor=${IMAGE}`])).stdout
      .split("\n")
      .filter(Boolean);
    assert.equal(users.length, 3); // prod, dev, staging (test was removed above)
    // `docker rm $(docker ps -aq --filter ancestor=…)` as written: the containers are running.
    const asWritten = await store.berth(["rm", ...users]);
    assert.equal(asWritten.code, 1);
    assert.equal(
      (await store.ok(["ps", "-aq", "--filter", `ancestor=${IMAGE}`])).stdout.split("\n").filter(Boolean)
        .length,
      3,
    );
    const removed = await store.ok(["rm", "-f", ...users]);
    assert.deepEqual(removed.stdout.split("\n").filter(Boolean), users);
    const rmi = await store.ok(["rmi", IMAGE]);
    assert.match(rmi.stdout, /^Untagged: my-node-app:v1\.0\nDeleted: sha256:[0-9a-f]{64}\n/);
    assert.equal((await store.berth(["image", "inspect", IMAGE])).code, 1);
    await store.ok(["volume", "rm", "app-data"]);
  });
});

describe("Best practices", () => {
  test("the tutorial's multi-stage text fails as Docker's does: /app/node_modules is not in the builder stage", async () => {
    const r = await store.berth(
      ["build", "-f", "Dockerfile.multistage-tutorial", "-t", "my-app:broken", "."],
      {
        cwd: app,
      },
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"\/app\/node_modules": not found/);
    assert.equal((await store.berth(["image", "inspect", "my-app:broken"])).code, 1);
  });

  test("with WORKDIR it builds; semantic-version and purpose tags name one image", async () => {
    const build = (tag: string) =>
      store.ok(["build", "-f", "Dockerfile.multistage", "-t", tag, "."], { cwd: app });
    await build("my-app:1.2.3");
    await build("my-app:latest");
    await build("my-app:1.2.3-production");
    await build("my-app:dev");
    const id = (await store.ok(["images", "-q", "my-app:1.2.3"])).stdout;
    for (const t of ["latest", "1.2.3-production", "dev"]) {
      assert.equal(
        (await store.ok(["images", "-q", `my-app:${t}`])).stdout,
        id,
        `my-app:${t} came from the cache`,
      );
    }
    for (const t of ["v1.0.0", "v1.0", "v1", "latest"])
      await store.ok(["tag", "my-app:1.2.3", `my-node-app:${t}`]);
    const rows = table((await store.ok(["images", "my-node-app"])).stdout);
    assert.deepEqual(
      rows
        .slice(1)
        .map((r) => r[1])
        .sort(),
      ["latest", "v1", "v1.0", "v1.0.0"],
    );
    assert.equal(new Set(rows.slice(1).map((r) => r[2])).size, 1);
    // The final stage: the app in /app, node_modules from the builder stage.
    const ls = await store.ok(["run", "--rm", "my-app:1.2.3", "ls", "-a", "/app"]);
    assert.match(ls.stdout, /node_modules/);
    assert.match(ls.stdout, /server\.js/);
  });

  test("docker run -d --name frontend-prod my-app:latest", async () => {
    // (api:v2.1 and postgres:13, the tutorial's other two examples, are images it never builds:
    // they would come from Docker Hub.)
    await store.ok(["run", "-d", "--name", "frontend-prod", "my-app:latest"]);
    const id = await shortId("frontend-prod");
    const deadline = Date.now() + 20_000;
    let logs = "";
    while (Date.now() < deadline && !logs.includes("listening")) {
      logs = (await store.ok(["logs", "frontend-prod"])).stdout;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(logs, new RegExp(`my-node-app listening on port 3000 in container ${id}`));
    const rows = table((await store.ok(["ps", "--format", "table {{.Names}}\t{{.Image}}"])).stdout);
    assert.deepEqual(rows.slice(1), [["frontend-prod", "my-app:latest"]]);
    await store.ok(["rm", "-f", "frontend-prod"]);
  });
});
