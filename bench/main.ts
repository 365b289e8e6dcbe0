/**
 * `npm run bench`: berth side by side with bare runc (and with Docker and Podman where they are
 * installed), as issue 7 lists the rows. Each measurement is the wall time of a whole process;
 * variants that are compared run interleaved (A B A B …) after a warm-up, so a drifting machine
 * does not skew their ratio. Prints a markdown table on stdout, progress on stderr.
 *
 * Usage: node dist/bench/main.js [--runs N] [--warmup N] [--only 1,2,…]
 *
 * Everything runs in a temporary directory (berth's --root/--runroot, the runc bundle, the
 * registry's storage) that is removed at the end, with every container, mount and process.
 * Network: only 127.0.0.1 (the local registry).
 */
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
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
  findPeers,
  importIntoPeer,
  prepareBuildContext,
  prepareBundle,
  removeAllContainers,
  type Workspace,
} from "./fixtures.js";
import { GNU_TIME, must, peakRss, run, until } from "./proc.js";
import { formatRatio, formatSummary, markdownTable, ratio, type Summary, summarize } from "./stats.js";

interface Options {
  readonly runs: number;
  readonly warmup: number;
  readonly only: ReadonlySet<number> | undefined;
  /** Another berth's bin/berth, measured interleaved on the same store (before/after). */
  readonly baseline: string | undefined;
}

function parseArgs(args: readonly string[]): Options {
  let runs = 5;
  let warmup = 1;
  let only: Set<number> | undefined;
  let baseline: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    if (a === "--runs" && v) runs = Math.max(1, Number(v));
    else if (a === "--warmup" && v) warmup = Math.max(0, Number(v));
    else if (a === "--only" && v) only = new Set(v.split(",").map(Number));
    else if (a === "--baseline" && v) baseline = v;
    else throw new Error(`unknown argument ${a} (usage: --runs N --warmup N --only 1,2,… --baseline BIN)`);
    i++;
  }
  return { runs, warmup, only, baseline };
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
  readonly peers: Partial<Record<Peer, string>>;
  readonly sideBySide: string;
  readonly target: string;
}

