/**
 * `berth kube generate` and `berth kube play`: Kubernetes YAML from running containers, and
 * Kubernetes YAML run on this machine (pods as an infra container plus the pod's containers).
 * Everything goes through the Engine contract, so both work against `berth serve` too.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { errnoCode, errorMessage, invalidArgument, isBerthError, notFound } from "../../base/errors.js";

import { bestEffort } from "../../base/log.js";
import type { Engine } from "../../engine/engine.js";
import type { ContainerCreateRequest, ContainerInspect, ImageInspect } from "../../engine/types.js";
import { generateKube } from "../../kube/generate.js";
import {
  INFRA_FILES,
  KUBE_NETWORK,
  PLAY_LABEL,
  type PlannedContainer,
  type PlannedPod,
  type PlayPlan,
  POD_LABEL,
  planPlay,
  ROLE_LABEL,
} from "../../kube/play.js";
import { parseManifests, stringifyManifests } from "../../kube/yaml.js";
import { atLeast, type Command, type CommandContext, exactly } from "../command.js";

/** The host's static busybox: the infra containers' only program (Podman builds its pause image locally too). */
const BUSYBOX = "/bin/busybox";
/** PID 1 of an infra container: waits, and exits at once on SIGTERM/SIGINT. */
const PAUSE_CMD = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"];

const warn = (ctx: CommandContext, w: string): void => {
  ctx.io.stderr.write(`WARNING: ${w}\n`);
};

const generateCommand: Command = {
  path: "kube generate",
  usage: "[OPTIONS] CONTAINER|NETWORK [CONTAINER|NETWORK...]",
  description: "Generate Kubernetes YAML from containers, or from every container of a network",
  args: atLeast(1),
  flags: [
    { name: "service", short: "s", type: "bool", description: "Also generate a Service for the ports" },
    {
      name: "type",
      short: "t",
      type: "string",
      valueName: "string",
      defaultText: "pod",
      description: "pod (one Pod for all the containers) or deployment (one Deployment per container)",
    },
    { name: "name", type: "string", valueName: "string", description: "Name of the Pod (type pod)" },
    {
      name: "filename",
      short: "f",
      type: "string",
      valueName: "string",
      description: "Write the YAML to a file",
    },
  ],
  async run(ctx, flags, args) {
    const type = flags.string("type") ?? "pod";
    if (type !== "pod" && type !== "deployment")
      throw invalidArgument(`invalid --type ${JSON.stringify(type)}: pod or deployment`);
    if (flags.string("name") !== undefined && type !== "pod")
      throw invalidArgument("--name applies to --type pod only");
    const engine = await ctx.engine();
    const containers: ContainerInspect[] = [];
    let networkName: string | undefined;
    for (const arg of args) {
      try {
        containers.push(await engine.containerInspect(arg));
        continue;
      } catch (err) {
        if (!isBerthError(err, "NotFound")) throw err;
      }
      let net: Awaited<ReturnType<Engine["networkInspect"]>>;
      try {
        net = await engine.networkInspect(arg);
      } catch (err) {
        if (isBerthError(err, "NotFound")) throw notFound(`No such container or network: ${arg}`);
        throw err;
      }
      if (["bridge", "host", "none"].includes(net.Name))
        throw invalidArgument(
          `network ${net.Name}: only user networks make a pod; name its containers instead`,
        );
      const ids = Object.keys(net.Containers ?? {}).sort();
      if (ids.length === 0) throw invalidArgument(`network ${net.Name} has no containers`);
      networkName ??= net.Name;
      for (const id of ids) containers.push(await engine.containerInspect(id));
    }
    const unique = [...new Map(containers.map((c) => [c.Id, c])).values()];
    const images = new Map<string, ImageInspect>();
    for (const c of unique) {
      if (images.has(c.Image)) continue;
      try {
        images.set(c.Image, await engine.imageInspect(c.Image));
      } catch (err) {
        if (!isBerthError(err, "NotFound")) throw err;
        warn(
          ctx,
          `image of ${c.Name.replace(/^\//, "")} is gone; its defaults cannot be told from the container's settings`,
        );
      }
    }
    const name = flags.string("name") ?? networkName;
    const result = generateKube(
      { containers: unique, images },
      { type, service: flags.bool("service"), ...(name !== undefined ? { name } : {}) },
    );
    for (const w of result.warnings) warn(ctx, w);
    const text = stringifyManifests(result.objects);
    const file = flags.string("filename");
    if (file !== undefined) await writeFile(resolve(ctx.io.cwd, file), text);
    else ctx.io.stdout.write(text);
    return 0;
  },
};

