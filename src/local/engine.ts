/**
 * The composition root: the one place that wires stores and services into an Engine that runs
 * in this process. The daemonless CLI and `berth serve` both use it.
 *
 * Lifecycle: `openLocalEngine()` opens the database and repairs what a killed process may have
 * left (stale ingests, half-unpacked snapshots); `close()` releases the database.
 * It holds no logic of its own beyond the wiring: every operation belongs to a service.
 */
import { buildCacheUsage, pruneBuildCache } from "../builder/prune.js";
import { sweepStaleWorkspaces } from "../builder/workspace.js";
import type { HostPlatform } from "../config/host.js";
import { DEFAULT_ROOT, layout, type Roots } from "../config/roots.js";
import { ContainerFiles } from "../containers/archive.js";
import { ExecService } from "../containers/exec.js";
import {
  HealthSupervisor,
  superviseAsSingleton,
  superviseWhileServing,
} from "../containers/health-supervisor.js";
import { ContainerService } from "../containers/service.js";
import { buildSpecJson } from "../containers/spec.js";
import { LocalContentStore } from "../content/local-content-store.js";
import type { Engine } from "../engine/engine.js";
import { ImageService } from "../images/service.js";
import { ImageStore } from "../images/store.js";
import { BuildCacheMetadata } from "../metadata/build-cache.js";
import { openDatabase } from "../metadata/db.js";
import { EventJournal, validateEventFilters } from "../metadata/events.js";
import { VolumeMetadata } from "../metadata/volumes.js";
import { NetworkService } from "../network/service.js";
import { loadNetworkSettings } from "../network/settings.js";
import { parseNormalizedNamed } from "../oci/reference.js";
import { credentialKey } from "../registry/endpoint.js";
import { loadRegistrySettings } from "../registry/settings.js";
import { RuntimeDriver } from "../runtime/driver.js";
import { hostFacts } from "../runtime/host-facts.js";
import { Snapshotter } from "../snapshots/snapshotter.js";
import { launchProgram } from "../sys/exec.js";
import { LockDir } from "../sys/lock.js";
import { LocalVolumeService } from "../volumes/service.js";
import { systemInfo, systemVersion } from "./system.js";

/**
 * Modules only some requests need — the builder, the registry client (pull, push, login,
 * distribution), image archives (save, load, import) and commit — are loaded by the first
 * request that does (a long-lived `berth serve` that never builds never holds the builder).
 */
const lazy = {
  builder: () => import("../builder/builder.js"),
  commit: () => import("../containers/commit.js"),
  load: () => import("../images/archive-load.js"),
  save: () => import("../images/archive-save.js"),
  distribution: () => import("../images/distribution.js"),
  importing: () => import("../images/import.js"),
  pull: () => import("../images/pull.js"),
  push: () => import("../images/push.js"),
  transfer: () => import("../images/transfer.js"),
};

/** A stream whose producer is in a module loaded when the stream is first read. */
async function* lazyStream<T>(open: () => Promise<AsyncIterable<T>>): AsyncIterable<T> {
  yield* await open();
}

/** Leftovers of a killed process older than this are removed at startup. */
const STALE_AFTER_MS = 60 * 60 * 1000;
/** Partial pull downloads (resumable) not written to for this long are removed at startup. */
const RESUMABLE_STALE_AFTER_MS = 24 * 60 * 60 * 1000;

export interface LocalEngineOptions {
  readonly roots: Roots;
  readonly hostPlatform: HostPlatform;
  /** The berth entry script conmon's exit command runs (`node SCRIPT container cleanup ID`). */
  readonly berthScript: string;
  readonly now?: () => number;
  /** Open only a store that exists (NotFound otherwise): for conmon's exit command, whose store may be gone. */
  readonly existingStore?: boolean;
  /** berth's version, which `info` and `version` report for the engine. */
  readonly version?: string;
  /** better-sqlite3's compiled addon (metadata/db.ts `addon`). */
  readonly sqliteAddon?: string;
}

