/**
 * docker-py (Debian's python3-docker, run by Debian's python3 and pytest) against `berth serve`:
 * the pytest file test/clients/docker_py_test.py drives containers, images, volumes, networks and
 * events through docker-py's own API. This file starts the server on a temporary store, makes
 * the busybox image offline, starts a registry on 127.0.0.1, runs pytest with DOCKER_HOST on the
 * server's socket and fails with pytest's output when pytest fails.
 */
import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runProgram, Store } from "./harness.js";
import { startRegistry, type TestRegistry } from "./registry-helpers.js";
import { Serve } from "./serve-helpers.js";

const SUITE = resolve(fileURLToPath(import.meta.url), "../../../../test/clients/docker_py_test.py");
// Debian's interpreter, whose dist-packages hold python3-docker 5.0.3 (another python3 earlier
// on PATH would bring its own docker-py, or none).
const PYTHON = "/usr/bin/python3";

const present = await access(PYTHON).then(
  async () => (await runProgram(PYTHON, ["-c", "import docker, pytest"])).code === 0,
  () => false,
);

let store: Store;
let serve: Serve;
let registry: TestRegistry;

before(async () => {
  // setup installs both packages: their absence is a failure, never a skip counted as a pass.
  assert.ok(present, `${PYTHON} cannot import docker and pytest: run npm run setup`);
  store = await Store.create();
  await store.busybox("berth-test/busybox:latest");
  registry = await startRegistry(store.path("registry"));
  serve = await Serve.start(store);
});

after(async () => {
  await serve?.stop();
  await registry?.stop();
  await store?.cleanup();
});

describe("docker-py against berth serve", () => {
  test("docker-py's pytest suite passes", async () => {
    const r = await runProgram(
      PYTHON,
      ["-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--tb=short", SUITE],
      {
        cwd: store.dir,
        env: {
          DOCKER_HOST: serve.host,
          BERTH_TEST_IMAGE: "berth-test/busybox:latest",
          BERTH_TEST_REGISTRY: registry.host,
          PYTHONDONTWRITEBYTECODE: "1",
        },
      },
    );
    assert.equal(
      r.code,
      0,
      `pytest exited ${r.code}:\n${r.stdout}\n${r.stderr}\nserve log:\n${serve.log.slice(-4000)}`,
    );
    assert.match(r.stdout, /\d+ passed/);
    assert.doesNotMatch(r.stdout, /\d+ (failed|skipped|error)/);
  });
});
