/**
 * Where berth keeps its state. `--root` holds persistent state (database, blobs, snapshots,
 * containers, volumes); `--runroot` holds state that dies with the machine (runc state, conmon
 * sockets, exit files, netns). Flags win over BERTH_ROOT/BERTH_RUNROOT, which win over defaults.
 * It computes paths only; it never creates, reads or removes anything under them.
 */
import { join, resolve } from "node:path";

export const DEFAULT_ROOT = "/var/lib/berth";
export const DEFAULT_RUNROOT = "/run/berth";

export interface Roots {
  readonly root: string;
  readonly runroot: string;
}

export interface RootsOptions {
  readonly root?: string | undefined;
  readonly runroot?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function resolveRoots(opts: RootsOptions = {}): Roots {
  const env = opts.env ?? {};
  return {
    root: resolve(opts.root ?? env.BERTH_ROOT ?? DEFAULT_ROOT),
    runroot: resolve(opts.runroot ?? env.BERTH_RUNROOT ?? DEFAULT_RUNROOT),
  };
}

/** The fixed layout under the roots (DESIGN.md §3). */
export function layout(roots: Roots) {
  const { root, runroot } = roots;
  return {
    database: join(root, "berth.db"),
    blobs: join(root, "blobs", "sha256"),
    ingest: join(root, "ingest"),
    snapshots: join(root, "snapshots"),
    containers: join(root, "containers"),
    volumes: join(root, "volumes"),
    tmp: join(root, "tmp"),
    runc: join(runroot, "runc"),
    conmon: join(runroot, "conmon"),
    netns: join(runroot, "netns"),
    exits: join(runroot, "exits"),
    locks: join(runroot, "locks"),
  } as const;
}

export type Layout = ReturnType<typeof layout>;
