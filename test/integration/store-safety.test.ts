/**
 * The store under stress: berth processes running at once, a load killed with SIGKILL midway,
 * and layers with whiteouts and opaque directories that must stack correctly in overlayfs.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pack } from "tar-stream";
import { busyboxRootfs } from "../../scripts/busybox-image.js";
import { BERTH, runProgram, Store } from "./harness.js";

const sha = (d: Buffer | string) => createHash("sha256").update(d).digest("hex");

type Spec = {
  name: string;
  body?: string | Buffer;
  type?: "file" | "directory" | "symlink";
  linkname?: string;
};

async function tarOf(entries: Spec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => {
    if (Buffer.isBuffer(c)) chunks.push(c);
  });
  const done = new Promise<void>((res) => p.on("end", () => res()));
  for (const e of entries) {
    if (e.type === "directory") p.entry({ name: e.name, type: "directory", mode: 0o755 });
    else if (e.type === "symlink") p.entry({ name: e.name, type: "symlink", linkname: e.linkname ?? "" });
    else
      p.entry(
        { name: e.name, mode: 0o644 },
        typeof e.body === "string" ? Buffer.from(e.body) : (e.body ?? Buffer.alloc(0)),
      );
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A docker-archive of an image made of the given layer tars. */
async function archiveOf(layers: Buffer[], tag: string): Promise<Buffer> {
  const config = {
    architecture: "amd64",
    os: "linux",
    created: "2024-10-22T09:00:00Z",
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: layers.map((l) => `sha256:${sha(l)}`) },
    history: layers.map((_, i) => ({ created: "2024-10-22T09:00:00Z", created_by: `layer ${i}` })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  return tarOf([
    { name: `${sha(configBytes)}.json`, body: configBytes },
    ...layers.map((l, i) => ({ name: `layer${i}/layer.tar`, body: l })),
    {
      name: "manifest.json",
      body: JSON.stringify([
        {
          Config: `${sha(configBytes)}.json`,
          RepoTags: [tag],
          Layers: layers.map((_, i) => `layer${i}/layer.tar`),
        },
      ]),
    },
  ]);
}

let store: Store;
before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

describe("concurrent berth processes", () => {
  test("two imports of the same tarball at once both succeed and share one layer blob", async () => {
    const rootfs = await busyboxRootfs();
    const [a, b] = await Promise.all([
      store.berth(["import", "-", "twin:a"], { input: rootfs }),
      store.berth(["import", "-", "twin:b"], { input: rootfs }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const layerBlob = `${sha(rootfs)}`;
    assert.ok((await store.listing("blobs/sha256")).includes(layerBlob));
    const layers = await store.ok([
      "image",
      "inspect",
      "-f",
      "{{index .RootFS.Layers 0}}",
      "twin:a",
      "twin:b",
    ]);
    assert.deepEqual(layers.stdout.trim().split("\n"), [`sha256:${layerBlob}`, `sha256:${layerBlob}`]);
    assert.deepEqual(await store.listing("ingest"), []);
  });

  test("twelve concurrent tag commands all land", async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => store.berth(["tag", "busybox", `many:${i}`])),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const tags = await store.ok(["images", "--format", "{{.Tag}}", "many"]);
    assert.deepEqual(
      tags.stdout.trim().split("\n").sort(),
      Array.from({ length: 12 }, (_, i) => String(i)).sort(),
    );
  });
});

describe("a load killed with SIGKILL", () => {
  test("leaves nothing visible, and the next load succeeds", async () => {
    const big = await tarOf([{ name: "data/random.bin", body: randomBytes(48 << 20) }]);
    const archive = await archiveOf([big], "killed:1");
    const file = store.path("killed.tar");
    await writeFile(file, archive);
    const imagesBefore = (await store.ok(["images", "-a", "-q", "--no-trunc"])).stdout;
    const child = spawn(BERTH, ["--root", store.root, "--runroot", store.runroot, "load", "-i", file], {
      stdio: "ignore",
      env: { ...process.env, ...store.env },
    });
    // Kill once the load has started writing (an ingest entry exists), or after at most 2 s.
    const started = Date.now();
    while (Date.now() - started < 2000) {
      if (
        (await store.listing("ingest")).length > 0 ||
        (await store.listing("snapshots")).some((n) => n.startsWith(".tmp-"))
      )
        break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    assert.equal((await store.ok(["images", "-a", "-q", "--no-trunc"])).stdout, imagesBefore);
    assert.equal((await store.berth(["image", "inspect", "killed:1"])).code, 1);
    for (const name of await store.listing("blobs/sha256")) {
      const data = await readFile(join(store.root, "blobs/sha256", name));
      assert.equal(sha(data), name, `blob ${name} is complete and verified`);
    }
    const again = await store.ok(["load", "-i", file]);
    assert.equal(again.stdout, "Loaded image: killed:1\n");
    await store.ok(["rmi", "killed:1"]);
  });
});

describe("whiteouts and opaque directories", () => {
  test("stack in overlayfs as the OCI layer spec says, and survive save/load unchanged", async () => {
    const lower = await tarOf([
      { name: "a", type: "directory" },
      { name: "a/x", body: "x" },
      { name: "a/y", body: "y" },
      { name: "b", body: "b" },
      { name: "c", type: "directory" },
      { name: "c/old", body: "old" },
    ]);
    const upper = await tarOf([
      { name: "a", type: "directory" },
      { name: "a/.wh.x" },
      { name: ".wh.b" },
      { name: "c", type: "directory" },
      { name: "c/.wh..wh..opq" },
      { name: "c/new", body: "new" },
    ]);
    const file = store.path("whiteouts.tar");
    await writeFile(file, await archiveOf([lower, upper], "whiteouts:1"));
    await store.ok(["load", "-i", file]);
    const lowerDir = (
      await store.ok(["image", "inspect", "-f", "{{.GraphDriver.Data.LowerDir}}", "whiteouts:1"])
    ).stdout.trim();
    const dirs = lowerDir.split(":");
    assert.equal(dirs.length, 2);
    const [top] = dirs as [string, string];
    const history = await store.ok(["history", "--format", "{{.ID}}|{{.CreatedBy}}", "whiteouts:1"]);
    const id = (await store.ok(["image", "inspect", "-f", "{{.Id}}", "whiteouts:1"])).stdout.trim();
    assert.equal(history.stdout, `${id.slice(7, 19)}|layer 1\n<missing>|layer 0\n`);
    assert.ok((await lstat(join(top, "b"))).isCharacterDevice(), "whiteout b is a 0/0 char device");
    assert.ok((await lstat(join(top, "a/x"))).isCharacterDevice());
    const opaque = await runProgram("getfattr", [
      "--only-values",
      "-n",
      "trusted.overlay.opaque",
      join(top, "c"),
    ]);
    assert.equal(opaque.stdout, "y");

    const mnt = store.path("merged");
    const work = store.path("work");
    const up = store.path("upper");
    await Promise.all([mkdir(mnt), mkdir(work), mkdir(up)]);
    const mount = await runProgram("mount", [
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=${lowerDir},upperdir=${up},workdir=${work}`,
      mnt,
    ]);
    assert.equal(mount.code, 0, mount.stderr);
    try {
      assert.deepEqual((await readdir(mnt)).sort(), ["a", "c"]);
      assert.deepEqual((await readdir(join(mnt, "a"))).sort(), ["y"]);
      assert.deepEqual((await readdir(join(mnt, "c"))).sort(), ["new"]);
    } finally {
      await runProgram("umount", [mnt]);
    }

    const saved = await store.ok(["save", "whiteouts:1"]);
    const fresh = await Store.create();
    try {
      await fresh.ok(["load"], { input: saved.out });
      const layers = (
        await fresh.ok(["image", "inspect", "-f", "{{json .RootFS.Layers}}", "whiteouts:1"])
      ).stdout.trim();
      assert.deepEqual(JSON.parse(layers), [`sha256:${sha(lower)}`, `sha256:${sha(upper)}`]);
    } finally {
      await fresh.cleanup();
    }
  });
});

describe("layer count: what berth accepts, it can run", () => {
  test("an image of Docker's 125 layers loads and runs; 126 are refused at load with nothing kept", async () => {
    const base = await busyboxRootfs();
    const layers = [base];
    for (let i = 1; i < 125; i++) layers.push(await tarOf([{ name: `layers/f${i}`, body: `${i}\n` }]));
    await store.ok(["load"], { input: await archiveOf(layers, "deep:125") });
    const r = await store.ok([
      "run",
      "--rm",
      "deep:125",
      "sh",
      "-c",
      "cat /layers/f1 /layers/f124; ls /layers | wc -l",
    ]);
    assert.equal(r.stdout, "1\n124\n124\n");
    const before = await store.listing("blobs/sha256");
    layers.push(await tarOf([{ name: "layers/f125", body: "125\n" }]));
    const over = await store.berth(["load"], { input: await archiveOf(layers, "deep:126") });
    assert.equal(over.code, 1);
    assert.match(over.stderr, /max depth exceeded: the image has 126 layers, more than the limit of 125/);
    assert.deepEqual(await store.listing("blobs/sha256"), before, "nothing kept");
    await store.ok(["rmi", "deep:125"]);
  });
});