const playCommand: Command = {
  path: "kube play",
  usage: "[OPTIONS] FILE|-",
  description:
    "Run the Pods, Deployments, Services, PersistentVolumeClaims, ConfigMaps and Secrets of Kubernetes YAML",
  args: exactly(1),
  flags: [
    { name: "down", type: "bool", description: "Remove what an earlier kube play of this file created" },
    {
      name: "start",
      type: "bool",
      defaultText: "true",
      description: "Start the pods (--start=false creates them only)",
    },
  ],
  async run(ctx, flags, args) {
    const source = args[0] as string;
    const text =
      source === "-"
        ? await readStdin(ctx.io.stdin)
        : await readFile(resolve(ctx.io.cwd, source), "utf8").catch((err: unknown) => {
            throw notFound(`open ${source}: ${errorMessage(err)}`);
          });
    const plan = planPlay(parseManifests(text, source === "-" ? "stdin" : source));
    const engine = await ctx.engine();
    if (flags.bool("down")) return playDown(ctx, engine, plan);
    for (const w of plan.warnings) warn(ctx, w);
    const start = flags.has("start") ? flags.bool("start") : true;
    return playUp(ctx, engine, plan, start);
  },
};

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** `berth-local/pause:<busybox digest>`, made from the host's busybox when missing. */
async function ensurePauseImage(engine: Engine): Promise<string> {
  let binary: Buffer;
  try {
    binary = await readFile(BUSYBOX);
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
    throw notFound(
      `kube play needs ${BUSYBOX} (Debian's busybox-static) for the pods' infra containers`,
      err,
    );
  }
  const ref = `berth-local/pause:${createHash("sha256").update(binary).digest("hex").slice(0, 12)}`;
  try {
    await engine.imageInspect(ref);
    return ref;
  } catch (err) {
    if (!isBerthError(err, "NotFound")) throw err;
  }
  const tar = pack();
  const image = Readable.from(tar, { objectMode: false });
  const mtime = new Date("2024-01-01T00:00:00Z");
  tar.entry({ name: "bin/", type: "directory", mode: 0o755, mtime });
  tar.entry({ name: "bin/busybox", mode: 0o755, mtime }, binary);
  for (const applet of ["sh", "sleep"])
    tar.entry({ name: `bin/${applet}`, type: "symlink", linkname: "busybox", mode: 0o777, mtime });
  tar.finalize();
  await engine.imageImport(image, {
    reference: ref,
    changes: [`CMD ${JSON.stringify(PAUSE_CMD)}`, "LABEL io.berth.kube.role=infra"],
    message: "berth kube play infra image (the host's busybox)",
  });
  return ref;
}

async function createPulling(
  engine: Engine,
  c: PlannedContainer,
  req: ContainerCreateRequest,
): Promise<string> {
  const pull = async () => {
    for await (const _ of engine.imagePull(c.image)) {
      // progress is not shown; a failure throws
    }
  };
  if (c.pullAlways) await pull();
  try {
    return (await engine.containerCreate(req, { name: c.name })).Id;
  } catch (err) {
    if (!isBerthError(err, "NotFound") || c.pullAlways) throw err;
    try {
      await engine.imageInspect(c.image);
    } catch (inspectErr) {
      if (!isBerthError(inspectErr, "NotFound")) throw inspectErr;
      await pull();
      return (await engine.containerCreate(req, { name: c.name })).Id;
    }
    throw err;
  }
}

