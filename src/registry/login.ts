/**
 * Checking credentials against a registry, as `docker login` does (POST /auth on the daemon):
 * `GET /v2/` with the credentials, answering the registry's challenge (basic, or a bearer token
 * fetched from its token server with no scope). Nothing is stored here; the CLI keeps them.
 */
import type { Credentials, FetchFn } from "./auth.js";
import { RegistryClient } from "./client.js";
import { type EndpointOptions, resolveEndpoint } from "./endpoint.js";

export interface LoginOptions extends EndpointOptions {
  readonly fetch?: FetchFn;
  readonly userAgent?: string;
  readonly signal?: AbortSignal;
}

/** Resolves when the registry of `domain` accepts `credentials`; Unauthorized otherwise. */
export async function checkLogin(
  domain: string,
  credentials: Credentials,
  opts: LoginOptions = {},
): Promise<void> {
  const client = new RegistryClient({
    endpoint: resolveEndpoint(domain, opts),
    repository: "",
    credentials,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
  });
  await client.ping(opts.signal);
}
