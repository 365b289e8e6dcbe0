/**
 * `npm run bench`: berth side by side with bare runc (and with Docker and Podman where they are
 * installed), as issue 7 lists the rows. Each measurement is the wall time of a whole process;
 * variants that are compared run interleaved (A B A B …) after a warm-up, so a drifting machine
 * does not skew their ratio. Prints a markdown table on stdout, progress on stderr.
 *
 * Usage: node dist/bench/main.js [--runs N] [--warmup N] [--only 1,2,…] [--baseline BIN] [--peers]
 *
 * Everything runs in a temporary directory (berth's --root/--runroot, the runc bundle, the
 * registry's storage, the peers' stores) that is removed at the end, with every container, mount
 * and process. Network: only 127.0.0.1 (the local registry) and the engines' own containers.
 *
 * Where a docker CLI is installed, berth is also measured through it against a `berth serve` on
 * the same store (the "berth API" column). With --peers, Docker and Podman are installed when
 * missing (scripts/bench-peers.sh) and measured in the same rounds (bench/peers.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { ensureBusyboxImage } from "../scripts/busybox-image.js";
import { startRegistry, type TestRegistry } from "../test/integration/registry-helpers.js";
import {
  argv,
  BERTH,
  cleanup,
  containerDirs,
  createWorkspace,
  type EngineCli,
  prepareBuildContext,
  prepareBundle,
  removeAllContainers,
  type Workspace,
} from "./fixtures.js";
import { parserTimings } from "./parsers.js";
import { importIntoPeer, type Peers, startPeers, treeRss } from "./peers.js";
import { GNU_TIME, must, peakRss, run, sleep, until } from "./proc.js";
import {
  formatKiB,
  formatRatio,
  formatSummary,
  markdownTable,
  ratio,
  type Summary,
  summarize,
} from "./stats.js";

interface Options {
  readonly runs: number;
  readonly warmup: number;
  readonly only: ReadonlySet<number> | undefined;
  /** Another berth's bin/berth, measured interleaved on the same store (before/after). */
  readonly baseline: string | undefined;
  /** Install and measure Docker and Podman (bench/peers.ts). */
  readonly peers: boolean;
}

function parseArgs(args: readonly string[]): Options {
  let runs = 5;
  let warmup = 1;
  let only: Set<number> | undefined;
  let baseline: string | undefined;
  let peers = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    if (a === "--peers") {
      peers = true;
      continue;
    }
    if (a === "--runs" && v) runs = Math.max(1, Number(v));
    else if (a === "--warmup" && v) warmup = Math.max(0, Number(v));
    else if (a === "--only" && v) only = new Set(v.split(",").map(Number));
    else if (a === "--baseline" && v) baseline = v;
    else
      throw new Error(
        `unknown argument ${a} (usage: --runs N --warmup N --only 1,2,… --baseline BIN --peers)`,
      );
    i++;
  }
  return { runs, warmup, only, baseline, peers };
}

const PEERS = ["Docker", "Podman"] as const;
type Peer = (typeof PEERS)[number];

/** One line of the table. */
interface Row {
  readonly row: string;
  readonly what: string;
  readonly berth: string;
  readonly reference: string;
  /** The --baseline berth's figure, when one is measured. */
  readonly before?: string;
  /** berth through the docker CLI against `berth serve`, when measured. */
  readonly api?: string;
  readonly peers: Partial<Record<Peer, string>>;
  readonly sideBySide: string;
  readonly target: string;
}

interface Context {
  readonly opts: Options;
  readonly ws: Workspace;
  /** berth, then the --baseline berth when given. */
  readonly subjects: readonly EngineCli[];
  /** The docker CLI against `berth serve` on berth's store, when a docker CLI is installed. */
  readonly api: EngineCli | undefined;
  readonly peers: readonly EngineCli[];
  readonly missing: Record<Peer, string | undefined>;
  readonly rows: Row[];
  readonly notes: string[];
  /** The `berth serve` the "berth API" column talks to. */
  readonly serve: ChildProcess | undefined;
  /** The run's dockerd, when Docker is a peer. */
  readonly dockerPid: number | undefined;
  /** Resident set (KiB) right after start: `berth serve`; dockerd with its containerd. */
  readonly idle: { serve?: number; docker?: number };
}

/** How long a daemon is left untouched before its idle resident set is read. */
const IDLE_MS = 3000;

async function rssOfPid(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** The docker CLIs this machine kind may have: the installed 28.x, then Debian's docker.io client. */
const DOCKER_CLIENTS = ["/usr/local/bin/docker", "/usr/bin/docker"];

/**
 * Starts `berth serve` on berth's store and finds a docker CLI that talks to it (the peers' own
 * client first, so both columns use one client).
 */
async function startServe(
  ws: Workspace,
  preferred: string | undefined,
): Promise<{ proc: ChildProcess; api: EngineCli } | undefined> {
  const sock = join(ws.dir, "berth.sock");
  const proc = spawn(BERTH, argv(ws.berth, ["serve", "-H", `unix://${sock}`, "--log-level", "warn"]), {
    stdio: ["ignore", "ignore", "ignore"],
  });
  const clients = [...(preferred ? [preferred] : []), ...DOCKER_CLIENTS.filter((c) => c !== preferred)];
  const answers = async (c: string) =>
    (
      await run(c, ["-H", `unix://${sock}`, "version", "--format", "{{.Server.Version}}"]).catch(
        () => undefined,
      )
    )?.code === 0;
  // Up once any client answers; then the first client in order that talks to it.
  const up = await until(async () => {
    if (proc.exitCode !== null) return true;
    for (const c of clients) if (await answers(c)) return true;
    return false;
  }, 30_000);
  let client: string | undefined;
  for (const c of up ? clients : []) {
    if (await answers(c)) {
      client = c;
      break;
    }
  }
  if (client === undefined) {
    proc.kill("SIGTERM");
    return undefined;
  }
  return {
    proc,
    api: {
      name: "berth API",
      cmd: client,
      prefix: ["-H", `unix://${sock}`],
      image: ws.berth.image,
      runFlags: [],
      rmFlags: ["-f"],
      insecureRegistryFlags: [],
    },
  };
}

async function stopServe(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  proc.kill("SIGTERM");
  if (!(await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]))) proc.kill("SIGKILL");
}

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/**
 * Runs each variant once per round, in order (A B C, A B C, …): `warmup` rounds not counted, then
 * `runs` counted. A variant returns its sample or undefined when it failed (counted separately).
 */
