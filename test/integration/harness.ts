/**
 * Integration-test harness: runs the real bin/berth against a temporary root and runroot of its
 * own, and removes them afterwards.
 *
 * Remote mode (`BERTH_TEST_REMOTE=1`): each store also gets a `berth serve` on a socket of its
 * own, started on the same root and runroot (with the store's network settings), and every
 * `store.berth()` call goes through it as `berth -H unix://…` — the same commands and the same
 * assertions, with the CLI as a client of the Docker API. What a test does to the store directly
 * (seeding images with scripts/busybox-image.ts, looking at files) stays local, beside the server,
 * as any second process on one store.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BERTH, ensureBusyboxImage } from "../../scripts/busybox-image.js";
import { ensureNodeImage } from "../../scripts/node-image.js";
import { waitFor } from "../../src/base/async.js";
import { DEFAULT_ROOT } from "../../src/config/roots.js";
import { hostAddresses, hostRoutes, tearDownBridge } from "../../src/network/bridge.js";
import { dnsTableName } from "../../src/network/dns.js";
import { overlaps, parseSubnet } from "../../src/network/ipnet.js";
import { storeBridgeName } from "../../src/network/settings.js";

export { BERTH };

/** True when the CLI tests run against a `berth serve` (BERTH_TEST_REMOTE=1). */
export const REMOTE = process.env.BERTH_TEST_REMOTE === "1";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly out: Buffer;
}

export interface RunOptions {
  readonly input?: Buffer | string;
  /**
   * A terminal dialogue: for each [pattern, text], waits until the output written since the
   * previous step matches the pattern, then types the text. Stdin stays open until the program
   * exits (an early EOF would end the session before it reacts); a step whose output never comes
   * within `stepLimitMs` ends stdin so the program, and the test's assertion, can finish.
   */
  readonly stdinScript?: ReadonlyArray<readonly [RegExp, string]>;
  readonly stepLimitMs?: number;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** Runs any program, collecting its output. */
export function runProgram(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outputChanged: () => void = () => undefined;
    child.stdout.on("data", (c: Buffer) => {
      out.push(c);
      outputChanged();
    });
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", rej);
    child.stdin.on("error", () => undefined);
    let closed = false;
    child.on("close", (code) => {
      closed = true;
      outputChanged();
      const buf = Buffer.concat(out);
      res({
        code: code ?? -1,
        stdout: buf.toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        out: buf,
      });
    });
    if (opts.stdinScript) {
      const limit = opts.stepLimitMs ?? 120_000;
      void (async () => {
        let from = 0;
        for (const [pattern, text] of opts.stdinScript ?? []) {
          const seen = await new Promise<boolean>((r) => {
            const timer = setTimeout(() => r(false), limit);
            outputChanged = () => {
              const since = Buffer.concat(out).subarray(from).toString("utf8");
              const m = pattern.exec(since);
              if (!m && !closed) return;
              clearTimeout(timer);
              outputChanged = () => undefined;
              if (m) from += Buffer.byteLength(since.slice(0, m.index + m[0].length));
              r(m !== null);
            };
            outputChanged();
          });
          if (closed) return;
          if (!seen) {
            child.stdin.end();
            return;
          }
          child.stdin.write(text);
        }
        if (!closed) {
          const timer = setTimeout(() => child.stdin.end(), limit);
          child.once("close", () => clearTimeout(timer));
        }
      })();
    } else child.stdin.end(opts.input ?? "");
  });
}

/** The default bridge of a slot's store, named after the slot and the process holding it. */
function slotBridge(slot: number, pid: number): string {
  return `bt${slot.toString(36)}x${pid.toString(36)}`.slice(0, 15);
}

/** A slot's subnets: the default bridge's /24 and the /22 its user networks come from. */
function slotSubnets(slot: number): { bip: string; pool: string } {
  const pool = 100 * 2 ** 24 + 64 * 2 ** 16 + slot * 1024;
  const ip = (n: number) => [24, 16, 8, 0].map((sh) => Math.floor(n / 2 ** sh) % 256).join(".");
  return { bip: `10.${16 + Math.floor(slot / 256)}.${slot % 256}.1/24`, pool: `${ip(pool)}/22` };
}

/**
 * A slot of host-global network names for one store: its default bridge device, its subnet and
 * the pool its user networks come from. Claimed host-wide (a directory under /tmp naming the
 * claiming process; a dead holder's slot is taken over) so concurrent test files never share one.
 * A slot whose subnets a device on the host holds already (left by a run that was killed, or by
 * anything else) is passed over: berth refuses a `bip` another device's address or route covers.
 */
