/**
 * The offline Node.js base image (scripts/node-image.ts): its tags, honest contents (this
 * machine's node and npm, glibc), the busybox layer it shares, the cache, a `node` user, the
 * entrypoint's behaviour, and `npm install` working with no network inside it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cp, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ensureNodeImage, nodeImageUpToDate, nodeVersion } from "../../scripts/node-image.js";
import { Store } from "./harness.js";

const APP = resolve(fileURLToPath(import.meta.url), "../../../../examples/node-app");

let store: Store;
before(async () => {
  store = await Store.create();
});
after(async () => {
  await store.cleanup();
});

test("tagged node:18-alpine, node:18 and berth-local/node:<version>, one image; made once", async () => {
  const opts = { root: store.root, runroot: store.runroot, env: store.env };
  assert.equal(nodeImageUpToDate(opts), false);
  const tag = await ensureNodeImage(opts);
  assert.equal(tag, `berth-local/node:${nodeVersion()}`);
  assert.equal(nodeImageUpToDate(opts), true);
  const ids = await Promise.all(
    ["node:18-alpine", "node:18", tag].map(
      async (t) => (await store.ok(["image", "inspect", "-f", "{{.Id}}", t])).stdout,
    ),
  );
  assert.equal(new Set(ids).size, 1);
  // A second run finds it and changes nothing.
  const blobs = await store.listing("blobs/sha256");
  assert.equal(await ensureNodeImage(opts), tag);
  assert.deepEqual(await store.listing("blobs/sha256"), blobs);
  assert.equal((await store.ok(["images", "-q", "--no-trunc"])).stdout, ids[0]);
  const cfg = await store.ok([
    "image",
    "inspect",
    "-f",
    '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.WorkingDir}}|{{index .Config.Labels "org.opencontainers.image.description"}}',
    "node:18-alpine",
  ]);
  assert.match(cfg.stdout, /^\["docker-entrypoint\.sh"\] \["node"\] \|Node\.js v\d+\.\d+\.\d+ and npm /);
  assert.match(cfg.stdout, /glibc, not musl/);
});

test("its first layer is busybox:latest's, shared in the store", async () => {
  await store.busybox();
  const layers = async (ref: string) =>
    JSON.parse((await store.ok(["image", "inspect", "-f", "{{json .RootFS.Layers}}", ref])).stdout);
  const [bb] = await layers("busybox");
  const node = await layers("node:18-alpine");
  assert.equal(node.length, 3);
  assert.equal(node[0], bb);
});

test("this machine's node and npm, on glibc; the entrypoint runs node for options", async () => {
  const hostNpm = JSON.parse(await readFile("/usr/lib/node_modules/npm/package.json", "utf8")).version;
  const glibc = execFileSync("node", ["-p", "process.report.getReport().header.glibcVersionRuntime"], {
    encoding: "utf8",
  });
  const r = await store.ok([
    "run",
    "--rm",
    "node:18-alpine",
    "sh",
    "-c",
    "node --version; npm --version; npx --version; node -p 'process.report.getReport().header.glibcVersionRuntime'; echo $NODE_VERSION",
  ]);
  assert.equal(r.stdout, `v${nodeVersion()}\n${hostNpm}\n${hostNpm}\n${glibc}${nodeVersion()}\n`);
  // As the official image: an option or a non-command goes to node.
  const e = await store.ok(["run", "--rm", "node:18-alpine", "-e", "console.log(6 * 7)"]);
  assert.equal(e.stdout, "42\n");
});

test("a node user (1000:1000) with its home, as in the official image", async () => {
  const r = await store.ok(["run", "--rm", "-u", "node", "node:18-alpine", "sh", "-c", "id; cd && pwd"]);
  assert.equal(r.stdout, "uid=1000(node) gid=1000(node) groups=1000(node)\n/home/node\n");
});

test("npm install and npm start work with no network (network none, npm offline)", async () => {
  const app = store.path("app");
  await cp(APP, app, { recursive: true });
  const r = await store.ok([
    "run",
    "--rm",
    "-v",
    `${app}:/app`,
    "-w",
    "/app",
    "node:18-alpine",
    "sh",
    "-c",
    "npm install && { npm start & pid=$!; for i in $(seq 100); do wget -qO- http://127.0.0.1:3000/ 2>/dev/null && break; sleep 0.1; done; kill $pid; wait; }",
  ]);
  assert.match(r.stdout, /up to date/);
  assert.match(r.stdout, /my-node-app listening on port 3000 in container [0-9a-f]{12}/);
  assert.match(r.stdout, /Hello from [0-9a-f]{12} \(request 1, Node\.js v/);
  // Nothing of the app changed (the lockfile npm would write is the one in the repository).
  assert.equal(
    await readFile(join(app, "package-lock.json"), "utf8"),
    await readFile(join(APP, "package-lock.json"), "utf8"),
  );
});
