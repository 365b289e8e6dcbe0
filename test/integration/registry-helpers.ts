/**
 * Real registries for the registry tests: Debian's `docker-registry` (CNCF distribution 2.8)
 * started on 127.0.0.1 at a free port with a temporary storage directory — open, with htpasswd
 * basic auth, or with token auth in front of which runs a small token server written for the
 * tests (ES256 JWTs carrying the signing certificate in `x5c`, the certificate being the
 * registry's `rootcertbundle`). Everything listens on 127.0.0.1 only.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createPrivateKey, randomBytes, sign } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly certPath: string;
  /** Every token request: its scopes and the user who asked (undefined: anonymous). */
  readonly requests: Array<{ scopes: string[]; user: string | undefined }>;
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** A token server granting `user`/`password` every action asked, anonymous callers none. */
export async function startTokenServer(dir: string, user: string, password: string): Promise<TokenServer> {
  await mkdir(dir, { recursive: true });
  const keyPath = join(dir, "token.key");
  const certPath = join(dir, "token.crt");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=berth-test-token-issuer",
    ],
    { stdio: "ignore" },
  );
  const key = createPrivateKey(await readFile(keyPath));
  const pem = await readFile(certPath, "utf8");
  const der = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  const service = "berth-test-registry";
  const issuer = "berth-test-issuer";
  const requests: TokenServer["requests"] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const scopes = url.searchParams
      .getAll("scope")
      .flatMap((s) => s.split(" "))
      .filter((s) => s !== "");
    const header = req.headers.authorization ?? "";
    let who: string | undefined;
    if (header.startsWith("Basic ")) {
      const [u, ...p] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
      if (u !== user || p.join(":") !== password) {
        requests.push({ scopes, user: u });
        res.writeHead(401, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ details: "incorrect username or password" }));
        return;
      }
      who = u;
    }
    requests.push({ scopes, user: who });
    const access = who
      ? scopes.map((s) => {
          const parts = s.split(":");
          return {
            type: parts[0],
            name: parts.slice(1, -1).join(":"),
            actions: (parts.at(-1) ?? "").split(","),
          };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const head = { typ: "JWT", alg: "ES256", x5c: [der] };
    const claims = {
      iss: issuer,
      sub: who ?? "",
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const input = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    const token = `${input}.${b64url(sig)}`;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  };
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type RegistryAuth =
  | { readonly kind: "none" }
  | { readonly kind: "htpasswd"; readonly user: string; readonly password: string }
  | { readonly kind: "token"; readonly token: TokenServer };

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the domain of references to this registry. */
  readonly host: string;
  readonly port: number;
  /** The storage root (blobs under docker/registry/v2/blobs). */
  readonly dataDir: string;
  /** The registry's log so far (access log included). */
  log(): string;
  /** Path of a blob's data file in the storage. */
  blobPath(digest: string): string;
  stop(): Promise<void>;
}

/** Starts `docker-registry serve` on 127.0.0.1 at a free port; resolves once it answers. */
export async function startRegistry(
  dir: string,
  auth: RegistryAuth = { kind: "none" },
): Promise<TestRegistry> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const dataDir = join(dir, "data");
  let authYaml = "";
  if (auth.kind === "htpasswd") {
    const line = execFileSync("htpasswd", ["-Bbn", auth.user, auth.password], { encoding: "utf8" });
    await writeFile(join(dir, "htpasswd"), line);
    authYaml = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth.kind === "token") {
    authYaml =
      `auth:\n  token:\n    realm: ${auth.token.realm}\n    service: ${auth.token.service}\n` +
      `    issuer: ${auth.token.issuer}\n    rootcertbundle: ${auth.token.certPath}\n`;
  }
  const config =
    "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n" +
    `storage:\n  filesystem:\n    rootdirectory: ${dataDir}\n  delete:\n    enabled: true\n` +
    `http:\n  addr: 127.0.0.1:${port}\n${authYaml}`;
  const configPath = join(dir, "config.yml");
  await writeFile(configPath, config);
  const child: ChildProcess = spawn("docker-registry", ["serve", configPath], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.body?.cancel();
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill("SIGKILL");
        throw new Error(`docker-registry did not start: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    dataDir,
    log: () => log,
    blobPath: (digest: string) => {
      const hex = digest.replace(/^sha256:/, "");
      return join(dataDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