async function interleave(
  ctx: Context,
  variants: Record<string, () => Promise<number | undefined>>,
): Promise<Record<string, { summary: Summary | undefined; failures: number }>> {
  const samples: Record<string, number[]> = {};
  const failures: Record<string, number> = {};
  for (const k of Object.keys(variants)) {
    samples[k] = [];
    failures[k] = 0;
  }
  for (let round = 0; round < ctx.opts.warmup + ctx.opts.runs; round++) {
    for (const [k, fn] of Object.entries(variants)) {
      const v = await fn();
      if (round < ctx.opts.warmup) continue;
      if (v === undefined) failures[k] = (failures[k] ?? 0) + 1;
      else samples[k]?.push(v);
    }
  }
  const out: Record<string, { summary: Summary | undefined; failures: number }> = {};
  for (const k of Object.keys(variants)) {
    out[k] = { summary: summarize(samples[k] ?? []), failures: failures[k] ?? 0 };
  }
  return out;
}

function show(r: { summary: Summary | undefined; failures: number } | undefined, unit: "ms" | "KiB" = "ms") {
  if (!r) return "—";
  if (!r.summary) return `failed (${r.failures}×)`;
  return formatSummary(r.summary, unit) + (r.failures > 0 ? `, ${r.failures} failed` : "");
}

/** The "berth API" cell: the figure, or why there is none. */
function apiCell(
  ctx: Context,
  r: { summary: Summary | undefined; failures: number } | undefined,
  unit: "ms" | "KiB" = "ms",
): string {
  return ctx.api ? show(r, unit) : "no docker CLI";
}

function peerCells(
  ctx: Context,
  results: Record<string, { summary: Summary | undefined; failures: number }>,
  key: (p: EngineCli) => string,
): Partial<Record<Peer, string>> {
  const cells: Partial<Record<Peer, string>> = {};
  for (const p of PEERS) cells[p] = ctx.missing[p] ?? "—";
  for (const p of ctx.peers)
    if (p.name === "Docker" || p.name === "Podman") cells[p.name] = show(results[key(p)]);
  return cells;
}

function ratioText(
  a: { summary: Summary | undefined } | undefined,
  b: { summary: Summary | undefined } | undefined,
  label: string,
): string | undefined {
  if (!a?.summary || !b?.summary) return undefined;
  return `${label} ${formatRatio(ratio(a.summary, b.summary))}`;
}

function faster(
  ctx: Context,
  results: Record<string, { summary: Summary | undefined }>,
  key: (p: EngineCli) => string,
): { name: string; summary: Summary } | undefined {
  let best: { name: string; summary: Summary } | undefined;
  for (const p of ctx.peers) {
    const s = results[key(p)]?.summary;
    if (s && (!best || s.median < best.summary.median)) best = { name: p.name, summary: s };
  }
  return best;
}

/** Comparisons joined for the side-by-side cell. */
function joined(...parts: Array<string | undefined>): string {
  return parts.filter((p) => p !== undefined && p !== "").join("; ") || "no peer";
}

const berthCmd = (e: EngineCli, args: readonly string[]) => run(e.cmd, argv(e, args));

/** Every engine measured: berth, the --baseline berth, berth through its API, the peers. */
function everyEngine(ctx: Context): EngineCli[] {
  return [...ctx.subjects, ...(ctx.api ? [ctx.api] : []), ...ctx.peers];
}

/** `run`/`create` with the engine's flags (the peers never pull). */
const runArgs = (e: EngineCli, verb: "run" | "create", rest: readonly string[]) => [
  verb,
  ...e.runFlags,
  ...rest,
];

/** A sample from a run that must succeed: its time, or undefined (and a note) when it failed. */
async function sample(ctx: Context, e: EngineCli, args: readonly string[]): Promise<number | undefined> {
  const r = await berthCmd(e, args);
  if (r.code !== 0) {
    ctx.notes.push(`${e.name} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim().split("\n")[0] ?? ""}`);
    return undefined;
  }
  return r.ms;
}

/** Waits until `run --rm`'s cleanup (conmon's exit command) has removed the container. */
async function settled(e: EngineCli): Promise<void> {
  if (e.name === "berth") await until(async () => (await containerDirs(e)) === 0, 30_000);
}

let nameSeq = 0;
const freshName = () => `berth-bench-${process.pid}-${nameSeq++}`;

// -------------------------------------------------------------------------------------------------
// Row 1: run --rm true, against the bare runc floor

