/**
 * save/load: the round trip between stores, interchange with skopeo (docker-archive, OCI layout
 * and OCI archive), and untrusted archives that must fail cleanly and change nothing.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { pack } from "tar-stream";
import { runProgram, Store } from "./harness.js";

let a: Store;
let b: Store;
let busyboxId: string;

before(async () => {
  a = await Store.create();
  b = await Store.create();
  busyboxId = await a.busybox();
});
after(async () => {
  await a.cleanup();
  await b.cleanup();
});

const sha = (d: Buffer | string) => createHash("sha256").update(d).digest("hex");

async function tarOf(
  entries: Array<{
    name: string;
    body?: Buffer | string;
    type?: "file" | "symlink" | "directory";
    linkname?: string;
  }>,
): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => {
    if (Buffer.isBuffer(c)) chunks.push(c);
  });
  const done = new Promise<void>((res) => p.on("end", () => res()));
  for (const e of entries) {
    const body = typeof e.body === "string" ? Buffer.from(e.body) : e.body;
    if (e.type === "symlink") p.entry({ name: e.name, type: "symlink", linkname: e.linkname ?? "" });
    else if (e.type === "directory") p.entry({ name: e.name, type: "directory" });
    else p.entry({ name: e.name, mode: 0o644 }, body ?? Buffer.alloc(0));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Everything that would show a change in a store. */
async function snapshotOf(s: Store): Promise<string> {
  const images = await s.ok(["images", "-a", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]);
  return JSON.stringify({
    blobs: await s.listing("blobs/sha256"),
    snapshots: await s.listing("snapshots"),
    ingest: await s.listing("ingest"),
    images: images.stdout,
  });
}