interface Context {
  readonly opts: Options;
  readonly ws: Workspace;
  /** berth, then the --baseline berth when given. */
  readonly subjects: readonly EngineCli[];
  readonly peers: readonly EngineCli[];
  readonly missing: Record<Peer, string | undefined>;
  readonly rows: Row[];
  readonly notes: string[];
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
  const engines = [...ctx.subjects, ...ctx.peers];
  const variants: Record<string, () => Promise<number | undefined>> = {
    runc: async () => {
      const r = await run("runc", ["--root", ctx.ws.runcRoot, "run", "-b", bundle, `bench-${seq++}`]);
      return r.code === 0 ? r.ms : undefined;
    },
  };
  for (const e of engines) {
    variants[`${e.name}`] = async () => {
      const ms = await sample(ctx, e, ["run", "--rm", e.image, "true"]);
      await settled(e);
      return ms;
    };
    variants[`${e.name} none`] = async () => {
      const ms = await sample(ctx, e, ["run", "--rm", "--network", "none", e.image, "true"]);
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
    peers: peerCells(ctx, res, (p) => p.name),
    sideBySide: [
      ratioText(res.berth, res.runc, "berth/runc"),
      ratioText(res.berth, res.baseline, "berth/before"),
      fasterPeer && ratioText(res.berth, { summary: fasterPeer.summary }, `berth/${fasterPeer.name}`),
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
    peers: peerCells(ctx, res, (p) => `${p.name} none`),
    sideBySide: [
      ratioText(res["berth none"], res.runc, "berth/runc"),
      ratioText(res["berth none"], res["baseline none"], "berth/before"),
      fasterPeerNone &&
        ratioText(res["berth none"], { summary: fasterPeerNone.summary }, `berth/${fasterPeerNone.name}`),
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
  for (const e of [...ctx.subjects, ...ctx.peers]) {
    rmTimes[e.name] = [];
    let rounds = 0;
    variants[e.name] = async () => {
      const name = freshName();
      const started = await sample(ctx, e, ["run", "-d", "--name", name, e.image, "sleep", "1000"]);
      const removed = await sample(ctx, e, ["rm", "-f", name]);
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
    peers: peerCells(ctx, res, (p) => p.name),
    sideBySide: joined(
      ratioText(res.berth, res.baseline, "berth/before"),
      fasterRun && ratioText(res.berth, fasterRun, `berth/${fasterRun.name}`),
    ),
    target: "≤ ½ of the faster peer",
  });
  ctx.rows.push({
    row: "2",
    what: "`rm -f` of that running container",
    berth: show(rm.berth),
    reference: "—",
    before: show(rm.baseline),
    peers: peerCells(ctx, rm, (p) => p.name),
    sideBySide: joined(
      ratioText(rm.berth, rm.baseline, "berth/before"),
      fasterRm && ratioText(rm.berth, fasterRm, `berth/${fasterRm.name}`),
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
  for (const e of [ctx.ws.berth, ...ctx.peers]) if (await hasBuild(e)) engines.push(e);
  const berthHas = engines.includes(ctx.ws.berth);
  const variants: Record<string, () => Promise<number | undefined>> = {};
  for (const e of engines) {
    const context = await prepareBuildContext(ctx.ws, e.image);
    const tag = `berth-bench/build-${e.name.toLowerCase()}:latest`;
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
      peers: peerCells(ctx, res, (p) => `${p.name} ${kind}`),
      sideBySide: ratioText(res[`berth ${kind}`], docker(kind), "berth/Docker") ?? "no peer",
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
  if (e.name === "baseline") return; // shares berth's store
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
      await must(e.cmd, argv(e, ["create", "--name", `berth-bench-ps-${i}`, e.image, "true"]));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

async function row4(ctx: Context): Promise<void> {
  const engines = [...ctx.subjects, ...ctx.peers];
  const at: Record<number, Record<string, { summary: Summary | undefined; failures: number }>> = {};
  let have = 0;
  for (const count of [100, 1000]) {
    progress(`4: creating ${count} containers`);
    for (const e of engines) await fillContainers(e, have, count);
    have = count;
    progress(`4: ps -a and images with ${count} containers`);
    const variants: Record<string, () => Promise<number | undefined>> = {};
    for (const e of engines) {
      variants[`${e.name} ps`] = () => sample(ctx, e, ["ps", "-a"]);
      variants[`${e.name} images`] = () => sample(ctx, e, ["images"]);
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
  for (const cmd of ["ps", "images"] as const) {
    for (const count of [100, 1000]) {
      const res = count === 100 ? r100 : r1000;
      const docker = res[`Docker ${cmd}`];
      ctx.rows.push({
        row: "4",
        what: `\`${cmd === "ps" ? "ps -a" : "images"}\` with ${count} containers`,
        berth: show(res[`berth ${cmd}`]),
        reference: "—",
        before: show(res[`baseline ${cmd}`]),
        peers: peerCells(ctx, res, (p) => `${p.name} ${cmd}`),
        sideBySide: joined(
          count === 1000 ? growth(`berth ${cmd}`) : undefined,
          ratioText(res[`berth ${cmd}`], res[`baseline ${cmd}`], "berth/before"),
          ratioText(res[`berth ${cmd}`], docker, "berth/Docker"),
        ),
        target: cmd === "ps" ? (count === 100 ? "≤ Docker's" : "< 300 ms, growth linear at worst") : "—",
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
      "run",
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
  await makeBigImage(berth);
  const archive = join(ctx.ws.dir, "big.tar");
  let archiveBytes = 0;
  // save then load into the side store (emptied after each load so the next one loads everything).
  const saveLoad = await interleave(ctx, {
    save: async () => {
      await rm(archive, { force: true });
      const ms = await sample(ctx, berth, ["save", "-o", archive, BIG]);
      archiveBytes = await sizeOf(archive).catch(() => 0);
      return ms;
    },
    load: async () => {
      const ms = await sample(ctx, side, ["load", "-q", "-i", archive]);
      await berthCmd(side, ["rmi", BIG]);
      return ms;
    },
  });
  const mb = (archiveBytes / 1e6).toFixed(0);
  ctx.rows.push({
    row: "5",
    what: `\`save\` of a ${mb} MB image (busybox + 50 MB layer)`,
    berth: show(saveLoad.save),
    reference: "—",
    peers: peerCells(ctx, {}, () => ""),
    sideBySide: "no peer",
    target: "≤ ½ of the faster peer",
  });
  ctx.rows.push({
    row: "5",
    what: `\`load\` of that archive into an empty store`,
    berth: show(saveLoad.load),
    reference: "—",
    peers: peerCells(ctx, {}, () => ""),
    sideBySide: "no peer",
    target: "≤ ½ of the faster peer",
  });

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
    const push = await interleave(ctx, {
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
    });
    const pull = await interleave(ctx, {
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
    });
    ctx.rows.push({
      row: "5",
      what: "`push` of that image to a local registry (new repository each run)",
      berth: show(push.berth),
      reference: `\`skopeo copy\` oci: → registry: ${show(push.skopeo)}`,
      peers: peerCells(ctx, {}, () => ""),
      sideBySide: ratioText(push.berth, push.skopeo, "berth/skopeo") ?? "—",
      target: "≤ skopeo",
    });
    ctx.rows.push({
      row: "5",
      what: "`pull` of that image into an empty store",
      berth: show(pull.berth),
      reference: `\`skopeo copy\` registry → oci: (no unpacking): ${show(pull.skopeo)}`,
      peers: peerCells(ctx, {}, () => ""),
      sideBySide: ratioText(pull.berth, pull.skopeo, "berth/skopeo") ?? "—",
      target: "≤ skopeo",
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
  for (const e of [...ctx.subjects, ...ctx.peers]) {
    succeeded[e.name] = [];
    variants[e.name] = async () => {
      const start = process.hrtime.bigint();
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          run(e.cmd, argv(e, ["run", "-d", "--name", freshName(), e.image, "sleep", "1000"])),
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
    peers: peerCells(ctx, res, (p) => p.name),
    sideBySide: joined(
      ratioText(res.berth, res.baseline, "berth/before"),
      fasterPeer && ratioText(res.berth, fasterPeer, `berth/${fasterPeer.name}`),
    ),
    target: "all succeed",
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
  const rssOf = async (args: readonly string[], after?: () => Promise<void>, bin = BERTH) => {
    const out: number[] = [];
    for (let i = 0; i < ctx.opts.warmup + ctx.opts.runs; i++) {
      const kib = await peakRss(bin, argv(berth, args));
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
    const context = await prepareBuildContext(ctx.ws, berth.image);
    buildCell = cell(
      await rssOf(["build", "-q", "--no-cache", "-t", "berth-bench/build-rss:latest", context]),
    );
  }
  const serve = await run(BERTH, argv(berth, ["serve", "--help"]));
  const target = "< 80 MiB";
  const noPeers = peerCells(ctx, {}, () => "");
  ctx.rows.push({
    row: "7",
    what: "peak RSS: `run --rm busybox true`",
    berth: cell(runRss),
    reference: "—",
    ...(base ? { before: cell(runRssBefore) } : {}),
    peers: noPeers,
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
    peers: noPeers,
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
  ctx.rows.push({
    row: "7",
    what: "resident when idle: `berth serve` idle",
    berth:
      serve.code === 0
        ? "not measured yet (`berth serve` exists; bench to be wired)"
        : "not implemented (no `berth serve` yet); the CLI leaves nothing resident",
    reference: "—",
    peers: noPeers,
    sideBySide: "—",
    target: "nothing resident when idle",
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
  const { engines: peers, missing } = await findPeers(ws);
  const subjects: EngineCli[] = [ws.berth];
  if (opts.baseline) subjects.push({ ...ws.berth, name: "baseline", cmd: opts.baseline });
  const ctx: Context = { opts, ws, subjects, peers, missing, rows: [], notes: [] };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    progress("interrupted: cleaning up");
    void cleanup(ws, peers).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const started = Date.now();
  try {
    progress(`workspace ${ws.dir}; ${opts.runs} counted runs after ${opts.warmup} warm-up`);
    await mkdir(ws.dir, { recursive: true });
    await ensureBusyboxImage({ root: ws.berth.prefix[1], runroot: ws.berth.prefix[3] });
    for (const p of peers) await importIntoPeer(p);
    const rowFns = [row1, row2, row3, row4, row5, row6, row7];
    for (const [i, fn] of rowFns.entries()) {
      if (ctx.opts.only && !ctx.opts.only.has(i + 1)) continue;
      await fn(ctx);
    }
  } finally {
    if (!interrupted) {
      progress("cleaning up");
      await cleanup(ws, peers);
    }
  }
  const before = opts.baseline ? [`before (${opts.baseline})`] : [];
  const table = markdownTable(
    [
      "#",
      "benchmark",
      "berth",
      ...before,
      "reference",
      "Docker",
      "Podman",
      "side by side (same run)",
      "issue target",
    ],
    ctx.rows.map((r) => [
      r.row,
      r.what,
      r.berth,
      ...(opts.baseline ? [r.before ?? "—"] : []),
      r.reference,
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
    "",
    table,
    "",
    ...(ctx.notes.length > 0
      ? ["Notes:", ...[...new Set(ctx.notes)].slice(0, 20).map((n) => `- ${n}`), ""]
      : []),
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
