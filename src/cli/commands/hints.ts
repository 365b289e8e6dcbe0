/**
 * What removal does to a user's data, said on stderr where Docker stays silent: the files a
 * container's writable layer loses with `rm`, the anonymous volumes `rm` keeps, and which
 * containers hold an image `rmi` refuses (or only untags with -f). Everything here goes through
 * the Engine contract (inspect, changes, volume inspect, container list), so it works the same
 * against `berth serve`. None of it changes stdout or an exit code; `BERTH_HINTS=0` silences it.
 */
import { isBerthError } from "../../base/errors.js";
import type { Engine } from "../../engine/engine.js";
import type { ContainerChange, ContainerSummary, MountPoint } from "../../engine/types.js";
import { humanSize } from "../format/units.js";

/** The label the volume store gives volumes created without a name. */
const ANONYMOUS_LABEL = "com.docker.volume.anonymous";
/** How many lost paths a warning names. */
const SHOWN_PATHS = 3;

export function hintsEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.BERTH_HINTS;
  return v === undefined || !/^(0|false|no|off)$/i.test(v.trim());
}

/** What removing one container loses and keeps, measured before it is removed. */
export interface RemovalLoss {
  readonly name: string;
  /** Changed, added or deleted paths of the writable layer outside every mount (leaves only). */
  readonly paths: readonly string[];
  readonly bytes: number;
  /** Anonymous volumes the container uses (kept unless removed with -v). */
  readonly anonymousVolumes: readonly { readonly name: string; readonly destination: string }[];
}

function under(path: string, dest: string): boolean {
  return path === dest || path.startsWith(dest.endsWith("/") ? dest : `${dest}/`);
}

/**
 * The paths of `changes` that are data: leaves (a directory is listed only when nothing below it
 * changed) outside every mount destination (the mount points runc creates are not data).
 */
