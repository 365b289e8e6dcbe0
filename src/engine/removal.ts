/**
 * What removal would do to a user's data, computed from Engine data only: the files a
 * container's writable layer loses with `rm`, the anonymous volumes `rm` keeps, and which
 * containers hold an image so that `rmi` refuses it. The CLI's hints (after the fact, on stderr)
 * and the web view (before the user acts) both read it; each renders it its own way. Pure: it
 * reaches the store only through the Engine methods it is handed (local, or the API over HTTP).
 */
import { isBerthError } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import type { MountPoint } from "./types.js";

/** The label the volume store gives volumes created without a name. */
export const ANONYMOUS_VOLUME_LABEL = "com.docker.volume.anonymous";

/** What removing one container loses and keeps, measured before it is removed. */
export interface RemovalLoss {
  readonly name: string;
  /** Changed, added or deleted paths of the writable layer outside every mount (leaves only). */
  readonly paths: readonly string[];
  /** The writable layer's size (SizeRw); read only when something is lost, else 0. */
  readonly bytes: number;
  /** Anonymous volumes the container uses (kept unless removed with -v). */
  readonly anonymousVolumes: readonly { readonly name: string; readonly destination: string }[];
}

/**
 * What measuring a removal reads, as the Engine answers it (an Engine is one; so is a reader of
 * the same API answers over HTTP that decodes only these fields).
 */
export interface RemovalReader {
  containerInspect(
    id: string,
    opts?: { size?: boolean },
  ): Promise<{
    readonly Id: string;
    readonly Name: string;
    readonly Mounts?: readonly Pick<MountPoint, "Type" | "Name" | "Destination">[];
    readonly SizeRw?: number;
  }>;
  containerChanges(id: string): Promise<readonly { readonly Path: string }[]>;
  volumeInspect(name: string): Promise<{ readonly Labels?: Readonly<Record<string, string>> | null }>;
}

/** What finding an image's users reads (Engine methods, or the same answers over HTTP). */
export interface ImageUsersReader<C extends { readonly ImageID: string }> {
  imageInspect(name: string): Promise<{ readonly Id: string }>;
  containerList(opts: { all: boolean }): Promise<C[]>;
}

function under(path: string, dest: string): boolean {
  return path === dest || path.startsWith(dest.endsWith("/") ? dest : `${dest}/`);
}

/**
 * The paths of `changes` that are data: leaves (a directory is listed only when nothing below it
 * changed) outside every mount destination (the mount points runc creates are not data).
 */
export function lostPaths<C extends { readonly Path: string }>(
  changes: readonly C[],
  mountDestinations: readonly string[],
): string[] {
  const sorted = changes.map((c) => c.Path).sort();
  const out: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i] as string;
    const next = sorted[i + 1];
    if (next?.startsWith(`${p}/`)) continue; // a directory with changes below it
    if (mountDestinations.some((d) => under(p, d))) continue;
    out.push(p);
  }
  return out;
}

/**
 * Measures what removing `ref` loses. Cheap for a container without changes: one inspect and a
 * walk of an (almost) empty writable layer; the layer's size is read only when something is lost.
 * Undefined when the container cannot be read (the removal then reports its own error).
 */
export async function measureRemoval(engine: RemovalReader, ref: string): Promise<RemovalLoss | undefined> {
  try {
    const info = await engine.containerInspect(ref);
    const mounts = info.Mounts ?? [];
    const changes = await engine.containerChanges(info.Id);
    const paths = lostPaths(
      changes,
      mounts.map((m) => m.Destination),
    );
    const bytes =
      paths.length > 0 ? ((await engine.containerInspect(info.Id, { size: true })).SizeRw ?? 0) : 0;
    const anonymousVolumes: { name: string; destination: string }[] = [];
    for (const m of mounts) {
      if (m.Type !== "volume" || !m.Name) continue;
      const v = await bestEffort(`inspecting volume ${m.Name}`, engine.volumeInspect(m.Name));
      if (v?.Labels?.[ANONYMOUS_VOLUME_LABEL] !== undefined)
        anonymousVolumes.push({ name: m.Name, destination: m.Destination });
    }
    return { name: info.Name.replace(/^\//, ""), paths, bytes, anonymousVolumes };
  } catch {
    // A measurement must never fail the removal: a container removed or changing under a racing
    // process (its layer vanishing mid-walk) just has no measurement.
    return undefined;
  }
}

/** A container in one of these states must be stopped (or removed with force) first. */
export function isActiveState(state: string): boolean {
  return state === "running" || state === "paused" || state === "restarting";
}

/** The containers whose image is `ref`'s image, or [] when `ref` names no image. */
export async function imageUsers<C extends { readonly ImageID: string }>(
  engine: ImageUsersReader<C>,
  ref: string,
): Promise<C[]> {
  try {
    const img = await engine.imageInspect(ref);
    const all = await engine.containerList({ all: true });
    return all.filter((c) => c.ImageID === img.Id);
  } catch (err) {
    if (isBerthError(err)) return [];
    throw err;
  }
}

/** What pruning would lose, per stopped container (by ID), measured before the prune. */
export async function measureStopped(
  engine: RemovalReader & {
    containerList(opts: {
      all: boolean;
    }): Promise<readonly { readonly Id: string; readonly State: string }[]>;
  },
): Promise<Map<string, RemovalLoss>> {
  const out = new Map<string, RemovalLoss>();
  // A measurement never fails the prune: without the list, nothing is measured.
  const list =
    (await bestEffort("listing containers to measure them", engine.containerList({ all: true }))) ?? [];
  for (const c of list) {
    if (isActiveState(c.State)) continue;
    const loss = await measureRemoval(engine, c.Id);
    if (loss) out.set(c.Id, loss);
  }
  return out;
}

/** The measured losses of the containers a prune deleted. */
export function prunedLosses(
  before: ReadonlyMap<string, RemovalLoss>,
  deleted: readonly string[],
): RemovalLoss[] {
  return deleted.flatMap((id) => {
    const l = before.get(id);
    return l ? [l] : [];
  });
}
