/**
 * The build cache's records (table `build_cache`, see db.ts). A row is written in the same
 * transaction as the snapshot and layer-blob records of the layer it keeps, so a row never
 * points at a layer the store does not know. `builder prune` deletes rows; the image store's
 * garbage collection then removes the layers no image, container or row uses.
 *
 * `build_steps` keeps, per place in a build, what the step saw the last time it was built (the
 * builder's cache-miss explanations compare against it); it holds no layer.
 */
import type { MetadataDb } from "./db.js";
import { num, Queries, type Row, str } from "./rows.js";

export interface BuildCacheRecord {
  readonly key: string;
  readonly parentKey: string;
  readonly description: string;
  /** The history row's time (RFC 3339), reused on a hit. */
  readonly created: string;
  /** The layer the step made; '' when it made none. */
  readonly diffId: string;
  readonly chainId: string;
  /** Bytes of the files in that layer. */
  readonly size: number;
  readonly createdAt: number;
  readonly lastUsed: number;
}

function fromRow(r: Row): BuildCacheRecord {
  return {
    key: str(r, "key"),
    parentKey: str(r, "parent_key"),
    description: str(r, "description"),
    created: str(r, "created"),
    diffId: str(r, "diff_id"),
    chainId: str(r, "chain_id"),
    size: num(r, "size"),
    createdAt: num(r, "created_at"),
    lastUsed: num(r, "last_used"),
  };
}

export class BuildCacheMetadata extends Queries {
  constructor(db: MetadataDb) {
    super(db);
  }

  get(key: string): BuildCacheRecord | undefined {
    const r = this.one("SELECT * FROM build_cache WHERE key = ?", key);
    return r ? fromRow(r) : undefined;
  }

  /** Records a step; a row of the same key is replaced (a --no-cache build refreshes it). */
  put(rec: BuildCacheRecord): void {
    this.run(
      `INSERT OR REPLACE INTO build_cache (key, parent_key, description, created, diff_id, chain_id, size, created_at, last_used)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      rec.key,
      rec.parentKey,
      rec.description,
      rec.created,
      rec.diffId,
      rec.chainId,
      rec.size,
      rec.createdAt,
      rec.lastUsed,
    );
  }

  touch(key: string, at: number): void {
    this.run("UPDATE build_cache SET last_used = ? WHERE key = ?", at, key);
  }

  list(): BuildCacheRecord[] {
    return this.all("SELECT * FROM build_cache ORDER BY created_at").map(fromRow);
  }

  delete(key: string): void {
    this.run("DELETE FROM build_cache WHERE key = ?", key);
  }

  /** The inputs recorded for a step's place in a build (`build_steps`), as stored JSON text. */
  stepInputs(slot: string): string | undefined {
    const r = this.one("SELECT inputs FROM build_steps WHERE slot = ?", slot);
    return r ? str(r, "inputs") : undefined;
  }

  /** Records what a step saw, replacing the previous build's record for the same place. */
  putStepInputs(slot: string, key: string, inputs: string, at: number): void {
    this.run(
      "INSERT OR REPLACE INTO build_steps (slot, key, inputs, updated_at) VALUES (?, ?, ?, ?)",
      slot,
      key,
      inputs,
      at,
    );
  }

  /** Whether an image uses the layer (a cache row for it is then not "dangling"). */
  layerInUse(chainId: string): boolean {
    if (!chainId) return false;
    return (
      this.one(
        `SELECT 1 AS x FROM image_layers WHERE chain_id = ?
         UNION SELECT 1 FROM container_layers WHERE chain_id = ? LIMIT 1`,
        chainId,
        chainId,
      ) !== undefined
    );
  }
}
