/**
 * `berth serve` for integration tests: started on a test store's own socket, its log collected,
 * stopped (SIGTERM, or SIGKILL to test crashes) by the test. Also runs the real docker CLI
 * against it with a DOCKER_CONFIG of its own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { connect } from "node:net";
import { BERTH, type RunOptions, type RunResult, runProgram, type Store } from "./harness.js";

export class Serve {
  private exited: Promise<number | null>;
  private logText = "";

  private constructor(
    readonly store: Store,
    readonly sock: string,
    readonly proc: ChildProcess,
    readonly dockerConfig: string,
  ) {
    this.exited = new Promise((resolve) => {
      proc.on("exit", (code, signal) => resolve(signal ? null : code));
    });
    proc.stderr?.on("data", (d: Buffer) => {
      this.logText += d.toString();
    });
  }

  /** Starts `berth serve -H unix://<store>/serve.sock` (plus `args`) and waits until it answers. */
  static async start(store: Store, args: readonly string[] = []): Promise<Serve> {
    const sock = store.path("serve.sock");
    const dockerConfig = store.path("docker-config");
    await mkdir(dockerConfig, { recursive: true });
    const proc = spawn(
      BERTH,
      ["--root", store.root, "--runroot", store.runroot, "serve", "-H", `unix://${sock}`, ...args],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...store.env } },
    );
    const s = new Serve(store, sock, proc, dockerConfig);
    const deadline = Date.now() + 30_000;
    while (!(await s.answers())) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`berth serve exited early: ${s.log}`);
      }
      if (Date.now() > deadline) throw new Error(`berth serve did not come up: ${s.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return s;
  }

  get host(): string {
    return `unix://${this.sock}`;
  }

  get log(): string {
    return this.logText;
  }

  /** True once the socket accepts connections. */
  answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const c = connect(this.sock);
      c.once("connect", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
  }

  /** Waits for the log to contain `text` (up to 30 s). */
  async waitForLog(text: string | RegExp): Promise<void> {
    const deadline = Date.now() + 30_000;
    const has = () => (typeof text === "string" ? this.logText.includes(text) : text.test(this.logText));
    while (!has()) {
      if (Date.now() > deadline) throw new Error(`serve log never said ${String(text)}: ${this.logText}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends a signal and waits for the process to end; its exit code (null when killed). */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }

  /** Runs the real `docker` CLI against this server. */
  docker(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return runProgram("docker", args, {
      ...opts,
      env: { DOCKER_HOST: this.host, DOCKER_CONFIG: this.dockerConfig, ...opts.env },
    });
  }

  /** Like docker() but fails unless the command exits 0. */
  async dockerOk(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const r = await this.docker(args, opts);
    if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r;
  }

  /** A raw HTTP request on the socket (for what the docker CLI cannot send). */
  request(
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
    return httpOnSocket(this.sock, method, path, body, headers);
  }
}

export async function httpOnSocket(
  socketPath: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          headers: res.headers,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The docker CLI is on every machine of this kind (client only); say so plainly if not. */
export async function dockerCliPresent(): Promise<boolean> {
  const r = await runProgram("docker", ["--version"]).catch(() => undefined);
  return r?.code === 0;
}
