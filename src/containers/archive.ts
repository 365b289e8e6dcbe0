/**
 * A container's files from the host: `diff`, `export`, and the archive endpoints behind `cp`
 * (HEAD/GET/PUT /containers/{id}/archive).
 *
 * Safety design (security-anchors §2.2, §5 item 9). Node can neither chroot nor openat2, and a
 * helper that enters the container's root would have to be a program of ours started from the
 * host (never a binary of the container: CVE-2019-14271, CVE-2026-41567) — not available without
 * a native helper. So berth takes the alternative the anchors accept:
 *   1. every container path is resolved in userspace inside the container's view
 *      (`resolveContainerPath`: lstat/readlink per component, absolute symlinks restart at the
 *      container's "/", ".." clamped at "/", volumes and bind mounts mapped to their sources), so
 *      a symlink planted by the container (`/x -> /`, `/y -> ../../..`) resolves inside it;
 *   2. a running container is PAUSED (runc pause, its whole cgroup frozen) while the copy runs,
 *      so no process of it can swap a resolved directory for a symlink in between (Docker's
 *      mitigation for CVE-2018-15664 before its chrooted copies); a stopped container has no
 *      processes to race;
 *   3. writes go through diff/applyLayer (refuses symlinks in parent positions, replaces rather
 *      than follows the last component, O_EXCL|O_NOFOLLOW, lchown/lutimes, no chmod through
 *      links), reads through diff/createLayer (O_NOFOLLOW) — both relative to the resolved
 *      directory — and the directory itself is checked by descriptor (`assertOpenedInside`);
 *   4. tars are decompressed and parsed on the host side by berth's own code; nothing of the
 *      container is executed.
 * Known limits: tmpfs mounts live only in the container's mount namespace, so a path under one
 * reaches the layer beneath (as Docker's cp does); a volume shared with another running
 * container can still be raced by that container, which is not paused.
 */