async function row1(ctx: Context): Promise<void> {
  progress("1: run --rm busybox true vs bare runc run");
  const bundle = await prepareBundle(ctx.ws);
  let seq = 0;
  const engines = everyEngine(ctx);
  const variants: Record<string, () => Promise<number | undefined>> = {
    runc: async () => {
      const r = await run("runc", ["--root", ctx.ws.runcRoot, "run", "-b", bundle, `bench-${seq++}`]);
      return r.code === 0 ? r.ms : undefined;
    },
  };
  for (const e of engines) {
    variants[`${e.name}`] = async () => {
      const ms = await sample(ctx, e, runArgs(e, "run", ["--rm", e.image, "true"]));
      await settled(e);
      return ms;
    };
    variants[`${e.name} none`] = async () => {
      const ms = await sample(ctx, e, runArgs(e, "run", ["--rm", "--network", "none", e.image, "true"]));
      await settled(e);
      return ms;
    };
  }
  const res = await interleave(ctx, variants);
  const fasterPeer = faster(ctx, res, (p) => p.name);
  const fasterPeerNone = faster(ctx, res, (p) => `${p.name} none`);
  ctx.rows.push({
    row: "1",
    what: `\`run --rm busybox true\` (default network${(await berthCmd(ctx.ws.berth, ["network", "ls"])).code === 0 ? ": bridge" : ""})`,
    berth: show(res.berth),
    reference: `bare \`runc run\`: ${show(res.runc)}`,
    before: show(res.baseline),
    api: apiCell(ctx, res["berth API"]),
    peers: peerCells(ctx, res, (p) => p.name),
    sideBySide: [
      ratioText(res.berth, res.runc, "berth/runc"),
      ratioText(res.berth, res.baseline, "berth/before"),
      fasterPeer && ratioText(res.berth, { summary: fasterPeer.summary }, `berth/${fasterPeer.name}`),
      fasterPeer && ratioText(res["berth API"], { summary: fasterPeer.summary }, `API/${fasterPeer.name}`),
    ]
      .filter(Boolean)
      .join("; "),
    target: "≤ ½ of the faster peer",
  });
  ctx.rows.push({
    row: "1",
    what: "`run --rm --network none busybox true`",
    berth: show(res["berth none"]),
    reference: `bare \`runc run\`: ${show(res.runc)}`,
    before: show(res["baseline none"]),
    api: apiCell(ctx, res["berth API none"]),
    peers: peerCells(ctx, res, (p) => `${p.name} none`),
    sideBySide: [
      ratioText(res["berth none"], res.runc, "berth/runc"),
      ratioText(res["berth none"], res["baseline none"], "berth/before"),
      fasterPeerNone &&
        ratioText(res["berth none"], { summary: fasterPeerNone.summary }, `berth/${fasterPeerNone.name}`),
      fasterPeerNone &&
        ratioText(res["berth API none"], { summary: fasterPeerNone.summary }, `API/${fasterPeerNone.name}`),
    ]
      .filter(Boolean)
      .join("; "),
    target: "≤ 3× bare runc",
  });
}

// -------------------------------------------------------------------------------------------------
// Row 2: run -d … sleep, then rm -f

async function row2(ctx: Context): Promise<void> {
  progress("2: run -d busybox sleep, then rm -f");
  const variants: Record<string, () => Promise<number | undefined>> = {};
  const rmTimes: Record<string, number[]> = {};
  for (const e of everyEngine(ctx)) {
    rmTimes[e.name] = [];
    let rounds = 0;
    variants[e.name] = async () => {
      const name = freshName();
      const started = await sample(
        ctx,
        e,
        runArgs(e, "run", ["-d", "--name", name, e.image, "sleep", "1000"]),
      );
      const removed = await sample(ctx, e, ["rm", ...e.rmFlags, name]);
      if (rounds++ >= ctx.opts.warmup && removed !== undefined) rmTimes[e.name]?.push(removed);
      return started;
    };
  }
  const res = await interleave(ctx, variants);
  const rm: Record<string, { summary: Summary | undefined; failures: number }> = {};
  for (const [k, v] of Object.entries(rmTimes)) rm[k] = { summary: summarize(v), failures: 0 };
  const fasterRun = faster(ctx, res, (p) => p.name);
  const fasterRm = faster(ctx, rm, (p) => p.name);
  ctx.rows.push({
    row: "2",
    what: "`run -d busybox sleep 1000`",
    berth: show(res.berth),
    reference: "—",
    before: show(res.baseline),
    api: apiCell(ctx, res["berth API"]),
    peers: peerCells(ctx, res, (p) => p.name),
    sideBySide: joined(
      ratioText(res.berth, res.baseline, "berth/before"),
      fasterRun && ratioText(res.berth, fasterRun, `berth/${fasterRun.name}`),
      fasterRun && ratioText(res["berth API"], fasterRun, `API/${fasterRun.name}`),
    ),
    target: "≤ ½ of the faster peer",
  });
  ctx.rows.push({
    row: "2",
    what: "`rm -f` of that running container (Podman: `rm -f -t 0`)",
    berth: show(rm.berth),
    reference: "—",
    before: show(rm.baseline),
    api: apiCell(ctx, rm["berth API"]),
    peers: peerCells(ctx, rm, (p) => p.name),
    sideBySide: joined(
      ratioText(rm.berth, rm.baseline, "berth/before"),
      fasterRm && ratioText(rm.berth, fasterRm, `berth/${fasterRm.name}`),
      fasterRm && ratioText(rm["berth API"], fasterRm, `API/${fasterRm.name}`),
    ),
    target: "≤ the faster peer",
  });
}

// -------------------------------------------------------------------------------------------------
// Row 3: build of a reference context, cold (--no-cache) and cached

async function hasBuild(e: EngineCli): Promise<boolean> {
  return (await run(e.cmd, argv(e, ["build", "--help"]))).code === 0;
}

async function row3(ctx: Context): Promise<void> {
  progress("3: build, cold (--no-cache) and cached");
  const engines: EngineCli[] = [];
  for (const e of [ctx.ws.berth, ...(ctx.api ? [ctx.api] : []), ...ctx.peers])
    if (await hasBuild(e)) engines.push(e);
  const berthHas = engines.includes(ctx.ws.berth);
  const variants: Record<string, () => Promise<number | undefined>> = {};
  for (const e of engines) {
    const context = await prepareBuildContext(ctx.ws, e);
    const tag = `berth-bench/build-${e.name.replace(/\W/g, "-").toLowerCase()}:latest`;
    variants[`${e.name} cold`] = () => sample(ctx, e, ["build", "-q", "--no-cache", "-t", tag, context]);
    variants[`${e.name} cached`] = () => sample(ctx, e, ["build", "-q", "-t", tag, context]);
  }
  const res = engines.length > 0 ? await interleave(ctx, variants) : {};
  const na = "not available (no `berth build` yet)";
  const docker = (k: string) => res[`Docker ${k}`];
  for (const kind of ["cold", "cached"] as const) {
    ctx.rows.push({
      row: "3",
      what:
        kind === "cold"
          ? "`build --no-cache` (1 MB COPY + RUN), cold"
          : "`build` of the same context, cached rebuild",
      berth: berthHas ? show(res[`berth ${kind}`]) : na,
      reference: "—",
      api: apiCell(ctx, res[`berth API ${kind}`]),
      peers: peerCells(ctx, res, (p) => `${p.name} ${kind}`),
      sideBySide: joined(
        ratioText(res[`berth ${kind}`], docker(kind), "berth/Docker"),
        ratioText(res[`berth API ${kind}`], docker(kind), "API/Docker"),
      ),
      target: kind === "cold" ? "≤ Docker's" : "< Docker's",
    });
  }
}

