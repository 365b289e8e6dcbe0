/**
 * System endpoints: /_ping (GET and HEAD), /version and /info. /_ping is what clients call first
 * (version negotiation reads its API-Version header), so it never touches the store.
 */
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { arch, cpus, hostname, release, totalmem } from "node:os";
import type { ContainerStatus } from "../../engine/types.js";
import { sendJson } from "../http.js";
import { MAX_API_VERSION, MIN_API_VERSION, type RequestContext, type Router } from "../router.js";

/** Docker's names for Node's architectures (GOARCH). */
export function goArch(nodeArch: string = arch()): string {
  switch (nodeArch) {
    case "x64":
      return "amd64";
    case "ia32":
      return "386";
    default:
      return nodeArch;
  }
}

function pingHeaders(res: ServerResponse): void {
  res.setHeader("API-Version", MAX_API_VERSION);
  res.setHeader("OSType", "linux");
  // The classic builder's protocol: POST /build streams {"stream": …} lines (no BuildKit session).
  res.setHeader("Builder-Version", "1");
  res.setHeader("Docker-Experimental", "false");
  res.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
  res.setHeader("Pragma", "no-cache");
}

async function ping(ctx: RequestContext): Promise<void> {
  pingHeaders(ctx.res);
  const body = ctx.req.method === "HEAD" ? "" : "OK";
  ctx.res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": 2 });
  ctx.res.end(body);
}

function operatingSystem(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    if (m?.[1]) return m[1];
  } catch {
    // fall through
  }
  return "Linux";
}

function osVersion(): string {
  try {
    const m = /^VERSION_ID="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (m?.[1]) return m[1];
  } catch {
    // fall through
  }
  return "";
}

async function version(ctx: RequestContext): Promise<void> {
  const v = ctx.server.version;
  const nodeVersion = process.version;
  sendJson(ctx.res, 200, {
    Platform: { Name: "berth" },
    Components: [
      {
        Name: "Engine",
        Version: v,
        Details: {
          ApiVersion: MAX_API_VERSION,
          MinAPIVersion: MIN_API_VERSION,
          Os: "linux",
          Arch: goArch(),
          KernelVersion: release(),
          Experimental: "false",
          GoVersion: nodeVersion,
          GitCommit: "",
          BuildTime: "",
        },
      },
    ],
    Version: v,
    ApiVersion: MAX_API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: "",
    GoVersion: nodeVersion,
    Os: "linux",
    Arch: goArch(),
    KernelVersion: release(),
    BuildTime: "",
  });
}

async function info(ctx: RequestContext): Promise<void> {
  const [containers, images] = await Promise.all([
    ctx.engine.containerList({ all: true }),
    ctx.engine.imageList({ all: false }),
  ]);
  const count = (...states: ContainerStatus[]) => containers.filter((c) => states.includes(c.State)).length;
  sendJson(ctx.res, 200, {
    ID: "",
    Containers: containers.length,
    ContainersRunning: count("running", "restarting"),
    ContainersPaused: count("paused"),
    ContainersStopped: count("created", "exited", "dead", "removing"),
    Images: images.length,
    Driver: "overlay",
    DriverStatus: [["Backing Filesystem", "overlayfs"]],
    Plugins: {
      Volume: ["local"],
      Network: ["bridge", "host", "null"],
      Authorization: null,
      Log: ["k8s-file"],
    },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: "k8s-file",
    CgroupDriver: "cgroupfs",
    NEventsListener: 0,
    KernelVersion: release(),
    OperatingSystem: operatingSystem(),
    OSVersion: osVersion(),
    OSType: "linux",
    Architecture: goArch(),
    IndexServerAddress: "",
    RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: [], Mirrors: [] },
    NCPU: cpus().length,
    MemTotal: totalmem(),
    GenericResources: null,
    DockerRootDir: ctx.server.root,
    HttpProxy: "",
    HttpsProxy: "",
    NoProxy: "",
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: ctx.server.version,
    Runtimes: { runc: { path: "runc" } },
    DefaultRuntime: "runc",
    Swarm: {
      NodeID: "",
      NodeAddr: "",
      LocalNodeState: "inactive",
      ControlAvailable: false,
      Error: "",
      RemoteManagers: null,
    },
    LiveRestoreEnabled: true,
    Isolation: "",
    InitBinary: "",
    ContainerdCommit: { ID: "" },
    RuncCommit: { ID: "" },
    InitCommit: { ID: "" },
    SecurityOptions: [],
    Warnings: null,
  });
}

export function systemRoutes(r: Router): Router {
  return r.get("/_ping", ping).head("/_ping", ping).get("/version", version).get("/info", info);
}
