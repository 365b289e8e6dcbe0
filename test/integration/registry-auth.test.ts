/**
 * login, logout and authenticated pull/push through the real bin/berth: Debian's docker-registry
 * on 127.0.0.1 with htpasswd basic auth, and with token auth behind a token server written for
 * the tests (the bearer flow: challenge, token endpoint, scopes, token reuse). Credentials live
 * in a temporary DOCKER_CONFIG directory, in Docker's config.json format.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runProgram, Store } from "./harness.js";
import { startRegistry, startTokenServer, type TestRegistry, type TokenServer } from "./registry-helpers.js";

const USER = "alice";
const PASSWORD = "s3cret-Pa55";

let store: Store;
let dockerConfig: string;

before(async () => {
  store = await Store.create();
  await store.busybox();
  dockerConfig = await mkdtemp(join(tmpdir(), "berth-docker-config-"));
});
after(async () => {
  await store?.cleanup();
  await rm(dockerConfig, { recursive: true, force: true });
});

const env = () => ({ DOCKER_CONFIG: dockerConfig });

async function readAuths(): Promise<Record<string, { auth?: string }>> {
  const doc = JSON.parse(await readFile(join(dockerConfig, "config.json"), "utf8")) as {
    auths: Record<string, { auth?: string }>;
  };
  return doc.auths;
}

async function freshPull(
  ref: string,
  configDir: string,
): Promise<{ code: number; stderr: string; id: string }> {
  const fresh = await Store.create();
  try {
    const pull = await fresh.berth(["pull", ref], { env: { DOCKER_CONFIG: configDir } });
    const id =
      pull.code === 0 ? (await fresh.ok(["image", "inspect", "-f", "{{.Id}}", ref])).stdout.trim() : "";
    return { code: pull.code, stderr: pull.stderr, id };
  } finally {
    await fresh.cleanup();
  }
}

describe("basic auth (htpasswd)", () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry(store.path("basic-registry"), {
      kind: "htpasswd",
      user: USER,
      password: PASSWORD,
    });
  });
  after(async () => {
    await registry?.stop();
  });

  test("push without credentials is refused", async () => {
    const ref = `${registry.host}/private/busybox:1`;
    await store.ok(["tag", "busybox:latest", ref]);
    const push = await store.berth(["push", ref], { env: env() });
    assert.equal(push.code, 1);
    assert.match(push.stderr, /unauthorized: authentication required/);
  });

  test("a wrong password fails the login and stores nothing", async () => {
    const login = await store.berth(["login", "-u", USER, "--password-stdin", registry.host], {
      env: env(),
      input: "wrong\n",
    });
    assert.equal(login.code, 1);
    assert.equal(
      login.stderr,
      `Error: login attempt to http://${registry.host}/v2/ failed with status: 401 Unauthorized\n`,
    );
    await assert.rejects(stat(join(dockerConfig, "config.json")));
  });

  test("login stores Docker's config.json (0600); push and pull then work; logout removes it", async () => {
    const login = await store.berth(["login", "-u", USER, "--password-stdin", registry.host], {
      env: env(),
      input: `${PASSWORD}\n`,
    });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, "Login Succeeded\n");
    assert.match(login.stderr, /WARNING! Your credentials are stored unencrypted in '.*config\.json'/);
    const st = await stat(join(dockerConfig, "config.json"));
    assert.equal(st.mode & 0o777, 0o600);
    const auths = await readAuths();
    assert.deepEqual(auths[registry.host], { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") });

    const ref = `${registry.host}/private/busybox:1`;
    const push = await store.berth(["push", ref], { env: env() });
    assert.equal(push.code, 0, push.stderr);
    const pulled = await freshPull(ref, dockerConfig);
    assert.equal(pulled.code, 0, pulled.stderr);

    const logout = await store.berth(["logout", registry.host], { env: env() });
    assert.equal(logout.code, 0);
    assert.equal(logout.stdout, `Removing login credentials for ${registry.host}\n`);
    assert.equal((await readAuths())[registry.host], undefined);
    const denied = await freshPull(ref, dockerConfig);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /pull access denied for 127\.0\.0\.1:\d+\/private\/busybox/);
  });

  test("credentials written by Docker's own `docker login` are used", async () => {
    const dockerDir = await mkdtemp(join(tmpdir(), "berth-real-docker-config-"));
    try {
      const login = await runProgram("docker", ["login", "-u", USER, "--password-stdin", registry.host], {
        env: { DOCKER_CONFIG: dockerDir },
        input: `${PASSWORD}\n`,
      });
      assert.equal(login.code, 0, login.stderr);
      const pulled = await freshPull(`${registry.host}/private/busybox:1`, dockerDir);
      assert.equal(pulled.code, 0, pulled.stderr);
    } finally {
      await rm(dockerDir, { recursive: true, force: true });
    }
  });

  test("login flag errors are Docker's", async () => {
    const both = await store.berth(["login", "-u", USER, "-p", "x", "--password-stdin", registry.host], {
      env: env(),
    });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /conflicting options: cannot specify both --password and --password-stdin/);
    const noUser = await store.berth(["login", "--password-stdin", registry.host], {
      env: env(),
      input: "x\n",
    });
    assert.equal(noUser.code, 1);
    assert.match(noUser.stderr, /Must provide --username with --password-stdin/);
    const noTty = await store.berth(["login", "-u", USER, registry.host], { env: env() });
    assert.equal(noTty.code, 1);
    assert.match(noTty.stderr, /Cannot perform an interactive login from a non TTY device/);
  });
});

describe("token auth (bearer flow)", () => {
  let token: TokenServer;
  let registry: TestRegistry;
  before(async () => {
    token = await startTokenServer(store.path("token-server"), USER, PASSWORD);
    registry = await startRegistry(store.path("token-registry"), { kind: "token", token });
  });
  after(async () => {
    await registry?.stop();
    await token?.stop();
  });

  test("anonymous push and pull are refused", async () => {
    const ref = `${registry.host}/tok/busybox:1`;
    await store.ok(["tag", "busybox:latest", ref]);
    const push = await store.berth(["push", ref], { env: env() });
    assert.equal(push.code, 1);
    assert.match(push.stderr, /unauthorized/);
    const pull = await freshPull(ref, dockerConfig);
    assert.equal(pull.code, 1);
    assert.match(pull.stderr, /pull access denied for 127\.0\.0\.1:\d+\/tok\/busybox/);
  });

  test("login with a wrong password is refused by the token server", async () => {
    const login = await store.berth(["login", "-u", USER, "--password-stdin", registry.host], {
      env: env(),
      input: "nope\n",
    });
    assert.equal(login.code, 1);
    assert.match(login.stderr, /unauthorized: incorrect username or password/);
  });

  test("login, push and pull with scoped tokens reused across requests; logout", async () => {
    const login = await store.berth(["login", "-u", USER, "--password-stdin", registry.host], {
      env: env(),
      input: `${PASSWORD}\n`,
    });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, "Login Succeeded\n");
    assert.ok((await readAuths())[registry.host]?.auth);

    const ref = `${registry.host}/tok/busybox:1`;
    const before = token.requests.length;
    const push = await store.berth(["push", ref], { env: env() });
    assert.equal(push.code, 0, push.stderr);
    const pushTokens = token.requests.slice(before);
    assert.ok(pushTokens.every((r) => r.user === USER));
    assert.ok(pushTokens.some((r) => r.scopes.includes("repository:tok/busybox:pull,push")));
    // One token for the push scope serves every HEAD, upload and the manifest.
    assert.equal(
      pushTokens.filter((r) => r.scopes.join(" ") === "repository:tok/busybox:pull,push").length,
      1,
    );

    const beforePull = token.requests.length;
    const pulled = await freshPull(ref, dockerConfig);
    assert.equal(pulled.code, 0, pulled.stderr);
    const pullTokens = token.requests.slice(beforePull);
    // Manifest, config and layer with one token.
    assert.deepEqual(
      pullTokens.map((r) => r.scopes),
      [["repository:tok/busybox:pull"]],
    );

    const logout = await store.berth(["logout", registry.host], { env: env() });
    assert.equal(logout.code, 0);
    const denied = await freshPull(ref, dockerConfig);
    assert.equal(denied.code, 1);
  });

  test("a layer over 8 MiB is streamed in one authorized PATCH and pulls back the same", async () => {
    const login = await store.berth(["login", "-u", USER, "--password-stdin", registry.host], {
      env: env(),
      input: `${PASSWORD}\n`,
    });
    assert.equal(login.code, 0, login.stderr);
    const data = store.path("auth-big");
    await mkdir(data, { recursive: true });
    await writeFile(join(data, "random.bin"), randomBytes(12 << 20));
    const tarPath = store.path("auth-big.tar");
    execFileSync("tar", ["-C", data, "-cf", tarPath, "."]);
    const ref = `${registry.host}/tok/big:1`;
    await store.ok(["import", tarPath, ref]);
    const push = await store.berth(["push", ref], { env: env() });
    assert.equal(push.code, 0, push.stderr);
    const patches = registry
      .log()
      .split("\n")
      .filter((l) => /"PATCH \/v2\/tok\/big\/blobs\/uploads\/[^"]*" 202 /.test(l));
    assert.equal(patches.length, 1, "one streamed PATCH for the layer");
    const id = (await store.ok(["image", "inspect", "-f", "{{.Id}}", ref])).stdout.trim();
    const pulled = await freshPull(ref, dockerConfig);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.id, id);
    await store.ok(["logout", registry.host], { env: env() });
  });
});
