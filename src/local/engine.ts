/**
 * The composition root: the one place that wires stores and services into an Engine that runs
 * in this process. The daemonless CLI and `berth serve` both use it.
 *
 * Lifecycle: `openLocalEngine()` opens the database and repairs what a killed process may have
 * left (stale ingests, half-unpacked snapshots); `close()` releases the database.
 */
import { notImplemented } from "../base/errors.js";
import type { HostPlatform } from "../config/host.js";
import { layout, type Roots } from "../config/roots.js";
import { LocalContentStore } from "../content/local-content-store.js";
import type { Engine } from "../engine/engine.js";
import { loadImages } from "../images/archive-load.js";
import { resolveForSave, saveImages } from "../images/archive-save.js";
import { importImage } from "../images/import.js";
import { ImageService } from "../images/service.js";
import { ImageStore } from "../images/store.js";
import { openDatabase } from "../metadata/db.js";
import { Snapshotter } from "../snapshots/snapshotter.js";
import { LocalVolumeService } from "../volumes/service.js";

/** A progress stream that fails at once (for operations not wired yet). */
async function* failingStream(err: Error): AsyncIterable<never> {
  yield* [];
  throw err;
}

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
    // Registries (issue 6) — replaced by the registry client.
    imagePull: () => failingStream(notImplemented("pull is not implemented yet")),
    imagePush: () => failingStream(notImplemented("push is not implemented yet")),
    registryLogin: () => Promise.reject(notImplemented("login is not implemented yet")),
    close: async () => db.close(),
  };
}
