import assert from "node:assert/strict";
import { test } from "node:test";
import { parseNormalizedNamed } from "../oci/reference.js";
import {
  credentialKey,
  DOCKER_HUB_AUTH_KEY,
  domainOfServerAddress,
  isInsecureRegistry,
  resolveEndpoint,
} from "./endpoint.js";

test("docker.io names are served by registry-1.docker.io over HTTPS, official images under library/", () => {
  const ref = parseNormalizedNamed("busybox");
  assert.equal(ref.domain, "docker.io");
  assert.equal(ref.path, "library/busybox");
  const ep = resolveEndpoint(ref.domain);
  assert.deepEqual(ep, {
    domain: "docker.io",
    host: "registry-1.docker.io",
    scheme: "https",
    baseUrl: "https://registry-1.docker.io",
  });
  assert.equal(resolveEndpoint("index.docker.io").host, "registry-1.docker.io");
  assert.equal(parseNormalizedNamed("index.docker.io/u/app").domain, "docker.io");
  assert.equal(parseNormalizedNamed("u/app").path, "u/app");
});

test("loopback registries are plain HTTP; others HTTPS unless configured insecure", () => {
  for (const d of ["localhost:5000", "localhost", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000"]) {
    assert.equal(resolveEndpoint(d).scheme, "http", d);
  }
  assert.equal(resolveEndpoint("registry.example.com:5000").scheme, "https");
  assert.equal(resolveEndpoint("10.1.2.3:5000").scheme, "https");
  assert.equal(resolveEndpoint("128.0.0.1:5000").scheme, "https");
  const insecure = ["registry.example.com:5000", "10.0.0.0/8", "http://other.example"];
  assert.equal(resolveEndpoint("registry.example.com:5000", { insecureRegistries: insecure }).scheme, "http");
  assert.equal(resolveEndpoint("10.1.2.3:5000", { insecureRegistries: insecure }).scheme, "http");
  assert.equal(isInsecureRegistry("other.example", insecure), true);
  assert.equal(isInsecureRegistry("11.1.2.3", insecure), false);
  assert.equal(isInsecureRegistry("registry.example.com:5001", insecure), false);
});

test("credentials keys and server addresses follow Docker's rules", () => {
  assert.equal(credentialKey("docker.io"), DOCKER_HUB_AUTH_KEY);
  assert.equal(credentialKey("127.0.0.1:5000"), "127.0.0.1:5000");
  assert.equal(domainOfServerAddress("https://index.docker.io/v1/"), "docker.io");
  assert.equal(domainOfServerAddress("registry-1.docker.io"), "docker.io");
  assert.equal(domainOfServerAddress("https://myreg:5000/v2/"), "myreg:5000");
  assert.equal(domainOfServerAddress("myreg:5000"), "myreg:5000");
});