async function playUp(ctx: CommandContext, engine: Engine, plan: PlayPlan, start: boolean): Promise<number> {
  const made: { containers: string[]; volumes: string[]; network?: string } = { containers: [], volumes: [] };
  try {
    for (const p of plan.pods) {
      const existing = await engine.containerList({
        all: true,
        filters: { label: [`${POD_LABEL}=${p.name}`] },
      });
      if (existing.length > 0)
        throw invalidArgument(`pod ${p.name} already exists (berth kube play --down FILE removes it)`);
    }
    const pause = plan.pods.length > 0 ? await ensurePauseImage(engine) : "";
    if (plan.pods.some((p) => !p.hostNetwork)) {
      try {
        await engine.networkInspect(KUBE_NETWORK);
      } catch (err) {
        if (!isBerthError(err, "NotFound")) throw err;
        await engine.networkCreate({ Name: KUBE_NETWORK, Labels: { [PLAY_LABEL]: "true" } });
        made.network = KUBE_NETWORK;
      }
    }
    for (const claim of plan.claims) {
      try {
        await engine.volumeInspect(claim);
      } catch (err) {
        if (!isBerthError(err, "NotFound")) throw err;
        await engine.volumeCreate({ Name: claim, Labels: { [PLAY_LABEL]: "true" } });
        made.volumes.push(claim);
      }
    }
    for (const p of plan.pods) {
      const ids = await playPod(engine, p, pause, start, made);
      ctx.io.stdout.write(`Pod:\n${p.name}\nContainers:\n${ids.join("\n")}\n\n`);
    }
    if (made.volumes.length > 0) ctx.io.stdout.write(`Volumes:\n${made.volumes.join("\n")}\n`);
    return 0;
  } catch (err) {
    // Undo what this run made, so a failure leaves the store as it was.
    for (const id of made.containers.reverse())
      await bestEffort(
        `removing container ${id} of a failed play`,
        engine.containerRemove(id, { force: true }),
      );
    for (const v of made.volumes)
      await bestEffort(`removing volume ${v} of a failed play`, engine.volumeRemove(v, { force: true }));
    if (made.network)
      await bestEffort(
        `removing network ${made.network} of a failed play`,
        engine.networkRemove(made.network),
      );

    throw err;
  }
}

async function playPod(
  engine: Engine,
  p: PlannedPod,
  pause: string,
  start: boolean,
  made: { containers: string[]; volumes: string[] },
): Promise<string[]> {
  const labels = (role: string): Record<string, string> => ({
    ...p.labels,
    [POD_LABEL]: p.name,
    [ROLE_LABEL]: role,
    [PLAY_LABEL]: "true",
  });
  for (const v of p.volumes) {
    await engine.volumeCreate({
      Name: v.name,
      Labels: { [POD_LABEL]: p.name, [PLAY_LABEL]: "true" },
    });
    made.volumes.push(v.name);
  }
  const fileVolumes = p.volumes.filter((v) => v.files !== undefined);
  const exposed: Record<string, Record<string, never>> = {};
  for (const key of Object.keys(p.portBindings)) exposed[key] = {};
  const infraName = `${p.name}-infra`;
  const infra = await engine.containerCreate(
    {
      Image: pause,
      Hostname: p.hostNetwork ? "" : p.hostname,
      Labels: labels("infra"),
      ExposedPorts: exposed,
      ...(p.stopTimeout !== undefined ? { StopTimeout: p.stopTimeout } : {}),
      HostConfig: {
        NetworkMode: p.hostNetwork ? "host" : KUBE_NETWORK,
        PortBindings: p.portBindings,
        ExtraHosts: p.extraHosts,
        RestartPolicy: p.restartPolicy,
        Mounts: fileVolumes.map((v) => ({
          Type: "volume" as const,
          Source: v.name,
          Target: `${INFRA_FILES}/${v.name}`,
        })),
      },
      ...(p.hostNetwork
        ? {}
        : { NetworkingConfig: { EndpointsConfig: { [KUBE_NETWORK]: { Aliases: p.aliases } } } }),
    },
    { name: infraName },
  );
  made.containers.push(infra.Id);
  if (start || fileVolumes.length > 0) await engine.containerStart(infra.Id);
  for (const v of fileVolumes) {
    const tar = pack();
    const files = Readable.from(tar, { objectMode: false });
    for (const [path, data] of v.files ?? []) tar.entry({ name: path, mode: 0o644, mtime: new Date() }, data);
    tar.finalize();
    await engine.containerExtractArchive(infra.Id, `${INFRA_FILES}/${v.name}`, files);
  }
  if (!start) await engine.containerStop(infra.Id);
  const ids = [infra.Id];
  for (const c of p.containers) {
    const req: ContainerCreateRequest = {
      Image: c.image,
      Env: c.env,
      Tty: c.tty,
      OpenStdin: c.openStdin,
      Labels: labels("container"),
      ...(c.entrypoint !== undefined ? { Entrypoint: c.entrypoint } : {}),
      ...(c.cmd !== undefined ? { Cmd: c.cmd } : {}),
      ...(c.workingDir !== undefined ? { WorkingDir: c.workingDir } : {}),
      ...(c.user !== undefined ? { User: c.user } : {}),
      ...(c.healthcheck !== undefined ? { Healthcheck: c.healthcheck } : {}),
      ...(p.stopTimeout !== undefined ? { StopTimeout: p.stopTimeout } : {}),
      HostConfig: { ...c.hostConfig, NetworkMode: `container:${infra.Id}`, RestartPolicy: p.restartPolicy },
    };
    const id = await createPulling(engine, c, req);
    made.containers.push(id);
    ids.push(id);
    if (start) await engine.containerStart(id);
  }
  return ids;
}

