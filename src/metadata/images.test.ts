/** ImageMetadata on a real SQLite file: images, refs, snapshots, layer blobs and what is garbage. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { type Digest, parseDigest } from "../oci/digest.js";
import { type MetadataDb, openDatabase } from "./db.js";
import { ImageMetadata, type ImageRecord } from "./images.js";

/** A digest whose hex starts with `prefix` (padded with `fill`). */
const dg = (prefix: string, fill = "0"): Digest => parseDigest(`sha256:${prefix.padEnd(64, fill)}`);

const D1 = dg("d1");
const D2 = dg("d2");
const D3 = dg("d3");
const C1 = dg("c1");
const C2 = dg("c2");
const C3 = dg("c3");
const BLOB1 = dg("b1");
const BLOB2 = dg("b2");
const BLOB3 = dg("b3");

function image(id: Digest, over: Partial<Omit<ImageRecord, "addedAt">> = {}): Omit<ImageRecord, "addedAt"> {
  return {
    id,
    manifestDigest: undefined,
    parentId: "",
    created: "2024-01-02T03:04:05Z",
    size: 10,
    labels: {},
    layers: [],
    ...over,
  };
}

describe("ImageMetadata", () => {
  let dir: string;
  let db: MetadataDb;
  let meta: ImageMetadata;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-meta-"));
    db = openDatabase(join(dir, "berth.db"));
    meta = new ImageMetadata(db);
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("putImage/getImage round-trip every field and the layers in order", () => {
    const id = dg("aa");
    const manifest = dg("ee");
    const layers = [
      { diffId: D1, chainId: C1 },
      { diffId: D2, chainId: C2 },
      { diffId: D3, chainId: C3 },
    ];
    assert.equal(
      meta.putImage(
        image(id, { manifestDigest: manifest, parentId: "sha256:p", size: 1234, labels: { a: "1" }, layers }),
        99,
      ),
      true,
    );
    assert.deepEqual(meta.getImage(id), {
      id,
      manifestDigest: manifest,
      parentId: "sha256:p",
      created: "2024-01-02T03:04:05Z",
      addedAt: 99,
      size: 1234,
      labels: { a: "1" },
      layers,
    });
    assert.equal(meta.getImage(dg("ab")), undefined);
  });

  test("putImage of an image already present changes nothing but a missing manifest digest", () => {
    const id = dg("aa");
    meta.putImage(image(id, { layers: [{ diffId: D1, chainId: C1 }], size: 5 }), 1);
    assert.equal(
      meta.putImage(
        image(id, { layers: [{ diffId: D2, chainId: C2 }], size: 7, manifestDigest: dg("e1") }),
        2,
      ),
      false,
    );
    let rec = meta.getImage(id);
    assert.equal(rec?.addedAt, 1);
    assert.equal(rec?.size, 5);
    assert.deepEqual(rec?.layers, [{ diffId: D1, chainId: C1 }]);
    assert.equal(rec?.manifestDigest, dg("e1"), "a missing manifest digest is filled in");
    meta.putImage(image(id, { manifestDigest: dg("e2") }), 3);
    rec = meta.getImage(id);
    assert.equal(rec?.manifestDigest, dg("e1"), "an existing manifest digest is kept");
  });

  test("listImages returns every image with its own layers", () => {
    meta.putImage(image(dg("aa"), { layers: [{ diffId: D1, chainId: C1 }] }), 1);
    meta.putImage(
      image(dg("bb"), {
        layers: [
          { diffId: D1, chainId: C1 },
          { diffId: D2, chainId: C2 },
        ],
      }),
      2,
    );
    meta.putImage(image(dg("cc")), 3);
    const byId = new Map(meta.listImages().map((r) => [r.id, r]));
    assert.equal(byId.size, 3);
    assert.deepEqual(byId.get(dg("aa"))?.layers, [{ diffId: D1, chainId: C1 }]);
    assert.deepEqual(byId.get(dg("bb"))?.layers, [
      { diffId: D1, chainId: C1 },
      { diffId: D2, chainId: C2 },
    ]);
    assert.deepEqual(byId.get(dg("cc"))?.layers, []);
  });

  test("setRef: new, same image again, and replace returning the previous image", () => {
    const a = dg("aa");
    const b = dg("bb");
    meta.putImage(image(a), 1);
    meta.putImage(image(b), 1);
    const name = "docker.io/library/busybox:latest";
    assert.equal(meta.setRef(name, a, "tag", 10), undefined);
    assert.deepEqual(meta.getRef(name), { name, imageId: a, kind: "tag", createdAt: 10 });
    assert.equal(meta.setRef(name, a, "tag", 20), undefined);
    assert.equal(meta.getRef(name)?.createdAt, 10, "re-pointing at the same image keeps the ref as it was");
    assert.equal(meta.setRef(name, b, "tag", 30), a);
    assert.deepEqual(meta.getRef(name), { name, imageId: b, kind: "tag", createdAt: 30 });
    assert.deepEqual(meta.refsOf(a), []);
  });

  test("deleteRef reports whether the ref existed; digest refs keep their kind", () => {
    const a = dg("aa");
    meta.putImage(image(a), 1);
    const byDigest = `docker.io/library/busybox@${dg("ff")}`;
    meta.setRef(byDigest, a, "digest", 1);
    assert.equal(meta.getRef(byDigest)?.kind, "digest");
    assert.equal(meta.deleteRef(byDigest), true);
    assert.equal(meta.deleteRef(byDigest), false);
    assert.equal(meta.getRef(byDigest), undefined);
  });

  test("refsOf and allRefs order by creation time, then name", () => {
    const a = dg("aa");
    const b = dg("bb");
    meta.putImage(image(a), 1);
    meta.putImage(image(b), 1);
    meta.setRef("docker.io/library/z:1", a, "tag", 5);
    meta.setRef("docker.io/library/b:1", a, "tag", 7);
    meta.setRef("docker.io/library/a:1", a, "tag", 7);
    meta.setRef("docker.io/library/m:1", b, "tag", 6);
    assert.deepEqual(
      meta.refsOf(a).map((r) => r.name),
      ["docker.io/library/z:1", "docker.io/library/a:1", "docker.io/library/b:1"],
    );
    assert.deepEqual(
      meta.allRefs().map((r) => r.name),
      ["docker.io/library/z:1", "docker.io/library/m:1", "docker.io/library/a:1", "docker.io/library/b:1"],
    );
  });

  test("findIdsByPrefix matches hex prefixes only of complete images", () => {
    meta.putImage(image(dg("abc1")), 1);
    meta.putImage(image(dg("abc2")), 1);
    meta.putImage(image(dg("abd")), 1);
    meta.putImage(image(dg("f", "f")), 1);
    assert.deepEqual(meta.findIdsByPrefix("abc").sort(), [dg("abc1"), dg("abc2")]);
    assert.deepEqual(meta.findIdsByPrefix("ab").length, 3);
    assert.deepEqual(meta.findIdsByPrefix("abd"), [dg("abd")]);
    assert.deepEqual(meta.findIdsByPrefix("f".repeat(64)), [dg("f", "f")]);
    assert.deepEqual(meta.findIdsByPrefix("e"), []);
    assert.deepEqual(meta.findIdsByPrefix("abc10"), [dg("abc1")]);
    db.sqlite.prepare("UPDATE images SET incomplete = 1 WHERE id = ?").run(dg("abd"));
    assert.deepEqual(meta.findIdsByPrefix("abd"), []);
    assert.equal(meta.getImage(dg("abd")), undefined, "incomplete images are invisible");
    assert.equal(meta.listImages().length, 3);
  });

  test("childrenOf lists images whose parent is the given image", () => {
    const parent = dg("aa");
    meta.putImage(image(parent), 1);
    meta.putImage(image(dg("b1"), { parentId: parent }), 1);
    meta.putImage(image(dg("b2"), { parentId: parent }), 1);
    meta.putImage(image(dg("cc"), { parentId: dg("b1") }), 1);
    assert.deepEqual(meta.childrenOf(parent).sort(), [dg("b1"), dg("b2")]);
    assert.deepEqual(meta.childrenOf(dg("b1")), [dg("cc")]);
    assert.deepEqual(meta.childrenOf(dg("cc")), []);
  });

  test("snapshots: put (first one wins), get, list, delete", () => {
    const snap = { chainId: C1, parent: "", diffId: D1, size: 100, tarSize: 1024, createdAt: 5 };
    meta.putSnapshot(snap);
    meta.putSnapshot({ ...snap, size: 999 });
    assert.deepEqual(meta.getSnapshot(C1), snap);
    meta.putSnapshot({ chainId: C2, parent: C1, diffId: D2, size: 1, tarSize: 512, createdAt: 6 });
    assert.deepEqual(
      meta
        .listSnapshots()
        .map((s) => s.chainId)
        .sort(),
      [C1, C2],
    );
    meta.deleteSnapshot(C1);
    assert.equal(meta.getSnapshot(C1), undefined);
    assert.equal(meta.getSnapshot(C2)?.parent, C1);
  });

  test("layer blobs: several blobs per diffID, duplicates ignored, deleted together", () => {
    meta.putLayerBlob({
      diffId: D1,
      blobDigest: BLOB1,
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      blobSize: 3,
    });
    meta.putLayerBlob({
      diffId: D1,
      blobDigest: BLOB2,
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      blobSize: 2,
    });
    meta.putLayerBlob({ diffId: D1, blobDigest: BLOB2, mediaType: "other", blobSize: 99 });
    const blobs = meta.layerBlobs(D1).sort((x, y) => (x.blobDigest < y.blobDigest ? -1 : 1));
    assert.deepEqual(blobs, [
      { diffId: D1, blobDigest: BLOB1, mediaType: "application/vnd.oci.image.layer.v1.tar", blobSize: 3 },
      {
        diffId: D1,
        blobDigest: BLOB2,
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        blobSize: 2,
      },
    ]);
    meta.deleteLayerBlobs(D1);
    assert.deepEqual(meta.layerBlobs(D1), []);
  });

  test("deleting an image cascades to its layers and refs; garbage is what only it used", () => {
    const a = dg("aa");
    const b = dg("bb");
    const manifestA = dg("ea");
    const manifestB = dg("eb");
    // a: layers 1, 2 — b: layers 1, 3 (layer 1 shared).
    db.write(() => {
      meta.putSnapshot({ chainId: C1, parent: "", diffId: D1, size: 1, tarSize: 1, createdAt: 1 });
      meta.putSnapshot({ chainId: C2, parent: C1, diffId: D2, size: 1, tarSize: 1, createdAt: 1 });
      meta.putSnapshot({ chainId: C3, parent: C1, diffId: D3, size: 1, tarSize: 1, createdAt: 1 });
      meta.putLayerBlob({ diffId: D1, blobDigest: BLOB1, mediaType: "t", blobSize: 1 });
      meta.putLayerBlob({ diffId: D2, blobDigest: BLOB2, mediaType: "t", blobSize: 1 });
      meta.putLayerBlob({ diffId: D3, blobDigest: BLOB3, mediaType: "t", blobSize: 1 });
      meta.putImage(
        image(a, {
          manifestDigest: manifestA,
          layers: [
            { diffId: D1, chainId: C1 },
            { diffId: D2, chainId: C2 },
          ],
        }),
        1,
      );
      meta.putImage(
        image(b, {
          manifestDigest: manifestB,
          layers: [
            { diffId: D1, chainId: C1 },
            { diffId: D3, chainId: C3 },
          ],
        }),
        1,
      );
      meta.setRef("docker.io/library/a:latest", a, "tag", 1);
      meta.setRef("docker.io/library/a:v1", a, "tag", 1);
    });
    assert.deepEqual(meta.unreferencedSnapshots(), []);
    assert.deepEqual(meta.unreferencedLayerBlobs(), []);
    assert.deepEqual(
      [...meta.referencedBlobs()].sort(),
      [a, b, BLOB1, BLOB2, BLOB3, manifestA, manifestB].sort(),
    );

    meta.deleteImage(a);
    assert.equal(meta.getImage(a), undefined);
    assert.deepEqual(meta.refsOf(a), [], "refs went with the image");
    assert.equal(meta.getRef("docker.io/library/a:v1"), undefined);
    const layerRows = db.sqlite.prepare("SELECT COUNT(*) AS n FROM image_layers WHERE image_id = ?").get(a);
    assert.deepEqual(layerRows, { n: 0 }, "image_layers went with the image");
    assert.deepEqual(
      meta.unreferencedSnapshots().map((s) => s.chainId),
      [C2],
    );
    assert.deepEqual(
      meta.unreferencedLayerBlobs().map((l) => l.blobDigest),
      [BLOB2],
    );
    assert.deepEqual([...meta.referencedBlobs()].sort(), [b, BLOB1, BLOB3, manifestB].sort());

    meta.deleteImage(b);
    assert.deepEqual(
      meta
        .unreferencedSnapshots()
        .map((s) => s.chainId)
        .sort(),
      [C1, C2, C3],
    );
    assert.deepEqual(
      meta
        .unreferencedLayerBlobs()
        .map((l) => l.blobDigest)
        .sort(),
      [BLOB1, BLOB2, BLOB3],
    );
    assert.equal(meta.referencedBlobs().size, 0);
    assert.deepEqual(db.sqlite.pragma("foreign_key_check"), []);
  });
});