describe("save and load", () => {
  test("import → tag → save → load into a second root gives the same image ID", async () => {
    await a.ok(["tag", "busybox", "roundtrip:1"]);
    const file = a.path("rt.tar");
    await a.ok(["save", "-o", file, "roundtrip:1"]);
    const r = await b.ok(["load", "-i", file]);
    assert.equal(r.stdout, "Loaded image: roundtrip:1\n");
    const id = (await b.ok(["image", "inspect", "-f", "{{.Id}}", "roundtrip:1"])).stdout.trim();
    assert.equal(id, busyboxId);
    const h1 = (await a.ok(["history", "--format", "{{.CreatedBy}}|{{.Size}}|{{.Comment}}", "roundtrip:1"]))
      .stdout;
    const h2 = (await b.ok(["history", "--format", "{{.CreatedBy}}|{{.Size}}|{{.Comment}}", "roundtrip:1"]))
      .stdout;
    assert.equal(h1, h2);
    // Loading again is idempotent: same image, no error.
    const again = await b.ok(["load", "-i", file]);
    assert.equal(again.stdout, "Loaded image: roundtrip:1\n");
  });

  test("save to stdout and load from stdin; an untagged image loads by ID", async () => {
    const out = await a.ok(["save", busyboxId]);
    const fresh = await Store.create();
    try {
      const r = await fresh.ok(["load"], { input: out.out });
      assert.equal(r.stdout, `Loaded image ID: ${busyboxId}\n`);
      const q = await fresh.ok(["load", "-q"], { input: out.out });
      assert.match(q.stdout, /Loaded image ID/);
    } finally {
      await fresh.cleanup();
    }
  });

  test("a saved archive is a docker-archive and an OCI layout that skopeo reads", async () => {
    const file = a.path("skopeo-in.tar");
    await a.ok(["save", "-o", file, "busybox:latest"]);
    const docker = await runProgram("skopeo", ["inspect", "--raw", `docker-archive:${file}`]);
    assert.equal(docker.code, 0, docker.stderr);
    const inspectConfig = await runProgram("skopeo", [
      "inspect",
      "--config",
      "--raw",
      `docker-archive:${file}`,
    ]);
    assert.equal(`sha256:${sha(inspectConfig.out)}`, busyboxId);
    const oci = await runProgram("skopeo", ["inspect", "--config", "--raw", `oci-archive:${file}`]);
    assert.equal(oci.code, 0, oci.stderr);
    assert.equal(`sha256:${sha(oci.out)}`, busyboxId);
    const dir = a.path("oci-dir");
    await a.ok(["save", "--format", "oci-dir", "-o", dir, "busybox:latest"]);
    const ociDir = await runProgram("skopeo", ["inspect", "--config", "--raw", `oci:${dir}`]);
    assert.equal(ociDir.code, 0, ociDir.stderr);
    assert.equal(`sha256:${sha(ociDir.out)}`, busyboxId);
  });

  test("archives written by skopeo load, keeping the image ID", async () => {
    const file = a.path("for-skopeo.tar");
    await a.ok(["save", "-o", file, "busybox:latest"]);
    const dockerOut = a.path("by-skopeo-docker.tar");
    const c1 = await runProgram("skopeo", [
      "copy",
      "--quiet",
      `docker-archive:${file}`,
      `docker-archive:${dockerOut}:skopeo/box:docker`,
    ]);
    assert.equal(c1.code, 0, c1.stderr);
    const ociOut = a.path("by-skopeo-oci");
    const c2 = await runProgram("skopeo", [
      "copy",
      "--quiet",
      `docker-archive:${file}`,
      `oci:${ociOut}:skopeo/box:oci`,
    ]);
    assert.equal(c2.code, 0, c2.stderr);
    const ociArchive = a.path("by-skopeo-oci.tar");
    const c3 = await runProgram("skopeo", [
      "copy",
      "--quiet",
      `docker-archive:${file}`,
      `oci-archive:${ociArchive}:docker.io/skopeo/box:ociarchive`,
    ]);
    assert.equal(c3.code, 0, c3.stderr);
    const fresh = await Store.create();
    try {
      const l1 = await fresh.ok(["load", "-i", dockerOut]);
      assert.equal(l1.stdout, "Loaded image: skopeo/box:docker\n");
      const l2 = await fresh.ok(["load", "-i", ociOut]);
      assert.match(l2.stdout, /^Loaded image/);
      const l3 = await fresh.ok(["load", "-i", ociArchive]);
      assert.equal(l3.stdout, "Loaded image: skopeo/box:ociarchive\n");
      // The docker-archive copy keeps our config byte for byte; converting to OCI, skopeo
      // re-encodes the config (dropping Docker-only fields), so that image's ID is the digest of
      // the config skopeo wrote.
      const ociConfig = await runProgram("skopeo", ["inspect", "--config", "--raw", `oci:${ociOut}`]);
      const ociId = `sha256:${sha(ociConfig.out)}`;
      const inspect = async (ref: string) =>
        (await fresh.ok(["image", "inspect", "-f", "{{.Id}}", ref])).stdout.trim();
      assert.equal(await inspect("skopeo/box:docker"), busyboxId);
      assert.equal(await inspect("skopeo/box:ociarchive"), ociId);
      const ids = await fresh.ok(["images", "-q", "--no-trunc"]);
      assert.deepEqual(ids.stdout.trim().split("\n").sort(), [busyboxId, ociId].sort());
    } finally {
      await fresh.cleanup();
    }
  });
});

