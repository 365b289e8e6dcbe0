/**
 * Leases, as containerd's: an operation that writes content before any record refers to it
 * (pull, load, import, build, commit) holds a lease naming the blobs and snapshots it has
 * written or found and means to use. Garbage collection (rmi, image prune, builder prune,
 * system prune, and the cleanup of failed work) never deletes what a live lease names.
 *
 * Ordering is what makes this safe: a holder adds a resource to its lease (one write
 * transaction) before it checks that the resource exists or writes it, and garbage collection
 * decides what to delete and makes it disappear (unlink, rename aside) inside one write
 * transaction that reads the leases. Either the collection ran first — the holder then finds
 * the resource gone and writes it again — or the lease was there first and the collection
 * spares the resource.
 *
 * A lease belongs to a process (PID and start time). It ends with `release()`, or with its
 * process: leases whose process is gone (kill -9, a crash) are deleted by the next collection.
 */
import { randomBytes } from "node:crypto";
import { currentProcess, type ProcessIdentity, processAlive } from "../sys/process.js";
import type { MetadataDb } from "./db.js";
import { num, Queries, str } from "./rows.js";

export type LeaseResource = "blob" | "snapshot";

export interface LeaseManagerOptions {
  /** Who this process is (tests may pretend to be another). */
  readonly owner?: ProcessIdentity;
  /** Whether a lease's process still runs (default: /proc). */
  readonly alive?: (owner: ProcessIdentity) => boolean;
  readonly now?: () => number;
}

/** A held lease. Adding is idempotent; `release()` ends it (and is safe to repeat). */
export class Lease {
  private released = false;

  constructor(
    private readonly db: MetadataDb,
    readonly id: string,
  ) {}

  /** Names resources as this lease's; joins the caller's transaction when there is one. */
  add(kind: LeaseResource, keys: readonly string[]): void {
    if (this.released || keys.length === 0) return;
    const insert = () => {
      const stmt = this.db.sqlite.prepare(
        "INSERT OR IGNORE INTO lease_resources (lease_id, kind, key) VALUES (?, ?, ?)",
      );
      for (const k of keys) stmt.run(this.id, kind, k);
    };
    if (this.db.sqlite.inTransaction) insert();
    else this.db.write(insert);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.db.write(() => this.db.sqlite.prepare("DELETE FROM leases WHERE id = ?").run(this.id));
  }
}

export class LeaseManager extends Queries {
  private readonly owner: ProcessIdentity;
  private readonly alive: (owner: ProcessIdentity) => boolean;
  private readonly now: () => number;

  constructor(db: MetadataDb, opts: LeaseManagerOptions = {}) {
    super(db);
    this.owner = opts.owner ?? currentProcess();
    this.alive = opts.alive ?? processAlive;
    this.now = opts.now ?? Date.now;
  }

  /** Starts a lease owned by this process. */
  create(): Lease {
    const id = randomBytes(12).toString("hex");
    this.db.write(() =>
      this.run(
        "INSERT INTO leases (id, pid, pid_start, created_at) VALUES (?, ?, ?, ?)",
        id,
        this.owner.pid,
        this.owner.start,
        this.now(),
      ),
    );
    return new Lease(this.db, id);
  }

  /** Deletes leases whose process is gone; returns how many. Run inside the collection's transaction. */
  reapStale(): number {
    let removed = 0;
    for (const r of this.all("SELECT id, pid, pid_start FROM leases")) {
      if (this.alive({ pid: num(r, "pid"), start: str(r, "pid_start") })) continue;
      removed += this.run("DELETE FROM leases WHERE id = ?", str(r, "id"));
    }
    return removed;
  }

  /** The resources of every lease (but `except`), by key. */
  leased(kind: LeaseResource, except?: Lease): Set<string> {
    const rows = this.all(
      "SELECT DISTINCT key FROM lease_resources WHERE kind = ? AND lease_id <> ?",
      kind,
      except?.id ?? "",
    );
    return new Set(rows.map((r) => str(r, "key")));
  }
}
