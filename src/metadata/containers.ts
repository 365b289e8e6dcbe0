/**
 * Container records. A container is created with `incomplete = 1` and marked complete only when
 * every step of its creation (directories, volumes, record) succeeded; a crash in between leaves
 * an incomplete record that the next command removes. Runtime state columns (status, pid, exit
 * code, times) are the last state berth observed; runc and conmon's exit files are the truth and
 * are reconciled into these columns at the start of each command.
 * It stores what it is given; it never decides a container's state (containers/ does).
 */
import type {
  ContainerConfig,
  ContainerStatus,
  HealthState,
  HostConfig,
  MountPoint,
} from "../engine/types.js";
import type { MetadataDb } from "./db.js";
import { asRow, jsonRecord, num, type Row, str } from "./rows.js";

export interface ContainerRecord {
  readonly id: string;
  readonly name: string;
  readonly imageId: string;
  readonly imageRef: string;
  /** ms since the epoch. */
  readonly created: number;
  readonly config: ContainerConfig;
  readonly hostConfig: HostConfig;
  readonly mounts: readonly MountPoint[];
  readonly labels: Readonly<Record<string, string>>;
  readonly status: ContainerStatus;
  readonly pid: number;
  readonly exitCode: number;
  readonly error: string;
  readonly oomKilled: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly restartCount: number;
  /** Stopped by `stop`/`kill` (restart policies other than `always` then do not restart it). */
  readonly stoppedByUser: boolean;
  /** State.Health: set once the container started with a healthcheck. */
  readonly health: HealthState | undefined;
  readonly incomplete: boolean;
}

/** The runtime-state columns a state change may update. */
export type ContainerStateUpdate = Partial<
  Pick<
    ContainerRecord,
    | "status"
    | "pid"
    | "exitCode"
    | "error"
    | "oomKilled"
    | "startedAt"
    | "finishedAt"
    | "restartCount"
    | "stoppedByUser"
    | "health"
  >
>;

const STATUSES: readonly ContainerStatus[] = [
  "created",
  "running",
  "paused",
  "restarting",
  "removing",
  "exited",
  "dead",
];

function parseJson<T>(row: Row, col: string): T {
  // Our own JSON, written by this module from typed values.
  return JSON.parse(str(row, col)) as T;
}

function statusOf(row: Row): ContainerStatus {
  const status = str(row, "status");
  return (STATUSES as readonly string[]).includes(status) ? (status as ContainerStatus) : "dead";
}

function fromRow(row: Row): ContainerRecord {
  return {
    id: str(row, "id"),
    name: str(row, "name"),
    imageId: str(row, "image_id"),
    imageRef: str(row, "image_ref"),
    created: num(row, "created"),
    config: parseJson<ContainerConfig>(row, "config"),
    hostConfig: parseJson<HostConfig>(row, "host_config"),
    mounts: parseJson<MountPoint[]>(row, "mounts"),
    labels: jsonRecord(row, "labels"),
    status: statusOf(row),
    pid: num(row, "pid"),
    exitCode: num(row, "exit_code"),
    error: str(row, "error"),
    oomKilled: num(row, "oom_killed") !== 0,
    startedAt: str(row, "started_at"),
    finishedAt: str(row, "finished_at"),
    restartCount: num(row, "restart_count"),
    stoppedByUser: num(row, "stopped_by_user") !== 0,
    health: str(row, "health") ? parseJson<HealthState>(row, "health") : undefined,
    incomplete: num(row, "incomplete") !== 0,
  };
}

const COLUMN: Record<keyof ContainerStateUpdate, string> = {
  status: "status",
  pid: "pid",
  exitCode: "exit_code",
  error: "error",
  oomKilled: "oom_killed",
  startedAt: "started_at",
  finishedAt: "finished_at",
  restartCount: "restart_count",
  stoppedByUser: "stopped_by_user",
  health: "health",
};

export class ContainerMetadata {
  constructor(readonly db: MetadataDb) {}

