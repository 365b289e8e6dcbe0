/**
 * Docker's client configuration file, `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`):
 * registry credentials under `auths`, keyed by registry host (`https://index.docker.io/v1/` for
 * Docker Hub), each `{"auth": base64("user:password")}` and optionally `identitytoken`. berth
 * reads what Docker wrote and writes the same format, keeping every other member, through a
 * temporary file renamed into place, mode 0600. Credential helpers (`credsStore`,
 * `credHelpers`) are not run: berth reads and writes the file only.
 */
import { mkdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { errnoCode, invalidArgument } from "../../base/errors.js";
import type { AuthConfig } from "../../engine/types.js";
import { DEFAULT_DOMAIN } from "../../oci/reference.js";
import { writeFileAtomic } from "../../sys/fs.js";

export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

/** The config file's directory: $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env["DOCKER_CONFIG"]) return env["DOCKER_CONFIG"];
  return join(env["HOME"] || homedir(), ".docker");
}

/** One stored credential entry. */
export interface AuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
  readonly registrytoken?: string;
}

export interface DockerConfig {
  readonly path: string;
  /** The whole document, other members kept as they are. */
  readonly doc: Record<string, unknown>;
  readonly auths: Record<string, AuthEntry>;
}

function str(o: object, key: string): string | undefined {
  const v: unknown = Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined;
  return typeof v === "string" ? v : undefined;
}

/** Reads the config file; a missing one is empty. */
export async function readDockerConfig(
  env: Readonly<Record<string, string | undefined>>,
): Promise<DockerConfig> {
  const path = join(dockerConfigDir(env), "config.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return { path, doc: {}, auths: {} };
    throw invalidArgument(`cannot read ${path}: ${String(err)}`, err);
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw invalidArgument(`loading config file: ${path}: invalid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument(`loading config file: ${path}: not a JSON object`);
  }
  const doc: Record<string, unknown> = { ...parsed };
  const auths: Record<string, AuthEntry> = {};
  const raw = doc["auths"];
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    for (const [key, v] of Object.entries(raw)) {
      if (typeof v !== "object" || v === null) continue;
      const entry: Record<string, string> = {};
      for (const k of ["auth", "username", "password", "identitytoken", "registrytoken"]) {
        const s = str(v, k);
        if (s !== undefined) entry[k] = s;
      }
      auths[key] = entry;
    }
  }
  return { path, doc, auths };
}

/** Writes the config back (0600, atomically), with `auths` as given. */
export async function writeDockerConfig(cfg: DockerConfig, auths: Record<string, unknown>): Promise<void> {
  const doc = { ...cfg.doc, auths };
  await mkdir(join(cfg.path, ".."), { recursive: true, mode: 0o700 });
  await writeFileAtomic(cfg.path, `${JSON.stringify(doc, null, "\t")}\n`, 0o600);
}

/** The `auths` key of a registry domain (Docker Hub's URL for docker.io). */
export function authKey(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === "index.docker.io" ? DOCKER_HUB_AUTH_KEY : domain;
}

/** docker/cli `ConvertToHostname`: `https://host:5000/v2/` → `host:5000`. */
export function convertToHostname(address: string): string {
  let s = address.replace(/^https?:\/\//, "");
  const slash = s.indexOf("/");
  if (slash !== -1) s = s.slice(0, slash);
  return s;
}

/** The stored credentials for a registry domain, as an AuthConfig, if any. */
export function credentialsFor(cfg: DockerConfig, domain: string): AuthConfig | undefined {
  const key = authKey(domain);
  let entry = cfg.auths[key];
  if (!entry) {
    // Docker also matches keys written with a scheme or a path (`https://host:5000/v1/`).
    for (const [k, v] of Object.entries(cfg.auths)) {
      const host = convertToHostname(k);
      if (
        host === key ||
        (key === DOCKER_HUB_AUTH_KEY && (host === "index.docker.io" || host === "docker.io"))
      ) {
        entry = v;
        break;
      }
    }
  }
  if (!entry) return undefined;
  const out: {
    username?: string;
    password?: string;
    identitytoken?: string;
    registrytoken?: string;
    serveraddress: string;
  } = { serveraddress: key };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon === -1) throw invalidArgument(`invalid auth configuration file: ${cfg.path}`);
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  } else {
    if (entry.username) out.username = entry.username;
    if (entry.password) out.password = entry.password;
  }
  if (entry.identitytoken) out.identitytoken = entry.identitytoken;
  if (entry.registrytoken) out.registrytoken = entry.registrytoken;
  return out;
}
