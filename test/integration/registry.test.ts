/**
 * pull and push through the real bin/berth against Debian's docker-registry on 127.0.0.1 (open
 * registry): round trip into a fresh root, skopeo reading what berth pushed, a second push
 * sending no blob, cross-repository mounts, zstd layers, a corrupt blob, a pull killed midway.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { busyboxRootfs } from "../../scripts/busybox-image.js";
import { BERTH, runProgram, Store } from "./harness.js";
import { startRegistry, type TestRegistry } from "./registry-helpers.js";

let store: Store;
let registry: TestRegistry;
let busyboxId: string;

before(async () => {
  store = await Store.create();
  busyboxId = await store.busybox();
  registry = await startRegistry(store.path("registry"));
});
after(async () => {
  await registry?.stop();
  await store?.cleanup();
});

/** Upload requests (POST …/blobs/uploads/) in the registry's access log. */
function uploadRequests(log: string): number {
  return log.split("\n").filter((l) => /"POST \/v2\/[^"]*\/blobs\/uploads\//.test(l)).length;
}

async function withFreshStore<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await Store.create();
  try {
    return await fn(s);
  } finally {
    await s.cleanup();
  }
}

describe("push and pull against a local registry", () => {
  test("push, then pull into a fresh root: same image ID, RepoDigests, layers unpacked", async () => {
    const ref = `${registry.host}/tutorial/busybox:1.0`;
    await store.ok(["tag", "busybox:latest", ref]);
    const push = await store.ok(["push", ref]);
    assert.match(
      push.stdout,
      new RegExp(`^The push refers to repository \\[${registry.host}/tutorial/busybox\\]\n`),
    );
    assert.match(push.stdout, /: Pushed\n/);
    const m = /1\.0: digest: (sha256:[a-f0-9]{64}) size: (\d+)\n$/.exec(push.stdout);
    assert.ok(m, push.stdout);
    const digest = m[1] as string;
    const pushedDigests = await store.ok(["image", "inspect", "-f", "{{json .RepoDigests}}", ref]);
    assert.deepEqual(JSON.parse(pushedDigests.stdout), [`${registry.host}/tutorial/busybox@${digest}`]);

    await withFreshStore(async (fresh) => {
      const pull = await fresh.ok(["pull", ref]);
      assert.match(pull.stdout, /^1\.0: Pulling from tutorial\/busybox\n/);
      assert.match(pull.stdout, /: Pull complete\n/);
      assert.ok(pull.stdout.includes(`Digest: ${digest}\n`), pull.stdout);
      assert.ok(pull.stdout.includes(`Status: Downloaded newer image for ${ref}\n`), pull.stdout);
      assert.ok(pull.stdout.endsWith(`${ref}\n`));
      const inspect = await fresh.ok(["image", "inspect", "-f", "{{.Id}} {{json .RepoDigests}}", ref]);
      assert.equal(inspect.stdout, `${busyboxId} ["${registry.host}/tutorial/busybox@${digest}"]\n`);
      // The layer is unpacked: busybox's binary is in the snapshot.
      const snaps = await fresh.listing("snapshots");
      assert.equal(snaps.length, 1);
      const st = await stat(join(fresh.root, "snapshots", snaps[0] as string, "fs/bin/busybox"));
      assert.ok(st.isFile() && st.size > 100_000);
      // The pulled image runs.
      const run = await fresh.berth(["run", "--rm", ref, "echo", "hello from the registry"]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "hello from the registry\n");
      // Pulling again is a no-op; pulling by digest finds the same image.
      const again = await fresh.ok(["pull", ref]);
      assert.ok(again.stdout.includes(`Status: Image is up to date for ${ref}\n`), again.stdout);
      const byDigest = await fresh.ok(["pull", "-q", `${registry.host}/tutorial/busybox@${digest}`]);
      assert.equal(byDigest.stdout, `${registry.host}/tutorial/busybox@${digest}\n`);
    });
  });

  test("a second push of the same image transfers no blob", async () => {
    const ref = `${registry.host}/again/busybox:latest`;
    await store.ok(["tag", "busybox:latest", ref]);
    const first = await store.ok(["push", ref]);
    const uploadsBefore = uploadRequests(registry.log());
    assert.ok(uploadsBefore > 0);
    const second = await store.ok(["push", ref]);
    assert.equal(uploadRequests(registry.log()), uploadsBefore, registry.log().slice(-2000));
    assert.match(second.stdout, /: Layer already exists\n/);
    assert.doesNotMatch(second.stdout, /Pushed/);
    const digestOf = (s: string) => /digest: (sha256:[a-f0-9]{64})/.exec(s)?.[1];
    assert.equal(digestOf(second.stdout), digestOf(first.stdout));
    const quiet = await store.ok(["push", "-q", ref]);
    assert.equal(quiet.stdout, `${ref}\n`);
    assert.equal(uploadRequests(registry.log()), uploadsBefore);
  });

  test("a layer another repository of the registry has is mounted, not uploaded", async () => {
    const a = `${registry.host}/mount/source:1`;
    const b = `${registry.host}/mount/target:1`;
    await store.ok(["tag", "busybox:latest", a]);
    await store.ok(["push", a]);
    await store.ok(["tag", "busybox:latest", b]);
    const before = uploadRequests(registry.log());
    const push = await store.ok(["push", b]);
    // From any repository of this registry that has the layer (earlier tests pushed it too).
    assert.match(push.stdout, /: Mounted from [a-z/]+\n/);
    const mountLines = registry
      .log()
      .split("\n")
      .filter((l) => /"POST \/v2\/mount\/target\/blobs\/uploads\/\?[^"]*mount=/.test(l));
    assert.ok(mountLines.length >= 1, "the registry saw a mount request");
    // Only the config went up by upload (the mount POST is counted too).
    assert.ok(uploadRequests(registry.log()) - before <= 2);
  });

  test("push -a pushes every tag of the repository; pull -a pulls them all", async () => {
    const repo = `${registry.host}/all/busybox`;
    await store.ok(["tag", "busybox:latest", `${repo}:one`]);
    await store.ok(["tag", "busybox:latest", `${repo}:two`]);
    const push = await store.ok(["push", "-a", repo]);
    assert.match(push.stdout, /one: digest: sha256:/);
    assert.match(push.stdout, /two: digest: sha256:/);
    const withTag = await store.berth(["push", "-a", `${repo}:one`]);
    assert.equal(withTag.code, 1);
    assert.match(withTag.stderr, /tag can't be used with --all-tags\/-a/);
    await withFreshStore(async (fresh) => {
      const pull = await fresh.ok(["pull", "-a", repo]);
      assert.ok(pull.stdout.endsWith(`${repo}\n`), pull.stdout);
      const tags = await fresh.ok(["images", "--format", "{{.Tag}}", repo]);
      assert.deepEqual(tags.stdout.trim().split("\n").sort(), ["one", "two"]);
    });
  });

  test("pushing an image that is not there, and pulling a manifest that is not there, fail like Docker", async () => {
    const push = await store.berth(["push", `${registry.host}/nothing/here:1`]);
    assert.equal(push.code, 1);
    assert.equal(
      push.stderr,
      `Error: An image does not exist locally with the tag: ${registry.host}/nothing/here\n`,
    );
    const pull = await store.berth(["pull", `${registry.host}/nothing/here:1`]);
    assert.equal(pull.code, 1);
    assert.match(pull.stderr, /manifest for 127\.0\.0\.1:\d+\/nothing\/here:1 not found: manifest unknown/);
  });

  test("skopeo copies the image berth pushed and reads the same config", async () => {
    const ref = `${registry.host}/tutorial/busybox:1.0`;
    const dir = store.path("skopeo-oci");
    const copy = await runProgram("skopeo", [
      "copy",
      "--src-tls-verify=false",
      `docker://${ref}`,
      `oci:${dir}:copied`,
    ]);
    assert.equal(copy.code, 0, copy.stderr);
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
      manifests: Array<{ digest: string }>;
    };
    const manifestDigest = index.manifests[0]?.digest ?? "";
    const manifest = JSON.parse(
      await readFile(join(dir, "blobs/sha256", manifestDigest.slice(7)), "utf8"),
    ) as { config: { digest: string }; layers: Array<{ mediaType: string }> };
    assert.equal(manifest.config.digest, busyboxId);
    assert.equal(manifest.layers[0]?.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    const inspect = await runProgram("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const info = JSON.parse(inspect.stdout) as { Architecture: string; Os: string };
    assert.equal(info.Os, "linux");
  });

  test("zstd layers (written by skopeo) are pulled and unpacked to the same image", async () => {
    const dir = store.path("zstd-src");
    await store.ok(["save", "--format", "oci-dir", "-o", dir, "busybox:latest"]);
    // A registry of its own: skopeo's blob-info cache (/var/lib/containers/cache) knows the gzip
    // layer pushed to the shared registry earlier and would mount it instead of writing zstd.
    const zstdRegistry = await startRegistry(store.path("registry-zstd"));
    try {
      const ref = `${zstdRegistry.host}/zstd/busybox:z`;
      const copy = await runProgram("skopeo", [
        "copy",
        "--dest-tls-verify=false",
        "--dest-compress-format",
        "zstd",
        `oci:${dir}`,
        `docker://${ref}`,
      ]);
      assert.equal(copy.code, 0, copy.stderr);
      const raw = await runProgram("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
      assert.match(raw.stdout, /application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd/);
      await withFreshStore(async (fresh) => {
        await fresh.ok(["pull", ref]);
        const id = await fresh.ok(["image", "inspect", "-f", "{{.Id}}", ref]);
        assert.equal(id.stdout.trim(), busyboxId);
      });
    } finally {
      await zstdRegistry.stop();
    }
  });
});

describe("indexes and platforms", () => {
  test("an index is resolved for linux/amd64 by default and for --platform; RepoDigests name the index", async () => {
    const repo = `${registry.host}/multi/busybox`;
    const tarPath = store.path("rootfs.tar");
    await writeFile(tarPath, await busyboxRootfs());
    await store.ok(["import", "--platform", "linux/arm64", tarPath, `${repo}:arm64`]);
    await store.ok(["tag", "busybox:latest", `${repo}:amd64`]);
    const armId = (await store.ok(["image", "inspect", "-f", "{{.Id}}", `${repo}:arm64`])).stdout.trim();
    const descriptors = [];
    for (const [tag, platform] of [
      ["amd64", { os: "linux", architecture: "amd64" }],
      ["arm64", { os: "linux", architecture: "arm64", variant: "v8" }],
    ] as const) {
      const push = await store.ok(["push", `${repo}:${tag}`]);
      const m = /digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(push.stdout);
      assert.ok(m);
      descriptors.push({
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: m[1],
        size: Number(m[2]),
        platform,
      });
    }
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: descriptors,
    });
    const put = await fetch(`http://${registry.host}/v2/multi/busybox/manifests/latest`, {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" },
      body: index,
    });
    assert.equal(put.status, 201);
    const indexDigest = put.headers.get("docker-content-digest");
    await withFreshStore(async (fresh) => {
      await fresh.ok(["pull", repo]);
      const amd = await fresh.ok([
        "image",
        "inspect",
        "-f",
        "{{.Id}} {{.Architecture}} {{json .RepoDigests}}",
        repo,
      ]);
      assert.equal(amd.stdout, `${busyboxId} amd64 ["${repo}@${indexDigest}"]\n`);
      await fresh.ok(["pull", "--platform", "linux/arm64", repo]);
      const arm = await fresh.ok(["image", "inspect", "-f", "{{.Id}} {{.Architecture}}", repo]);
      assert.equal(arm.stdout, `${armId} arm64\n`);
      const none = await fresh.berth(["pull", "--platform", "linux/s390x", repo]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
    });
  });
});

describe("untrusted and interrupted transfers", () => {
  test("a registry serving a corrupt blob fails the pull with a clear error and stores nothing", async () => {
    const ref = `${registry.host}/corrupt/busybox:1`;
    await store.ok(["tag", "busybox:latest", ref]);
    const push = await store.ok(["push", ref]);
    const manifestDigest = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1] ?? "";
    const manifest = JSON.parse(await readFile(registry.blobPath(manifestDigest), "utf8")) as {
      layers: Array<{ digest: string }>;
    };
    const layerPath = registry.blobPath(manifest.layers[0]?.digest ?? "");
    const original = await readFile(layerPath);
    const bad = Buffer.from(original);
    bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
    await writeFile(layerPath, bad);
    try {
      await withFreshStore(async (fresh) => {
        const pull = await fresh.berth(["pull", ref]);
        assert.equal(pull.code, 1);
        assert.match(pull.stderr, /filesystem layer verification failed for digest sha256:[a-f0-9]{64}/);
        const images = await fresh.ok(["images", "-a", "-q"]);
        assert.equal(images.stdout, "");
        assert.deepEqual(await fresh.listing("blobs/sha256"), []);
        assert.deepEqual(await fresh.listing("snapshots"), []);
        const ingest = await fresh.listing("ingest");
        assert.deepEqual(ingest, []);
      });
    } finally {
      await writeFile(layerPath, original);
    }
  });

  test("a push or a pull killed midway leaves no corrupt state; the next one succeeds", async () => {
    const data = store.path("big");
    await mkdir(data, { recursive: true });
    execFileSync("head", ["-c", String(96 << 20), "/dev/urandom"], {
      stdio: ["ignore", openSync(join(data, "random.bin"), "w"), "ignore"],
    });
    const tarPath = store.path("big.tar");
    execFileSync("tar", ["-C", data, "-cf", tarPath, "."]);
    const ref = `${registry.host}/big/random:1`;
    await store.ok(["import", tarPath, ref]);
    // A push killed midway (while it streams the layer to the registry), then pushed again.
    // Killed: the CLI, or in remote mode the client, whose server then cancels the push.
    const [pushCmd = BERTH, ...pushArgs] = store.argv(["push", ref]);
    const child = spawn(pushCmd, pushArgs, { stdio: "ignore", env: { ...process.env, ...store.env } });
    const pushExit = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_c, sig) => resolve(sig)),
    );
    // PATCHes the registry accepted (the killed one, cut off mid-stream, is not among them).
    const patches = () =>
      registry
        .log()
        .split("\n")
        .filter((l) => /"PATCH \/v2\/big\/random\/blobs\/uploads\/[^"]*" 202 /.test(l)).length;
    // The registry's partial uploads (_uploads/UUID/data) grow while the PATCH streams.
    const uploads = join(registry.dataDir, "docker/registry/v2/repositories/big/random/_uploads");
    const until = Date.now() + 60_000;
    let killed = false;
    while (Date.now() < until && child.exitCode === null) {
      if ((await ingestBytes(uploads)) > 1 << 20) {
        child.kill("SIGKILL");
        killed = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(killed, "the push was killed while uploading");
    assert.equal(await pushExit, "SIGKILL");
    const push = await store.ok(["push", ref]);
    assert.match(push.stdout, /: Pushed\n/);
    // The layer (over 8 MiB) went up streamed in one PATCH, not in chunks.
    assert.equal(patches(), 1, "one streamed PATCH for the layer");
    const id = (await store.ok(["image", "inspect", "-f", "{{.Id}}", ref])).stdout.trim();

    await withFreshStore(async (fresh) => {
      const [pullCmd = BERTH, ...pullArgs] = fresh.argv(["pull", ref]);
      const child = spawn(pullCmd, pullArgs, { stdio: "ignore", env: { ...process.env, ...fresh.env } });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on("exit", (_c, sig) => resolve(sig)),
      );
      // Wait until the download is under way (a partial write in ingest/), then kill -9.
      const deadline = Date.now() + 30_000;
      let killed = false;
      while (Date.now() < deadline && child.exitCode === null) {
        const partial = await ingestBytes(join(fresh.root, "ingest"));
        if (partial > 4 << 20) {
          child.kill("SIGKILL");
          killed = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(killed, "the pull was killed while downloading");
      assert.equal(await exited, "SIGKILL");
      const images = await fresh.ok(["images", "-a", "-q"]);
      assert.equal(images.stdout, "", "no image is visible after the kill");
      const again = await fresh.ok(["pull", ref]);
      assert.match(again.stdout, /Pull complete/);
      const pulled = await fresh.ok(["image", "inspect", "-f", "{{.Id}}", ref]);
      assert.equal(pulled.stdout.trim(), id);
    });
  });
});

/** Bytes in partial writes under DIR/<upload>/data (berth's ingest/, a registry's _uploads/). */
async function ingestBytes(dir: string): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    try {
      total += (await stat(join(dir, n, "data"))).size;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