  /** Inserts a new (incomplete) record; false when the name is taken. */
  insert(rec: Omit<ContainerRecord, "incomplete" | "health">): boolean {
    const r = this.db
      .prepared(
        `INSERT OR IGNORE INTO containers (id, name, image_id, image_ref, created, config, host_config, mounts, labels, status, incomplete)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
      )
      .run(
        rec.id,
        rec.name,
        rec.imageId,
        rec.imageRef,
        rec.created,
        JSON.stringify(rec.config),
        JSON.stringify(rec.hostConfig),
        JSON.stringify(rec.mounts),
        JSON.stringify(rec.labels),
        rec.status,
      );
    return r.changes > 0;
  }

  /** Records the layers (chainIDs, bottom first) the container's root filesystem stacks. */
  setLayers(id: string, chainIds: readonly string[]): void {
    const stmt = this.db.prepared(
      "INSERT OR REPLACE INTO container_layers (container_id, idx, chain_id) VALUES (?, ?, ?)",
    );
    chainIds.forEach((c, i) => {
      stmt.run(id, i, c);
    });
  }

  layersOf(id: string): string[] {
    return this.db
      .prepared("SELECT chain_id FROM container_layers WHERE container_id = ? ORDER BY idx")
      .all(id)
      .map((r) => str(asRow(r), "chain_id"));
  }

  markComplete(id: string, mounts: readonly MountPoint[]): void {
    this.db
      .prepared("UPDATE containers SET incomplete = 0, mounts = ? WHERE id = ?")
      .run(JSON.stringify(mounts), id);
  }

  get(id: string): ContainerRecord | undefined {
    const r = this.db.prepared("SELECT * FROM containers WHERE id = ?").get(id);
    return r === undefined ? undefined : fromRow(asRow(r));
  }

  byName(name: string): ContainerRecord | undefined {
    const r = this.db.prepared("SELECT * FROM containers WHERE name = ?").get(name);
    return r === undefined ? undefined : fromRow(asRow(r));
  }

  /** IDs starting with a hex prefix. */
  idsByPrefix(prefix: string): string[] {
    return this.db
      .prepared("SELECT id FROM containers WHERE id >= ? AND id < ?")
      .all(prefix, `${prefix}g`)
      .map((r) => str(asRow(r), "id"));
  }

  /** Every record, newest first (incomplete ones included: callers decide). */
  list(): ContainerRecord[] {
    return this.db
      .prepared("SELECT * FROM containers ORDER BY created DESC, id")
      .all()
      .map((r) => fromRow(asRow(r)));
  }

  /** What reconciling needs of every record, without decoding their configurations. */
  states(): Array<
    Pick<ContainerRecord, "id" | "status" | "created" | "incomplete"> & {
      readonly hasHealth: boolean;
      /** Its log is json-file or keeps rotated files: the supervisor converts or rotates it. */
      readonly managedLog: boolean;
    }
  > {
    return this.db
      .prepared(
        `SELECT id, status, created, incomplete, health != '' AS has_health,
           COALESCE(json_extract(host_config, '$.LogConfig.Type') = 'json-file'
            OR CAST(json_extract(host_config, '$.LogConfig.Config."max-file"') AS INTEGER) > 1, 0) AS managed_log
         FROM containers`,
      )
      .all()
      .map((r) => {
        const row = asRow(r);
        return {
          id: str(row, "id"),
          status: statusOf(row),
          created: num(row, "created"),
          incomplete: num(row, "incomplete") !== 0,
          hasHealth: num(row, "has_health") !== 0,
          managedLog: num(row, "managed_log") === 1,
        };
      });
  }

  update(id: string, change: ContainerStateUpdate): void {
    const sets: string[] = [];
    const values: Array<string | number> = [];
    for (const [k, v] of Object.entries(change) as Array<[keyof ContainerStateUpdate, unknown]>) {
      if (v === undefined) continue;
      sets.push(`${COLUMN[k]} = ?`);
      if (k === "health") values.push(JSON.stringify(v));
      else values.push(typeof v === "boolean" ? (v ? 1 : 0) : (v as string | number));
    }
    if (sets.length === 0) return;
    this.db.prepared(`UPDATE containers SET ${sets.join(", ")} WHERE id = ?`).run(...values, id);
  }

  /** Replaces a container's HostConfig (`update`: new limits and restart policy). */
  setHostConfig(id: string, hostConfig: HostConfig): void {
    this.db
      .prepared("UPDATE containers SET host_config = ? WHERE id = ?")
      .run(JSON.stringify(hostConfig), id);
  }

  rename(id: string, name: string): boolean {
    return (
      this.db.prepared("UPDATE OR IGNORE containers SET name = ? WHERE id = ?").run(name, id).changes > 0
    );
  }

  delete(id: string): void {
    this.db.prepared("DELETE FROM containers WHERE id = ?").run(id);
  }

  /** Containers created from an image (for rmi's refusal and ancestor filters). */
  usingImage(imageId: string): ContainerRecord[] {
    return this.db
      .prepared("SELECT * FROM containers WHERE image_id = ? ORDER BY created DESC")
      .all(imageId)
      .map((r) => fromRow(asRow(r)));
  }
}
