/**
 * Image records, references, layer blobs and snapshot records in the metadata database.
 * Every method is one statement or one transaction; callers compose multi-record changes
 * inside `db.write(() => …)` so that concurrent berth processes never see half of them.
 */
import type { Digest } from "../oci/digest.js";
import { jsonRecord, num, optStr, Queries, type Row, str } from "./rows.js";

export interface ImageLayerRecord {
  readonly diffId: Digest;
  readonly chainId: Digest;
}

export interface ImageRecord {
  readonly id: Digest;
  readonly manifestDigest: Digest | undefined;
  readonly parentId: string;
  readonly created: string;
  readonly addedAt: number;
  readonly size: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly layers: readonly ImageLayerRecord[];
}

export type RefKind = "tag" | "digest";

export interface RefRecord {
  readonly name: string;
  readonly imageId: Digest;
  readonly kind: RefKind;
  readonly createdAt: number;
}

export interface LayerBlobRecord {
  readonly diffId: Digest;
  readonly blobDigest: Digest;
  readonly mediaType: string;
  readonly blobSize: number;
}

export interface SnapshotRecord {
  readonly chainId: Digest;
  readonly parent: string;
  readonly diffId: Digest;
  readonly size: number;
  readonly tarSize: number;
  readonly createdAt: number;
}

const d = (s: string) => s as Digest;

function imageFromRow(row: Row, layers: readonly ImageLayerRecord[]): ImageRecord {
  const manifest = optStr(row, "manifest_digest");
  return {
    id: d(str(row, "id")),
    manifestDigest: manifest ? d(manifest) : undefined,
    parentId: str(row, "parent_id"),
    created: str(row, "created"),
    addedAt: num(row, "added_at"),
    size: num(row, "size"),
    labels: jsonRecord(row, "labels"),
    layers,
  };
}

function refFromRow(row: Row): RefRecord {
  const kind = str(row, "kind");
  return {
    name: str(row, "name"),
    imageId: d(str(row, "image_id")),
    kind: kind === "digest" ? "digest" : "tag",
    createdAt: num(row, "created_at"),
  };
}

function snapshotFromRow(row: Row): SnapshotRecord {
  return {
    chainId: d(str(row, "chain_id")),
    parent: str(row, "parent"),
    diffId: d(str(row, "diff_id")),
    size: num(row, "size"),
    tarSize: num(row, "tar_size"),
    createdAt: num(row, "created_at"),
  };
}

/** Typed access to the image tables. Cheap to construct; holds prepared statements. */
export class ImageMetadata extends Queries {
  private layersOf(id: string): ImageLayerRecord[] {
    return this.all("SELECT diff_id, chain_id FROM image_layers WHERE image_id = ? ORDER BY idx", id).map(
      (r) => ({
        diffId: d(str(r, "diff_id")),
        chainId: d(str(r, "chain_id")),
      }),
    );
  }

  getImage(id: string): ImageRecord | undefined {
    const row = this.one("SELECT * FROM images WHERE id = ? AND incomplete = 0", id);
    return row ? imageFromRow(row, this.layersOf(id)) : undefined;
  }

  /** Every complete image, with layers, in one pass (no per-image queries). */
  listImages(): ImageRecord[] {
    const layers = new Map<string, ImageLayerRecord[]>();
    for (const r of this.all("SELECT image_id, diff_id, chain_id FROM image_layers ORDER BY image_id, idx")) {
      const id = str(r, "image_id");
      const list = layers.get(id) ?? [];
      list.push({ diffId: d(str(r, "diff_id")), chainId: d(str(r, "chain_id")) });
      layers.set(id, list);
    }
    return this.all("SELECT * FROM images WHERE incomplete = 0").map((r) =>
      imageFromRow(r, layers.get(str(r, "id")) ?? []),
    );
  }

  /** Image IDs starting with a hex prefix (without "sha256:"). */
  findIdsByPrefix(hexPrefix: string): Digest[] {
    return this.all(
      "SELECT id FROM images WHERE incomplete = 0 AND id >= ? AND id < ?",
      `sha256:${hexPrefix}`,
      `sha256:${hexPrefix}g`,
    ).map((r) => d(str(r, "id")));
  }

