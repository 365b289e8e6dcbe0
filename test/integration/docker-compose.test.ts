/**
 * docker-compose 1.29 (Debian's `docker-compose`, Python on docker-py) against `berth serve`, as
 * a user drives it: a project of three services — `web` built from a Dockerfile on the node
 * image, `db` with a healthcheck that `web` waits for (`condition: service_healthy`) and a named
 * volume, `worker` scaled — on the project's own network where services resolve each other by
 * name, with variables and an env_file from `.env`, and web's port published on 127.0.0.1 (a
 * free port chosen at run time). Every verb a project's life uses: up -d, ps, logs, exec (-T and
 * with a TTY), run --rm, up --scale, restart, stop/start, down (the volume kept), up again (its
 * data still there), down -v --rmi local (nothing of the project left). The server runs on a
 * temporary store with its images made offline; nothing is pulled.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { ensureNodeImage } from "../../scripts/node-image.js";
import { type RunResult, runProgram, Store } from "./harness.js";
import { Serve } from "./serve-helpers.js";

const COMPOSE = "/usr/bin/docker-compose";
const BUSYBOX = "berth-test/busybox:latest";
const PROJECT = "berthc";

const present = await runProgram(COMPOSE, ["version", "--short"]).then(
  (r) => r.code === 0 && r.stdout.startsWith("1.29."),
  () => false,
);

let store: Store;
let serve: Serve;
let dir: string;
let port: number;

/** A TCP port of 127.0.0.1 that nothing listens on now (the kernel's choice, not 3000-3003). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const p = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(p));
    });
  });
}

function compose(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runProgram(COMPOSE, ["--ansi", "never", "-p", PROJECT, ...args], {
    cwd: dir,
    env: { DOCKER_HOST: serve.host, DOCKER_CONFIG: serve.dockerConfig, ...env },
  });
}

async function composeOk(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  const r = await compose(args, env);
  if (r.code !== 0)
    throw new Error(
      `docker-compose ${args.join(" ")} exited ${r.code}:\n${r.stdout}${r.stderr}\nserve log:\n${serve.log.slice(-3000)}`,
    );
  return r;
}

/** docker-compose ARGS (a shell command line) under a pseudo-terminal of script(1). */
function underPty(args: string): Promise<RunResult> {
  return runProgram("script", ["-qec", `${COMPOSE} --ansi never -p ${PROJECT} ${args}`, "/dev/null"], {
    cwd: dir,
    env: { DOCKER_HOST: serve.host, DOCKER_CONFIG: serve.dockerConfig },
  });
}

/** GET http://127.0.0.1:<port>/ — the web service's answer. */
function getWeb(): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", timeout: 10_000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.end();
  });
}

/** Names of the store's containers (all), volumes, networks and image references. */
async function leftovers(): Promise<{
  containers: string[];
  volumes: string[];
  networks: string[];
  images: string[];
}> {
  const lines = async (args: string[]) =>
    (await store.ok(args)).stdout
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  return {
    containers: await lines(["ps", "-a", "--format", "{{.Names}}"]),
    volumes: await lines(["volume", "ls", "-q"]),
    networks: await lines(["network", "ls", "--format", "{{.Name}}"]),
    images: await lines(["images", "--format", "{{.Repository}}:{{.Tag}}"]),
  };
}

/** Names of the project's containers that run, sorted (compose's `ps --services` counts services only). */
async function running(): Promise<string[]> {
  const r = await store.ok([
    "ps",
    "--filter",
    `label=com.docker.compose.project=${PROJECT}`,
    "--format",
    "{{.Names}}",
  ]);
  return r.stdout.split("\n").filter(Boolean).sort();
}

before(async () => {
  // setup installs docker-compose: its absence is a failure, never a skip counted as a pass.
  assert.ok(present, `${COMPOSE} 1.29 is not installed: run npm run setup`);
  store = await Store.create();
  await store.busybox(BUSYBOX);
  const nodeImage = await ensureNodeImage({ root: store.root, runroot: store.runroot, env: store.env });
  serve = await Serve.start(store);
  port = await freePort();
  dir = store.path("project");
  await mkdir(`${dir}/web`, { recursive: true });
  await writeFile(
    `${dir}/.env`,
    // Read by compose for ${...} in the file, and by the worker as its env_file.
    `GREETING=hello-from-dotenv\nWEB_PORT=${port}\nNODE_IMAGE=${nodeImage}\n`,
  );
  await writeFile(
    `${dir}/web/Dockerfile`,
    `ARG NODE_IMAGE\nFROM \${NODE_IMAGE}\nWORKDIR /app\nCOPY app.js .\nEXPOSE 8080\nCMD ["node", "app.js"]\n`,
  );
  // Answers with the greeting from its environment and db's counter, fetched by service name.
  await writeFile(
    `${dir}/web/app.js`,
    `const http = require("http");
http.createServer((req, res) => {
  http.get("http://db/count", (r) => {
    let b = "";
    r.on("data", (c) => { b += c; });
    r.on("end", () => res.end(process.env.GREETING + " count=" + b.trim() + "\\n"));
  }).on("error", (e) => { res.statusCode = 502; res.end(String(e)); });
}).listen(8080, () => console.log("web listening on 8080"));
`,
  );
  // db counts its starts in the named volume and serves the count over HTTP; healthy once it answers.
  await writeFile(
    `${dir}/docker-compose.yml`,
    `version: "2.4"
services:
  db:
    image: ${BUSYBOX}
    init: true
    command: ["sh", "-c", "c=$$(cat /data/count 2>/dev/null || echo 0); echo $$((c+1)) > /data/count; echo db started $$(cat /data/count); exec httpd -f -p 80 -h /data"]
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/count"]
      interval: 1s
      timeout: 5s
      retries: 60
  web:
    build:
      context: ./web
      args:
        NODE_IMAGE: \${NODE_IMAGE}
    init: true
    environment:
      GREETING: \${GREETING}
    ports:
      - "127.0.0.1:\${WEB_PORT}:8080"
    depends_on:
      db:
        condition: service_healthy
  worker:
    image: ${BUSYBOX}
    init: true
    env_file: .env
    command: ["sh", "-c", "echo worker says $$GREETING; exec sleep 100000"]
volumes:
  data:
`,
  );
});

