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
import { ImageService } from "../images/service.js";
import { ImageStore } from "../images/store.js";
import { openDatabase } from "../metadata/db.js";
import { Snapshotter } from "../snapshots/snapshotter.js";

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
    systemDf: () => images.diskUsage(),
    close: async () => db.close(),
  };
}