/**
 * Opens the store and builds the engine on it. Long on purpose: this is the composition root —
 * every service built in dependency order (database, content, snapshots, images, volumes, the
 * runtime drivers, network, containers), stale leftovers swept, then the Engine's method table,
 * one line from each method to the service that owns it. Split, the wiring would be scattered.
 */
export async function openLocalEngine(opts: LocalEngineOptions): Promise<Engine> {
  const paths = layout(opts.roots);
  const healthPidFile = `${opts.roots.runroot}/health-supervisor.pid`;
  const db = openDatabase(paths.database, {
    mustExist: !!opts.existingStore,
    ...(opts.sqliteAddon ? { addon: opts.sqliteAddon } : {}),
  });
  const journal = new EventJournal(db, opts.now ? { now: opts.now } : {});
  const content = new LocalContentStore({
    blobs: paths.blobs,
    ingest: paths.ingest,
    ingestLocks: new LockDir(paths.locks),
  });
  const snapshots = new Snapshotter(paths.snapshots);
  const store = new ImageStore({
    db,
    content,
    snapshots,
    events: journal,
    ...(opts.now ? { now: opts.now } : {}),
  });
  // Resumable pull downloads are kept longer (a pull retried the next day resumes), and while
  // a lease names their blob (a pull in progress, or one killed until its lease is reaped).
  let leasedBlobs: Set<string> | undefined;
  await content.cleanupIngest({
    olderThanMs: STALE_AFTER_MS,
    resumableOlderThanMs: RESUMABLE_STALE_AFTER_MS,
    keepResumable: (digest) => {
      leasedBlobs ??= store.leases.leased("blob");
      return leasedBlobs.has(digest);
    },
  });
  await snapshots.cleanupStale(STALE_AFTER_MS);
  const volumes = new LocalVolumeService({
    db,
    dir: paths.volumes,
    events: journal,
    ...(opts.now ? { now: opts.now } : {}),
  });
  await volumes.cleanupStale(STALE_AFTER_MS);
  const { hostPlatform } = opts;
  /** The arguments after `node` that run `berth container VERB…` on this engine's stores. */
  const containerVerb = (...verb: string[]): string[] => [
    "--",
    opts.berthScript,
    "--root",
    opts.roots.root,
    "--runroot",
    opts.roots.runroot,
    "container",
    ...verb,
  ];
  const driver = new RuntimeDriver({
    containersDir: paths.containers,
    runcRoot: paths.runc,
    exitDir: paths.exits,
    conmonDir: paths.conmon,
    snapshots,
    exitCommand: (id) => ({
      path: process.execPath,
      // `--`: none of these arguments is Node's (see bin/berth).
      args: containerVerb("cleanup", id),
    }),
    env: process.env,
  });
  const network = new NetworkService({
    db,
    netnsDir: paths.netns,
    cniDir: `${opts.roots.runroot}/cni`,
    dnsDir: `${opts.roots.runroot}/aardvark`,
    settings: loadNetworkSettings(process.env, { root: opts.roots.root, defaultRoot: DEFAULT_ROOT }),
    events: journal,
    ...(opts.now ? { now: opts.now } : {}),
  });
  network.ensurePredefined();
  const containers = new ContainerService({
    db,
    network,
    images: store,
    volumes,
    volumeMeta: new VolumeMetadata(db),
    driver,
    buildSpec: async (ctx) => buildSpecJson(ctx, await hostFacts()),
    locks: new LockDir(paths.locks),
    repairMarker: `${opts.roots.runroot}/repaired`,
    healthSupervisor: {
      pidFile: healthPidFile,
      // A process of its own, outliving this one: `node SCRIPT container health-supervisor`.
      spawn: () => {
        const { child } = launchProgram(process.execPath, containerVerb("health-supervisor"), {
          stdio: "ignore",
          detached: true,
          env: process.env,
        });
        child.on("error", () => undefined);
        child.unref();
      },
    },
    ...(opts.now ? { now: opts.now } : {}),
  });
  const execs = new ExecService({
    containers,
    driver,
    execDir: `${opts.roots.runroot}/exec`,
    hostCapabilities: async () => (await hostFacts()).capabilities,
    env: process.env,
  });
  const files = new ContainerFiles(containers);
  // Build steps run on their own driver: workspaces under <root>/builds, never containers.
  const buildDriver = new RuntimeDriver({
    containersDir: `${opts.roots.root}/builds`,
    runcRoot: paths.runc,
    exitDir: paths.exits,
    conmonDir: paths.conmon,
    snapshots,
    exitCommand: () => ({ path: "/bin/true", args: [] }),
    env: process.env,
  });
  await sweepStaleWorkspaces(buildDriver, `${opts.roots.root}/builds`);
  const buildCache = new BuildCacheMetadata(db);
  const images = new ImageService(store, { containersUsing: (id) => containers.containersUsing(id) });

  return {
    imageList: (o) => images.list(o),
    imageInspect: (name) => images.inspect(name),
    imageHistory: (name) => images.history(name),
    imageAnalyze: (name, o = {}) => images.analyze(name, o),
    imageTag: (source, target) => images.tag(source, target),
    imageRemove: (name, o) => images.remove(name, o),
    imagePrune: (o) => images.prune(o),
    imageImport: async (source, o = {}) =>
      (await lazy.importing()).importImage(store, source, { ...o, hostPlatform }),
    imageSave: async (names, o = {}) => {
      const { saveImages, resolveForSave } = await lazy.save();
      return saveImages(store, resolveForSave(store, names), o);
    },
    imageLoad: async (source, o = {}) =>
      (await lazy.load()).loadImages(store, source, { ...o, hostPlatform }),
    systemInfo: async () =>
      systemInfo({
        containers: await containers.list({ all: true }),
        images: (await images.list({ all: false })).length,
        root: opts.roots.root,
        version: opts.version ?? "dev",
        host: await hostFacts(),
        insecureRegistries: loadRegistrySettings(process.env).insecureRegistries ?? [],
      }),
    systemVersion: async () => systemVersion(opts.version ?? "dev"),
    systemDf: async () => ({
      ...(await images.diskUsage()),
      Containers: await containers.list({ all: true, size: true }),
      Volumes: await volumes.diskUsage(),
      BuildCache: buildCacheUsage(buildCache),
    }),
    imageBuild: (source, o = {}) =>
      lazyStream(async () =>
        (await lazy.builder()).buildImage(
          {
            store,
            driver: buildDriver,
            cache: buildCache,
            tmpDir: paths.tmp,
            cacheMountsDir: `${opts.roots.root}/build-mounts`,
            hostPlatform,
            hostFacts,
            sandbox: {
              attach: (id) => network.attachSandbox(id),
              detach: (id) => network.detachSandbox(id),
            },
            pull: async (ref, signal) => {
              const auth = o.RegistryAuth?.[credentialKey(parseNormalizedNamed(ref).domain)];
              const { pullImage } = await lazy.pull();
              for await (const _ of pullImage(store, ref, {
                hostPlatform,
                registry: loadRegistrySettings(process.env),
                signal,
                ...(auth ? { auth } : {}),
              })) {
                // progress is not shown for base images pulled by a build
              }
            },
            ...(opts.now ? { now: opts.now } : {}),
          },
          source,
          o,
        ),
      ),
    buildPrune: (o) => pruneBuildCache(store, buildCache, o),
    volumeCreate: (req) => volumes.create(req),
    volumeList: (o) => volumes.list(o),
    volumeInspect: (name) => volumes.inspect(name),
    volumeRemove: (name, o) => volumes.remove(name, o),
    volumePrune: (o) => volumes.prune(o),
    // Registry settings (insecure registries) are read when an operation starts.
    imagePull: (ref, o = {}) =>
      lazyStream(async () =>
        (await lazy.pull()).pullImage(store, ref, {
          ...o,
          hostPlatform,
          registry: loadRegistrySettings(process.env),
        }),
      ),
    imagePush: (ref, o = {}) =>
      lazyStream(async () =>
        (await lazy.push()).pushImage(store, ref, { ...o, registry: loadRegistrySettings(process.env) }),
      ),
    distributionInspect: async (ref, o = {}) =>
      (await lazy.distribution()).inspectDistribution(ref, {
        ...o,
        registry: loadRegistrySettings(process.env),
      }),
    registryLogin: async (auth) =>
      (await lazy.transfer()).registryLogin(auth, { registry: loadRegistrySettings(process.env) }),
    containerCreate: async (req, o) => {
      // Repairs first what a killed process left (attachments, namespaces), as ps does.
      await containers.reconcile();
      return containers.create(req, o);
    },
    containerStart: (id, o = {}) =>
      containers.start(id, {
        ...(o.attach ? { attach: o.attach } : {}),
        ...(o.foreground ? { foreground: true } : {}),
      }),
    containerStop: (id, o) => containers.stop(id, o),
    containerRestart: (id, o) => containers.restart(id, o),
    containerKill: (id, signal) => containers.kill(id, signal),
    containerRemove: (id, o) => containers.remove(id, o),
    containerList: (o) => containers.list(o),
    containerInspect: (id, o) => containers.inspect(id, o),
    containerWait: async (id, o) => ({ StatusCode: await containers.wait(id, o) }),
    containerLogs: (id, o = {}) => containers.logs(id, o),
    containerPause: (id) => containers.pause(id),
    containerUnpause: (id) => containers.unpause(id),
    containerRename: (id, name) => containers.rename(id, name),
    containerUpdate: (id, req) => containers.updateResources(id, req),
    containerUpdatePorts: (id, req) => containers.updatePorts(id, req),
    containerPrune: (o) => containers.prune(o ?? {}),
    containerCleanup: (id) => containers.cleanup(id),
    containerForegroundExit: (id) => containers.foregroundExit(id),
    superviseHealth: async (o) => {
      containers.hostsHealthSupervisor = true;
      const supervisor = new HealthSupervisor(containers, execs);
      if (o.serving && o.signal) {
        await superviseWhileServing(supervisor, containers, { pidFile: healthPidFile, signal: o.signal });
        return;
      }
      await superviseAsSingleton(supervisor, containers, {
        pidFile: healthPidFile,
        exitWhenIdle: true,
        ...(o.signal ? { signal: o.signal } : {}),
      });
    },
    containersStartup: () => containers.startByRestartPolicy(),
    containerChanges: (id) => files.changes(id),
    containerCommit: async (id, o) => (await lazy.commit()).commitContainer(containers, id, o),
    containerExport: (id, o) => files.export(id, o),
    containerStatPath: (id, path) => files.statPath(id, path),
    containerArchive: (id, path, o) => files.archive(id, path, o),
    containerExtractArchive: (id, path, source, o) => files.extract(id, path, source, o),
    containerExec: (id, config, o = {}) => execs.exec(id, config, o),
    containerAttach: (id, handlers) => containers.attach(id, handlers),
    networkCreate: async (req) => network.create(req),
    networkList: async (o = {}) => network.list(o),
    networkInspect: async (id) => {
      await containers.reconcile();
      return network.inspect(id);
    },
    networkRemove: async (id) => {
      await containers.reconcile();
      await network.remove(id);
    },
    networkPrune: async (o = {}) => {
      await containers.reconcile();
      return network.prune(o);
    },
    networkConnect: (id, req) => containers.connectNetwork(id, req.Container, req.EndpointConfig ?? {}),
    networkDisconnect: (id, req) => containers.disconnectNetwork(id, req.Container),
    containerTop: (id, psArgs) => containers.top(id, psArgs),
    containerStats: (id) => containers.stats(id),
    containerStatsStream: (id, o = {}) => containers.statsStream(id, o),
    events: (o = {}) => {
      // Checked at the call, so a server can refuse bad filters before it starts the stream.
      validateEventFilters(o.filters ?? {});
      return journal.stream(o);
    },
    close: async () => db.close(),
  };
}