  /** Inserts an image and its layers; an image already present is left as it is. */
  putImage(rec: Omit<ImageRecord, "addedAt">, addedAt: number): boolean {
    const inserted = this.run(
      `INSERT OR IGNORE INTO images (id, manifest_digest, parent_id, created, added_at, size, labels)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      rec.id,
      rec.manifestDigest ?? null,
      rec.parentId,
      rec.created,
      addedAt,
      rec.size,
      JSON.stringify(rec.labels),
    );
    if (inserted === 0) {
      if (rec.manifestDigest) {
        this.run(
          "UPDATE images SET manifest_digest = ? WHERE id = ? AND manifest_digest IS NULL",
          rec.manifestDigest,
          rec.id,
        );
      }
      return false;
    }
    const stmt = this.db.sqlite.prepare(
      "INSERT INTO image_layers (image_id, idx, diff_id, chain_id) VALUES (?, ?, ?, ?)",
    );
    rec.layers.forEach((l, i) => {
      stmt.run(rec.id, i, l.diffId, l.chainId);
    });
    return true;
  }

  deleteImage(id: string): void {
    this.run("DELETE FROM images WHERE id = ?", id);
  }

  getRef(name: string): RefRecord | undefined {
    const row = this.one("SELECT * FROM refs WHERE name = ?", name);
    return row ? refFromRow(row) : undefined;
  }

  refsOf(imageId: string): RefRecord[] {
    return this.all("SELECT * FROM refs WHERE image_id = ? ORDER BY created_at, name", imageId).map(
      refFromRow,
    );
  }

  allRefs(): RefRecord[] {
    return this.all("SELECT * FROM refs ORDER BY created_at, name").map(refFromRow);
  }

  /** Points `name` at `imageId`; returns the image it pointed at before, if another one. */
  setRef(name: string, imageId: Digest, kind: RefKind, now: number): Digest | undefined {
    const prev = this.getRef(name);
    if (prev?.imageId === imageId) return undefined;
    this.run(
      `INSERT INTO refs (name, image_id, kind, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, kind = excluded.kind, created_at = excluded.created_at`,
      name,
      imageId,
      kind,
      now,
    );
    return prev?.imageId;
  }

  deleteRef(name: string): boolean {
    return this.run("DELETE FROM refs WHERE name = ?", name) > 0;
  }

  /** Images whose parent is `id` (images built on top of it locally). */
  childrenOf(id: string): Digest[] {
    return this.all("SELECT id FROM images WHERE parent_id = ? AND incomplete = 0", id).map((r) =>
      d(str(r, "id")),
    );
  }

  putLayerBlob(rec: LayerBlobRecord): void {
    this.run(
      "INSERT OR IGNORE INTO layer_blobs (diff_id, blob_digest, media_type, blob_size) VALUES (?, ?, ?, ?)",
      rec.diffId,
      rec.blobDigest,
      rec.mediaType,
      rec.blobSize,
    );
  }

  layerBlobs(diffId: string): LayerBlobRecord[] {
    return this.all("SELECT * FROM layer_blobs WHERE diff_id = ?", diffId).map((r) => ({
      diffId: d(str(r, "diff_id")),
      blobDigest: d(str(r, "blob_digest")),
      mediaType: str(r, "media_type"),
      blobSize: num(r, "blob_size"),
    }));
  }

  deleteLayerBlobs(diffId: string): void {
    this.run("DELETE FROM layer_blobs WHERE diff_id = ?", diffId);
  }

  putSnapshot(rec: SnapshotRecord): void {
    this.run(
      "INSERT OR IGNORE INTO snapshots (chain_id, parent, diff_id, size, tar_size, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      rec.chainId,
      rec.parent,
      rec.diffId,
      rec.size,
      rec.tarSize,
      rec.createdAt,
    );
  }

  getSnapshot(chainId: string): SnapshotRecord | undefined {
    const row = this.one("SELECT * FROM snapshots WHERE chain_id = ?", chainId);
    return row ? snapshotFromRow(row) : undefined;
  }

  listSnapshots(): SnapshotRecord[] {
    return this.all("SELECT * FROM snapshots").map(snapshotFromRow);
  }

  deleteSnapshot(chainId: string): void {
    this.run("DELETE FROM snapshots WHERE chain_id = ?", chainId);
  }

  /** Snapshots that no image uses any more (garbage after an image is removed). */
  unreferencedSnapshots(): SnapshotRecord[] {
    return this.all(
      `SELECT * FROM snapshots s WHERE NOT EXISTS (SELECT 1 FROM image_layers l WHERE l.chain_id = s.chain_id)
       AND NOT EXISTS (SELECT 1 FROM container_layers c WHERE c.chain_id = s.chain_id)
       AND NOT EXISTS (SELECT 1 FROM build_cache k WHERE k.chain_id = s.chain_id)`,
    ).map(snapshotFromRow);
  }

  /** Every blob digest some record still needs: configs, manifests, layer blobs of used layers. */
  referencedBlobs(): Set<string> {
    const out = new Set<string>();
    for (const r of this.all("SELECT id, manifest_digest FROM images")) {
      out.add(str(r, "id"));
      const m = optStr(r, "manifest_digest");
      if (m) out.add(m);
    }
    for (const r of this.all(
      `SELECT b.blob_digest FROM layer_blobs b WHERE EXISTS (SELECT 1 FROM image_layers l WHERE l.diff_id = b.diff_id)
       OR EXISTS (SELECT 1 FROM build_cache k WHERE k.diff_id = b.diff_id)`,
    )) {
      out.add(str(r, "blob_digest"));
    }
    return out;
  }

  /** Layer blob records whose diffID no image uses. */
  unreferencedLayerBlobs(): LayerBlobRecord[] {
    return this.all(
      `SELECT * FROM layer_blobs b WHERE NOT EXISTS (SELECT 1 FROM image_layers l WHERE l.diff_id = b.diff_id)
       AND NOT EXISTS (SELECT 1 FROM build_cache k WHERE k.diff_id = b.diff_id)`,
    ).map((r) => ({
      diffId: d(str(r, "diff_id")),
      blobDigest: d(str(r, "blob_digest")),
      mediaType: str(r, "media_type"),
      blobSize: num(r, "blob_size"),
    }));
  }
}
