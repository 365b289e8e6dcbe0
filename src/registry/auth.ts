/**
 * Registry authentication (distribution spec, "token" and "basic" auth; Docker's token
 * authentication specification): a request without credentials is answered 401 with a
 * `WWW-Authenticate` challenge; for `Basic` the credentials are sent as they are, for `Bearer` a
 * token for the request's scopes (`repository:NAME:pull,push`) is fetched from the challenge's
 * realm, with the credentials, and sent instead. Tokens are reused for the same scopes until
 * they expire.
 *
 * Lifecycle: one `Authorizer` per registry and operation (a pull or a push); it learns the
 * challenge from the first 401 and keeps tokens in memory only.
 * It never stores credentials: they come with the operation, and tokens live only as long as
 * their Authorizer.
 */
import { invalidArgument } from "../base/errors.js";
import { discardBody } from "./body.js";
import { unauthorized } from "./errors.js";

/** Credentials for one registry, as Docker's AuthConfig carries them. */
export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  /** A refresh token from an earlier login (OAuth2 `refresh_token` grant). */
  readonly identityToken?: string;
  /** A bearer token to send as it is. */
  readonly registryToken?: string;
}

/** One challenge of a `WWW-Authenticate` header. */
export interface Challenge {
  /** Lowercase: `basic`, `bearer`. */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses a `WWW-Authenticate` header (RFC 7235): `Bearer realm="…",service="…",scope="…"`,
 * `Basic realm="…"`; several challenges may follow one another.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipSpaces = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const token = () => {
    const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(s.slice(i));
    if (!m) return "";
    i += m[0].length;
    return m[0];
  };
  while (i < s.length) {
    skipSpaces();
    while (s[i] === ",") {
      i++;
      skipSpaces();
    }
    const scheme = token();
    if (scheme === "") break;
    const params: Record<string, string> = {};
    for (;;) {
      skipSpaces();
      const save = i;
      const key = token();
      skipSpaces();
      if (key === "" || s[i] !== "=") {
        i = save;
        break;
      }
      i++;
      skipSpaces();
      let value = "";
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === "\\" && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else {
        value = token();
      }
      params[key.toLowerCase()] = value;
      skipSpaces();
      if (s[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    out.push({ scheme: scheme.toLowerCase(), params });
  }
  return out;
}

/** The `fetch` the client uses (injected so tests can count requests). */
export type FetchFn = typeof fetch;

export interface AuthorizerOptions {
  readonly credentials?: Credentials;
  readonly fetch?: FetchFn;
  readonly userAgent?: string;
  /** Clock for token expiry, in ms. */
  readonly now?: () => number;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** Tokens are renewed this long before the registry's expiry. */
const EXPIRY_MARGIN_MS = 5_000;
/** Docker's default when the token server gives no `expires_in` (60 s). */
const DEFAULT_TOKEN_LIFETIME_S = 60;
const MAX_TOKEN_RESPONSE = 1 << 20;

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

/** Adds the Authorization header to registry requests and answers their challenges. */
export class Authorizer {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly fetchFn: FetchFn;
  private readonly now: () => number;
  /** How many tokens were fetched from the token endpoint (for tests and diagnostics). */
  tokenRequests = 0;

  constructor(private readonly opts: AuthorizerOptions = {}) {
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
  }

  /** The Authorization header for a request needing `scopes`, once a challenge is known. */
  async authorization(scopes: readonly string[], signal?: AbortSignal): Promise<string | undefined> {
    const c = this.challenge;
    const creds = this.opts.credentials;
    if (!c) return undefined;
    if (c.scheme === "basic") {
      if (creds?.username === undefined || creds.password === undefined) return undefined;
      return basicHeader(creds.username, creds.password);
    }
    if (c.scheme === "bearer") {
      if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
      const key = scopeKey(scopes);
      const cached = this.tokens.get(key);
      if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
      const token = await this.fetchToken(c, scopes, signal);
      this.tokens.set(key, token);
      return `Bearer ${token.token}`;
    }
    return undefined;
  }

  /**
   * Called on a 401 answer. Returns true when the request should be sent again with new
   * authorization (the challenge was new to this authorizer, or the request went out before a
   * request beside it learnt the challenge), false when retrying cannot help.
   * `sent` is the Authorization header the refused request carried, if any.
   */
  async onUnauthorized(header: string | null, scopes: readonly string[], sent?: string): Promise<boolean> {
    if (header === null) return false;
    const challenges = parseChallenges(header);
    const chosen =
      challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    if (!chosen) return false;
    const known = this.challenge;
    if (known && known.scheme === chosen.scheme && known.params["realm"] === chosen.params["realm"]) {
      if (sent === undefined) {
        // Sent bare while a concurrent request was learning this challenge: now it can be answered.
        if (chosen.scheme === "basic") {
          const creds = this.opts.credentials;
          return creds?.username !== undefined && creds.password !== undefined;
        }
        return true;
      }
      // The same challenge again: the credentials (or the token they got) were refused.
      this.tokens.delete(scopeKey(scopes));
      return false;
    }
    this.challenge = chosen;
    if (chosen.scheme === "basic") {
      const creds = this.opts.credentials;
      return creds?.username !== undefined && creds.password !== undefined;
    }
    return true;
  }

  /** The scheme of the challenge learnt so far, if any. */
  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  private async fetchToken(
    c: Challenge,
    scopes: readonly string[],
    signal?: AbortSignal,
  ): Promise<CachedToken> {
    const realm = c.params["realm"];
    if (!realm) throw unauthorized("unauthorized: the registry's bearer challenge names no realm");
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw unauthorized(`unauthorized: the registry's token realm is not a URL: ${realm}`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw unauthorized(`unauthorized: the registry's token realm is not an HTTP URL: ${realm}`);
    }
    const service = c.params["service"];
    const creds = this.opts.credentials;
    const headers: Record<string, string> = {};
    if (this.opts.userAgent) headers["User-Agent"] = this.opts.userAgent;
    let res: Response;
    this.tokenRequests++;
    try {
      if (creds?.identityToken) {
        const form = new URLSearchParams();
        form.set("grant_type", "refresh_token");
        form.set("refresh_token", creds.identityToken);
        form.set("client_id", "berth");
        if (service) form.set("service", service);
        if (scopes.length > 0) form.set("scope", scopes.join(" "));
        headers["Content-Type"] = "application/x-www-form-urlencoded";
        res = await this.fetchFn(url, { method: "POST", headers, body: form.toString(), signal });
      } else {
        if (service) url.searchParams.set("service", service);
        for (const s of scopes) url.searchParams.append("scope", s);
        url.searchParams.set("client_id", "berth");
        if (creds?.username !== undefined && creds.password !== undefined) {
          headers["Authorization"] = basicHeader(creds.username, creds.password);
          url.searchParams.set("account", creds.username);
        }
        res = await this.fetchFn(url, { headers, signal });
      }
    } catch (err) {
      throw unauthorized(`unauthorized: cannot reach the token server ${url.origin}: ${describe(err)}`, err);
    }
    const text = await readLimitedText(res, MAX_TOKEN_RESPONSE);
    if (res.status === 401 || res.status === 403) {
      throw unauthorized(`unauthorized: ${tokenErrorDetail(text) ?? "incorrect username or password"}`);
    }
    if (!res.ok) {
      throw unauthorized(`unauthorized: the token server answered ${res.status} ${res.statusText}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw unauthorized("unauthorized: the token server's answer is not JSON");
    }
    if (typeof body !== "object" || body === null) throw unauthorized("unauthorized: malformed token answer");
    const token = pick(body, "token") ?? pick(body, "access_token");
    if (typeof token !== "string" || token === "")
      throw unauthorized("unauthorized: the token answer has no token");
    const expiresIn = pick(body, "expires_in");
    const lifetime =
      typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0
        ? expiresIn
        : DEFAULT_TOKEN_LIFETIME_S;
    return { token, expiresAt: this.now() + lifetime * 1000 - EXPIRY_MARGIN_MS };
  }
}

function pick(o: object, key: string): unknown {
  return Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

function tokenErrorDetail(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null) return undefined;
    const details = pick(v, "details") ?? pick(v, "error_description") ?? pick(v, "message");
    if (typeof details === "string" && details !== "") return details;
    const errors = pick(v, "errors");
    if (Array.isArray(errors) && typeof errors[0] === "object" && errors[0] !== null) {
      const m = pick(errors[0], "message");
      if (typeof m === "string") return m;
    }
  } catch {
    // not JSON: no detail
  }
  return undefined;
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(" ");
}

export function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause;
    if (cause instanceof Error && cause.message) return cause.message;
    return err.message;
  }
  return String(err);
}

/** Reads a response body as text, at most `max` bytes (more is an error). */
export async function readLimitedText(res: Response, max: number): Promise<string> {
  return Buffer.from(await readLimited(res, max)).toString("utf8");
}

/** Reads a response body, at most `max` bytes; a larger body is refused before it is all read. */
export async function readLimited(res: Response, max: number, what = "response"): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > max) {
    await discardBody(res);
    throw tooLarge(what, max);
  }
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.byteLength;
    if (total > max) {
      await discardBody(res);
      throw tooLarge(what, max);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(what: string, max: number) {
  return invalidArgument(`${what} exceeds the limit of ${max} bytes`);
}
