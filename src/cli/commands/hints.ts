/**
 * What removal does to a user's data, said on stderr where Docker stays silent: the files a
 * container's writable layer loses with `rm`, the anonymous volumes `rm` keeps, and which
 * containers hold an image `rmi` refuses (or only untags with -f), measured by engine/removal.ts
 * through the Engine contract, so it works the same against `berth serve` (and the web view
 * shows the same measurements before the user acts). None of it changes stdout or an exit code;
 * `BERTH_HINTS=0` silences it.
 */
import { isActiveState, type RemovalLoss } from "../../engine/removal.js";
import type { ContainerSummary } from "../../engine/types.js";
import { humanSize } from "../format/units.js";

/** How many lost paths a warning names. */
const SHOWN_PATHS = 3;

export function hintsEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.BERTH_HINTS;
  return v === undefined || !/^(0|false|no|off)$/i.test(v.trim());
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

const containerName = (c: ContainerSummary) => (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, "");

/** Why `rmi ref` was refused, and the exact commands that free the image. */
export function rmiRefusalHint(ref: string, users: readonly ContainerSummary[], program: string): string {
  if (users.length === 0) return "";
  const lines = users.map((c) => `    ${containerName(c)}  (${c.Status || c.State})`);
  const running = users.some((c) => isActiveState(c.State));
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