import { constants as fsConstants } from "node:fs";
import { lstat, open, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { Readable } from "node:stream";
import { failedPrecondition, invalidArgument, notFound } from "../base/errors.js";
import { bestEffort } from "../base/log.js";
import { applyLayer } from "../diff/apply.js";
import { decompressStream } from "../diff/compression.js";
import { createLayer } from "../diff/create.js";
import type {
  ByteSource,
  ContainerArchive,
  ContainerArchivePutOptions,
  ContainerChange,
  ContainerPathStat,
} from "../engine/types.js";
import type { ContainerRecord } from "../metadata/containers.js";
import { lstatIfExists } from "../sys/fs.js";
import { isMountPoint } from "../sys/mount.js";
import {
  assertOpenedInside,
  hostLocation,
  isInside,
  type MountView,
  type ResolvedContainerPath,
  resolveContainerPath,
} from "../sys/root-path.js";
import { writableLayerChanges } from "./changes.js";
import { ContainerServicePart } from "./service-part.js";
import { entryPath, joinTar, prefixed, type TarHeader, type TarJoiner, withOwner } from "./tar-join.js";

/** The container's filesystem made reachable for one operation; `release()` undoes it. */
export interface FilesystemLease {
  readonly rec: ContainerRecord;
  readonly rootfs: string;
  readonly mounts: readonly MountView[];
  /** Unpauses and unmounts what `acquire` paused or mounted; safe to call more than once. */
  release(): Promise<void>;
}

const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_NAMED_PIPE = 2 ** 25;
const GO_MODE_SOCKET = 2 ** 24;
const GO_MODE_SETUID = 2 ** 23;
const GO_MODE_SETGID = 2 ** 22;
const GO_MODE_CHAR_DEVICE = 2 ** 21;
const GO_MODE_STICKY = 2 ** 20;

/** A Unix st_mode as Go's os.FileMode (what the archive stat header carries). */
export function goFileMode(mode: number): number {
  let out = mode & 0o777;
  const type = mode & 0o170000;
  if (type === 0o040000) out += GO_MODE_DIR;
  else if (type === 0o120000) out += GO_MODE_SYMLINK;
  else if (type === 0o010000) out += GO_MODE_NAMED_PIPE;
  else if (type === 0o140000) out += GO_MODE_SOCKET;
  else if (type === 0o020000) out += GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE;
  else if (type === 0o060000) out += GO_MODE_DEVICE;
  if (mode & 0o4000) out += GO_MODE_SETUID;
  if (mode & 0o2000) out += GO_MODE_SETGID;
  if (mode & 0o1000) out += GO_MODE_STICKY;
  return out;
}

export class ContainerFiles extends ContainerServicePart {
  /**
   * Mounts the container's root filesystem if it is not (a stopped container) and, with `pause`,
   * pauses it if it is running. The lease must be released.
   */
  async acquire(ref: string, opts: { pause: boolean }): Promise<FilesystemLease> {
    const rec = this.svc.resolve(ref);
    const wasMounted = await isMountPoint(this.driver.rootfs(rec.id));
    const rootfs = await this.driver.mountRootfs(rec.id, this.svc.layersOf(rec.id));
    let paused = false;
    if (opts.pause) {
      const state = await bestEffort(`runc state of ${rec.id}`, this.driver.state(rec.id));
      if (state?.status === "running") {
        await this.driver.pause(rec.id);
        paused = true;
      }
    }
    let released = false;
    return {
      rec,
      rootfs,
      mounts: await this.mountViews(rec),
      release: async () => {
        if (released) return;
        released = true;
        if (paused) await bestEffort(`resuming container ${rec.id}`, this.driver.resume(rec.id));
        if (!wasMounted) {
          // Only when the container has not been started meanwhile.
          const state = await bestEffort(`runc state of ${rec.id}`, this.driver.state(rec.id));
          if (!state || state.status === "stopped")
            await bestEffort(
              `unmounting the root filesystem of container ${rec.id}`,
              this.driver.unmountRootfs(rec.id),
            );
        }
      },
    };
  }

  /** Volumes, bind mounts and the /etc files berth bind-mounts, as the container sees them. */
  private async mountViews(rec: ContainerRecord): Promise<MountView[]> {
    const out: MountView[] = rec.mounts
      .filter((m) => m.Type === "volume" || m.Type === "bind")
      .map((m) => ({ destination: m.Destination, source: m.Source }));
    const dir = this.driver.dir(rec.id);
    for (const [dest, file] of [
      ["/etc/hostname", "hostname"],
      ["/etc/hosts", "hosts"],
      ["/etc/resolv.conf", "resolv.conf"],
    ] as const) {
      if (out.some((m) => m.destination === dest)) continue;
      if ((await lstatIfExists(join(dir, file)))?.isFile())
        out.push({ destination: dest, source: join(dir, file) });
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // diff, export

  async changes(ref: string): Promise<ContainerChange[]> {
    const rec = this.svc.resolve(ref);
    const lowers = [...this.svc.layersOf(rec.id)]
      .reverse()
      .map((c) => this.svc.deps.images.snapshots.fsPath(c));
    return writableLayerChanges(this.driver.upper(rec.id), lowers);
  }

  /** The root filesystem (image layers + writable layer, no volumes) as a tar. */
  async export(ref: string, opts: { signal?: AbortSignal } = {}): Promise<ByteSource> {
    const lease = await this.acquire(ref, { pause: false });
    this.svc.emit(lease.rec, "export");
    return releaseWhenDone(createLayer(lease.rootfs, opts.signal ? { signal: opts.signal } : {}), lease);
  }

  // ---------------------------------------------------------------------------------------------
  // archive: stat, get, put

  private notFound(ref: string, path: string) {
    return notFound(`Could not find the file ${path} in container ${ref}`);
  }

  async statPath(ref: string, path: string): Promise<ContainerPathStat> {
    const lease = await this.acquire(ref, { pause: true });
    try {
      const r = await resolveContainerPath(lease.rootfs, lease.mounts, absolute(path));
      if (!r.exists) throw this.notFound(ref, path);
      return await this.stat(lease, r, path);
    } finally {
      await lease.release();
    }
  }

  private async stat(
    lease: FilesystemLease,
    r: ResolvedContainerPath,
    path: string,
  ): Promise<ContainerPathStat> {
    const st = await lstat(r.host);
    let linkTarget = "";
    if (st.isSymbolicLink()) {
      const t = await resolveContainerPath(lease.rootfs, lease.mounts, r.containerPath, { followLast: true });
      linkTarget = t.containerPath;
    }
    return {
      name: baseName(path),
      size: st.size,
      mode: goFileMode(st.mode),
      mtime: st.mtime.toISOString(),
      linkTarget,
    };
  }

  async archive(ref: string, path: string, opts: { signal?: AbortSignal } = {}): Promise<ContainerArchive> {
    const lease = await this.acquire(ref, { pause: true });
    try {
      const abs = absolute(path);
      const r = await resolveContainerPath(lease.rootfs, lease.mounts, abs);
      if (!r.exists) throw this.notFound(ref, path);
      const st = await lstat(r.host);
      if (/\/\.?$/.test(abs) && abs !== "/" && !st.isDirectory())
        throw invalidArgument(`not a directory: ${path}`);
      const stat = await this.stat(lease, r, path);
      const rebase = /\/\.$/.test(abs) || r.containerPath === "/" ? "." : baseName(path);
      const stream = joinTar(async (j) => {
        opts.signal?.throwIfAborted();
        await addPath(j, r, rebase, lease, opts.signal);
      });
      this.svc.emit(lease.rec, "archive-path");
      return { stat, content: releaseWhenDone(stream, lease) };
    } catch (err) {
      await lease.release();
      throw err;
    }
  }

  async extract(
    ref: string,
    path: string,
    source: ByteSource,
    opts: ContainerArchivePutOptions = {},
  ): Promise<void> {
    const lease = await this.acquire(ref, { pause: true });
    try {
      const r = await resolveContainerPath(lease.rootfs, lease.mounts, absolute(path), { followLast: true });
      if (!r.exists) throw this.notFound(ref, path);
      const st = await lstat(r.host);
      if (!st.isDirectory()) throw invalidArgument("extraction point is not a directory");
      if (r.root === lease.rootfs && lease.rec.hostConfig.ReadonlyRootfs)
        throw failedPrecondition("container rootfs is marked read-only");
      const mount = lease.rec.mounts.find((m) => m.Destination === r.rootDestination);
      if (mount && !mount.RW) throw failedPrecondition("mounted volume is marked read-only");
      await checkDirectory(r.host, r.root, path);
      const input = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
      const { stream: plain } = await decompressStream(input, opts.signal ? { signal: opts.signal } : {});
      const checked = joinTar((j) =>
        j.addTar(plain, async (h) => {
          const rel = entryPath(h);
          const base = rel.split("/").pop() ?? "";
          if (base.startsWith(".wh.")) throw invalidArgument(`refusing to copy a whiteout name: ${rel}`);
          if (opts.noOverwriteDirNonDir && rel !== "") await refuseTypeChange(r.host, rel, h);
          return opts.copyUIDGID ? h : withOwner(h, 0, 0);
        }),
      );
      await applyLayer(checked, r.host, opts.signal ? { signal: opts.signal } : {});
      this.svc.emit(lease.rec, "extract-to-dir");
    } finally {
      await lease.release();
    }
  }
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `/${path}`;
}

/** Go's filepath.Base of the path as asked ("." for a path ending in "/."). */
function baseName(path: string): string {
  if (/(^|\/)\.$/.test(path)) return ".";
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : posix.basename(trimmed);
}

/** Releases the lease when the stream has been read, failed or was closed. */
function releaseWhenDone(stream: Readable, lease: FilesystemLease): Readable {
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    void lease.release();
  };
  stream.once("end", release);
  stream.once("error", release);
  stream.once("close", release);
  return stream;
}

/** Opens a directory by descriptor and checks the kernel agrees it is inside `root`. */
async function checkDirectory(dir: string, root: string, shown: string): Promise<void> {
  const fh = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW);
  try {
    await assertOpenedInside(fh.fd, root, shown);
  } finally {
    await fh.close();
  }
}

/**
 * Refuses a tar entry that would replace a directory by a non-directory or the reverse (Docker's
 * NoOverwriteDirNonDir). Parents are looked at with lstat only; a symlink there is left for
 * applyLayer to refuse.
 */
async function refuseTypeChange(dir: string, rel: string, h: TarHeader): Promise<void> {
  const parts = rel.split("/");
  let cur = dir;
  for (let i = 0; i < parts.length; i++) {
    cur = join(cur, parts[i] as string);
    const st = await lstatIfExists(cur);
    if (!st) return;
    if (i < parts.length - 1) {
      if (!st.isDirectory()) return;
      continue;
    }
    const isDir = h.type === "directory";
    if (st.isDirectory() && !isDir)
      throw invalidArgument(`cannot overwrite directory "/${rel}" with non-directory "/${rel}"`);
    if (!st.isDirectory() && isDir)
      throw invalidArgument(`cannot overwrite non-directory "/${rel}" with directory "/${rel}"`);
  }
}

/** Adds `r` (file, symlink, special file or directory tree, volumes included) under `name`. */
async function addPath(
  j: TarJoiner,
  r: ResolvedContainerPath,
  name: string,
  lease: FilesystemLease,
  signal: AbortSignal | undefined,
): Promise<void> {
  const st = await lstat(r.host);
  if (!st.isDirectory()) {
    await addSingle(j, r.host, name, r.root);
    return;
  }
  await checkDirectory(r.host, r.root, r.containerPath);
  if (name !== ".") await j.addEntry(dirHeader(`${name}/`, st));
  await j.addTar(createLayer(r.host, signal ? { signal } : {}), (h) => prefixed(h, name === "." ? "" : name));
  // Volumes and bind mounts below the directory, as the container sees them.
  const below = lease.mounts.filter((m) => {
    const d = posix.normalize(m.destination);
    return d !== r.containerPath && isInside(r.containerPath === "/" ? "/" : r.containerPath, d);
  });
  for (const m of below.sort((a, b) => a.destination.length - b.destination.length)) {
    const d = posix.normalize(m.destination);
    const rel = r.containerPath === "/" ? d.slice(1) : d.slice(r.containerPath.length + 1);
    const prefix = name === "." ? rel : `${name}/${rel}`;
    const loc = hostLocation(lease.rootfs, lease.mounts, d);
    const mst = await lstatIfExists(loc.host);
    if (!mst) continue;
    if (mst.isDirectory()) {
      await checkDirectory(loc.host, loc.root, d);
      await j.addEntry(dirHeader(`${prefix}/`, mst));
      await j.addTar(createLayer(loc.host, signal ? { signal } : {}), (h) => prefixed(h, prefix));
    } else {
      await addSingle(j, loc.host, prefix, loc.root);
    }
  }
}

function dirHeader(name: string, st: { mode: number; uid: number; gid: number; mtime: Date }): TarHeader {
  return {
    name,
    type: "directory",
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtime,
    size: 0,
    linkname: "",
    uname: "",
    gname: "",
    devmajor: 0,
    devminor: 0,
  };
}

/** One non-directory entry, its content read through a descriptor checked to be inside `root`. */
async function addSingle(j: TarJoiner, host: string, name: string, root: string): Promise<void> {
  const st = await lstat(host);
  const base: TarHeader = { ...dirHeader(name, st), type: "file" };
  if (st.isSymbolicLink()) {
    await j.addEntry({ ...base, type: "symlink", linkname: await readlink(host) });
    return;
  }
  if (st.isFIFO()) {
    await j.addEntry({ ...base, type: "fifo" });
    return;
  }
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const rdev = st.rdev;
    await j.addEntry({
      ...base,
      type: st.isCharacterDevice() ? "character-device" : "block-device",
      devmajor: Math.floor(rdev / 256) & 0xfff,
      devminor: (rdev & 0xff) | ((Math.floor(rdev / 4096) & 0xfff00) >>> 0),
    });
    return;
  }
  if (!st.isFile()) return; // sockets are not archived
  const fh = await open(host, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    await assertOpenedInside(fh.fd, root, name);
    const fst = await fh.stat();
    if (fst.size === 0) await j.addEntry({ ...base, size: 0 });
    else
      await j.addEntry(
        { ...base, size: fst.size },
        fh.createReadStream({ autoClose: false, end: fst.size - 1 }),
      );
  } finally {
    await fh.close();
  }
}
