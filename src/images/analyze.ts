/**
 * Image analysis (`berth image analyze`): what each layer adds, changes and removes against the
 * layers below it, and how many bytes the stack wastes. The score is dive's: every path a layer
 * holds is one sighting (a whiteout is a sighting of size 0, or of the whole directory it
 * removes), and efficiency = Σ over paths of the smallest sighting / Σ of all sightings; every
 * path sighted in more than one layer is waste, all of its sightings counted.
 *
 * Where this goes beyond dive: a removed directory (its whiteout, or an opaque directory's
 * `.wh..wh..opq` for what the layers below held in it) is a removal of every file below it, each
 * a sighting of size 0 as a file's whiteout is. dive sights a directory's whiteout once, at the
 * directory's own path, where nothing else was sighted, so removing a directory cost nothing in
 * its score; and it ignores opaque markers.
 *
 * `analyzeLayers` is pure; `readLayerEntries` reads one layer tar's headers.
 */
import type { Readable } from "node:stream";
import type {
  ImageAnalysisChange,
  ImageAnalysisFile,
  ImageAnalysisInefficiency,
  ImageAnalysisLayer,
} from "../engine/types.js";
import { readTar, type TarEntryType } from "../oci/tar-reader.js";

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";
/** How many of the largest files an analysis lists. */
export const LARGEST_FILES = 20;

