/**
 * Builds a Node.js base image offline from this machine's own Node.js, as a stand-in for the
 * tutorial's `FROM node:18-alpine` (there is no Docker Hub here). Three layers, like the official
 * image's structure:
 *
 *   1. the busybox userland of busybox-image.ts (the same layer, so the two images share it);
 *   2. this machine's `node` at /usr/local/bin/node, the shared libraries it links (`ldd`) and the
 *      dynamic loader at the paths ldd names, a `node` user (1000:1000) as the official image has,
 *      /etc/nsswitch.conf, and a docker-entrypoint.sh that runs `node` when the first argument is
 *      an option or not a command (the official image's behaviour);
 *   3. npm's package at /usr/local/lib/node_modules/npm with `npm`/`npx` on PATH, and a global
 *      /usr/local/etc/npmrc that keeps npm off the network (offline, no audit, no fund, no
 *      update check): berth's tests and demo send no traffic beyond the machine.
 *
 * It is honest about what it is: Node.js of this machine (glibc, not musl), tagged `node:18-alpine`
 * and `node:18` only so the tutorial's Dockerfiles work line for line, and also
 * `berth-local/node:<version>`.
 * Every tar is deterministic; the image carries the label `org.berth.node-image.inputs`, a digest
 * of everything that goes into it (file contents included), and is skipped when an image with the
 * same label is already tagged. It is loaded as a docker-archive through `berth load`.
 *
 * Usage: node dist/scripts/node-image.js [--root DIR] [--runroot DIR]
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { pack } from "tar-stream";
import { BERTH, BUSYBOX, busyboxRootfs, GROUP, PASSWD } from "./busybox-image.js";

export const NODE = "/usr/bin/node";
export const NPM_PACKAGE = "/usr/lib/node_modules/npm";
/** The tags the tutorial's Dockerfiles name (`FROM node:18-alpine`, and `node:18` in its multi-stage build). */
export const TUTORIAL_TAGS = ["node:18-alpine", "node:18"] as const;
export const INPUTS_LABEL = "org.berth.node-image.inputs";
const MTIME = new Date("2024-01-01T00:00:00Z");

/** One entry of a layer: a directory, a file (bytes, or a host file read when the tar is made), a symlink. */
type LayerEntry =
  | { readonly kind: "dir"; readonly name: string; readonly mode: number; readonly uid?: number }
  | {
      readonly kind: "file";
      readonly name: string;
      readonly mode: number;
      readonly body: Buffer | { readonly host: string };
    }
  | { readonly kind: "symlink"; readonly name: string; readonly target: string };

// busybox's accounts plus the `node` user and group the official image has.
const NODE_PASSWD = `${PASSWD}node:x:1000:1000::/home/node:/bin/sh\n`;
const NODE_GROUP = `${GROUP}node:x:1000:node\n`;
const NSSWITCH = `passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
`;
/** Runs node when the first argument is an option, or not a command (as the official image's entrypoint does). */
const ENTRYPOINT = `#!/bin/sh
set -e
case "$1" in
  -*) set -- node "$@" ;;
  *) if [ -n "$1" ] && ! command -v "$1" >/dev/null 2>&1; then set -- node "$@"; fi ;;
esac
exec "$@"
`;
/** npm's global config: nothing leaves the machine (no registry, audit, funding or update check). */
const NPMRC = `offline=true
audit=false
fund=false
update-notifier=false
`;

/** The machine's Node.js version without the `v` ("20.20.2"). */
export function nodeVersion(): string {
  return execFileSync(NODE, ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "");
}

function npmVersion(): string {
  const doc: unknown = JSON.parse(readFileSync(join(NPM_PACKAGE, "package.json"), "utf8"));
  const v = typeof doc === "object" && doc !== null ? Reflect.get(doc, "version") : undefined;
  if (typeof v !== "string") throw new Error(`${NPM_PACKAGE}/package.json has no version`);
  return v;
}

/** The honest tag: what the image holds. */
export function honestTag(): string {
  return `berth-local/node:${nodeVersion()}`;
}

