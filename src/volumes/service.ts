/**
 * Named and anonymous volumes as Docker's `local` driver has them: a record in the metadata
 * database and a directory `<root>/volumes/<name>/_data` that containers bind-mount.
 *
 * Lifecycle: a VolumeService is built once per engine (`new LocalVolumeService({ db, dir })`),
 * used for the length of a command and dropped with the database. Creation prepares the
 * directory under a `.tmp-*` name, then renames it into place and inserts the record inside
 * one IMMEDIATE transaction, so every process sees both or neither. Removal deletes the record
 * (refused while a container refers to the volume), then renames the directory to `.del-*` and
 * deletes it. A directory without a record (a crash between those steps) is never adopted: the
 * next create of that name discards it, and `cleanupStale()` removes leftovers at startup.
 */
import { randomBytes } from "node:crypto";
import { lstatSync, renameSync } from "node:fs";
import { chmod, chown, lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import {
  conflict,
  errnoCode,
  failedPrecondition,
  invalidArgument,
  isBerthError,
  notFound,
  notImplemented,
} from "../base/errors.js";
import type {
  Volume,
  VolumeCreateRequest,
  VolumeListOptions,
  VolumeListResponse,
  VolumePruneOptions,
  VolumeRemoveOptions,
  VolumesPruneResponse,
} from "../engine/types.js";
import type { MetadataDb } from "../metadata/db.js";
import { type EventSink, NO_EVENTS } from "../metadata/events.js";
import { VolumeMetadata, type VolumeRecord } from "../metadata/volumes.js";
import { lstatIfExists, readdirIfExists, statIfExists } from "../sys/fs.js";

import { copyTree } from "./copy-up.js";
import {
  boolFilter,
  checkFilterKeys,
  LIST_FILTERS,
  matchAllLabels,
  matchAnyPart,
  matchNoLabel,
  PRUNE_FILTERS,
} from "./filters.js";

/** The label Docker (23+) puts on volumes created without a name; prune removes only those by default. */
export const ANONYMOUS_LABEL = "com.docker.volume.anonymous";
export const LOCAL_DRIVER = "local";

/** Docker's rule for local volume names. */
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** Options the local driver knows (`size` needs an xfs quota); berth mounts none of them yet. */
const LOCAL_OPTIONS = ["type", "device", "o", "size"];

/** Throws Docker's error for a name the local driver refuses. */
export function validateVolumeName(name: string): void {
  if (!VALID_NAME.test(name)) {
    throw invalidArgument(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

/** Docker's "volume is in use" error (an OpErr with the referring container IDs). */
function inUse(name: string, containers: readonly string[]): Error {
  return conflict(`remove ${name}: volume is in use - [${containers.join(", ")}]`);
}

const noSuchVolume = (name: string) => notFound(`get ${name}: no such volume`);

export interface CreateVolumeOptions {
  /** Also mark the volume anonymous when it has a name (for callers that generate one). */
  readonly anonymous?: boolean;
}

export interface PopulateOptions {
  readonly signal?: AbortSignal;
}

/**
 * The volumes of one store. Every method reloads state from the database, so concurrent berth
 * processes may use the same store; callers never cache a Volume across operations.
 */
export interface VolumeService {
  /**
   * Creates a volume, or returns the existing one of that name unchanged (Docker merges
   * nothing). Without a name the volume gets 64 random hex digits and the anonymous label.
   */
  create(req: VolumeCreateRequest, opts?: CreateVolumeOptions): Promise<Volume>;
  /** Volumes matching `dangling=`, `name=`, `label=`, `driver=` (no UsageData, as Docker's list). */
  list(opts?: VolumeListOptions): Promise<VolumeListResponse>;
  /** The volume by exact name; NotFound `get NAME: no such volume`. */
  inspect(name: string): Promise<Volume>;
  /** The volume's record without touching the disk, or undefined. */
  get(name: string): VolumeRecord | undefined;
  /** Deletes a volume no container refers to; `force` makes a missing volume no error. */
  remove(name: string, opts?: VolumeRemoveOptions): Promise<void>;
  /** Removes unused anonymous volumes (all unused with `all=true`), filtered by `label`/`label!`. */
  prune(opts?: VolumePruneOptions): Promise<VolumesPruneResponse>;
  /** Every volume with UsageData (bytes in `_data`, referring containers), for `system df`. */
  diskUsage(opts?: { signal?: AbortSignal }): Promise<Volume[]>;
  /** The host directory containers mount: `<root>/volumes/<name>/_data`. */
  mountpoint(name: string): string;
  /**
   * Docker's copy-up: when the volume's `_data` is empty, copies the content of `sourceDir`
   * (the image's directory at the mount path, inside a mounted rootfs, already resolved by the
   * caller) into it, with owner, mode and times of `sourceDir` given to `_data`. Does nothing
   * when the volume holds anything or `sourceDir` is missing or not a directory (a symlink is
   * never followed). Returns true when it copied. Call it before this container mounts the
   * volume; a volume another running container already mounts is not empty-checked against it.
   */
  populateFromImage(volumeName: string, sourceDir: string, opts?: PopulateOptions): Promise<boolean>;
  /** Removes `.tmp-*` / `.del-*` leftovers of killed processes older than `olderThanMs`. */
  cleanupStale(olderThanMs: number): Promise<void>;
}

export interface LocalVolumeServiceOptions {
  readonly db: MetadataDb;
  /** `layout(roots).volumes`. */
  readonly dir: string;
  readonly now?: () => number;
  /** Where volume events (create, destroy, prune) go; none by default. */
  readonly events?: EventSink;
}

/** RFC 3339 in UTC with whole seconds, as Docker prints CreatedAt. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const randomHex = (bytes: number) => randomBytes(bytes).toString("hex");

/** Bytes of the files under a directory (each inode once, directories not counted), as du would. */
export async function directorySize(dir: string, signal?: AbortSignal): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    for (const n of names) {
      signal?.throwIfAborted();
      const p = join(d, n);
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(p);
      } catch (err) {
        if (errnoCode(err) === "ENOENT") continue;
        throw err;
      }
      if (st.isDirectory()) {
        await walk(p);
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}

export class LocalVolumeService implements VolumeService {
  readonly meta: VolumeMetadata;
  private readonly dir: string;
  private readonly now: () => number;
  private readonly events: EventSink;

  constructor(opts: LocalVolumeServiceOptions) {
    this.meta = new VolumeMetadata(opts.db);
    this.events = opts.events ?? NO_EVENTS;
    this.dir = opts.dir;
    this.now = opts.now ?? Date.now;
  }

  mountpoint(name: string): string {
    return join(this.dir, name, "_data");
  }

  get(name: string): VolumeRecord | undefined {
    return this.meta.getVolume(name);
  }

  private toApi(rec: VolumeRecord, usage?: { Size: number; RefCount: number }): Volume {
    // Keys in Docker's (alphabetical) order, as `volume inspect` prints them.
    const v: Volume = {
      CreatedAt: rec.createdAt,
      Driver: rec.driver,
      Labels: { ...rec.labels },
      Mountpoint: this.mountpoint(rec.name),
      Name: rec.name,
      Options: { ...rec.options },
      Scope: "local",
    };
    if (usage) v.UsageData = usage;
    return v;
  }

  async create(req: VolumeCreateRequest, opts: CreateVolumeOptions = {}): Promise<Volume> {
    const driver = req.Driver === undefined || req.Driver === "" ? LOCAL_DRIVER : req.Driver;
    if (driver !== LOCAL_DRIVER) {
      throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    }
    const named = req.Name !== undefined && req.Name !== "";
    const name = named ? (req.Name as string) : randomHex(32);
    validateVolumeName(name);
    const existing = this.meta.getVolume(name);
    if (existing) return this.toApi(existing);

    const options = { ...(req.DriverOpts ?? {}) };
    for (const key of Object.keys(options)) {
      if (!LOCAL_OPTIONS.includes(key)) throw invalidArgument(`invalid option key: "${key}"`);
    }
    if (Object.keys(options).length > 0) {
      throw notImplemented(
        `create ${name}: the local driver's mount options (${Object.keys(options).sort().join(", ")}) are not supported by berth; create the volume without -o`,
      );
    }
    const labels: Record<string, string> = { ...(req.Labels ?? {}) };
    const anonymous = !named || (opts.anonymous ?? false);
    if (anonymous) labels[ANONYMOUS_LABEL] = "";
    const rec: VolumeRecord = {
      name,
      driver,
      createdAt: rfc3339(this.now()),
      labels,
      options,
      anonymous,
    };

    await mkdir(this.dir, { recursive: true, mode: 0o701 });
    const tmp = join(this.dir, `.tmp-${process.pid}-${randomHex(6)}`);
    await mkdir(tmp, { mode: 0o701 });
    await mkdir(join(tmp, "_data"), { mode: 0o755 });
    const final = join(this.dir, name);
    let discard: string | undefined;
    let result: VolumeRecord;
    try {
      result = this.meta.db.write(() => {
        const again = this.meta.getVolume(name);
        if (again) return again;
        // A directory without a record is a crash's leftover: never hand its data to a new volume.
        if (lstatOrUndefined(final)) {
          discard = join(this.dir, `.del-${process.pid}-${randomHex(6)}`);
          renameSync(final, discard);
        }
        renameSync(tmp, final);
        try {
          this.meta.putVolume(rec);
          this.events.emit("volume", "create", { ID: name, Attributes: { driver } });
        } catch (err) {
          renameSync(final, tmp);
          throw err;
        }
        return rec;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
      if (discard) await rm(discard, { recursive: true, force: true });
    }
    return this.toApi(result);
  }

  async list(opts: VolumeListOptions = {}): Promise<VolumeListResponse> {
    const f = opts.filters;
    checkFilterKeys(f, LIST_FILTERS);
    const dangling = boolFilter(f, "dangling");
    const names = f?.name ?? [];
    const drivers = f?.driver ?? [];
    const labels = f?.label ?? [];
    const { records, refs } = this.meta.db.read(() => ({
      records: this.meta.listVolumes(),
      refs: this.meta.refCounts(),
    }));
    const out = records.filter(
      (r) =>
        (dangling === undefined || dangling === !refs.has(r.name)) &&
        matchAnyPart(r.name, names) &&
        matchAnyPart(r.driver, drivers) &&
        matchAllLabels(r.labels, labels),
    );
    return { Volumes: out.map((r) => this.toApi(r)), Warnings: [] };
  }

  async inspect(name: string): Promise<Volume> {
    const rec = this.meta.getVolume(name);
    if (!rec) throw noSuchVolume(name);
    return this.toApi(rec);
  }

  async remove(name: string, opts: VolumeRemoveOptions = {}): Promise<void> {
    const removed = this.meta.db.write(() => {
      const rec = this.meta.getVolume(name);
      if (!rec) {
        if (opts.force) return false;
        throw noSuchVolume(name);
      }
      const users = this.meta.containersUsing(name);
      if (users.length > 0) throw inUse(name, users);
      this.meta.deleteVolume(name);
      this.events.emit("volume", "destroy", { ID: name, Attributes: { driver: rec.driver } });
      return true;
    });
    if (removed) await this.deleteDirectory(name);
  }

  /** Renames the volume's directory aside, then deletes it (record already gone). */
  private async deleteDirectory(name: string): Promise<void> {
    const aside = join(this.dir, `.del-${process.pid}-${randomHex(6)}`);
    try {
      await rename(join(this.dir, name), aside);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    await rm(aside, { recursive: true, force: true });
  }

  async prune(opts: VolumePruneOptions = {}): Promise<VolumesPruneResponse> {
    const f = opts.filters;
    checkFilterKeys(f, PRUNE_FILTERS);
    const all = boolFilter(f, "all") ?? false;
    const wanted = f?.label ?? [];
    const unwanted = f?.["label!"] ?? [];
    const { records, refs } = this.meta.db.read(() => ({
      records: this.meta.listVolumes(),
      refs: this.meta.refCounts(),
    }));
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const r of records) {
      if (refs.has(r.name)) continue;
      if (!all && !Object.hasOwn(r.labels, ANONYMOUS_LABEL)) continue;
      if (!matchAllLabels(r.labels, wanted) || !matchNoLabel(r.labels, unwanted)) continue;
      const size = await directorySize(this.mountpoint(r.name));
      try {
        await this.remove(r.name);
      } catch (err) {
        // A container started using it meanwhile, or another prune got there first.
        if (isBerthError(err, "Conflict") || isBerthError(err, "NotFound")) continue;
        throw err;
      }
      deleted.push(r.name);
      reclaimed += size;
    }
    this.events.emit("volume", "prune", { ID: "", Attributes: { reclaimed: String(reclaimed) } });
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  async diskUsage(opts: { signal?: AbortSignal } = {}): Promise<Volume[]> {
    const { records, refs } = this.meta.db.read(() => ({
      records: this.meta.listVolumes(),
      refs: this.meta.refCounts(),
    }));
    const out: Volume[] = [];
    for (const r of records) {
      const size = await directorySize(this.mountpoint(r.name), opts.signal);
      out.push(this.toApi(r, { Size: size, RefCount: refs.get(r.name) ?? 0 }));
    }
    return out;
  }

  async populateFromImage(
    volumeName: string,
    sourceDir: string,
    opts: PopulateOptions = {},
  ): Promise<boolean> {
    if (!isAbsolute(sourceDir)) throw invalidArgument(`copy-up: source ${sourceDir} is not an absolute path`);
    if (!this.meta.getVolume(volumeName)) throw noSuchVolume(volumeName);
    const data = this.mountpoint(volumeName);
    const dataSt = await lstatIfExists(data);
    if (!dataSt?.isDirectory()) {
      throw failedPrecondition(`volume ${volumeName}: ${data} is missing or not a directory`);
    }
    const src = await lstatIfExists(sourceDir);
    if (!src?.isDirectory()) return false;
    if ((await readdir(data)).length > 0) return false;
    // Copy into a private directory beside _data, then move the entries in: a crash mid-copy
    // leaves the volume empty (and a `.copy-*` directory for cleanupStale), never half-filled.
    const staging = join(this.dir, volumeName, `.copy-${process.pid}-${randomHex(6)}`);
    await mkdir(staging, { mode: 0o700 });
    try {
      await copyTree(sourceDir, staging, opts.signal ? { signal: opts.signal } : {});
      if ((await readdir(data)).length > 0) return false;
      for (const name of await readdir(staging)) {
        await rename(join(staging, name), join(data, name));
      }
      // Docker gives _data the owner and mode of the image's directory.
      await chown(data, src.uid, src.gid);
      await chmod(data, src.mode & 0o7777);
      return true;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async cleanupStale(olderThanMs: number): Promise<void> {
    const cutoff = this.now() - olderThanMs;
    const stale = async (p: string) => {
      const st = await statIfExists(p);
      return st !== undefined && st.mtimeMs < cutoff;
    };
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    for (const n of names) {
      const p = join(this.dir, n);
      if ((n.startsWith(".tmp-") || n.startsWith(".del-")) && (await stale(p))) {
        await rm(p, { recursive: true, force: true });
      } else if (!n.startsWith(".")) {
        for (const m of await readdirIfExists(p)) {
          if (m.startsWith(".copy-") && (await stale(join(p, m)))) {
            await rm(join(p, m), { recursive: true, force: true });
          }
        }
      }
    }
  }
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}