async function claimNetworkSlot(): Promise<{ slot: number; release: () => Promise<void> }> {
  const base = join(tmpdir(), "berth-test-nets");
  await mkdir(base, { recursive: true });
  const start = (process.pid * 7) % 4096;
  const held = async (slot: number, except: string) => {
    const { bip, pool } = slotSubnets(slot);
    const mine = [parseSubnet(bip, { loose: true }), parseSubnet(pool)];
    const nets = [...(await hostAddresses()), ...hostRoutes()].filter((h) => h.dev !== except);
    return nets.some((h) => mine.some((m) => overlaps(h.subnet, m)));
  };
  for (let i = 0; i < 4096; i++) {
    const slot = (start + i) % 4096;
    const dir = join(base, String(slot));
    try {
      await mkdir(dir);
    } catch {
      const holder = Number(await readFile(join(dir, "pid"), "utf8").catch(() => "0"));
      let alive = holder > 0;
      try {
        if (alive) process.kill(holder, 0);
      } catch {
        alive = false;
      }
      if (alive || holder === 0) continue;
      // The dead holder's default bridge (and its rules), which would hold the slot's subnet.
      await tearDownBridge(slotBridge(slot, holder), join(dir, "none"));
      await rm(dir, { recursive: true, force: true });
      try {
        await mkdir(dir);
      } catch {
        continue;
      }
    }
    await writeFile(join(dir, "pid"), String(process.pid));
    if (await held(slot, slotBridge(slot, process.pid))) {
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    return { slot, release: () => rm(dir, { recursive: true, force: true }) };
  }
  throw new Error("no free test network slot");
}

/** The `berth serve` of a store in remote mode: its socket, process and log. */
class StoreServer {
  private logText = "";
  private readonly exited: Promise<void>;

  constructor(
    readonly sock: string,
    readonly proc: ChildProcess,
  ) {
    proc.stderr?.on("data", (d: Buffer) => {
      // The end of the log is what explains a failure; keep it bounded.
      this.logText = (this.logText + d.toString()).slice(-64 * 1024);
    });
    this.exited = new Promise((resolve) => proc.once("exit", () => resolve()));
  }

  get log(): string {
    return this.logText;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async waitUntilAnswering(): Promise<void> {
    const { connect } = await import("node:net");
    const answers = () =>
      new Promise<boolean>((resolve) => {
        const c = connect(this.sock);
        c.once("connect", () => {
          c.destroy();
          resolve(true);
        });
        c.once("error", () => resolve(false));
      });
    await waitFor(
      "berth serve to answer",
      async () => {
        if (await answers()) return true;
        if (!this.running) throw new Error("berth serve exited early");
        return false;
      },
      30_000,
      50,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}: ${this.log}`);
    });
  }

  /**
   * SIGTERM, and the server's exit. serve finishes or cancels its requests and exits on SIGTERM;
   * one still running 30 s later is killed and the stop fails with its log, instead of the test
   * (and the whole run) waiting for it without end.
   */
  async stop(): Promise<void> {
    if (!this.running) return this.exited;
    this.proc.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), 30_000);
    });
    const outcome = await Promise.race([this.exited, late]).finally(() => clearTimeout(timer));
    if (outcome !== "late") return;
    this.proc.kill("SIGKILL");
    await this.exited;
    throw new Error(`berth serve still running 30 s after SIGTERM (killed): ${this.log}`);
  }
}

/** A temporary berth store with helpers to run commands against it. */
export class Store {
  /** In remote mode, the server every `berth()` call goes through. */
  private server: StoreServer | undefined;

  /** The settings the store is opened with now (see reopen()). */
  private settings: Readonly<Record<string, string>>;

  private constructor(
    readonly dir: string,
    readonly root: string,
    readonly runroot: string,
    /** BERTH_BRIDGE, BERTH_BIP, BERTH_DEFAULT_ADDRESS_POOLS of this store. */
    private readonly slotEnv: Readonly<Record<string, string>>,
    private readonly releaseSlot: () => Promise<void>,
  ) {
    this.settings = slotEnv;
  }

  /** The store's network settings in force (its slot's, or what reopen() gave). */
  get env(): Readonly<Record<string, string>> {
    return this.settings;
  }

  /**
   * Opens the store with other network settings from now on (`overrides` over the slot's; none:
   * the slot's again). Locally every later CLI gets them; in remote mode the store's server is
   * restarted with them, since they are the engine's, as dockerd's --bip is the daemon's (a
   * client's environment never reaches the server).
   */
  async reopen(overrides: Readonly<Record<string, string>> = {}): Promise<void> {
    this.settings = { ...this.slotEnv, ...overrides };
    if (!this.server) return;
    await this.server.stop();
    await this.serve();
  }

  /** Starts this store's `berth serve` (remote mode). */
  private async serve(): Promise<void> {
    const sock = join(this.dir, "remote.sock");
    const proc = spawn(
      BERTH,
      ["--root", this.root, "--runroot", this.runroot, "serve", "-H", `unix://${sock}`],
      {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, ...this.env },
      },
    );
    this.server = new StoreServer(sock, proc);
    await this.server.waitUntilAnswering();
  }

  /** The `-H` of remote mode, or undefined when the CLI uses the store directly. */
  get host(): string | undefined {
    return this.server ? `unix://${this.server.sock}` : undefined;
  }

  /** The PID of the store's `berth serve` (remote mode), or undefined. */
  get serverPid(): number | undefined {
    return this.server?.proc.pid;
  }

  /**
   * Remote mode: kills the store's server with SIGKILL (the store's writer crashing, containers
   * left to conmon) and starts a new one on the same socket, as a user would.
   */
  async crashAndRestartServer(): Promise<void> {
    const old = this.server;
    if (!old) throw new Error("the store has no server (remote mode only)");
    if (old.running) old.proc.kill("SIGKILL");
    await old.stop();
    await this.serve();
  }

  /** The server's log (remote mode), to explain a failure. */
  get serverLog(): string {
    return this.server?.log ?? "";
  }

  /**
   * A store in a new temporary directory. Its default bridge and address pools come from a slot
   * of its own (BERTH_BRIDGE, BERTH_BIP, BERTH_DEFAULT_ADDRESS_POOLS), unless `defaultNetwork`:
   * then it has no network settings at all, as a user's store, and its bridge (named after its
   * root) and subnets are whatever berth chooses beside every other store on the host.
   */
  static async create(opts: { defaultNetwork?: boolean } = {}): Promise<Store> {
    const dir = await mkdtemp(join(tmpdir(), "berth-it-"));
    const store = await Store.make(dir, opts);
    if (REMOTE) await store.serve();
    return store;
  }

  private static async make(dir: string, opts: { defaultNetwork?: boolean }): Promise<Store> {
    if (opts.defaultNetwork)
      return new Store(dir, join(dir, "root"), join(dir, "run"), {}, () => Promise.resolve());
    const { slot, release } = await claimNetworkSlot();
    // Default bridge: 10.(16+slot/256).(slot%256).0/24; user networks: a /22 of 100.64.0.0/10 in /26s.
    const { bip, pool } = slotSubnets(slot);
    const env = {
      BERTH_BRIDGE: slotBridge(slot, process.pid),
      BERTH_BIP: bip,
      BERTH_DEFAULT_ADDRESS_POOLS: JSON.stringify([{ base: pool, size: 26 }]),
    };
    return new Store(dir, join(dir, "root"), join(dir, "run"), env, release);
  }

  /** The default network's bridge device. */
  get bridge(): string {
    return this.env.BERTH_BRIDGE ?? storeBridgeName(this.root, DEFAULT_ROOT);
  }

  /** The global flags that name this store: `--root … --runroot …`, or `-H unix://…` in remote mode. */
  get globalArgs(): string[] {
    const host = this.host;
    return host ? ["-H", host] : ["--root", this.root, "--runroot", this.runroot];
  }

  /** Runs `berth --root … --runroot … ARGS` (`berth -H … ARGS` in remote mode). */
  berth(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return runProgram(BERTH, [...this.globalArgs, ...args], {
      ...opts,
      env: { ...this.env, ...opts.env },
    });
  }

  /** Like berth() but fails the test unless the command exits 0. */
  async ok(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const r = await this.berth(args, opts);
    if (r.code !== 0) {
      const log = this.server ? `\nthe store's berth serve logged:\n${this.server.log.slice(-4096)}` : "";
      throw new Error(`berth ${args.join(" ")} exited ${r.code}: ${r.stderr}${log}`);
    }
    return r;
  }

  /**
   * The command line of `berth ARGS` against this store (through its server in remote mode), for
   * tests that run it themselves: under script(1), in a shell pipeline, or to kill it.
   */
  argv(args: readonly string[]): string[] {
    return [BERTH, ...this.globalArgs, ...args];
  }

  /** busybox:latest (or `tag`) imported into this store, through its server in remote mode. */
  busybox(tag = "busybox:latest"): Promise<string> {
    return this.explained(ensureBusyboxImage({ ...this.imageTarget, tag }));
  }

  /** The tutorial's node images (scripts/node-image.ts) loaded into this store, as busybox(). */
  nodeImage(): Promise<string> {
    return this.explained(ensureNodeImage(this.imageTarget));
  }

  /** In remote mode, a failure carries the end of the server's log (what the client cannot say). */
  private explained<T>(p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      if (!this.server) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`${msg}\nthe store's berth serve logged:\n${this.server.log.slice(-8192)}`);
    });
  }

  /**
   * Where the image scripts load into: this store with its network settings (a berth process
   * without them would move the default network's record to other settings under the server).
   */
  private get imageTarget() {
    const host = this.host;
    return { root: this.root, runroot: this.runroot, env: this.env, ...(host ? { host } : {}) };
  }

  path(...parts: string[]): string {
    return resolve(this.dir, ...parts);
  }

  /** Removes every container (killing running ones), unmounts what is left, deletes the store. */
  async cleanup(): Promise<void> {
    const ids = await this.berth(["ps", "-aq", "--no-trunc"]).catch(() => undefined);
    const list = ids?.stdout.split("\n").filter(Boolean) ?? [];
    if (list.length > 0) await this.berth(["rm", "-f", "-v", ...list]);
    // Networks: user networks (their bridges), the default bridge, the DNS server.
    const nets = await this.berth(["network", "ls", "-q", "--filter", "type=custom"]).catch(() => undefined);
    for (const n of nets?.stdout.split("\n").filter(Boolean) ?? []) await this.berth(["network", "rm", n]);
    await this.server?.stop();
    // Every bridge the store set up (its markers name them), not only the one its settings name
    // now: a device left behind keeps its subnet, and a later store given that subnet would
    // have its containers unreachable.
    const markers = join(this.runroot, "cni", "bridges");
    const named = (await readdir(markers).catch(() => [] as string[])).filter((n) => !n.startsWith("."));
    const bridges = new Set([this.bridge, ...named]);
    for (const b of bridges) await tearDownBridge(b, markers);
    // The store's health supervisor (it would exit by itself once idle).
    const supervisor = await readFile(join(this.runroot, "health-supervisor.pid"), "utf8").catch(() => "");
    if (Number(supervisor) > 0 && Number(supervisor) !== process.pid) {
      try {
        process.kill(Number(supervisor), "SIGTERM");
      } catch {
        // gone
      }
    }
    // The store's two DNS servers and their nftables table (removed with the last user network's
    // container; left when that failed).
    for (const slot of ["a", "b"]) {
      const dns = await readFile(join(this.runroot, "aardvark", slot, "aardvark.pid"), "utf8").catch(
        () => "",
      );
      if (Number(dns) > 0) {
        try {
          process.kill(Number(dns), "SIGTERM");
        } catch {
          // gone
        }
      }
    }
    await runProgram("nft", ["delete", "table", "ip", dnsTableName(join(this.runroot, "aardvark"))]);
    for (const ns of await readdir(join(this.runroot, "netns")).catch(() => [] as string[]))
      await runProgram("umount", [join(this.runroot, "netns", ns)]);
    const mounts = await runProgram("sh", [
      "-c",
      `grep -F ' ${this.dir}/' /proc/self/mountinfo | cut -d' ' -f5 | sort -r`,
    ]);
    for (const m of mounts.stdout.split("\n").filter(Boolean)) await runProgram("umount", ["-l", m]);
    await runProgram("runc", ["--root", join(this.runroot, "runc"), "list", "-q"]).then(async (r) => {
      for (const id of r.stdout.split("\n").filter(Boolean)) {
        await runProgram("runc", ["--root", join(this.runroot, "runc"), "delete", "-f", id]);
      }
    });
    // A container's exit command (`container cleanup`, run by its conmon) may still be finishing
    // and write into the root while it goes: retry (ENOTEMPTY) rather than fail the suite's hook.
    await rm(this.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    await this.releaseSlot();
  }

  /** Names of the files under a store directory (blobs, snapshots, ingest), for before/after checks. */
  async listing(sub: string): Promise<string[]> {
    try {
      return (await readdir(join(this.root, sub))).sort();
    } catch {
      return [];
    }
  }

  async exists(sub: string): Promise<boolean> {
    return stat(join(this.root, sub)).then(
      () => true,
      () => false,
    );
  }
}

/**
 * Runs `fn` while holding a host-wide lock named `name` (a directory under /tmp), so test files
 * that need the same host resource — host ports 3000-3003, say — do not run it at once when the
 * runner runs files concurrently. A lock whose holder process is gone is taken over.
 */
export async function exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = join(tmpdir(), "berth-test-locks", name);
  await mkdir(join(tmpdir(), "berth-test-locks"), { recursive: true });
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, "pid"), String(process.pid));
      break;
    } catch {
      const holder = Number(await readFile(join(dir, "pid"), "utf8").catch(() => "0"));
      let alive = holder > 0;
      if (alive) {
        try {
          process.kill(holder, 0);
        } catch {
          alive = false;
        }
      }
      if (!alive && holder > 0) await rm(dir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** GET http://127.0.0.1:port/ → body, or undefined when nothing answers within `timeoutMs`. */
export function httpGet(port: number, timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port, path: "/", timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", () => resolve(undefined));
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => {
      req.destroy();
      resolve(undefined);
    });
  });
}
