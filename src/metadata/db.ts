/**
 * The metadata database: one SQLite file (WAL) shared by every berth process on a root.
 * Lifecycle: `openDatabase()` at the start of a command (creates and migrates the schema),
 * `close()` at its end. Multi-record changes go through `write(fn)`, an IMMEDIATE transaction,
 * so concurrent berth processes serialise their writes and never see half a change.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { errorMessage, notFound, unavailable } from "../base/errors.js";

export type Sqlite = Database.Database;

/** Schema migrations, applied in order; the index + 1 is the schema version (PRAGMA user_version). */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE images (
    id TEXT PRIMARY KEY,              -- image ID = digest of the config blob
    manifest_digest TEXT,             -- the manifest we hold for it, if any
    parent_id TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,            -- config "created" (RFC 3339), '' if absent
    added_at INTEGER NOT NULL,        -- ms since epoch when this store first got it
    size INTEGER NOT NULL,            -- sum of the unpacked sizes of its layers
    labels TEXT NOT NULL DEFAULT '{}',
    incomplete INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    diff_id TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    PRIMARY KEY (image_id, idx)
  );
  CREATE INDEX image_layers_chain ON image_layers(chain_id);
  CREATE TABLE refs (
    name TEXT PRIMARY KEY,            -- fully qualified: docker.io/library/busybox:latest or repo@sha256:…
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest')),
    created_at INTEGER NOT NULL
  );
  CREATE INDEX refs_image ON refs(image_id);
  CREATE TABLE layer_blobs (
    diff_id TEXT NOT NULL,
    blob_digest TEXT NOT NULL,        -- the blob as stored (compressed or not)
    media_type TEXT NOT NULL,
    blob_size INTEGER NOT NULL,
    PRIMARY KEY (diff_id, blob_digest)
  );
  CREATE TABLE snapshots (
    chain_id TEXT PRIMARY KEY,
    parent TEXT NOT NULL DEFAULT '',
    diff_id TEXT NOT NULL,
    size INTEGER NOT NULL,            -- bytes of the files unpacked from this layer
    tar_size INTEGER NOT NULL,        -- bytes of the uncompressed layer tar
    created_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE containers (
    id TEXT PRIMARY KEY,              -- 64 hex
    name TEXT NOT NULL UNIQUE,        -- without the leading "/"
    image_id TEXT NOT NULL,           -- the image it was created from (rmi refuses while it exists)
    image_ref TEXT NOT NULL,          -- the image as the user named it
    created INTEGER NOT NULL,         -- ms since epoch
    config TEXT NOT NULL,             -- JSON: the merged Config
    host_config TEXT NOT NULL,        -- JSON: HostConfig
    mounts TEXT NOT NULL DEFAULT '[]',-- JSON: resolved MountPoint list
    labels TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'created',
    pid INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    oom_killed INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL DEFAULT '0001-01-01T00:00:00Z',
    finished_at TEXT NOT NULL DEFAULT '0001-01-01T00:00:00Z',
    restart_count INTEGER NOT NULL DEFAULT 0,
    stopped_by_user INTEGER NOT NULL DEFAULT 0,
    incomplete INTEGER NOT NULL DEFAULT 1   -- set until every step of creation succeeded
  );
  CREATE INDEX containers_image ON containers(image_id);
  CREATE TABLE volumes (
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL DEFAULT 'local',
    created_at TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    anonymous INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE container_volumes (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    volume_name TEXT NOT NULL REFERENCES volumes(name),
    destination TEXT NOT NULL,
    PRIMARY KEY (container_id, destination)
  );
  CREATE INDEX container_volumes_volume ON container_volumes(volume_name);
  `,
  `
  -- The layers a container's root filesystem stacks, recorded at create: the container keeps
  -- them (and garbage collection spares them) even when its image is removed with rmi -f.
  CREATE TABLE container_layers (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    chain_id TEXT NOT NULL,
    PRIMARY KEY (container_id, idx)
  );
  CREATE INDEX container_layers_chain ON container_layers(chain_id);
  `,
  `
  -- The build cache: one row per build step, keyed by a digest of its parent step's key, the
  -- step as it runs and what it saw (build args, copied files' checksum). A hit reuses the
  -- layer (chain_id, '' for steps without one) and the history row's time, so a cached rebuild
  -- gives the same image ID. Rows keep their layers from garbage collection until builder prune.
  CREATE TABLE build_cache (
    key TEXT PRIMARY KEY,
    parent_key TEXT NOT NULL,
    description TEXT NOT NULL,
    created TEXT NOT NULL,
    diff_id TEXT NOT NULL DEFAULT '',
    chain_id TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_used INTEGER NOT NULL
  );
  CREATE INDEX build_cache_chain ON build_cache(chain_id);
  `,
  `
  -- Networks (bridge driver through CNI; host and none are predefined, with no device).
  CREATE TABLE networks (
    id TEXT PRIMARY KEY,              -- 64 hex
    name TEXT NOT NULL UNIQUE,
    driver TEXT NOT NULL,             -- bridge, host, null
    bridge TEXT NOT NULL DEFAULT '',  -- the host's bridge device
    subnet TEXT NOT NULL DEFAULT '',  -- CIDR
    gateway TEXT NOT NULL DEFAULT '',
    internal INTEGER NOT NULL DEFAULT 0,
    dns INTEGER NOT NULL DEFAULT 0,   -- containers resolve each other by name (user networks)
    predefined INTEGER NOT NULL DEFAULT 0,
    labels TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
  );
  -- A container's attachment to a network: configured at create/connect; the runtime columns
  -- (state onwards) are set while it is attached (state 'attaching' before the CNI ADD, so a
  -- killed process's half-made attachment is known and torn down by the next command).
  CREATE TABLE endpoints (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    network_id TEXT NOT NULL REFERENCES networks(id),
    idx INTEGER NOT NULL,             -- attachment order
    endpoint_id TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',
    ipv4_request TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',   -- '', attaching, attached
    ifname TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '', -- CIDR
    gateway TEXT NOT NULL DEFAULT '',
    mac TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL DEFAULT '',  -- the CNI ADD result, for DEL
    owner_pid INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (container_id, network_id)
  );
  CREATE INDEX endpoints_network ON endpoints(network_id);
  -- Host ports published while a container is attached (conflicts are checked against these).
  CREATE TABLE published_ports (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    host_ip TEXT NOT NULL,
    host_port INTEGER NOT NULL,
    container_port INTEGER NOT NULL,
    proto TEXT NOT NULL,
    PRIMARY KEY (container_id, host_ip, host_port, proto)
  );
  CREATE INDEX published_ports_port ON published_ports(host_port, proto);
  `,
  `
  -- The event journal: Docker's events (GET /events, berth events) from every process acting on
  -- the store, in append order (seq). Bounded: appending trims the oldest rows beyond the
  -- journal's retention (metadata/events.ts).
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_nano INTEGER NOT NULL,
    type TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    scope TEXT NOT NULL DEFAULT 'local'
  );
  CREATE INDEX events_time ON events(time_nano);
  `,
  `
  -- Leases (metadata/leases.ts): work in progress names the blobs and snapshots it has written or
  -- found and means to record; garbage collection spares them. A lease dies with its process
  -- (pid + start time); the next collection deletes the leases of dead processes.
  CREATE TABLE leases (
    id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    pid_start TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE lease_resources (
    lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('blob', 'snapshot')),
    key TEXT NOT NULL,
    PRIMARY KEY (lease_id, kind, key)
  );
  CREATE INDEX lease_resources_key ON lease_resources(kind, key);
  `,
  `
  -- A container's health (containers/health.ts): State.Health as JSON, '' for none (no
  -- healthcheck, or never started with one). Written by whoever starts or stops the container
  -- and by the health supervisor's probes, under the container's lock.
  ALTER TABLE containers ADD COLUMN health TEXT NOT NULL DEFAULT '';
  `,
  `
  -- What each build step saw last time (metadata/build-cache.ts): the inputs of its cache key
  -- (instruction, base, build args, environment, copied files' digests), by the step's place in a
  -- build (context, Dockerfile, stage, step), so the next build can say why a step missed the cache.
  CREATE TABLE build_steps (
    slot TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    inputs TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
];

/** The schema version a freshly opened database has. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenDatabaseOptions {
  readonly readonly?: boolean;
  /** How long a writer waits for another process's transaction, in ms. */
  readonly busyTimeoutMs?: number;
  /** Fail with NotFound instead of creating the database when it does not exist yet. */
  readonly mustExist?: boolean;
  /**
   * The path of better-sqlite3's compiled addon, when the caller knows it: without it,
   * better-sqlite3 looks for it through the `bindings` package (a dozen paths tried and a stack
   * trace read), and the bundled CLI could not find it at all.
   */
  readonly addon?: string;
}

export interface MetadataDb {
  readonly sqlite: Sqlite;
  /** Runs `fn` in an IMMEDIATE transaction (write lock taken at BEGIN). */
  write<T>(fn: () => T): T;
  /** Runs `fn` in a DEFERRED transaction, a consistent snapshot for several reads. */
  read<T>(fn: () => T): T;
  /**
   * The prepared statement of `sql`, compiled once per connection and reused (a listing runs the
   * same few queries for every container). Never change its mode (`pluck`, `raw`): it is shared.
   */
  prepared(sql: string): Database.Statement;
  close(): void;
}

export function openDatabase(path: string, opts: OpenDatabaseOptions = {}): MetadataDb {
  if (opts.mustExist && !existsSync(path)) throw notFound(`no berth store at ${dirname(path)}`);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let sqlite: Sqlite;
  try {
    sqlite = new Database(path, {
      timeout: opts.busyTimeoutMs ?? 30_000,
      ...(opts.addon ? { nativeBinding: opts.addon } : {}),
    });
  } catch (err) {
    throw unavailable(`cannot open the metadata database ${path}: ${errorMessage(err)}`, err);
  }
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  migrate(sqlite);
  const statements = new Map<string, Database.Statement>();
  return {
    sqlite,
    prepared: (sql) => {
      let stmt = statements.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        statements.set(sql, stmt);
      }
      return stmt;
    },
    write: (fn) => sqlite.transaction(fn).immediate(),
    read: (fn) => sqlite.transaction(fn).deferred(),
    close: () => sqlite.close(),
  };
}

function migrate(sqlite: Sqlite): void {
  const current = Number(sqlite.pragma("user_version", { simple: true }));
  if (current >= MIGRATIONS.length) return;
  sqlite
    .transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const version = Number(sqlite.pragma("user_version", { simple: true }));
      for (let v = version; v < MIGRATIONS.length; v++) {
        sqlite.exec(MIGRATIONS[v] as string);
      }
      sqlite.pragma(`user_version = ${MIGRATIONS.length}`);
    })
    .immediate();
}