/** One header of a layer tar, as the analysis needs it. */
export interface LayerEntry {
  /** The tar name as written (`./etc/passwd`, `usr/`, `bin/.wh.sh`). */
  readonly name: string;
  readonly type: TarEntryType;
  /** Content bytes (0 for all but regular files). */
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface AnalysisLayerInput {
  readonly diffId: string;
  readonly digest: string;
  readonly createdBy: string;
  readonly entries: readonly LayerEntry[];
}

export interface LayerAnalysis {
  readonly Size: number;
  readonly UserSize: number;
  readonly WastedBytes: number;
  readonly WastedUserPercent: number;
  readonly Efficiency: number;
  readonly Layers: ImageAnalysisLayer[];
  readonly Inefficiencies: ImageAnalysisInefficiency[];
  readonly LargestFiles: ImageAnalysisFile[];
}

interface Node {
  readonly dir: boolean;
  readonly size: number;
  readonly layer: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

interface Sightings {
  count: number;
  total: number;
  min: number;
}

/** `./usr/bin/` → `/usr/bin`; the root itself → "". */
export function cleanPath(name: string): string {
  const parts: string[] = [];
  for (const p of name.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return parts.length === 0 ? "" : `/${parts.join("/")}`;
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Paths strictly below `dir` in `tree`. */
function descendants(tree: ReadonlyMap<string, Node>, dir: string): string[] {
  const prefix = `${dir}/`;
  const out: string[] = [];
  for (const p of tree.keys()) if (p.startsWith(prefix)) out.push(p);
  return out;
}

function bytesUnder(tree: ReadonlyMap<string, Node>, path: string): number {
  const node = tree.get(path);
  if (!node) return 0;
  if (!node.dir) return node.size;
  let sum = 0;
  for (const p of descendants(tree, path)) sum += tree.get(p)?.size ?? 0;
  return sum;
}

/** Whether `path` has no descendant in the stack `tree` (a file, or an empty directory). */
function isLeaf(tree: ReadonlyMap<string, Node>, path: string): boolean {
  const node = tree.get(path);
  return node !== undefined && (!node.dir || descendants(tree, path).length === 0);
}

/**
 * Analyses an image's layers, bottom first, from their tar headers. The tree of the stack is
 * kept as a map from clean path to node: a whiteout removes a path and all below it, an opaque
 * marker everything below its directory that the same layer does not write again.
 */
export function analyzeLayers(layers: readonly AnalysisLayerInput[]): LayerAnalysis {
  const tree = new Map<string, Node>();
  const sightings = new Map<string, Sightings>();
  const sight = (path: string, size: number): void => {
    const s = sightings.get(path);
    if (s) {
      s.count++;
      s.total += size;
      s.min = Math.min(s.min, size);
    } else {
      sightings.set(path, { count: 1, total: size, min: size });
    }
  };
  const out: ImageAnalysisLayer[] = [];

  layers.forEach((layer, index) => {
    const writes = layerWrites(layer, index);
    const { written, whiteouts, opaque } = writes;
    const { withParents, hasChild } = impliedPaths([...written.keys(), ...whiteouts, ...opaque]);

    const changes: ImageAnalysisChange[] = [];
    // Sightings, as dive visits a layer's leaves: files and empty directories at their size, a
    // whiteout as a sighting of size 0 of each file it removes.
    for (const p of withParents) {
      if (hasChild.has(p)) continue;
      if (whiteouts.has(p) && !written.has(p)) {
        const below = tree.get(p)?.dir ? descendants(tree, p).filter((d) => isLeaf(tree, d)) : [];
        if (below.length === 0) sight(p, 0);
        for (const d of below) sight(d, 0);
      } else {
        sight(p, written.get(p)?.size ?? 0);
      }
    }
    // Removals: whiteouts of what exists below, and what an opaque directory hides.
    for (const p of [...whiteouts].sort()) {
      if (!tree.has(p)) continue;
      changes.push({ Kind: "D", Path: p, Size: bytesUnder(tree, p) });
    }
    for (const dir of [...opaque].sort()) {
      const hidden = descendants(tree, dir).filter((p) => !withParents.has(p));
      for (const p of hidden) {
        if (isLeaf(tree, p) && !whiteouts.has(p)) sight(p, 0);
        if (parentOf(p) === dir && !whiteouts.has(p))
          changes.push({ Kind: "D", Path: p, Size: bytesUnder(tree, p) });
      }
    }
    // Additions and changes against the stack below.
    for (const p of [...withParents].sort()) {
      const node = written.get(p);
      const prev = tree.get(p);
      const hiddenByThisLayer = whiteouts.has(p) || [...opaque].some((d) => p.startsWith(`${d}/`));
      const before = hiddenByThisLayer ? undefined : prev;
      if (!node) {
        if (!before && !whiteouts.has(p) && !opaque.has(p)) changes.push({ Kind: "A", Path: p, Size: 0 });
        continue;
      }
      if (!before) changes.push({ Kind: "A", Path: p, Size: node.size });
      else if (
        !node.dir ||
        !before.dir ||
        node.mode !== before.mode ||
        node.uid !== before.uid ||
        node.gid !== before.gid
      )
        changes.push({ Kind: "C", Path: p, Size: node.size });
    }
    changes.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));

    applyLayer(tree, writes, withParents, index);

    let added = 0;
    let changed = 0;
    let removed = 0;
    for (const c of changes) {
      if (c.Kind === "A") added++;
      else if (c.Kind === "C") changed++;
      else removed++;
    }
    out.push({
      Index: index,
      DiffID: layer.diffId,
      Digest: layer.digest,
      CreatedBy: layer.createdBy,
      Size: writes.size,
      Added: added,
      Changed: changed,
      Removed: removed,
      Changes: changes,
    });
  });

  return summarize(tree, sightings, out);
}

/** What one layer writes (by clean path), whites out, and makes opaque; its bytes of file data. */
interface LayerWrites {
  readonly written: Map<string, Node>;
  readonly whiteouts: Set<string>;
  readonly opaque: Set<string>;
  readonly size: number;
}

function layerWrites(layer: AnalysisLayerInput, index: number): LayerWrites {
  const written = new Map<string, Node>();
  const whiteouts = new Set<string>();
  const opaque = new Set<string>();
  let size = 0;
  for (const e of layer.entries) {
    const path = cleanPath(e.name);
    if (path === "") continue;
    const base = baseOf(path);
    if (base === OPAQUE_MARKER) {
      opaque.add(parentOf(path));
      continue;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      whiteouts.add(`${parentOf(path)}/${base.slice(WHITEOUT_PREFIX.length)}`);
      continue;
    }
    const entrySize = e.type === "file" || e.type === "contiguous-file" ? e.size : 0;
    const prev = written.get(path);
    if (prev) size -= prev.size;
    size += entrySize;
    written.set(path, {
      dir: e.type === "directory",
      size: entrySize,
      layer: index,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
    });
  }
  return { written, whiteouts, opaque, size };
}

/**
 * Every path a layer names, with the directories it implies (`withParents`); the directories
 * among them with a child named here (`hasChild`): the others are the layer's leaves.
 */
function impliedPaths(named: Iterable<string>): { withParents: Set<string>; hasChild: Set<string> } {
  const withParents = new Set<string>();
  const hasChild = new Set<string>();
  for (const p of new Set(named)) {
    withParents.add(p);
    for (let q = parentOf(p); q !== ""; q = parentOf(q)) {
      hasChild.add(q);
      if (withParents.has(q)) break;
      withParents.add(q);
    }
  }
  return { withParents, hasChild };
}

/** Applies a layer to the stack's tree: its whiteouts and opaque directories, then its writes. */
function applyLayer(
  tree: Map<string, Node>,
  { written, whiteouts, opaque }: LayerWrites,
  withParents: ReadonlySet<string>,
  index: number,
): void {
  const drop = (p: string): void => {
    tree.delete(p);
    for (const d of descendants(tree, p)) tree.delete(d);
  };
  for (const p of whiteouts) drop(p);
  for (const dir of opaque) for (const d of descendants(tree, dir)) tree.delete(d);
  for (const p of withParents) {
    const node = written.get(p);
    if (node) {
      if (!node.dir && tree.get(p)?.dir) drop(p);
      tree.set(p, node);
    } else if (!tree.has(p) && !whiteouts.has(p)) {
      tree.set(p, { dir: true, size: 0, layer: index, mode: 0o755, uid: 0, gid: 0 });
    }
  }
}

/** The whole image's figures: sizes, wasted bytes and efficiency as dive counts them, largest files. */
function summarize(
  tree: ReadonlyMap<string, Node>,
  sightings: ReadonlyMap<string, Sightings>,
  out: ImageAnalysisLayer[],
): LayerAnalysis {
  let minimum = 0;
  let discovered = 0;
  const inefficiencies: ImageAnalysisInefficiency[] = [];
  for (const [path, s] of sightings) {
    minimum += s.min;
    discovered += s.total;
    if (s.count > 1) inefficiencies.push({ Path: path, Count: s.count, WastedBytes: s.total });
  }
  inefficiencies.sort(
    (a, b) => b.WastedBytes - a.WastedBytes || (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0),
  );
  const wasted = inefficiencies.reduce((sum, i) => sum + i.WastedBytes, 0);
  const size = out.reduce((sum, l) => sum + l.Size, 0);
  const userSize = size - (out[0]?.Size ?? 0);
  const largest: ImageAnalysisFile[] = [];
  for (const [path, node] of tree)
    if (!node.dir && node.size > 0) largest.push({ Path: path, Size: node.size, Layer: node.layer });
  largest.sort((a, b) => b.Size - a.Size || (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
  return {
    Size: size,
    UserSize: userSize,
    WastedBytes: wasted,
    WastedUserPercent: userSize > 0 ? wasted / userSize : 0,
    Efficiency: discovered === 0 ? 1 : minimum / discovered,
    Layers: out,
    Inefficiencies: inefficiencies,
    LargestFiles: largest.slice(0, LARGEST_FILES),
  };
}

/** The headers of an uncompressed layer tar (contents are skipped). */
export async function readLayerEntries(
  tar: Readable,
  opts: { signal?: AbortSignal } = {},
): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  for await (const e of readTar(tar, opts.signal ? { signal: opts.signal } : {})) {
    const h = e.header;
    entries.push({ name: h.name, type: h.type, size: h.size, mode: h.mode, uid: h.uid, gid: h.gid });
  }
  return entries;
}
