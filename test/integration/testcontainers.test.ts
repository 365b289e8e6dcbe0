/**
 * Testcontainers for Node (npm `testcontainers`, dev dependency) against `berth serve`, pointed at
 * it with DOCKER_HOST and its reaper (Ryuk, an image from Docker Hub) disabled: GenericContainers
 * on the node image made offline, each waited for the way Testcontainers users do — a log line, an
 * HTTP port, the healthcheck — with files copied in before and after the start, exec, archives
 * copied out, and stop (which removes). The images are in the store, so the default pull policy
 * (pull only what is missing) never pulls: the server's log shows no pull request.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { extract } from "tar-stream";
import { ensureNodeImage } from "../../scripts/node-image.js";
import { Store } from "./harness.js";
import { Serve } from "./serve-helpers.js";

const BUSYBOX = "berth-test/busybox:latest";
let store: Store;
let serve: Serve;
let nodeImage: string;
// Loaded once DOCKER_HOST names the server: the library reads its environment on first use.
let tc: typeof import("testcontainers");

// A small HTTP server: logs when it listens, answers /health and / with a file copied in.
const APP = `const http = require("http");
const fs = require("fs");
http.createServer((req, res) => {
  if (req.url === "/health") return res.end("ok");
  res.end(fs.readFileSync("/app/greeting.txt", "utf8"));
}).listen(8080, () => console.log("app listening on 8080"));
`;

before(async () => {
  store = await Store.create();
  await store.busybox(BUSYBOX);
  nodeImage = await ensureNodeImage({ root: store.root, runroot: store.runroot, env: store.env });
  serve = await Serve.start(store);
  process.env.DOCKER_HOST = serve.host;
  process.env.DOCKER_CONFIG = serve.dockerConfig;
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
  tc = await import("testcontainers");
});

after(async () => {
  await serve?.stop();
  await store?.cleanup();
});

/** The files of a tar stream, by name. */
async function untar(stream: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const ex = extract();
  ex.on("entry", (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on("data", (c: unknown) => {
      if (Buffer.isBuffer(c)) chunks.push(c);
    });
    body.on("end", () => {
      files.set(header.name, Buffer.concat(chunks).toString());
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    ex.on("finish", () => resolve());
    ex.on("error", reject);
  });
  stream.pipe(ex);
  await done;
  return files;
}

async function ids(): Promise<string[]> {
  return (await store.ok(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
}

describe("Testcontainers for Node against berth serve", () => {
  test("a log-line wait; files copied in before and after start; exec; archive out; stop removes", async () => {
    const { GenericContainer, Wait } = tc;
    const container = await new GenericContainer(nodeImage)
      .withCopyContentToContainer([
        { content: APP, target: "/app/server.js" },
        { content: "hello from a copied file\n", target: "/app/greeting.txt", mode: 0o644 },
      ])
      .withCommand(["node", "/app/server.js"])
      .withEnvironment({ MARK: "tc-env" })
      .withLabels({ "org.berth.test": "testcontainers" })
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forLogMessage(/app listening on 8080/))
      .start();
    try {
      const host = container.getHost();
      const port = container.getMappedPort(8080);
      assert.ok(port > 0);
      const res = await fetch(`http://${host === "localhost" ? "127.0.0.1" : host}:${port}/`);
      assert.equal(await res.text(), "hello from a copied file\n");

      const ex = await container.exec([
        "sh",
        "-c",
        "echo $MARK; cat /app/greeting.txt; echo oops >&2; exit 3",
      ]);
      assert.equal(ex.exitCode, 3);
      assert.equal(ex.stdout, "tc-env\nhello from a copied file\n");
      assert.equal(ex.stderr, "oops\n");

      await container.copyContentToContainer([{ content: "changed\n", target: "/app/greeting.txt" }]);
      assert.equal((await container.exec(["cat", "/app/greeting.txt"])).output, "changed\n");
      const files = await untar(await container.copyArchiveFromContainer("/app/greeting.txt"));
      assert.equal(files.get("greeting.txt"), "changed\n");

      const logs = await container.logs();
      const text = await new Promise<string>((resolve) => {
        let t = "";
        logs.on("data", (c: Buffer | string) => {
          t += c.toString();
          if (t.includes("listening")) resolve(t);
        });
      });
      assert.match(text, /app listening on 8080/);
      logs.destroy();
      assert.ok((await ids()).includes(container.getId()));
    } finally {
      await container.stop();
    }
    assert.ok(!(await ids()).includes(container.getId()), "stop removes the container");
  });

  test("an HTTP wait on a port, after the internal and external port checks", async () => {
    const { GenericContainer, Wait } = tc;
    const container = await new GenericContainer(nodeImage)
      .withCopyContentToContainer([
        { content: APP, target: "/app/server.js" },
        { content: "http wait\n", target: "/app/greeting.txt" },
      ])
      .withCommand(["node", "/app/server.js"])
      .withExposedPorts(8080)
      .withWaitStrategy(
        Wait.forAll([Wait.forListeningPorts(), Wait.forHttp("/health", 8080).forStatusCode(200)]),
      )
      .withStartupTimeout(60_000)
      .start();
    try {
      const res = await fetch(`http://127.0.0.1:${container.getMappedPort(8080)}/`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "http wait\n");
    } finally {
      const stopped = await container.stop({ remove: false, timeout: 1_000 });
      const files = await untar(await stopped.copyArchiveFromContainer("/app/greeting.txt"));
      assert.equal(files.get("greeting.txt"), "http wait\n");
      await store.ok(["rm", container.getId()]);
    }
  });

  test("a healthcheck wait: healthy once the probe passes", async () => {
    const { GenericContainer, Wait } = tc;
    const container = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 1000"])
      .withHealthCheck({
        test: ["CMD-SHELL", "test -f /tmp/ready"],
        interval: 500,
        timeout: 2_000,
        retries: 20,
      })
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(60_000)
      .start();
    try {
      const state = JSON.parse((await store.ok(["inspect", container.getId()])).stdout)[0].State;
      assert.equal(state.Health.Status, "healthy");
    } finally {
      await container.stop({ timeout: 1_000 });
    }
  });

  test("nothing was pulled: every image came from the store", () => {
    assert.doesNotMatch(serve.log, /\/images\/create/);
  });
});
