import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import type { Digest } from "../oci/digest.js";
import { Authorizer, parseChallenges } from "./auth.js";
import { RegistryClient } from "./client.js";
import { resolveEndpoint } from "./endpoint.js";

test("WWW-Authenticate challenges are parsed as RFC 7235 has them", () => {
  assert.deepEqual(
    parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    ),
    [
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/busybox:pull",
        },
      },
    ],
  );
  assert.deepEqual(parseChallenges('Basic realm="basic-realm"'), [
    { scheme: "basic", params: { realm: "basic-realm" } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="a\\"b", Bearer realm=x'), [
    { scheme: "basic", params: { realm: 'a"b' } },
    { scheme: "bearer", params: { realm: "x" } },
  ]);
});

/**
 * Docker Hub's code path without the network: requests go to registry-1.docker.io under
 * library/, the bearer challenge sends berth to the realm with service and scope, and the token
 * is reused for the following requests of the same scope. `fetch` answers as Docker Hub does.
 */
test("a docker.io pull addresses registry-1.docker.io and fetches one token for its scope", async () => {
  const seen: string[] = [];
  const token = "hub-token";
  const fakeHub: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const auth = new Headers(init?.headers).get("authorization");
    seen.push(`${init?.method ?? "GET"} ${url.origin}${url.pathname}${url.search} ${auth ?? "-"}`);
    if (url.origin === "https://auth.docker.io") {
      return new Response(JSON.stringify({ token, expires_in: 300 }), { status: 200 });
    }
    if (auth !== `Bearer ${token}`) {
      return new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
        status: 401,
        headers: {
          "WWW-Authenticate":
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
        },
      });
    }
    if (
      url.pathname.endsWith("/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000")
    ) {
      return new Response(null, { status: 404 });
    }
    return new Response("{}", { status: 200, headers: { "Content-Type": "application/json" } });
  };
  const authorizer = new Authorizer({ fetch: fakeHub });
  const client = new RegistryClient({
    endpoint: resolveEndpoint("docker.io"),
    repository: "library/busybox",
    authorizer,
    fetch: fakeHub,
  });
  await client.getManifest("latest").catch(() => undefined);
  const missing = await client.blobSize(`sha256:${"0".repeat(64)}` as Digest);
  assert.equal(missing, undefined);
  assert.deepEqual(seen, [
    "GET https://registry-1.docker.io/v2/library/busybox/manifests/latest -",
    "GET https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fbusybox%3Apull&client_id=berth -",
    "GET https://registry-1.docker.io/v2/library/busybox/manifests/latest Bearer hub-token",
    `HEAD https://registry-1.docker.io/v2/library/busybox/blobs/sha256:${"0".repeat(64)} Bearer hub-token`,
  ]);
  assert.equal(authorizer.tokenRequests, 1);
});

test("credentials go to the token endpoint as basic auth; a refusal is Unauthorized", async () => {
  let sawAuth = "";
  const fakeFetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    if (url.pathname === "/token") {
      sawAuth = new Headers(init?.headers).get("authorization") ?? "";
      return new Response('{"details":"incorrect username or password"}', { status: 401 });
    }
    return new Response("", {
      status: 401,
      headers: { "WWW-Authenticate": 'Bearer realm="https://auth.example/token",service="svc"' },
    });
  };
  const client = new RegistryClient({
    endpoint: resolveEndpoint("registry.example:443"),
    repository: "a/b",
    credentials: { username: "u", password: "p" },
    fetch: fakeFetch,
  });
  await assert.rejects(client.ping(), (err: unknown) => {
    assert.ok(isBerthError(err, "Unauthorized"));
    assert.equal(err.message, "unauthorized: incorrect username or password");
    return true;
  });
  assert.equal(sawAuth, `Basic ${Buffer.from("u:p").toString("base64")}`);
});

test("requests sent bare beside the one that learnt a basic challenge are answered too; refused credentials are not retried", async () => {
  const a = new Authorizer({ credentials: { username: "u", password: "p" } });
  const challenge = 'Basic realm="basic-realm"';
  // Two requests went out before any challenge was known; both come back 401.
  assert.equal(await a.onUnauthorized(challenge, ["repository:x:push"], undefined), true);
  assert.equal(await a.onUnauthorized(challenge, ["repository:x:push"], undefined), true);
  const header = await a.authorization(["repository:x:push"]);
  assert.equal(header, `Basic ${Buffer.from("u:p").toString("base64")}`);
  // A request that carried the credentials and was refused: no retry.
  assert.equal(await a.onUnauthorized(challenge, ["repository:x:push"], header), false);
  // Without credentials there is nothing to retry with.
  const anonymous = new Authorizer();
  assert.equal(await anonymous.onUnauthorized(challenge, ["repository:x:pull"], undefined), false);
  assert.equal(await anonymous.onUnauthorized(challenge, ["repository:x:pull"], undefined), false);
});