export function lostPaths(
  changes: readonly ContainerChange[],
  mountDestinations: readonly string[],
): string[] {
  const paths = changes.map((c) => c.Path);
  const sorted = [...paths].sort();
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
export async function measureRemoval(engine: Engine, ref: string): Promise<RemovalLoss | undefined> {
  try {
    const info = await engine.containerInspect(ref);
    const mounts: readonly MountPoint[] = info.Mounts ?? [];
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
      const v = await engine.volumeInspect(m.Name).catch(() => undefined);
      if (v?.Labels?.[ANONYMOUS_LABEL] !== undefined)
        anonymousVolumes.push({ name: m.Name, destination: m.Destination });
    }
    return { name: info.Name.replace(/^\//, ""), paths, bytes, anonymousVolumes };
  } catch {
    // A note must never fail the removal: a container removed or changing under a racing
    // process (its layer vanishing mid-walk) just gets no note.
    return undefined;
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The stderr lines after `rm` removed a container (empty when nothing was lost or kept). */
export function removalHint(
  loss: RemovalLoss,
  opts: { readonly program: string; readonly volumesRemoved: boolean },
): string {
  const p = opts.program;
  const name = loss.name;
  let out = "";
  if (loss.paths.length > 0) {
    const shown = loss.paths.slice(0, SHOWN_PATHS).join(", ");
    const more = loss.paths.length > SHOWN_PATHS ? ` and ${loss.paths.length - SHOWN_PATHS} more` : "";
    const first = loss.paths[0] as string;
    // A volume mounts a directory: the lost file's own, or (for a file at the root) one to write in.
    const dir = first.slice(0, first.lastIndexOf("/")) || "/DIR";
    out +=
      `${p}: removed ${name}: ${plural(loss.paths.length, "changed file")} (${humanSize(loss.bytes)}) of its writable layer are lost: ${shown}${more}\n` +
      `  to keep them next time: put the path on a volume (-v NAME:${dir}), save the container as an image (${p} commit ${name} IMAGE), or copy files out first (${p} cp ${name}:${first} .)\n`;
  }
  if (!opts.volumesRemoved && loss.anonymousVolumes.length > 0) {
    const list = loss.anonymousVolumes.map((v) => `${v.name.slice(0, 12)} (${v.destination})`).join(", ");
    const names = loss.anonymousVolumes.map((v) => v.name).join(" ");
    out +=
      `${p}: ${name}'s anonymous ${loss.anonymousVolumes.length === 1 ? "volume remains" : "volumes remain"}: ${list}\n` +
      `  remove with: ${p} volume rm ${names}   (next time: ${p} rm -v ${name})\n`;
  }
  return out;
}

/** One line per removed container for the prune commands. */
export function pruneSummary(
  losses: readonly RemovalLoss[],
  program: string,
  opts: { readonly volumesRemoved?: boolean } = {},
): string {
  let out = "";
  const keptVolumes = (l: RemovalLoss) => (opts.volumesRemoved ? [] : l.anonymousVolumes);
  for (const l of losses) {
    const parts: string[] = [];
    if (l.paths.length > 0)
      parts.push(
        `lost ${plural(l.paths.length, "changed file")} (${humanSize(l.bytes)}): ${l.paths.slice(0, SHOWN_PATHS).join(", ")}${l.paths.length > SHOWN_PATHS ? " …" : ""}`,
      );
    const kept = keptVolumes(l);
    if (kept.length > 0)
      parts.push(
        `kept ${plural(kept.length, "anonymous volume")}: ${kept.map((v) => v.name.slice(0, 12)).join(" ")}`,
      );
    if (parts.length > 0) out += `${program}: ${l.name}: ${parts.join("; ")}\n`;
  }
  if (losses.some((l) => keptVolumes(l).length > 0))
    out += `  kept anonymous volumes are removed with: ${program} volume prune\n`;
  return out;
}

/** The containers whose image is `ref`'s image, or [] when `ref` names no image. */
export async function imageUsers(engine: Engine, ref: string): Promise<ContainerSummary[]> {
  try {
    const img = await engine.imageInspect(ref);
    const all = await engine.containerList({ all: true });
    return all.filter((c) => c.ImageID === img.Id);
  } catch (err) {
    if (isBerthError(err)) return [];
    throw err;
  }
}

const containerName = (c: ContainerSummary) => (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, "");

/** Why `rmi ref` was refused, and the exact commands that free the image. */
export function rmiRefusalHint(ref: string, users: readonly ContainerSummary[], program: string): string {
  if (users.length === 0) return "";
  const lines = users.map((c) => `    ${containerName(c)}  (${c.Status || c.State})`);
  const running = users.some(
    (c) => c.State === "running" || c.State === "paused" || c.State === "restarting",
  );
  const names = users.map(containerName).join(" ");
  return (
    `${program}: image ${ref} is held by ${plural(users.length, "container")}:\n${lines.join("\n")}\n` +
    `  to free it: ${program} rm ${running ? "-f " : ""}${names} && ${program} rmi ${ref}\n`
  );
}

/** What `rmi -f` did to an image containers still use. */
export function rmiForcedHint(imageId: string, users: readonly ContainerSummary[], program: string): string {
  if (users.length === 0) return "";
  const names = users.map(containerName).join(" ");
  return (
    `${program}: ${plural(users.length, "container")} (${names}) keep${users.length === 1 ? "s" : ""} using image ${imageId.replace(/^sha256:/, "").slice(0, 12)}; ` +
    `it is untagged, not deleted (shown as <none> in \`${program} images\`) until they are removed\n`
  );
}

/** What pruning would lose, per stopped container (by ID), measured before the prune. */
export async function measureStopped(engine: Engine): Promise<Map<string, RemovalLoss>> {
  const out = new Map<string, RemovalLoss>();
  const list = await engine.containerList({ all: true }).catch(() => []);
  for (const c of list) {
    if (c.State === "running" || c.State === "paused" || c.State === "restarting") continue;
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
