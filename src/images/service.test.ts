/**
 * ImageStore and ImageService with real parts, wired as local/engine.ts wires them: a
 * LocalContentStore, a Snapshotter and the SQLite metadata database, all under a temp root.
 * Layers are small tars made with tar-stream's packer.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { collect } from "../base/async.js";
import { isBerthError } from "../base/errors.js";
import { LocalContentStore } from "../content/local-content-store.js";
import { makeTar, streamOf, type TarSpec } from "../diff/test-support.js";
import { type MetadataDb, openDatabase } from "../metadata/db.js";
import { LeaseManager } from "../metadata/leases.js";
import { type Digest, digestHex, parseDigest, sha256Digest, shortId } from "../oci/digest.js";
import { type HistoryEntry, type ImageConfig, MEDIA_TYPES } from "../oci/image.js";
import { Snapshotter } from "../snapshots/snapshotter.js";
import { ImageService, parseTarget } from "./service.js";
import { chainIdOf, ImageStore, type IngestedLayer } from "./store.js";

interface Env {
  readonly root: string;
  readonly db: MetadataDb;
  readonly content: LocalContentStore;
  readonly snapshots: Snapshotter;
  readonly store: ImageStore;
  readonly service: ImageService;
  clock: number;
}

async function openEnv(): Promise<Env> {
  const root = await mkdtemp(join(tmpdir(), "berth-images-"));
  const db = openDatabase(join(root, "berth.db"));
  const content = new LocalContentStore({
    blobs: join(root, "blobs", "sha256"),
    ingest: join(root, "ingest"),
  });
  const snapshots = new Snapshotter(join(root, "snapshots"));
  const env = { root, db, content, snapshots, clock: 1_700_000_000_000 } as Env;
  const store = new ImageStore({ db, content, snapshots, now: () => env.clock });
  return Object.assign(env, { store, service: new ImageService(store) });
}

async function closeEnv(env: Env): Promise<void> {
  env.db.close();
  await rm(env.root, { recursive: true, force: true });
}

async function blobs(env: Env): Promise<string[]> {
  return (await collect(env.content.listBlobs())).map((b) => b.digest).sort();
}

async function snapshotDirs(env: Env): Promise<string[]> {
  try {
    return (await readdir(env.snapshots.dir)).sort();
  } catch {
    return [];
  }
}

async function ingest(env: Env, files: TarSpec[], parent?: Digest): Promise<IngestedLayer> {
  return env.store.ingestLayer(streamOf(await makeTar(files)), parent ? { parentChainId: parent } : {});
}

interface ImageSpec {
  readonly layers?: TarSpec[][];
  readonly tags?: string[];
  readonly created?: string;
  readonly labels?: Record<string, string>;
  readonly history?: HistoryEntry[];
}

async function makeImage(env: Env, spec: ImageSpec = {}): Promise<{ id: Digest; layers: IngestedLayer[] }> {
  const layers: IngestedLayer[] = [];
  for (const files of spec.layers ?? []) layers.push(await ingest(env, files, layers.at(-1)?.chainId));
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    created: spec.created ?? "2024-01-01T00:00:00Z",
    config: { Cmd: ["sh"], ...(spec.labels ? { Labels: spec.labels } : {}) },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    ...(spec.history ? { history: spec.history } : {}),
  };
  const created = await env.store.createImage({
    config,
    layers,
    tags: (spec.tags ?? []).map((t) => parseTarget(t)),
  });
  return { id: created.id, layers };
}

const file = (name: string, body: string): TarSpec => ({ name, body });

describe("ImageStore", () => {
  let env: Env;
  beforeEach(async () => {
    env = await openEnv();
  });
  afterEach(async () => {
    await closeEnv(env);
  });

  test("a lease keeps a layer another image stopped using; collection takes it once released", async () => {
    const { id, layers } = await makeImage(env, { layers: [[file("a", "1")]], tags: ["one:1"] });
    const layer = layers[0] as IngestedLayer;
    // Another operation (a pull of the same layer) finds it and leases it before recording it.
    const lease = env.store.leases.create();
    const known = await env.store.knownLayer(layer.diffId, layer.chainId, lease);
    assert.ok(known);
    await env.service.remove(id, { force: true });
    assert.ok(await env.snapshots.exists(layer.chainId));
    assert.ok(await env.content.hasBlob(layer.blobDigest));
    const again = await env.store.createImage({
      config: { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.diffId] } },
      layers: [known],
      lease,
    });
    lease.release();
    await env.store.collectGarbage({ sweep: true });
    assert.ok(env.store.meta.getImage(again.id));
    assert.ok(await env.snapshots.exists(layer.chainId));
    assert.ok(await env.content.hasBlob(layer.blobDigest));
    // Released and unrecorded: the next collection removes it.
    const other = env.store.leases.create();
    const unused = await env.store.ingestLayer(streamOf(await makeTar([file("b", "2")])), { lease: other });
    await env.store.collectGarbage();
    assert.ok(await env.snapshots.exists(unused.chainId));
    other.release();
    env.clock = Date.now() + 2 * 60 * 60 * 1000;
    await env.store.collectGarbage({ sweep: true });
    assert.equal(await env.snapshots.exists(unused.chainId), false);
    assert.equal(await env.content.hasBlob(unused.blobDigest), false);
  });

  test("the lease of a process that is gone is deleted by the next collection", async () => {
    const dead = new LeaseManager(env.db, { owner: { pid: 999_999_999, start: "1" } });
    const lease = dead.create();
    lease.add("snapshot", ["sha256:x"]);
    assert.ok(env.store.leases.leased("snapshot").has("sha256:x"));
    await env.store.collectGarbage();
    assert.equal(env.store.leases.leased("snapshot").has("sha256:x"), false);
  });

  test("ingestLayer stores the tar as a blob and unpacks it under its chainID", async () => {
    const tar = await makeTar([{ name: "etc/", type: "directory" }, file("etc/hello", "hi there")]);
    const layer = await env.store.ingestLayer(streamOf(tar));
    const diffId = sha256Digest(tar);
    assert.equal(layer.diffId, diffId);
    assert.equal(layer.chainId, diffId, "the bottom layer's chainID is its diffID");
    assert.equal(layer.blobDigest, diffId, "an uncompressed layer is stored as is");
    assert.equal(layer.blobSize, tar.length);
    assert.equal(layer.tarSize, tar.length);
    assert.equal(layer.size, "hi there".length);
    assert.equal(layer.mediaType, MEDIA_TYPES.ociLayer);
    assert.equal(layer.created, true);
    assert.deepEqual(await blobs(env), [diffId]);
    assert.equal(await env.snapshots.exists(layer.chainId), true);
    assert.deepEqual(await readdir(join(env.snapshots.fsPath(layer.chainId), "etc")), ["hello"]);
  });

  test("a layer on a parent gets chainID = sha256(parent + ' ' + diffID); the same layer twice is not re-created", async () => {
    const base = await ingest(env, [file("a", "a")]);
    const top = await ingest(env, [file("b", "b")], base.chainId);
    assert.equal(top.chainId, sha256Digest(`${base.chainId} ${top.diffId}`));
    assert.equal(top.chainId, chainIdOf(base.chainId, top.diffId));
    const again = await ingest(env, [file("b", "b")], base.chainId);
    assert.equal(again.chainId, top.chainId);
    assert.equal(again.created, false);
    assert.equal((await snapshotDirs(env)).length, 2);
  });

  test("a tar that fails extraction (an entry named ../x) leaves no blob and no snapshot", async () => {
    const tar = await makeTar([file("ok", "fine"), file("../x", "escape")]);
    await assert.rejects(env.store.ingestLayer(streamOf(tar)), (err: unknown) => isBerthError(err));
    assert.deepEqual(await blobs(env), []);
    assert.deepEqual(await snapshotDirs(env), []);
    assert.deepEqual(env.store.meta.listSnapshots(), []);
  });

  test("a diffID other than the one expected fails the layer and leaves nothing behind", async () => {
    const tar = await makeTar([file("a", "a")]);
    await assert.rejects(
      env.store.ingestLayer(streamOf(tar), { expectedDiffId: sha256Digest("something else") }),
      (err: unknown) => isBerthError(err, "InvalidArgument"),
    );
    assert.deepEqual(await blobs(env), []);
    assert.deepEqual(await snapshotDirs(env), []);
  });

  test("createImage records the image, its layers and tags; resolve finds it by every name", async () => {
    const { id, layers } = await makeImage(env, {
      layers: [[file("bin/sh", "#!")], [file("etc/motd", "hello")]],
      tags: ["busybox", "example.com/team/tool:1.0"],
    });
    const rec = env.store.resolve("busybox");
    assert.equal(rec.id, id);
    assert.deepEqual(
      rec.layers,
      layers.map((l) => ({ diffId: l.diffId, chainId: l.chainId })),
    );
    assert.equal(rec.size, 2 + 5);
    assert.ok(rec.manifestDigest);
    assert.ok(await env.content.hasBlob(id), "the config blob is the image ID");
    assert.ok(await env.content.hasBlob(rec.manifestDigest));
    for (const name of [
      "busybox:latest",
      "docker.io/library/busybox",
      "library/busybox:latest",
      "example.com/team/tool:1.0",
      id,
      digestHex(id),
      shortId(id),
      digestHex(id).slice(0, 4),
    ]) {
      assert.equal(env.store.resolve(name).id, id, name);
    }
    assert.throws(
      () => env.store.resolve("busybox:other"),
      (err: unknown) => isBerthError(err, "NotFound") && err.message === "No such image: busybox:other",
    );
    assert.throws(
      () => env.store.resolve("example.com/team/tool"),
      (err: unknown) => isBerthError(err, "NotFound"),
    );
    assert.throws(
      () => env.store.resolve(`sha256:${"0".repeat(64)}`),
      (err: unknown) => isBerthError(err, "NotFound"),
    );
  });

  test("createImage reports a tag it took from another image", async () => {
    const first = await makeImage(env, { tags: ["app:1"], created: "2024-01-01T00:00:00Z" });
    const other = await env.store.createImage({
      config: {
        architecture: "amd64",
        os: "linux",
        created: "2024-02-02T00:00:00Z",
        rootfs: { type: "layers", diff_ids: [] },
      },
      layers: [],
      tags: [parseTarget("app:1"), parseTarget("app:2")],
    });
    assert.deepEqual(other.replaced, [{ reference: "docker.io/library/app:1", previous: first.id }]);
    assert.equal(env.store.resolve("app:1").id, other.id);
  });

  test("an ID prefix shared by two images is ambiguous (Conflict); a longer one is not", async () => {
    // Records with chosen IDs (no blobs needed: resolve reads the records only).
    const a = parseDigest(`sha256:abcd1${"0".repeat(59)}`);
    const b = parseDigest(`sha256:abcd2${"0".repeat(59)}`);
    for (const id of [a, b]) {
      env.store.meta.putImage(
        { id, manifestDigest: undefined, parentId: "", created: "", size: 0, labels: {}, layers: [] },
        1,
      );
    }
    assert.throws(
      () => env.store.resolve("abcd"),
      (err: unknown) =>
        isBerthError(err, "Conflict") && err.message === "multiple IDs found with provided prefix: abcd",
    );
    assert.equal(env.store.resolve("abcd1").id, a);
    assert.equal(env.store.resolve("abcd2").id, b);
    // A tag of that name wins over the ID prefix, as in Docker.
    env.db.write(() => env.store.meta.setRef("docker.io/library/abcd:latest", a, "tag", 1));
    assert.equal(env.store.resolve("abcd").id, a);
  });
});

describe("ImageService", () => {
  let env: Env;
  beforeEach(async () => {
    env = await openEnv();
  });
  afterEach(async () => {
    await closeEnv(env);
  });

  test("list: newest first, tags in familiar form, dangling images included by default", async () => {
    const old = await makeImage(env, { tags: ["busybox"], created: "2023-01-01T00:00:00Z" });
    const mid = await makeImage(env, { created: "2023-06-01T00:00:00Z" });
    const young = await makeImage(env, { tags: ["quay.io/org/alpine:3"], created: "2024-01-01T00:00:00Z" });
    const list = await env.service.list();
    assert.deepEqual(
      list.map((s) => s.Id),
      [young.id, mid.id, old.id],
    );
    assert.deepEqual(list[0]?.RepoTags, ["quay.io/org/alpine:3"]);
    assert.deepEqual(list[1]?.RepoTags, []);
    assert.deepEqual(list[2]?.RepoTags, ["busybox:latest"]);
    assert.equal(list[2]?.Created, Date.parse("2023-01-01T00:00:00Z") / 1000);
  });

  test("list filters: dangling, reference and label", async () => {
    const busy = await makeImage(env, { tags: ["busybox:1", "busybox:2"], labels: { tier: "base" } });
    const alp = await makeImage(env, {
      tags: ["alpine:3"],
      labels: { tier: "base", vendor: "x" },
      created: "2024-02-01T00:00:00Z",
    });
    const none = await makeImage(env, { labels: { vendor: "x" }, created: "2024-03-01T00:00:00Z" });
    const ids = async (filters: Record<string, string[]>) =>
      (await env.service.list({ filters })).map((s) => s.Id).sort();

    assert.deepEqual(await ids({ dangling: ["true"] }), [none.id]);
    assert.deepEqual(await ids({ dangling: ["false"] }), [busy.id, alp.id].sort());
    assert.deepEqual(await ids({ reference: ["busy*"] }), [busy.id]);
    assert.deepEqual(await ids({ reference: ["alpine:3"] }), [alp.id]);
    assert.deepEqual(await ids({ reference: ["*:2"] }), [busy.id]);
    assert.deepEqual(await ids({ reference: ["nothing*"] }), []);
    assert.deepEqual(await ids({ label: ["tier"] }), [busy.id, alp.id].sort());
    assert.deepEqual(await ids({ label: ["vendor=x"] }), [alp.id, none.id].sort());
    assert.deepEqual(await ids({ label: ["tier=base", "vendor"] }), [alp.id]);

    const byRef = await env.service.list({ filters: { reference: ["busybox:1"] } });
    assert.deepEqual(byRef[0]?.RepoTags, ["busybox:1"], "a reference filter narrows the tags shown");

    await assert.rejects(env.service.list({ filters: { bogus: ["1"] } }), (err: unknown) =>
      isBerthError(err, "InvalidArgument"),
    );
  });

  test("tag adds a reference; a digest target is refused", async () => {
    const { id } = await makeImage(env, { tags: ["busybox"] });
    await env.service.tag("busybox", "myrepo/tool:v1");
    await env.service.tag(shortId(id), "other");
    const [summary] = await env.service.list();
    assert.deepEqual(summary?.RepoTags.sort(), ["busybox:latest", "myrepo/tool:v1", "other:latest"]);
    await assert.rejects(env.service.tag("busybox", `x@sha256:${"a".repeat(64)}`), (err: unknown) =>
      isBerthError(err, "InvalidArgument"),
    );
    await assert.rejects(env.service.tag("nope", "x"), (err: unknown) => isBerthError(err, "NotFound"));
  });

  test("remove by tag untags while other tags remain, then deletes the image with its layers", async () => {
    const { id, layers } = await makeImage(env, {
      tags: ["busybox:1", "busybox:2"],
      layers: [[file("a", "aaa")], [file("b", "bbb")]],
    });
    assert.deepEqual(await env.service.remove("busybox:1"), [{ Untagged: "busybox:1" }]);
    assert.equal(env.store.resolve("busybox:2").id, id);

    const items = await env.service.remove("busybox:2");
    assert.deepEqual(items[0], { Untagged: "busybox:2" });
    assert.deepEqual(items[1], { Deleted: id });
    assert.deepEqual(
      items
        .slice(2)
        .map((i) => i.Deleted)
        .sort(),
      layers.map((l) => l.chainId).sort(),
    );
    assert.throws(
      () => env.store.resolve(id),
      (err: unknown) => isBerthError(err, "NotFound"),
    );
    assert.deepEqual(await snapshotDirs(env), []);
    assert.deepEqual(await blobs(env), [], "config, manifest and layer blobs are gone");
  });

  test("remove by ID of an image with one tag untags and deletes", async () => {
    const { id } = await makeImage(env, { tags: ["solo"] });
    const items = await env.service.remove(shortId(id));
    assert.deepEqual(items, [{ Untagged: "solo:latest" }, { Deleted: id }]);
    await assert.rejects(env.service.remove(id), (err: unknown) => isBerthError(err, "NotFound"));
  });

  test("remove by ID of an image tagged in two repositories needs force", async () => {
    const { id } = await makeImage(env, { tags: ["one", "two"] });
    await assert.rejects(env.service.remove(id), (err: unknown) => isBerthError(err, "Conflict"));
    const items = await env.service.remove(id, { force: true });
    assert.deepEqual(
      items
        .filter((i) => i.Untagged)
        .map((i) => i.Untagged)
        .sort(),
      ["one:latest", "two:latest"],
    );
    assert.deepEqual(items.at(-1), { Deleted: id });
  });

  test("a layer shared with another image stays while that image uses it", async () => {
    const base: TarSpec[] = [file("base", "shared")];
    const a = await makeImage(env, { tags: ["a"], layers: [base, [file("only-a", "a")]] });
    const b = await makeImage(env, {
      tags: ["b"],
      layers: [base, [file("only-b", "b")]],
      created: "2024-02-01T00:00:00Z",
    });
    const shared = a.layers[0] as IngestedLayer;
    assert.equal(b.layers[0]?.chainId, shared.chainId);

    const items = await env.service.remove("a");
    assert.deepEqual(items.slice(0, 2), [{ Untagged: "a:latest" }, { Deleted: a.id }]);
    assert.deepEqual(
      items.slice(2).map((i) => i.Deleted),
      [a.layers[1]?.chainId],
    );
    assert.equal(await env.snapshots.exists(shared.chainId), true);
    assert.equal(await env.snapshots.exists(a.layers[1]?.chainId as Digest), false);
    assert.equal(await env.content.hasBlob(shared.blobDigest), true);
    assert.equal(await env.content.hasBlob(a.layers[1]?.blobDigest as Digest), false);
    assert.equal(env.store.resolve("b").id, b.id);

    await env.service.remove("b");
    assert.equal(await env.snapshots.exists(shared.chainId), false);
    assert.deepEqual(await blobs(env), []);
  });

  test("history: newest first, 0 for empty_layer steps and each layer's size for the others", async () => {
    const history: HistoryEntry[] = [
      { created: "2024-01-01T00:00:00Z", created_by: "/bin/sh -c #(nop) ADD file:abc in / " },
      { created: "2024-01-01T00:00:01Z", created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
      { created: "2024-01-01T00:00:02Z", created_by: "/bin/sh -c echo hi > /x", comment: "step" },
      { created: "2024-01-01T00:00:03Z", created_by: "/bin/sh -c #(nop)  ENV A=1", empty_layer: true },
    ];
    const { id } = await makeImage(env, {
      tags: ["hist:1"],
      layers: [[file("bin/sh", "123456")], [file("x", "hi\n")]],
      history,
      created: "2024-01-01T00:00:03Z",
    });
    const rows = await env.service.history("hist:1");
    assert.deepEqual(rows, [
      {
        Id: id,
        Created: Date.parse("2024-01-01T00:00:03Z") / 1000,
        CreatedBy: "/bin/sh -c #(nop)  ENV A=1",
        Tags: ["hist:1"],
        Size: 0,
        Comment: "",
      },
      {
        Id: "<missing>",
        Created: Date.parse("2024-01-01T00:00:02Z") / 1000,
        CreatedBy: "/bin/sh -c echo hi > /x",
        Tags: null,
        Size: 3,
        Comment: "step",
      },
      {
        Id: "<missing>",
        Created: Date.parse("2024-01-01T00:00:01Z") / 1000,
        CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]',
        Tags: null,
        Size: 0,
        Comment: "",
      },
      {
        Id: "<missing>",
        Created: Date.parse("2024-01-01T00:00:00Z") / 1000,
        CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / ",
        Tags: null,
        Size: 6,
        Comment: "",
      },
    ]);
  });

  test("prune removes a dangling image and keeps tagged ones", async () => {
    const kept = await makeImage(env, { tags: ["keep"], layers: [[file("k", "keep")]] });
    const dangling = await makeImage(env, {
      layers: [[file("d", "0123456789")]],
      created: "2024-05-01T00:00:00Z",
    });
    const res = await env.service.prune();
    assert.deepEqual(res.ImagesDeleted[0], { Deleted: dangling.id });
    assert.deepEqual(
      res.ImagesDeleted.slice(1).map((i) => i.Deleted),
      [dangling.layers[0]?.chainId],
    );
    assert.equal(res.SpaceReclaimed, 10);
    assert.throws(
      () => env.store.resolve(dangling.id),
      (err: unknown) => isBerthError(err, "NotFound"),
    );
    assert.equal(env.store.resolve("keep").id, kept.id);
    assert.deepEqual(
      (await env.service.list()).map((s) => s.Id),
      [kept.id],
    );
    const again = await env.service.prune();
    assert.deepEqual(again, { ImagesDeleted: [], SpaceReclaimed: 0 });
  });
});