describe("multi-platform OCI indexes", () => {
  test("load takes the entry for this machine's platform and skips the others", async () => {
    const { listTarEntries } = await import("./tar-util.js");
    const file = a.path("platform-base.tar");
    await a.ok(["save", "--format", "oci-archive", "-o", file, "busybox:latest"]);
    const entries = await listTarEntries(await readFile(file));
    const index = JSON.parse((entries.get("index.json") as Buffer).toString());
    const amd64 = { ...index.manifests[0], platform: { os: "linux", architecture: "amd64" } };
    delete amd64.annotations;
    // An arm64 entry whose manifest is not even in the archive: loading it would fail.
    const arm64 = {
      ...amd64,
      digest: `sha256:${"e".repeat(64)}`,
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    };
    const nested = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [arm64, amd64],
    };
    const nestedBytes = Buffer.from(JSON.stringify(nested));
    const top = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.index.v1+json",
          digest: `sha256:${sha(nestedBytes)}`,
          size: nestedBytes.length,
          annotations: { "io.containerd.image.name": "docker.io/library/multi:1" },
        },
      ],
    };
    const rebuilt = await tarOf([
      ...[...entries].filter(([n]) => n.startsWith("blobs/")).map(([name, body]) => ({ name, body })),
      { name: `blobs/sha256/${sha(nestedBytes)}`, body: nestedBytes },
      { name: "oci-layout", body: '{"imageLayoutVersion":"1.0.0"}' },
      { name: "index.json", body: JSON.stringify(top) },
    ]);
    const fresh = await Store.create();
    try {
      const r = await fresh.ok(["load"], { input: rebuilt });
      assert.equal(r.stdout, "Loaded image: multi:1\n");
      assert.equal(
        (await fresh.ok(["image", "inspect", "-f", "{{.Id}}", "multi:1"])).stdout.trim(),
        busyboxId,
      );
      const arm = await fresh.berth(["load", "--platform", "linux/arm64"], { input: rebuilt });
      assert.equal(arm.code, 1);
      assert.match(arm.stderr, /blob .* is missing/);
    } finally {
      await fresh.cleanup();
    }
  });
});

