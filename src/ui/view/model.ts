/**
 * What the web view shows, computed from the API's answers: each image as a stack of layers
 * (size, the instruction that made it, which other images share it), the containers made from
 * it, their published ports as links and the command that enters each. Pure; the page renders it.
 */
import { isActiveState } from "../../engine/removal.js";
import type { ContainerRow, HistoryRow, ImageDetails, ImageRow, PortRow } from "./decode.js";

export interface Layer {
  /** Position from the bottom, 0 first. */
  readonly index: number;
  readonly diffId: string;
  /** The layer with everything below it (what a snapshot is): equal keys are one stored layer. */
  readonly chainKey: string;
  /** Bytes of its files; absent when the history could not be matched to the layers. */
  readonly size?: number;
  /** The history row's instruction, "" when unknown. */
  readonly createdBy: string;
  /** False when the history could not be matched to the layers for certain. */
  readonly exact: boolean;
}

export interface ImageView {
  readonly id: string;
  /** The image's tags, or its short ID when untagged. */
  readonly names: readonly string[];
  readonly tags: readonly string[];
  readonly size: number;
  /** Bottom first. */
  readonly layers: readonly Layer[];
  /**
   * History rows that made no layer (ENV, CMD, EXPOSE, …), oldest first; every row when the
   * history could not be matched to the layers.
   */
  readonly configSteps: readonly string[];
}

/** Instructions that change only the image's configuration, never its files. */
const CONFIG_ONLY =
  /^(ENV|CMD|ENTRYPOINT|EXPOSE|LABEL|USER|ARG|VOLUME|STOPSIGNAL|HEALTHCHECK|SHELL|ONBUILD|MAINTAINER)\b/i;

/** The instruction as a reader would write it: no `/bin/sh -c #(nop)`, no `# buildkit`. */
export function instructionText(createdBy: string): string {
  let s = createdBy.trim();
  s = s.replace(/\s+# buildkit$/, "");
  const nop = /^\/bin\/sh -c #\(nop\)\s*/.exec(s);
  if (nop) return s.slice(nop[0].length).trim();
  if (s.startsWith("/bin/sh -c ")) return `RUN ${s.slice("/bin/sh -c ".length)}`;
  return s;
}

function makesLayer(createdBy: string): boolean {
  return !CONFIG_ONLY.test(instructionText(createdBy));
}

/**
 * Matches history rows (as the API gives them, newest first) to the layers (bottom first). A
 * row with a size made a layer; among the rows of size 0, those whose instruction can change
 * files made the remaining layers when their count says so exactly; otherwise no layer gets an
 * instruction (`exact` false) rather than a guess, and every row is listed as a step.
 */
export function stackOf(
  details: ImageDetails,
  historyNewestFirst: readonly HistoryRow[],
): {
  layers: Layer[];
  configSteps: string[];
} {
  const rows = [...historyNewestFirst].reverse();
  const want = details.Layers.length;
  const sized = rows.filter((r) => r.Size > 0).length;
  const candidates = rows.filter((r) => r.Size === 0 && makesLayer(r.CreatedBy)).length;
  let takes: boolean[] | undefined;
  if (sized === want) takes = rows.map((r) => r.Size > 0);
  else if (sized + candidates === want) takes = rows.map((r) => r.Size > 0 || makesLayer(r.CreatedBy));
  const matched = takes ? rows.filter((_, i) => takes[i]) : [];
  const unmatched = takes ? rows.filter((_, i) => !takes[i]) : rows;
  const layers: Layer[] = [];
  let chain = "";
  details.Layers.forEach((diffId, index) => {
    chain = chain === "" ? diffId : `${chain} ${diffId}`;
    const row = matched[index];
    layers.push({
      index,
      diffId,
      chainKey: chain,
      ...(row ? { size: row.Size } : {}),
      createdBy: row ? instructionText(row.CreatedBy) : "",
      exact: row !== undefined,
    });
  });
  return { layers, configSteps: unmatched.map((r) => instructionText(r.CreatedBy)) };
}

export function imageView(row: ImageRow, details: ImageDetails, history: readonly HistoryRow[]): ImageView {
  const { layers, configSteps } = stackOf(details, history);
  const short = row.Id.replace(/^sha256:/, "").slice(0, 12);
  return {
    id: row.Id,
    names: row.RepoTags.length > 0 ? row.RepoTags : [short],
    tags: row.RepoTags,
    size: row.Size,
    layers,
    configSteps,
  };
}

/** For each layer's chain key, the names of the images holding it. */
export function layerOwners(images: readonly ImageView[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const img of images) {
    for (const l of img.layers) {
      const names = out.get(l.chainKey) ?? [];
      names.push(img.names[0] ?? img.id);
      out.set(l.chainKey, names);
    }
  }
  return out;
}

/** The other images that share `layer` of `image`. */
export function sharedWith(
  owners: ReadonlyMap<string, readonly string[]>,
  image: ImageView,
  layer: Layer,
): string[] {
  const self = image.names[0] ?? image.id;
  return (owners.get(layer.chainKey) ?? []).filter((n) => n !== self);
}

export const containerName = (c: Pick<ContainerRow, "Names" | "Id">) => c.Names[0] ?? c.Id.slice(0, 12);

/** The command that gives a shell in the container (started first when it is not running). */
export function enterCommand(program: string, c: Pick<ContainerRow, "Names" | "Id" | "State">): string {
  const name = containerName(c);
  if (c.State === "running") return `${program} exec -it ${name} sh`;
  if (c.State === "paused") return `${program} unpause ${name} && ${program} exec -it ${name} sh`;
  return `${program} start ${name} && ${program} exec -it ${name} sh`;
}

export interface PortLink {
  readonly href?: string;
  readonly label: string;
}

/**
 * Published ports as links to the host's loopback (a port bound to all addresses or to a
 * loopback address is reachable there); unpublished ports as plain labels. One entry per
 * host port and protocol (IPv4 and IPv6 bindings of one port are one link).
 */
export function portLinks(ports: readonly PortRow[]): PortLink[] {
  const out: PortLink[] = [];
  const seen = new Set<string>();
  const sorted = [...ports].sort(
    (a, b) => (a.PublicPort ?? 0) - (b.PublicPort ?? 0) || a.PrivatePort - b.PrivatePort,
  );
  for (const p of sorted) {
    const key = `${p.PublicPort ?? ""}/${p.PrivatePort}/${p.Type}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (p.PublicPort === undefined) {
      out.push({ label: `${p.PrivatePort}/${p.Type}` });
      continue;
    }
    const ip = p.IP && /^127\./.test(p.IP) ? p.IP : "127.0.0.1";
    const reachable = !p.IP || p.IP === "0.0.0.0" || p.IP === "::" || /^127\./.test(p.IP) || p.IP === "::1";
    const label = `${ip}:${p.PublicPort}→${p.PrivatePort}/${p.Type}`;
    out.push(p.Type === "tcp" && reachable ? { href: `http://${ip}:${p.PublicPort}/`, label } : { label });
  }
  return out;
}

export { isActiveState };
