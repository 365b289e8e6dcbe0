/**
 * Volume records and the container → volume references in the metadata database (tables
 * `volumes` and `container_volumes` of schema v2). Every method is one statement; callers
 * compose multi-record changes inside `db.write(() => …)` so that concurrent berth processes
 * never see half of them. A `container_volumes` row disappears with its container (ON DELETE
 * CASCADE); a volume record cannot be deleted while a row refers to it (foreign key).
 */
import { jsonRecord, num, Queries, type Row, str } from "./rows.js";

export interface VolumeRecord {
  readonly name: string;
  readonly driver: string;
  /** RFC 3339 with seconds, as `volume inspect` prints it. */
  readonly createdAt: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, string>>;
  /** Created without a name (by `volume create` without one, or for an image's VOLUME). */
  readonly anonymous: boolean;
}

/** One mount of a volume into a container. */
export interface ContainerVolumeRecord {
  readonly containerId: string;
  readonly volumeName: string;
  readonly destination: string;
}

function volumeFromRow(row: Row): VolumeRecord {
  return {
    name: str(row, "name"),
    driver: str(row, "driver"),
    createdAt: str(row, "created_at"),
    labels: jsonRecord(row, "labels"),
    options: jsonRecord(row, "options"),
    anonymous: num(row, "anonymous") !== 0,
  };
}

function refFromRow(row: Row): ContainerVolumeRecord {
  return {
    containerId: str(row, "container_id"),
    volumeName: str(row, "volume_name"),
    destination: str(row, "destination"),
  };
}

/** Typed access to the volume tables. Cheap to construct. */
export class VolumeMetadata extends Queries {
  getVolume(name: string): VolumeRecord | undefined {
    const row = this.one("SELECT * FROM volumes WHERE name = ?", name);
    return row ? volumeFromRow(row) : undefined;
  }

  /** Every volume, ordered by name. */
  listVolumes(): VolumeRecord[] {
    return this.all("SELECT * FROM volumes ORDER BY name").map(volumeFromRow);
  }

  /** Inserts a volume; false (and nothing changed) when one of that name exists. */
  putVolume(rec: VolumeRecord): boolean {
    return (
      this.run(
        `INSERT OR IGNORE INTO volumes (name, driver, created_at, labels, options, anonymous)
         VALUES (?, ?, ?, ?, ?, ?)`,
        rec.name,
        rec.driver,
        rec.createdAt,
        JSON.stringify(rec.labels),
        JSON.stringify(rec.options),
        rec.anonymous ? 1 : 0,
      ) > 0
    );
  }

  /** Deletes a volume record; throws (foreign key) while a container refers to it. */
  deleteVolume(name: string): boolean {
    return this.run("DELETE FROM volumes WHERE name = ?", name) > 0;
  }

  /** IDs of the containers (running or not) that mount the volume, sorted. */
  containersUsing(name: string): string[] {
    return this.all(
      "SELECT DISTINCT container_id FROM container_volumes WHERE volume_name = ? ORDER BY container_id",
      name,
    ).map((r) => str(r, "container_id"));
  }

  /** Number of containers referring to each volume that has any (Docker's RefCount). */
  refCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.all(
      "SELECT volume_name, COUNT(DISTINCT container_id) AS n FROM container_volumes GROUP BY volume_name",
    )) {
      out.set(str(r, "volume_name"), num(r, "n"));
    }
    return out;
  }

  /**
   * Records that a container mounts a volume at `destination`. The container record and the
   * volume record must exist (foreign keys); one destination per container holds one volume.
   */
  attach(containerId: string, volumeName: string, destination: string): void {
    this.run(
      `INSERT INTO container_volumes (container_id, volume_name, destination) VALUES (?, ?, ?)
       ON CONFLICT(container_id, destination) DO UPDATE SET volume_name = excluded.volume_name`,
      containerId,
      volumeName,
      destination,
    );
  }

  /** Drops one container's references (all of them, or the one at `destination`). */
  detach(containerId: string, destination?: string): number {
    if (destination === undefined)
      return this.run("DELETE FROM container_volumes WHERE container_id = ?", containerId);
    return this.run(
      "DELETE FROM container_volumes WHERE container_id = ? AND destination = ?",
      containerId,
      destination,
    );
  }

  /** The volumes a container mounts, ordered by destination. */
  volumesOf(containerId: string): ContainerVolumeRecord[] {
    return this.all(
      "SELECT * FROM container_volumes WHERE container_id = ? ORDER BY destination",
      containerId,
    ).map(refFromRow);
  }
}
