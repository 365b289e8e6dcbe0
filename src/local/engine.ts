/**
 * The composition root: the one place that wires stores and services into an Engine that runs
 * in this process. The daemonless CLI and `berth serve` both use it.
 *
 * Lifecycle: `openLocalEngine()` opens the database and repairs what a killed process may have
 * left (stale ingests, half-unpacked snapshots); `close()` releases the database.
 */
import type { HostPlatform } from "../config/host.js";
import { layout, type Roots } from "../config/roots.js";
import { LocalContentStore } from "../content/local-content-store.js";
import type { Engine } from "../engine/engine.js";
import { loadImages } from "../images/archive-load.js";
import { resolveForSave, saveImages } from "../images/archive-save.js";
import { importImage } from "../images/import.js";
import { pullImage } from "../images/pull.js";
import { pushImage } from "../images/push.js";
import { ImageService } from "../images/service.js";
import { ImageStore } from "../images/store.js";
import { registryLogin } from "../images/transfer.js";
import { openDatabase } from "../metadata/db.js";
import { loadRegistrySettings } from "../registry/settings.js";
import { Snapshotter } from "../snapshots/snapshotter.js";
import { LocalVolumeService } from "../volumes/service.js";

/** Leftovers of a killed process older than this are removed at startup. */
const STALE_AFTER_MS = 60 * 60 * 1000;

export interface LocalEngineOptions {
  readonly roots: Roots;
  readonly hostPlatform: HostPlatform;
  readonly now?: () => number;
}

export async function openLocalEngine(opts: LocalEngineOptions): Promise<Engine> {
  const paths = layout(opts.roots);
  const db = openDatabase(paths.database);
  const content = new LocalContentStore({ blobs: paths.blobs, ingest: paths.ingest });
  const snapshots = new Snapshotter(paths.snapshots);
  const store = new ImageStore({ db, content, snapshots, ...(opts.now ? { now: opts.now } : {}) });
  const images = new ImageService(store);
  await content.cleanupIngest({ olderThanMs: STALE_AFTER_MS });
  await snapshots.cleanupStale(STALE_AFTER_MS);
  const volumes = new LocalVolumeService({ db, dir: paths.volumes, ...(opts.now ? { now: opts.now } : {}) });
  await volumes.cleanupStale(STALE_AFTER_MS);
  const { hostPlatform } = opts;

  return {
    imageList: (o) => images.list(o),
    imageInspect: (name) => images.inspect(name),
    imageHistory: (name) => images.history(name),
    imageTag: (source, target) => images.tag(source, target),
    imageRemove: (name, o) => images.remove(name, o),
    imagePrune: (o) => images.prune(o),
    imageImport: (source, o = {}) => importImage(store, source, { ...o, hostPlatform }),
    imageSave: async (names, o = {}) => saveImages(store, resolveForSave(store, names), o),
    imageLoad: (source, o = {}) => loadImages(store, source, { ...o, hostPlatform }),
    systemDf: async () => ({ ...(await images.diskUsage()), Volumes: await volumes.diskUsage() }),
    volumeCreate: (req) => volumes.create(req),
    volumeList: (o) => volumes.list(o),
    volumeInspect: (name) => volumes.inspect(name),
    volumeRemove: (name, o) => volumes.remove(name, o),
    volumePrune: (o) => volumes.prune(o),
    // Registries (issue 6): settings (insecure registries) are read when an operation starts.
    imagePull: (ref, o = {}) =>
      pullImage(store, ref, { ...o, hostPlatform, registry: loadRegistrySettings(process.env) }),
    imagePush: (ref, o = {}) => pushImage(store, ref, { ...o, registry: loadRegistrySettings(process.env) }),
    registryLogin: (auth) => registryLogin(auth, { registry: loadRegistrySettings(process.env) }),
    close: async () => db.close(),
  };
}