describe("untrusted archives fail cleanly and change nothing", () => {
  let good: Buffer;
  let layer: Buffer;
  let config: Buffer;

  before(async () => {
    good = await readFile(await saved());
    const { listTarEntries } = await import("./tar-util.js");
    const entries = await listTarEntries(good);
    const manifest = JSON.parse((entries.get("manifest.json") as Buffer).toString());
    config = entries.get(manifest[0].Config) as Buffer;
    layer = entries.get(manifest[0].Layers[0]) as Buffer;
  });

  async function saved(): Promise<string> {
    const file = a.path("untrusted-base.tar");
    await a.ok(["save", "-o", file, "busybox:latest"]);
    return file;
  }

  async function expectRejected(name: string, archive: Buffer, message: RegExp) {
    const target = await Store.create();
    try {
      await target.ok(["images"]);
      const before = await snapshotOf(target);
      const file = target.path(`${name}.tar`);
      await writeFile(file, archive);
      const r = await target.berth(["load", "-i", file]);
      assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.equal(r.stderr.trim().split("\n").length, 1, `one-line error for ${name}: ${r.stderr}`);
      assert.equal(await snapshotOf(target), before, `${name} changed the store`);
    } finally {
      await target.cleanup();
    }
  }

  test("a truncated archive", async () => {
    await expectRejected(
      "truncated",
      good.subarray(0, Math.floor(good.length / 2)),
      /invalid archive|tar format error: archive is truncated/i,
    );
  });

  test("a layer whose content does not match the config's diff_id", async () => {
    const otherLayer = await tarOf([{ name: "hello.txt", body: "not the layer you are looking for" }]);
    const manifest = [{ Config: "config.json", RepoTags: ["evil:1"], Layers: ["layer.tar"] }];
    const archive = await tarOf([
      { name: "config.json", body: config },
      { name: "layer.tar", body: otherLayer },
      { name: "manifest.json", body: JSON.stringify(manifest) },
    ]);
    await expectRejected("wrong-diffid", archive, /wrong diff id/);
  });

  test("a blob whose bytes do not match its name", async () => {
    const fake = "0".repeat(64);
    const archive = await tarOf([
      { name: `blobs/sha256/${fake}`, body: "hello" },
      { name: "oci-layout", body: '{"imageLayoutVersion":"1.0.0"}' },
      {
        name: "index.json",
        body: JSON.stringify({
          schemaVersion: 2,
          manifests: [
            { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${fake}`, size: 5 },
          ],
        }),
      },
    ]);
    await expectRejected("bad-blob", archive, /does not match its digest/);
  });

  test("a layer that climbs out of its directory", async () => {
    const evil = await tarOf([{ name: "../../../../tmp/berth-escape-test", body: "escaped" }]);
    const cfg = JSON.parse(config.toString());
    cfg.rootfs.diff_ids = [`sha256:${sha(evil)}`];
    const cfgBytes = Buffer.from(JSON.stringify(cfg));
    const archive = await tarOf([
      { name: "c.json", body: cfgBytes },
      { name: "l.tar", body: evil },
      {
        name: "manifest.json",
        body: JSON.stringify([{ Config: "c.json", RepoTags: ["evil:2"], Layers: ["l.tar"] }]),
      },
    ]);
    await expectRejected("escape", archive, /escapes|invalid tar entry/);
    const leaked = await runProgram("test", ["-e", "/tmp/berth-escape-test"]);
    assert.equal(leaked.code, 1, "the escape wrote outside the snapshot");
  });

  test("a layer whose tar structure is malformed is refused whole", async () => {
    // Each layer is a valid tar but for one structural fault, and the config promises exactly
    // its bytes, so only the tar reader can refuse it.
    const header = (name: string, size: number, typeflag: string): Buffer => {
      const b = Buffer.alloc(512);
      b.write(name, 0, "latin1");
      b.write("0000644\0", 100, "latin1");
      b.write("0000000\0", 108, "latin1");
      b.write("0000000\0", 116, "latin1");
      b.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "latin1");
      b.write("14000000000\0", 136, "latin1");
      b.write(typeflag, 156, "latin1");
      b.write("ustar\0" + "00", 257, "latin1");
      b.fill(0x20, 148, 156);
      let sum = 0;
      for (const c of b) sum += c;
      b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      return b;
    };
    const padded = (data: Buffer): Buffer =>
      Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
    const withPax = (records: string): Buffer =>
      Buffer.concat([
        header("PaxHeader", records.length, "x"),
        padded(Buffer.from(records, "latin1")),
        header("hello.txt", 2, "0"),
        padded(Buffer.from("hi")),
        Buffer.alloc(1024),
      ]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ["pax-length", withPax("20 path=abc\n"), /tar format error: PAX record length 20/],
      ["pax-no-equals", withPax("11 pathabc\n"), /tar format error: PAX record is not key=value/],
      ["pax-bad-uid", withPax("11 uid=-12\n"), /tar format error: PAX record uid=/],
      ["pax-unknown", withPax("11 frob=12\n"), /tar format error: unknown PAX record "frob"/],
      [
        "data-truncated",
        Buffer.concat([header("hello.txt", 2000, "0"), Buffer.alloc(1024)]),
        /tar format error: archive is truncated/,
      ],
    ];
    for (const [name, badLayer, message] of cases) {
      const diffId = `sha256:${createHash("sha256").update(badLayer).digest("hex")}`;
      const cfg = JSON.parse(config.toString());
      cfg.rootfs = { type: "layers", diff_ids: [diffId] };
      cfg.history = [{ created_by: "test" }];
      const archive = await tarOf([
        { name: "config.json", body: Buffer.from(JSON.stringify(cfg)) },
        { name: "layer.tar", body: badLayer },
        {
          name: "manifest.json",
          body: JSON.stringify([{ Config: "config.json", RepoTags: [`bad:${name}`], Layers: ["layer.tar"] }]),
        },
      ]);
      await expectRejected(name, archive, message);
    }
  });

  test("an archive with neither manifest.json nor index.json, and garbage", async () => {
    await expectRejected("empty", await tarOf([{ name: "hello", body: "x" }]), /no manifest\.json/);
    await expectRejected(
      "garbage",
      Buffer.from("definitely not a tar file\n".repeat(100)),
      /tar format error: header checksum/,
    );
    assert.ok(layer.length > 0);
  });
});
