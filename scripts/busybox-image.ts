/**
 * Builds `busybox:latest` offline from Debian's busybox-static: one layer holding the static
 * busybox binary, a link per applet (`busybox --list-full`), and the few files a userland needs
 * (/etc/passwd, /etc/group, /tmp, /root, …). The tar is deterministic (fixed mtimes, sorted
 * entries), so the layer's diffID only changes when the busybox binary does; the image is
 * imported with `berth import` and skipped when an image made from the same binary exists.
 *
 * Usage: node dist/scripts/busybox-image.js [--root DIR] [--runroot DIR] [--tag busybox:latest]
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { pack } from "tar-stream";

export const BUSYBOX = "/bin/busybox";
const MTIME = new Date("2024-01-01T00:00:00Z");
const here = dirname(fileURLToPath(import.meta.url));
/** bin/berth of this checkout (dist/scripts → repo root). */
export const BERTH = resolve(here, "../../bin/berth");

/** The image's /etc/passwd and /etc/group (busybox's usual accounts); the node image adds to them. */
export const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;
export const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:12:
www-data:x:33:
users:x:100:
nogroup:x:65534:
`;

export function busyboxDigest(): string {
  return createHash("sha256").update(readFileSync(BUSYBOX)).digest("hex");
}

/** The root filesystem as an uncompressed tar. */
export async function busyboxRootfs(): Promise<Buffer> {
  const binary = readFileSync(BUSYBOX);
  const applets = execFileSync(BUSYBOX, ["--list-full"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && l !== "bin/busybox")
    .sort();
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (c: unknown) => {
    if (Buffer.isBuffer(c)) chunks.push(c);
  });
  const done = new Promise<void>((res, rej) => {
    tar.on("end", () => res());
    tar.on("error", rej);
  });
  const dir = (name: string, mode = 0o755) =>
    tar.entry({ name, type: "directory", mode, mtime: MTIME, uid: 0, gid: 0 });
  const file = (name: string, body: Buffer | string, mode = 0o644) =>
    tar.entry(
      { name, type: "file", mode, mtime: MTIME, uid: 0, gid: 0 },
      typeof body === "string" ? Buffer.from(body) : body,
    );
  const dirs = new Set<string>([
    "bin",
    "dev",
    "etc",
    "home",
    "proc",
    "root",
    "sys",
    "tmp",
    "usr",
    "usr/bin",
    "usr/sbin",
    "sbin",
    "var",
    "var/spool",
    "var/spool/mail",
    "var/www",
  ]);
  for (const a of applets) dirs.add(dirname(a));
  for (const d of [...dirs].sort()) dir(d, d === "tmp" ? 0o1777 : d === "root" ? 0o700 : 0o755);
  file("bin/busybox", binary, 0o755);
  for (const a of applets) {
    const depth = a.split("/").length - 1;
    tar.entry({
      name: a,
      type: "symlink",
      linkname: `${"../".repeat(depth)}bin/busybox`,
      mode: 0o777,
      mtime: MTIME,
      uid: 0,
      gid: 0,
    });
  }
  file("etc/passwd", PASSWD);
  file("etc/group", GROUP);
  file("etc/shadow", "root:*:19000:0:99999:7:::\n", 0o640);
  file("etc/hostname", "busybox\n");
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface EnsureOptions {
  readonly root?: string;
  readonly runroot?: string;
  /** A `berth serve` to go through (`-H`) instead of the store root and runroot name. */
  readonly host?: string;
  readonly tag?: string;
  /**
   * Environment of the store's commands beside the process's own (its network settings:
   * BERTH_BRIDGE, BERTH_BIP…). Every command on a store must see the same settings, or the one
   * without them moves the store's default network to another device.
   */
  readonly env?: Readonly<Record<string, string>>;
}

function globalArgs(opts: EnsureOptions): string[] {
  if (opts.host) return ["-H", opts.host];
  return [...(opts.root ? ["--root", opts.root] : []), ...(opts.runroot ? ["--runroot", opts.runroot] : [])];
}

/** Imports busybox:latest into a store unless an image made from this binary is there. Returns its ID. */
export async function ensureBusyboxImage(opts: EnsureOptions = {}): Promise<string> {
  const tag = opts.tag ?? "busybox:latest";
  const label = `org.berth.busybox.sha256=${busyboxDigest()}`;
  try {
    const out = execFileSync(
      BERTH,
      [
        ...globalArgs(opts),
        "image",
        "inspect",
        "--format",
        '{{index .Config.Labels "org.berth.busybox.sha256"}} {{.Id}}',
        tag,
      ],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        env: { ...process.env, ...opts.env },
      },
    ).trim();
    const [have, id] = out.split(" ");
    if (`org.berth.busybox.sha256=${have}` === label && id) return id;
  } catch {
    // not there yet
  }
  const rootfs = await busyboxRootfs();
  return new Promise((res, rej) => {
    const child = spawn(
      BERTH,
      [
        ...globalArgs(opts),
        "import",
        "--change",
        'CMD ["sh"]',
        "--change",
        `LABEL ${label}`,
        "-m",
        "busybox from Debian busybox-static",
        "-",
        tag,
      ],
      {
        stdio: ["pipe", "pipe", "inherit"],
        env: { ...process.env, ...opts.env },
      },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.on("error", rej);
    child.on("close", (code) =>
      code === 0 ? res(out.trim()) : rej(new Error(`berth import exited with ${code}`)),
    );
    child.stdin.end(rootfs);
  });
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  statSync(BUSYBOX);
  ensureBusyboxImage({ root: arg("--root"), runroot: arg("--runroot"), tag: arg("--tag") }).then(
    (id) => process.stdout.write(`${id}\n`),
    (err: unknown) => {
      process.stderr.write(`busybox-image: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