// -------------------------------------------------------------------------------------------------
// Row 4: ps -a and images with 100 and 1000 containers

/**
 * Creates containers (created, not started) until the store holds `count`. berth's are created
 * by its engine in one process (the same code `berth create` runs, without 1000 Node.js start-ups);
 * a peer's through its CLI, four at a time.
 */
async function fillContainers(e: EngineCli, have: number, count: number): Promise<void> {
  if (e.name === "baseline" || e.name === "berth API") return; // shares berth's store
  if (e.name === "berth") {
    const script = `
      const { openLocalEngine } = await import(${JSON.stringify(new URL("../src/local/engine.js", import.meta.url).href)});
      const { hostPlatform } = await import(${JSON.stringify(new URL("../src/config/host.js", import.meta.url).href)});
      const engine = await openLocalEngine({
        roots: { root: process.argv[1], runroot: process.argv[2] },
        hostPlatform: hostPlatform(),
        berthScript: ${JSON.stringify(BERTH)},
      });
      for (let i = ${have}; i < ${count}; i++) {
        await engine.containerCreate({ Image: ${JSON.stringify(e.image)}, Cmd: ["true"], HostConfig: { NetworkMode: "none" } }, { name: "berth-bench-ps-" + i });
      }
      await engine.close();
    `;
    await must(process.execPath, ["--input-type=module", "-e", script, e.prefix[1] ?? "", e.prefix[3] ?? ""]);
    return;
  }
  let next = have;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await must(e.cmd, argv(e, runArgs(e, "create", ["--name", `berth-bench-ps-${i}`, e.image, "true"])));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

async function row4(ctx: Context): Promise<void> {
  const engines = everyEngine(ctx);
  const at: Record<number, Record<string, { summary: Summary | undefined; failures: number }>> = {};
  let have = 0;
  for (const count of [100, 1000]) {
    progress(`4: creating ${count} containers`);
    for (const e of engines) await fillContainers(e, have, count);
    have = count;
    progress(`4: ps -a and images with ${count} containers`);
    const variants: Record<string, () => Promise<number | undefined>> = {
      // The floor of any CLI that is a fresh Node.js process.
      node: async () => {
        const r = await run(process.execPath, ["-e", "0"]);
        return r.code === 0 ? r.ms : undefined;
      },
    };
    for (const e of engines) {
      variants[`${e.name} ps`] = () => sample(ctx, e, ["ps", "-a"]);
      variants[`${e.name} images`] = () => sample(ctx, e, ["images"]);
      if (count === 100) variants[`${e.name} version`] = () => sample(ctx, e, ["version"]);
    }
    at[count] = await interleave(ctx, variants);
    if (count === 1000) {
      const rss: number[] = [];
      for (let i = 0; i < ctx.opts.runs; i++)
        rss.push(await peakRss(BERTH, argv(ctx.ws.berth, ["ps", "-a"])));
      peakRows.ps = summarize(rss);
      if (ctx.opts.baseline) {
        const before: number[] = [];
        for (let i = 0; i < ctx.opts.runs; i++)
          before.push(await peakRss(ctx.opts.baseline, argv(ctx.ws.berth, ["ps", "-a"])));
        peakRows.psBefore = summarize(before);
      }
    }
  }
  const r100 = at[100] ?? {};
  const r1000 = at[1000] ?? {};
  const growth = (k: string) => {
    const a = r1000[k]?.summary;
    const b = r100[k]?.summary;
    return a && b ? `1000/100: ${formatRatio(ratio(a, b))}` : undefined;
  };
  const nodeRef = (res: Record<string, { summary: Summary | undefined; failures: number }>) =>
    `\`node -e 0\`: ${show(res.node)}`;
  for (const cmd of ["version", "ps", "images"] as const) {
    for (const count of cmd === "version" ? [100] : [100, 1000]) {
      const res = count === 100 ? r100 : r1000;
      const fasterPeer = faster(ctx, res, (p) => `${p.name} ${cmd}`);
      const nodeDiff =
        cmd === "version" && res["berth version"]?.summary && res.node?.summary
          ? `berth − node: ${Math.round(res["berth version"].summary.median - res.node.summary.median)} ms`
          : ratioText(res[`berth ${cmd}`], res.node, "berth/node");
      ctx.rows.push({
        row: "4",
        what:
          cmd === "version"
            ? "`version` (start-up)"
            : `\`${cmd === "ps" ? "ps -a" : "images"}\` with ${count} containers`,
        berth: show(res[`berth ${cmd}`]),
        reference: nodeRef(res),
        before: show(res[`baseline ${cmd}`]),
        api: apiCell(ctx, res[`berth API ${cmd}`]),
        peers: peerCells(ctx, res, (p) => `${p.name} ${cmd}`),
        sideBySide: joined(
          nodeDiff,
          count === 1000 ? growth(`berth ${cmd}`) : undefined,
          ratioText(res[`berth ${cmd}`], res[`baseline ${cmd}`], "berth/before"),
          fasterPeer && ratioText(res[`berth ${cmd}`], fasterPeer, `berth/${fasterPeer.name}`),
          fasterPeer && ratioText(res[`berth API ${cmd}`], fasterPeer, `API/${fasterPeer.name}`),
        ),
        target:
          cmd === "version"
            ? "berth within 20 ms of `node -e 0`"
            : `berth ≤ 1.5× \`node -e 0\`; API ≤ the faster peer${cmd === "ps" && count === 1000 ? "; growth linear at worst" : ""}`,
      });
    }
  }
  progress("4: removing the containers");
  for (const e of engines) await removeAllContainers(e);
}

// -------------------------------------------------------------------------------------------------
// Row 5: save/load of a ~50 MB image; push/pull to a local registry, skopeo as the yardstick

const BIG = "berth-bench/big:latest";

async function makeBigImage(e: EngineCli): Promise<void> {
  const name = freshName();
  await must(
    e.cmd,
    argv(e, [
      ...runArgs(e, "run", []),
      "--name",
      name,
      "--network",
      "none",
      e.image,
      "sh",
      "-c",
      "head -c 52428800 /dev/urandom > /big.bin",
    ]),
  );
  await must(e.cmd, argv(e, ["commit", name, BIG]));
  await must(e.cmd, argv(e, ["rm", name]));
}

/** Removes a repository's layer links in the registry, so the next push uploads (not mounts) them. */
async function unlinkBlobs(reg: TestRegistry, repo: string, tag: string): Promise<void> {
  const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, {
    headers: {
      Accept:
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  if (!res.ok) return;
  const body: unknown = await res.json();
  const layers =
    typeof body === "object" && body !== null && "layers" in body && Array.isArray(body.layers)
      ? body.layers
      : [];
  for (const l of layers) {
    const digest: unknown = typeof l === "object" && l !== null && "digest" in l ? l.digest : undefined;
    if (typeof digest === "string") {
      const d = await fetch(`http://${reg.host}/v2/${repo}/blobs/${digest}`, { method: "DELETE" });
      await d.body?.cancel();
    }
  }
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
}

async function row5(ctx: Context): Promise<void> {
  progress("5: a 50 MB image: save/load, push/pull");
  const { berth, side } = ctx.ws;
  for (const e of [berth, ...ctx.peers]) await makeBigImage(e);
  const archiveOf = (e: EngineCli) => join(ctx.ws.dir, `big-${e.name.toLowerCase()}.tar`);
  let archiveBytes = 0;
  // save then load: berth into the side store (emptied after each load so the next one loads
  // everything); a peer into its own store after an untimed rmi (its busybox layer stays).
  const saveLoadVariants: Record<string, () => Promise<number | undefined>> = {
    "berth save": async () => {
      await rm(archiveOf(berth), { force: true });
      const ms = await sample(ctx, berth, ["save", "-o", archiveOf(berth), BIG]);
      archiveBytes = await sizeOf(archiveOf(berth)).catch(() => 0);
      return ms;
    },
    "berth load": async () => {
      const ms = await sample(ctx, side, ["load", "-q", "-i", archiveOf(berth)]);
      await berthCmd(side, ["rmi", BIG]);
      return ms;
    },
  };
  for (const p of ctx.peers) {
    saveLoadVariants[`${p.name} save`] = async () => {
      await rm(archiveOf(p), { force: true });
      return sample(ctx, p, ["save", "-o", archiveOf(p), BIG]);
    };
    saveLoadVariants[`${p.name} load`] = async () => {
      await berthCmd(p, ["rmi", BIG]);
      return sample(ctx, p, ["load", "-q", "-i", archiveOf(p)]);
    };
  }
  const saveLoad = await interleave(ctx, saveLoadVariants);
  const mb = (archiveBytes / 1e6).toFixed(0);
  for (const op of ["save", "load"] as const) {
    const fasterPeer = faster(ctx, saveLoad, (p) => `${p.name} ${op}`);
    ctx.rows.push({
      row: "5",
      what:
        op === "save"
          ? `\`save\` of a ${mb} MB image (busybox + 50 MB layer)`
          : "`load` of that archive (berth: into an empty store)",
      berth: show(saveLoad[`berth ${op}`]),
      reference: "—",
      peers: peerCells(ctx, saveLoad, (p) => `${p.name} ${op}`),
      sideBySide: joined(
        fasterPeer && ratioText(saveLoad[`berth ${op}`], fasterPeer, `berth/${fasterPeer.name}`),
      ),
      target: "≤ ½ of the faster peer",
    });
  }

  const reg = await startRegistry(join(ctx.ws.dir, "registry"));
  try {
    const remote = `${reg.host}/berth-bench/big:latest`;
    await must(berth.cmd, argv(berth, ["tag", BIG, remote]));
    await must(berth.cmd, argv(berth, ["push", "-q", remote]));
    await must(berth.cmd, argv(berth, ["rmi", remote]));
    // skopeo's source: the same image as an OCI layout with the layers as berth pushes them
    // (gzip), so it copies blobs as they are, without compressing them again. It is taken from a
    // repository whose layer links are removed afterwards: skopeo remembers where it saw a blob
    // and would mount it from there instead of uploading it.
    const layout = join(ctx.ws.dir, "skopeo-layout");
    const seed = `${reg.host}/berth-bench/seed:latest`;
    await must(berth.cmd, argv(berth, ["tag", BIG, seed]));
    await must(berth.cmd, argv(berth, ["push", "-q", seed]));
    await must(berth.cmd, argv(berth, ["rmi", seed]));
    await must("skopeo", [
      "--insecure-policy",
      "copy",
      "-q",
      "--src-tls-verify=false",
      `docker://${seed}`,
      `oci:${layout}:big`,
    ]);
    await unlinkBlobs(reg, "berth-bench/seed", "latest");
    let seq = 0;
    const pushVariants: Record<string, () => Promise<number | undefined>> = {
      berth: async () => {
        const repo = `berth-bench/push-${seq++}`;
        const ref = `${reg.host}/${repo}:latest`;
        await must(berth.cmd, argv(berth, ["tag", BIG, ref]));
        const ms = await sample(ctx, berth, ["push", "-q", ref]);
        await must(berth.cmd, argv(berth, ["rmi", ref]));
        await unlinkBlobs(reg, repo, "latest");
        return ms;
      },
      skopeo: async () => {
        const repo = `berth-bench/skopeo-${seq++}`;
        const r = await run("skopeo", [
          "--insecure-policy",
          "copy",
          "-q",
          "--dest-tls-verify=false",
          `oci:${layout}:big`,
          `docker://${reg.host}/${repo}:latest`,
        ]);
        await unlinkBlobs(reg, repo, "latest");
        if (r.code !== 0) ctx.notes.push(`skopeo push exited ${r.code}: ${r.stderr.trim()}`);
        return r.code === 0 ? r.ms : undefined;
      },
    };
    for (const p of ctx.peers) {
      // A peer compresses its layers itself when it pushes: that is part of its push.
      pushVariants[p.name] = async () => {
        const repo = `berth-bench/${p.name.toLowerCase()}-${seq++}`;
        const ref = `${reg.host}/${repo}:latest`;
        await must(p.cmd, argv(p, ["tag", BIG, ref]));
        const ms = await sample(ctx, p, ["push", "-q", ...p.insecureRegistryFlags, ref]);
        await run(p.cmd, argv(p, ["rmi", ref]));
        await unlinkBlobs(reg, repo, "latest");
        return ms;
      };
    }
    const push = await interleave(ctx, pushVariants);
    const pullVariants: Record<string, () => Promise<number | undefined>> = {
      berth: async () => {
        const ms = await sample(ctx, side, ["pull", "-q", remote]);
        await berthCmd(side, ["rmi", remote]);
        return ms;
      },
      skopeo: async () => {
        const dest = join(ctx.ws.dir, "skopeo-pulled");
        const r = await run("skopeo", [
          "--insecure-policy",
          "copy",
          "-q",
          "--src-tls-verify=false",
          `docker://${remote}`,
          `oci:${dest}:big`,
        ]);
        await rm(dest, { recursive: true, force: true });
        return r.code === 0 ? r.ms : undefined;
      },
    };
    for (const p of ctx.peers) {
      pullVariants[p.name] = async () => {
        const ms = await sample(ctx, p, ["pull", "-q", ...p.insecureRegistryFlags, remote]);
        await run(p.cmd, argv(p, ["rmi", remote]));
        return ms;
      };
    }
    const pull = await interleave(ctx, pullVariants);
    const fasterPush = faster(ctx, push, (p) => p.name);
    const fasterPull = faster(ctx, pull, (p) => p.name);
    ctx.rows.push({
      row: "5",
      what: "`push` of that image to a local registry (new repository each run)",
      berth: show(push.berth),
      reference: `\`skopeo copy\` oci: → registry: ${show(push.skopeo)}`,
      peers: peerCells(ctx, push, (p) => p.name),
      sideBySide: joined(
        ratioText(push.berth, push.skopeo, "berth/skopeo"),
        fasterPush && ratioText(push.berth, fasterPush, `berth/${fasterPush.name}`),
      ),
      target: "≤ skopeo",
    });
    ctx.rows.push({
      row: "5",
      what: "`pull` of that image (berth: into an empty store; a peer keeps its busybox layer)",
      berth: show(pull.berth),
      reference: `\`skopeo copy\` registry → oci: (no unpacking): ${show(pull.skopeo)}`,
      peers: peerCells(ctx, pull, (p) => p.name),
      sideBySide: joined(
        ratioText(pull.berth, pull.skopeo, "berth/skopeo"),
        fasterPull && ratioText(pull.berth, fasterPull, `berth/${fasterPull.name}`),
      ),
      target: "≤ 2× skopeo",
    });
  } finally {
    await reg.stop();
  }
}

// -------------------------------------------------------------------------------------------------
// Row 6: 20 concurrent run -d

/** Resident set (KiB) of each conmon watching a container of this berth store. */
async function conmonRss(e: EngineCli): Promise<number[]> {
  const dir = join(e.prefix[3] ?? "", "conmon");
  const out: number[] = [];
  for (const f of await readdir(dir).catch(() => [])) {
    if (!f.endsWith(".pid")) continue;
    const pid = (await readFile(join(dir, f), "utf8").catch(() => "")).trim();
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    if (m?.[1]) out.push(Number(m[1]));
  }
  return out;
}

async function row6(ctx: Context): Promise<void> {
  progress("6: 20 concurrent run -d");
  const succeeded: Record<string, string[]> = {};
  const variants: Record<string, () => Promise<number | undefined>> = {};
  const conmon: number[] = [];
  for (const e of everyEngine(ctx)) {
    succeeded[e.name] = [];
    variants[e.name] = async () => {
      const start = process.hrtime.bigint();
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          run(e.cmd, argv(e, runArgs(e, "run", ["-d", "--name", freshName(), e.image, "sleep", "1000"]))),
        ),
      );
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const ok = results.filter((r) => r.code === 0).length;
      succeeded[e.name]?.push(`${ok}/20`);
      for (const r of results)
        if (r.code !== 0) ctx.notes.push(`${e.name} concurrent run -d: ${r.stderr.trim()}`);
      if (e.name === "berth") conmon.push(...(await conmonRss(e)));
      await removeAllContainers(e);
      return ms;
    };
  }
  const res = await interleave(ctx, variants);
  const fasterPeer = faster(ctx, res, (p) => p.name);
  const ok = (name: string) => {
    const counts = succeeded[name] ?? [];
    return counts.every((c) => c === "20/20") ? "all 20 every run" : counts.join(", ");
  };
  ctx.rows.push({
    row: "6",
    what: "20 concurrent `run -d busybox sleep 1000`: total",
    berth: `${show(res.berth)}; succeeded: ${ok("berth")}`,
    reference: "—",
    ...(ctx.opts.baseline ? { before: `${show(res.baseline)}; succeeded: ${ok("baseline")}` } : {}),
    api: ctx.api ? `${show(res["berth API"])}; succeeded: ${ok("berth API")}` : apiCell(ctx, undefined),
    peers: Object.fromEntries(
      Object.entries(peerCells(ctx, res, (p) => p.name)).map(([k, v]) => [
        k,
        succeeded[k] ? `${v}; succeeded: ${ok(k)}` : v,
      ]),
    ),
    sideBySide: joined(
      ratioText(res.berth, res.baseline, "berth/before"),
      fasterPeer && ratioText(res.berth, fasterPeer, `berth/${fasterPeer.name}`),
      fasterPeer && ratioText(res["berth API"], fasterPeer, `API/${fasterPeer.name}`),
    ),
    target: "faster than the faster peer, all succeed",
  });
  peakRows.conmon = summarize(conmon);
}

// -------------------------------------------------------------------------------------------------
// Row 7: peak RSS

const peakRows: { ps?: Summary | undefined; psBefore?: Summary | undefined; conmon?: Summary | undefined } =
  {};

async function row7(ctx: Context): Promise<void> {
  progress("7: peak RSS");
  const { berth } = ctx.ws;
  const rssOf = async (args: readonly string[], after?: () => Promise<void>, bin = BERTH, e = berth) => {
    const out: number[] = [];
    for (let i = 0; i < ctx.opts.warmup + ctx.opts.runs; i++) {
      const kib = await peakRss(bin, argv(e, args));
      if (after) await after();
      if (i >= ctx.opts.warmup) out.push(kib);
    }
    return summarize(out);
  };
  const cell = (s: Summary | undefined) => (s ? formatSummary(s, "KiB") : "—");
  const runRss = await rssOf(["run", "--rm", berth.image, "true"], () => settled(berth));
  const base = ctx.opts.baseline;
  const runRssBefore = base
    ? await rssOf(["run", "--rm", berth.image, "true"], () => settled(berth), base)
    : undefined;
  const psRssBefore = base ? (peakRows.psBefore ?? (await rssOf(["ps", "-a"], undefined, base))) : undefined;
  const psRss = peakRows.ps ?? (await rssOf(["ps", "-a"]));
  let buildCell = "not available (no `berth build` yet)";
  if (await hasBuild(berth)) {
    const context = await prepareBuildContext(ctx.ws, berth);
    buildCell = cell(
      await rssOf(["build", "-q", "--no-cache", "-t", "berth-bench/build-rss:latest", context]),
    );
  }
  const target = "< 80 MiB";
  const noPeers = peerCells(ctx, {}, () => "");
  // The peers' CLI processes for the same commands (Docker's work is done in dockerd; Podman's
  // in its CLI process and its children).
  const peerRss = async (make: (p: EngineCli) => Promise<readonly string[]>) => {
    const cells: Partial<Record<Peer, string>> = { ...noPeers };
    for (const p of ctx.peers) {
      if (p.name !== "Docker" && p.name !== "Podman") continue;
      const args = await make(p);
      cells[p.name] = `${cell(await rssOf(args, undefined, p.cmd, p).catch(() => undefined))} (its CLI)`;
    }
    return cells;
  };
  const runPeers = await peerRss(async (p) => runArgs(p, "run", ["--rm", p.image, "true"]));
  const buildPeers = await peerRss(async (p) => [
    "build",
    "-q",
    "--no-cache",
    "-t",
    "berth-bench/build-rss:latest",
    await prepareBuildContext(ctx.ws, p),
  ]);
  ctx.rows.push({
    row: "7",
    what: "peak RSS: `run --rm busybox true`",
    berth: cell(runRss),
    reference: "—",
    ...(base ? { before: cell(runRssBefore) } : {}),
    peers: runPeers,
    sideBySide: "—",
    target,
  });
  ctx.rows.push({
    row: "7",
    what: `peak RSS: \`ps -a\`${peakRows.ps ? " (1000 containers)" : ""}`,
    berth: cell(psRss),
    reference: "—",
    ...(base ? { before: cell(psRssBefore) } : {}),
    peers: noPeers,
    sideBySide: "—",
    target,
  });
  ctx.rows.push({
    row: "7",
    what: "peak RSS: `build --no-cache`",
    berth: buildCell,
    reference: "—",
    peers: buildPeers,
    sideBySide: "—",
    target,
  });
  ctx.rows.push({
    row: "7",
    what: "resident per running container (its conmon's RSS)",
    berth: cell(peakRows.conmon),
    reference: "—",
    peers: noPeers,
    sideBySide: "—",
    target: "≤ ~2 MiB (conmon)",
  });
  // Resident when idle: `berth serve` and dockerd with its containerd, each right after it came
  // up (before the rows) and again at the end, with no container left, after IDLE_MS untouched.
  const idleAtEnd = async (pid: number | undefined, tree: boolean) => {
    if (!pid) return undefined;
    await sleep(IDLE_MS);
    return tree ? treeRss(pid) : rssOfPid(pid);
  };
  for (const e of everyEngine(ctx)) if (e.name !== "baseline") await removeAllContainers(e);
  const serveEnd = await idleAtEnd(ctx.serve?.pid, false);
  const dockerEnd = await idleAtEnd(ctx.dockerPid, true);
  const mib = (kib: number | undefined) => (kib ? formatKiB(kib) : undefined);
  const idleCell = (start: number | undefined, end: number | undefined) =>
    start || end ? `${mib(start) ?? "—"} after start; ${mib(end) ?? "—"} after the rows` : undefined;
  const serveCell = idleCell(ctx.idle.serve, serveEnd);
  const dockerCell = idleCell(ctx.idle.docker, dockerEnd);
  ctx.rows.push({
    row: "7",
    what: "resident when idle: `berth serve` (Docker: dockerd + containerd; Podman has no daemon)",
    berth: "the CLI leaves nothing resident",
    reference: "—",
    api: serveCell ?? "no `berth serve` running",
    peers: {
      Docker: ctx.missing.Docker ?? dockerCell ?? "—",
      Podman: ctx.missing.Podman ?? "nothing resident (no daemon)",
    },
    sideBySide: serveEnd && dockerEnd ? `serve/dockerd+containerd ${formatRatio(serveEnd / dockerEnd)}` : "—",
    target: "`berth serve` ≤ 40 MiB",
  });
}

// -------------------------------------------------------------------------------------------------

async function machine(): Promise<string> {
  const first = async (cmd: string, args: string[]) =>
    (await run(cmd, args).catch(() => undefined))?.stdout.split("\n")[0]?.trim() ?? "?";
  const debian = (await readFile("/etc/debian_version", "utf8").catch(() => "?")).trim();
  const kernel = await first("uname", ["-r"]);
  return [
    `- CPU: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores; RAM ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel ${kernel}, Debian ${debian}; ${await first("runc", ["--version"])}; ${await first("conmon", ["--version"])}; Node.js ${process.version}`,
    `- load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")} (other work on the machine widens the min–max ranges; ratios are taken side by side)`,
  ].join("\n");
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  await must(GNU_TIME, ["-f", "%M", "true"]).catch(() => {
    throw new Error("GNU time (/usr/bin/time) is missing: run scripts/setup.sh");
  });
  const ws = await createWorkspace();
  // berth's default bridge network for this run: a device and subnet of its own, so that it
  // neither meets the machine's berth0 nor a test store's; removed by cleanup().
  process.env.BERTH_BRIDGE = ws.bridge;
  process.env.BERTH_BIP = `10.254.${process.pid % 250}.1/24`;
  // The docker CLI's own settings stay out of the run (no hints, no credential helpers); builds
  // through it use the classic builder: dockerd 20.10's BuildKit resolves FROM in a registry.
  process.env.DOCKER_CONFIG = join(ws.dir, "docker-config");
  process.env.DOCKER_CLI_HINTS = "false";
  process.env.DOCKER_BUILDKIT = "0";
  const missing: Record<Peer, string | undefined> = {
    Docker: "not run (`--peers`)",
    Podman: "not run (`--peers`)",
  };
  let peerSet: Peers | undefined;
  let serve: { proc: ChildProcess; api: EngineCli } | undefined;
  let interrupted = false;
  const stopAll = async () => {
    await stopServe(serve?.proc).catch(() => undefined);
    const removed = await peerSet?.stop().catch((err: unknown) => [`peers' stop failed: ${String(err)}`]);
    if (removed && removed.length > 0) progress(`removed what the peers left: ${removed.join("; ")}`);
    await cleanup(ws);
  };
  const onSignal = () => {
    interrupted = true;
    progress("interrupted: cleaning up");
    // The row under way goes on issuing commands until exit: a second pass removes what it made
    // while the first ran.
    void stopAll()
      .then(() => cleanup(ws))
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const started = Date.now();
  const subjects: EngineCli[] = [ws.berth];
  if (opts.baseline) subjects.push({ ...ws.berth, name: "baseline", cmd: opts.baseline });
  let ctx: Context | undefined;
  const about: string[] = [];
  try {
    progress(`workspace ${ws.dir}; ${opts.runs} counted runs after ${opts.warmup} warm-up`);
    await mkdir(ws.dir, { recursive: true });
    // Podman reads DOCKER_CONFIG's config.json for registry credentials too.
    await mkdir(join(ws.dir, "docker-config"), { recursive: true });
    await writeFile(join(ws.dir, "docker-config", "config.json"), "{}\n");
    await ensureBusyboxImage({ root: ws.berth.prefix[1], runroot: ws.berth.prefix[3] });
    if (opts.peers) {
      progress("peers: installing when missing, starting dockerd");
      peerSet = await startPeers(ws);
      missing.Docker = peerSet.engines.some((e) => e.name === "Docker") ? undefined : "failed to start";
      missing.Podman = peerSet.engines.some((e) => e.name === "Podman") ? undefined : "not installed";
      for (const p of peerSet.engines) await importIntoPeer(ws, p);
    }
    serve = await startServe(ws, peerSet?.dockerd?.client);
    const idle: Context["idle"] = {};
    await sleep(IDLE_MS);
    if (serve?.proc.pid) idle.serve = await rssOfPid(serve.proc.pid);
    if (peerSet?.dockerd) idle.docker = await treeRss(peerSet.dockerd.pid);
    ctx = {
      opts,
      ws,
      subjects,
      api: serve?.api,
      peers: peerSet?.engines ?? [],
      missing,
      rows: [],
      notes: [],
      serve: serve?.proc,
      dockerPid: peerSet?.dockerd?.pid,
      idle,
    };
    about.push(...(peerSet?.about ?? []));
    about.push(
      serve
        ? `- berth API: the docker CLI at ${serve.api.cmd} against \`berth serve\` on berth's store (a unix socket)`
        : "- berth API: not measured (no docker CLI answered `berth serve`)",
    );
    const rowFns = [row1, row2, row3, row4, row5, row6, row7];
    for (const [i, fn] of rowFns.entries()) {
      if (opts.only && !opts.only.has(i + 1)) continue;
      await fn(ctx);
    }
  } finally {
    if (!interrupted) {
      progress("cleaning up");
      await stopAll();
    }
  }
  const rows = ctx?.rows ?? [];
  const notes = ctx?.notes ?? [];
  const before = opts.baseline ? [`before (${opts.baseline})`] : [];
  const table = markdownTable(
    [
      "#",
      "benchmark",
      "berth",
      ...before,
      "reference",
      "berth API (docker CLI → `berth serve`)",
      "Docker",
      "Podman",
      "side by side (same run)",
      "issue target",
    ],
    rows.map((r) => [
      r.row,
      r.what,
      r.berth,
      ...(opts.baseline ? [r.before ?? "—"] : []),
      r.reference,
      r.api ?? "—",
      r.peers.Docker ?? "—",
      r.peers.Podman ?? "—",
      r.sideBySide,
      r.target,
    ]),
  );
  const out = [
    `berth benchmarks — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${opts.runs} counted runs after ${opts.warmup} warm-up, median (min–max)`,
    "",
    await machine(),
    ...about,
    "",
    table,
    "",
    ...(notes.length > 0 ? ["Notes:", ...[...new Set(notes)].slice(0, 20).map((n) => `- ${n}`), ""] : []),
    "Parsers on hostile input (in process):",
    ...parserTimings(opts.runs),
    "",
    `(${((Date.now() - started) / 1000).toFixed(0)} s)`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
