/**
 * `berth build` refuses, before anything runs and naming the file and line, the Dockerfile flags
 * BuildKit accepts and berth does not implement (never accepted and ignored): FROM --platform of
 * another platform, RUN --device, RUN --mount types other than cache, ADD --unpack. The host's
 * own platform, and an empty one from an unset ARG, build.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";

let s: Store;

before(async () => {
  s = await Store.create();
});
after(async () => {
  await s.cleanup();
});

/** A context directory holding `dockerfile` as its Dockerfile. */
async function context(name: string, dockerfile: string): Promise<string> {
  const dir = s.path(name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

/** The host's platform as Docker names it. */
function hostPlatform(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  return `linux/${arch}`;
}

describe("build: flags berth does not implement are refused before anything runs", () => {
  const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
    [
      "platform",
      "FROM --platform=linux/s390x scratch\nLABEL a=b\n",
      /Dockerfile:1: FROM --platform=linux\/s390x is not supported: berth builds for the host's platform/,
    ],
    [
      "device",
      "FROM scratch\nLABEL a=b\nRUN --device=/dev/fuse true\n",
      /Dockerfile:3: RUN --device is not supported/,
    ],
    [
      "bind-mount",
      "FROM scratch\nRUN --mount=type=bind,target=/src true\n",
      /Dockerfile:2: --mount=type=bind is not supported \(only type=cache\)/,
    ],
    ["unpack", "FROM scratch\nADD --unpack=true a.tar.gz /\n", /Dockerfile:2: ADD --unpack is not supported/],
  ];
  for (const [name, dockerfile, message] of cases) {
    test(name, async () => {
      const dir = await context(name, dockerfile);
      const r = await s.berth(["build", "--progress=plain", "-t", `refused-${name}`, dir]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.equal((await s.ok(["images", "-aq"])).stdout, "", "no image is recorded");
    });
  }

  test("FROM --platform of the host, or empty from an unset ARG, builds", async () => {
    const dir = await context("host-platform", `ARG P\nFROM --platform=$P scratch\nLABEL a=b\n`);
    const empty = await s.berth(["build", "-q", dir]);
    assert.equal(empty.code, 0, empty.stderr);
    const host = await s.berth(["build", "-q", "--build-arg", `P=${hostPlatform()}`, dir]);
    assert.equal(host.code, 0, host.stderr);
    assert.equal(host.stdout, empty.stdout, "the same image either way");
  });
});