after(async () => {
  if (serve && dir) await compose(["down", "-v", "--rmi", "local", "-t", "1"]).catch(() => undefined);
  await serve?.stop();
  await store?.cleanup();
});

describe("docker-compose 1.29 against berth serve", () => {
  test("up -d: the image built, db healthy before web starts, all running; ps; logs", async () => {
    const up = await composeOk(["up", "-d"]);
    assert.match(up.stdout + up.stderr, /Successfully tagged berthc_web:latest/);
    // docker-py's build (POST /build from compose itself) instead of the docker CLI's.
    const build = await composeOk(["build", "web"], { COMPOSE_DOCKER_CLI_BUILD: "0" });
    assert.match(build.stdout + build.stderr, /Successfully built [0-9a-f]{12}/);
    assert.deepEqual(await running(), ["berthc_db_1", "berthc_web_1", "berthc_worker_1"]);
    // web started only once db was healthy: db's health and the order of their starts.
    const db = JSON.parse((await store.ok(["inspect", "berthc_db_1"])).stdout)[0];
    const web = JSON.parse((await store.ok(["inspect", "berthc_web_1"])).stdout)[0];
    assert.equal(db.State.Health.Status, "healthy");
    assert.ok(Date.parse(web.State.StartedAt) > Date.parse(db.State.StartedAt));
    // compose's own labels and the project network with service-name aliases.
    assert.equal(web.Config.Labels["com.docker.compose.service"], "web");
    assert.equal(web.Config.Labels["com.docker.compose.project"], PROJECT);
    assert.ok(web.NetworkSettings.Networks.berthc_default.Aliases.includes("web"));

    const ps = await composeOk(["ps"]);
    for (const name of ["berthc_db_1", "berthc_web_1", "berthc_worker_1"])
      assert.match(ps.stdout, new RegExp(`^${name} .* Up`, "m"));
    assert.match(ps.stdout, new RegExp(`127\\.0\\.0\\.1:${port}->8080/tcp`));
    assert.equal((await composeOk(["ps", "-q"])).stdout.trim().split("\n").length, 3);
    assert.deepEqual((await composeOk(["ps", "--services"])).stdout.trim().split("\n").sort(), [
      "db",
      "web",
      "worker",
    ]);

    // The published port on 127.0.0.1; web reaches db by its service name; GREETING from .env.
    assert.deepEqual(await getWeb(), { status: 200, body: "hello-from-dotenv count=1\n" });
    const logs = await composeOk(["logs", "--no-color"]);
    assert.match(logs.stdout, /web_1 +\| web listening on 8080/);
    assert.match(logs.stdout, /db_1 +\| db started 1/);
    assert.match(logs.stdout, /worker_1 +\| worker says hello-from-dotenv/);
    assert.match((await composeOk(["logs", "--no-color", "--tail", "1", "worker"])).stdout, /worker says/);
  });

  test("exec without a TTY and with one; run --rm leaves no container", async () => {
    const ex = await composeOk([
      "exec",
      "-T",
      "web",
      "sh",
      "-c",
      "wget -qO- http://db/count; echo $GREETING",
    ]);
    assert.equal(ex.stdout, "1\nhello-from-dotenv\n");
    const code = await compose(["exec", "-T", "worker", "sh", "-c", "exit 7"]);
    assert.equal(code.code, 7);
    // compose's exec allocates a TTY by default: run it under a pseudo-terminal of script(1).
    const tty = await underPty(`exec worker sh -c 'tty; echo tty-exec-ok'`);
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /\/dev\/pts\/\d+\r?\n/);
    assert.match(tty.stdout, /tty-exec-ok/);
    // run, too, has a TTY by default; its exit code is passed on.
    const ttyRun = await underPty(`run --rm worker sh -c 'tty; echo tty-run-ok; exit 4'`);
    assert.equal(ttyRun.code, 4, ttyRun.stdout + ttyRun.stderr);
    assert.match(ttyRun.stdout, /\/dev\/pts\/\d+\r?\n/);
    assert.match(ttyRun.stdout, /tty-run-ok/);

    const run = await composeOk([
      "run",
      "--rm",
      "-T",
      "worker",
      "sh",
      "-c",
      "echo run $GREETING; wget -qO- http://web:8080/",
    ]);
    assert.match(run.stdout, /^run hello-from-dotenv\nhello-from-dotenv count=1\n$/);
    const failed = await compose(["run", "--rm", "-T", "worker", "sh", "-c", "exit 3"]);
    assert.equal(failed.code, 3);
    assert.deepEqual(await running(), ["berthc_db_1", "berthc_web_1", "berthc_worker_1"]);
    assert.ok(!(await leftovers()).containers.some((n) => n.includes("_run_")));
  });

  test("up --scale: three workers, each reachable by index and resolving the others' service", async () => {
    await composeOk(["up", "-d", "--scale", "worker=3"]);
    assert.deepEqual(await running(), [
      "berthc_db_1",
      "berthc_web_1",
      "berthc_worker_1",
      "berthc_worker_2",
      "berthc_worker_3",
    ]);
    const hosts = new Set<string>();
    for (const i of ["1", "2", "3"]) {
      const r = await composeOk([
        "exec",
        "-T",
        "--index",
        i,
        "worker",
        "sh",
        "-c",
        "hostname; wget -qO- http://db/count",
      ]);
      const [host, count] = r.stdout.trim().split("\n");
      hosts.add(host ?? "");
      assert.equal(count, "1");
    }
    assert.equal(hosts.size, 3);
    // The service name resolves to the scaled service's containers, at once.
    const lookup = await compose(["exec", "-T", "web", "nslookup", "-type=a", "worker"]);
    if (lookup.code !== 0) {
      // What the network's DNS servers knew at the time, to tell a lost entry from a lost server.
      const dns = await runProgram("sh", [
        "-c",
        `cd ${store.runroot}/aardvark && cat current; echo; head -50 */*; for p in */aardvark.pid; do ps -p $(cat $p); done`,
      ]);
      assert.fail(
        `nslookup worker exited ${lookup.code}: ${lookup.stdout}${lookup.stderr}\n${dns.stdout}${dns.stderr}`,
      );
    }
    assert.equal((lookup.stdout.match(/Address: 100\./g) ?? []).length, 3, lookup.stdout);
    await composeOk(["up", "-d", "--scale", "worker=1"]);
    assert.deepEqual(await running(), ["berthc_db_1", "berthc_web_1", "berthc_worker_1"]);
  });

  test("restart, stop and start keep the containers and the volume's data", async () => {
    const dbId = (await composeOk(["ps", "-q", "db"])).stdout.trim();
    await composeOk(["restart", "-t", "2", "db"]);
    assert.equal((await composeOk(["ps", "-q", "db"])).stdout.trim(), dbId);
    assert.match((await composeOk(["logs", "--no-color", "db"])).stdout, /db started 2/);
    assert.equal((await getWeb()).body, "hello-from-dotenv count=2\n");

    await composeOk(["stop", "-t", "2"]);
    assert.deepEqual(await running(), []);
    const stopped = await composeOk(["ps"]);
    assert.match(stopped.stdout, /^berthc_web_1 .* Exit \d+/m);
    await composeOk(["start"]);
    assert.deepEqual(await running(), ["berthc_db_1", "berthc_web_1", "berthc_worker_1"]);
    assert.equal((await composeOk(["ps", "-q", "db"])).stdout.trim(), dbId);
    assert.equal((await getWeb()).body, "hello-from-dotenv count=3\n");
  });

  test("down keeps the named volume; up again finds its data", async () => {
    const down = await composeOk(["down", "-t", "2"]);
    assert.match(down.stderr + down.stdout, /Removing network berthc_default/);
    const left = await leftovers();
    assert.deepEqual(left.containers, []);
    assert.ok(!left.networks.includes("berthc_default"));
    assert.ok(left.volumes.includes("berthc_data"));
    assert.ok(left.images.includes("berthc_web:latest"));

    await composeOk(["up", "-d"]);
    assert.deepEqual(await running(), ["berthc_db_1", "berthc_web_1", "berthc_worker_1"]);
    assert.equal((await getWeb()).body, "hello-from-dotenv count=4\n");
  });

  test("down -v --rmi local: no container, network, volume or built image left", async () => {
    const down = await composeOk(["down", "-v", "--rmi", "local", "-t", "2"]);
    assert.match(down.stderr + down.stdout, /Removing volume berthc_data/);
    assert.match(down.stderr + down.stdout, /Removing image berthc_web/);
    const left = await leftovers();
    assert.deepEqual(left.containers, []);
    assert.deepEqual(left.volumes, []);
    assert.deepEqual(left.networks.sort(), ["bridge", "host", "none"]);
    assert.ok(!left.images.some((i) => i.startsWith("berthc")), left.images.join(", "));
    assert.ok(left.images.includes(BUSYBOX));
    await assert.rejects(getWeb());
  });
});