async function playDown(ctx: CommandContext, engine: Engine, plan: PlayPlan): Promise<number> {
  const removedPods: string[] = [];
  for (const p of plan.pods) {
    const list = await engine.containerList({
      all: true,
      filters: { label: [`${POD_LABEL}=${p.name}`, `${PLAY_LABEL}=true`] },
    });
    if (list.length === 0) continue;
    // The pod's containers first, then the infra container whose namespace they share.
    const ordered = [
      ...list.filter((c) => c.Labels?.[ROLE_LABEL] !== "infra"),
      ...list.filter((c) => c.Labels?.[ROLE_LABEL] === "infra"),
    ];
    for (const c of ordered) await engine.containerRemove(c.Id, { force: true, volumes: true });
    removedPods.push(p.name);
  }
  const removedVolumes: string[] = [];
  const keptVolumes: string[] = [];
  const ours = async (name: string): Promise<boolean | undefined> => {
    try {
      return (await engine.volumeInspect(name)).Labels?.[PLAY_LABEL] === "true";
    } catch (err) {
      if (isBerthError(err, "NotFound")) return undefined;
      throw err;
    }
  };
  for (const name of [...plan.pods.flatMap((p) => p.volumes.map((v) => v.name)), ...plan.claims]) {
    const mine = await ours(name);
    if (mine === undefined) continue;
    if (!mine) {
      keptVolumes.push(name);
      continue;
    }
    await engine.volumeRemove(name);
    removedVolumes.push(name);
  }
  try {
    const net = await engine.networkInspect(KUBE_NETWORK);
    if (net.Labels?.[PLAY_LABEL] === "true" && Object.keys(net.Containers ?? {}).length === 0)
      await engine.networkRemove(KUBE_NETWORK);
  } catch (err) {
    if (!isBerthError(err, "NotFound")) throw err;
  }
  // The infra image goes when no container uses it any more.
  for (const img of await engine.imageList({ filters: { reference: ["berth-local/pause"] } })) {
    const users = await engine.containerList({ all: true, filters: { ancestor: [img.Id] } });
    if (users.length === 0) await engine.imageRemove(img.Id, { force: true });
  }
  if (removedPods.length > 0) ctx.io.stdout.write(`Pods removed:\n${removedPods.join("\n")}\n`);
  if (removedVolumes.length > 0) ctx.io.stdout.write(`Volumes removed:\n${removedVolumes.join("\n")}\n`);
  for (const v of keptVolumes) warn(ctx, `volume ${v} existed before kube play and is kept`);
  return 0;
}

export const kubeCommands: readonly Command[] = [generateCommand, playCommand];