/** Paths of the shared objects `node` links, and of the dynamic loader, as ldd prints them. */
function linkedLibraries(): string[] {
  const out = execFileSync("ldd", [NODE], { encoding: "utf8" });
  const paths = new Set<string>();
  for (const line of out.split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) paths.add(m[1]);
  }
  if (paths.size === 0) throw new Error(`ldd ${NODE} named no libraries`);
  return [...paths].sort();
}

/** Every directory on the way to `path` (without the leading slash), parents first. */
function parents(path: string): string[] {
  const parts = path.replace(/^\/+/, "").split("/").slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

function withParents(entries: LayerEntry[]): LayerEntry[] {
  const dirs = new Set(entries.filter((e) => e.kind === "dir").map((e) => e.name));
  const extra: LayerEntry[] = [];
  for (const e of entries) {
    for (const d of parents(e.name)) {
      if (!dirs.has(d)) {
        dirs.add(d);
        extra.push({ kind: "dir", name: d, mode: 0o755 });
      }
    }
  }
  return [...extra, ...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function nodeLayer(): LayerEntry[] {
  const entries: LayerEntry[] = [
    { kind: "file", name: "usr/local/bin/node", mode: 0o755, body: { host: NODE } },
    { kind: "file", name: "usr/local/bin/docker-entrypoint.sh", mode: 0o755, body: Buffer.from(ENTRYPOINT) },
    { kind: "file", name: "etc/passwd", mode: 0o644, body: Buffer.from(NODE_PASSWD) },
    { kind: "file", name: "etc/group", mode: 0o644, body: Buffer.from(NODE_GROUP) },
    { kind: "file", name: "etc/nsswitch.conf", mode: 0o644, body: Buffer.from(NSSWITCH) },
    { kind: "dir", name: "home/node", mode: 0o755, uid: 1000 },
  ];
  for (const lib of linkedLibraries()) {
    entries.push({ kind: "file", name: lib.slice(1), mode: 0o755, body: { host: realpathSync(lib) } });
  }
  return withParents(entries);
}

function npmLayer(): LayerEntry[] {
  const entries: LayerEntry[] = [
    { kind: "file", name: "usr/local/etc/npmrc", mode: 0o644, body: Buffer.from(NPMRC) },
    { kind: "symlink", name: "usr/local/bin/npm", target: "../lib/node_modules/npm/bin/npm-cli.js" },
    { kind: "symlink", name: "usr/local/bin/npx", target: "../lib/node_modules/npm/bin/npx-cli.js" },
  ];
  const walk = (host: string, name: string) => {
    const st = lstatSync(host);
    if (st.isSymbolicLink()) entries.push({ kind: "symlink", name, target: readlinkSync(host) });
    else if (st.isDirectory()) {
      entries.push({ kind: "dir", name, mode: 0o755 });
      for (const child of readdirSync(host).sort()) walk(join(host, child), `${name}/${child}`);
    } else if (st.isFile()) {
      entries.push({ kind: "file", name, mode: st.mode & 0o111 ? 0o755 : 0o644, body: { host } });
    }
  };
  walk(NPM_PACKAGE, "usr/local/lib/node_modules/npm");
  return withParents(entries);
}

function bodyOf(e: LayerEntry & { kind: "file" }): Buffer {
  return Buffer.isBuffer(e.body) ? e.body : readFileSync(e.body.host);
}

/** A deterministic uncompressed tar of a layer's entries. */
async function layerTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (c: unknown) => {
    if (Buffer.isBuffer(c)) chunks.push(c);
  });
  const done = new Promise<void>((res, rej) => {
    tar.on("end", () => res());
    tar.on("error", rej);
  });
  for (const e of entries) {
    const base = { name: e.name, mtime: MTIME, uid: 0, gid: 0 };
    if (e.kind === "dir")
      tar.entry({ ...base, type: "directory", mode: e.mode, uid: e.uid ?? 0, gid: e.uid ?? 0 });
    else if (e.kind === "symlink") tar.entry({ ...base, type: "symlink", linkname: e.target, mode: 0o777 });
    else tar.entry({ ...base, type: "file", mode: e.mode }, bodyOf(e));
  }
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

interface Plan {
  readonly nodeVersion: string;
  readonly npmVersion: string;
  readonly created: string;
  readonly node: LayerEntry[];
  readonly npm: LayerEntry[];
  /** The config without rootfs and labels. */
  readonly config: Record<string, unknown>;
  readonly history: Array<Record<string, unknown>>;
}

function plan(): Plan {
  const version = nodeVersion();
  const npm = npmVersion();
  // When the newest input was made (the machine's node, npm and busybox files): stable per machine.
  const created = new Date(
    Math.max(...[NODE, join(NPM_PACKAGE, "package.json"), BUSYBOX].map((f) => statSync(f).mtimeMs)),
  ).toISOString();
  const nop = (text: string, empty = true) => ({
    created,
    created_by: `/bin/sh -c #(nop) ${text}`,
    ...(empty ? { empty_layer: true } : {}),
  });
  return {
    nodeVersion: version,
    npmVersion: npm,
    created,
    node: nodeLayer(),
    npm: npmLayer(),
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", `NODE_VERSION=${version}`],
      Entrypoint: ["docker-entrypoint.sh"],
      Cmd: ["node"],
    },
    history: [
      nop("ADD busybox userland (Debian busybox-static) in / ", false),
      nop(`ENV NODE_VERSION=${version}`),
      nop(
        `COPY node v${version} of the building machine (glibc), its shared libraries and loader, /etc, docker-entrypoint.sh in / `,
        false,
      ),
      nop(`COPY npm ${npm} in /usr/local/lib/node_modules/npm, /usr/local/etc/npmrc (offline) `, false),
      nop('ENTRYPOINT ["docker-entrypoint.sh"]'),
      nop('CMD ["node"]'),
    ],
  };
}

/** A digest of everything that goes into the image: entries, file contents, config, busybox. */
function inputsDigest(p: Plan): string {
  const h = createHash("sha256");
  h.update(JSON.stringify({ config: p.config, history: p.history }));
  h.update(readFileSync(BUSYBOX));
  for (const e of [...p.node, ...p.npm]) {
    h.update(`\0${e.kind}\0${e.name}\0`);
    if (e.kind === "dir") h.update(`${e.mode}:${e.uid ?? 0}`);
    else if (e.kind === "symlink") h.update(e.target);
    else h.update(`${e.mode}\0`).update(bodyOf(e));
  }
  return h.digest("hex");
}

export interface EnsureNodeImageOptions {
  readonly root?: string;
  readonly runroot?: string;
  /** A `berth serve` to go through (`-H`) instead of the store root and runroot name. */
  readonly host?: string;
  /** Environment of the store's commands beside the process's own (its network settings). */
  readonly env?: Readonly<Record<string, string>>;
}

function globalArgs(opts: EnsureNodeImageOptions): string[] {
  if (opts.host) return ["-H", opts.host];
  return [...(opts.root ? ["--root", opts.root] : []), ...(opts.runroot ? ["--runroot", opts.runroot] : [])];
}

/** The image a tag names: its ID and inputs label (undefined: no such image). */
function inspectTag(opts: EnsureNodeImageOptions, tag: string): { id: string; inputs: string } | undefined {
  try {
    const [id = "", inputs = ""] = execFileSync(
      BERTH,
      [
        ...globalArgs(opts),
        "image",
        "inspect",
        "--format",
        `{{.Id}} {{index .Config.Labels "${INPUTS_LABEL}"}}`,
        tag,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, ...opts.env } },
    )
      .trim()
      .split(" ");
    return { id, inputs };
  } catch {
    return undefined;
  }
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** The docker-archive (Docker 25+ layout: blobs/sha256/<hex>, manifest.json) holding the image. */
async function dockerArchive(p: Plan, inputs: string, tags: readonly string[]): Promise<Buffer> {
  const layers = [await busyboxRootfs(), await layerTar(p.node), await layerTar(p.npm)];
  const diffIds = layers.map(sha256);
  const config = {
    architecture: "amd64",
    os: "linux",
    created: p.created,
    config: {
      ...p.config,
      Labels: {
        [INPUTS_LABEL]: inputs,
        "org.opencontainers.image.title": `berth-local/node:${p.nodeVersion}`,
        "org.opencontainers.image.description": `Node.js v${p.nodeVersion} and npm ${p.npmVersion} of the machine that built it (glibc, not musl), busybox userland; a stand-in for ${TUTORIAL_TAGS.join(" and ")}`,
        "org.opencontainers.image.version": p.nodeVersion,
      },
    },
    rootfs: { type: "layers", diff_ids: diffIds.map((d) => `sha256:${d}`) },
    history: p.history,
  };
  if (process.arch !== "x64") config.architecture = process.arch === "arm64" ? "arm64" : process.arch;
  const configBytes = Buffer.from(JSON.stringify(config));
  const configHex = sha256(configBytes);
  const manifest = [
    {
      Config: `blobs/sha256/${configHex}`,
      RepoTags: tags,
      Layers: diffIds.map((d) => `blobs/sha256/${d}`),
    },
  ];
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (c: unknown) => {
    if (Buffer.isBuffer(c)) chunks.push(c);
  });
  const done = new Promise<void>((res, rej) => {
    tar.on("end", () => res());
    tar.on("error", rej);
  });
  const file = (name: string, body: Buffer) =>
    tar.entry({ name, type: "file", mode: 0o644, mtime: MTIME, uid: 0, gid: 0 }, body);
  for (const d of ["blobs", "blobs/sha256"])
    tar.entry({ name: d, type: "directory", mode: 0o755, mtime: MTIME, uid: 0, gid: 0 });
  layers.forEach((l, i) => {
    file(`blobs/sha256/${diffIds[i]}`, l);
  });
  file(`blobs/sha256/${configHex}`, configBytes);
  file("manifest.json", Buffer.from(JSON.stringify(manifest)));
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Whether every tag of the image names an image made from this machine's current inputs. */
export function nodeImageUpToDate(opts: EnsureNodeImageOptions = {}): boolean {
  const p = plan();
  const inputs = inputsDigest(p);
  return [...TUTORIAL_TAGS, `berth-local/node:${p.nodeVersion}`].every(
    (t) => inspectTag(opts, t)?.inputs === inputs,
  );
}

/**
 * Loads the image into a store (tagged `node:18-alpine`, `node:18` and `berth-local/node:<version>`)
 * unless all tags already name an image made from the same inputs. Returns the honest tag.
 */
export async function ensureNodeImage(opts: EnsureNodeImageOptions = {}): Promise<string> {
  const p = plan();
  const inputs = inputsDigest(p);
  const honest = `berth-local/node:${p.nodeVersion}`;
  const tags = [...TUTORIAL_TAGS, honest];
  const before = tags.map((t) => inspectTag(opts, t));
  if (before.every((b) => b?.inputs === inputs)) return honest;
  const archive = await dockerArchive(p, inputs, tags);
  await new Promise<void>((res, rej) => {
    const child = spawn(BERTH, [...globalArgs(opts), "load", "-q"], {
      stdio: ["pipe", "ignore", "pipe"],
      env: { ...process.env, ...opts.env },
    });
    let err = "";
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.stdin.on("error", () => undefined);
    child.on("error", rej);
    child.on("close", (code) =>
      code === 0 ? res() : rej(new Error(`berth load exited with ${code}: ${err.trim()}`)),
    );
    child.stdin.end(archive);
  });
  // A previous build of this script that the tags no longer name (the machine's Node.js changed)
  // is removed, unless something still uses it: rmi without -f leaves it then.
  const now = inspectTag(opts, honest)?.id;
  for (const old of new Set(before.filter((b) => b?.inputs && b.id !== now).map((b) => b?.id ?? ""))) {
    if (old)
      spawnSync(BERTH, [...globalArgs(opts), "rmi", old], {
        stdio: "ignore",
        env: { ...process.env, ...opts.env },
      });
  }
  return honest;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  statSync(NODE);
  statSync(dirname(NPM_PACKAGE));
  ensureNodeImage({ root: arg("--root"), runroot: arg("--runroot") }).then(
    (tag) => process.stdout.write(`${tag}\n`),
    (err: unknown) => {
      process.stderr.write(`node-image: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
