import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import {
  compatiblePlatforms,
  formatPlatform,
  matchPlatform,
  normalizePlatform,
  type Platform,
  parsePlatform,
  platformRank,
} from "./platform.js";

const AMD64_HOST: Platform = { os: "linux", architecture: "amd64" };
const ARM64_HOST: Platform = { os: "linux", architecture: "arm64", variant: "v8" };

describe("parsePlatform", () => {
  const cases: [string, Platform | undefined, string][] = [
    ["linux/amd64", undefined, "linux/amd64"],
    ["linux/x86_64", undefined, "linux/amd64"],
    ["linux/x86-64", undefined, "linux/amd64"],
    ["linux/amd64/v1", undefined, "linux/amd64"],
    ["linux/amd64/v3", undefined, "linux/amd64/v3"],
    ["linux/arm64", undefined, "linux/arm64"],
    ["linux/arm64/v8", undefined, "linux/arm64"],
    ["linux/aarch64", undefined, "linux/arm64"],
    ["linux/arm64/v9", undefined, "linux/arm64/v9"],
    ["linux/armhf", undefined, "linux/arm/v7"],
    ["linux/armel", undefined, "linux/arm/v6"],
    ["linux/arm", undefined, "linux/arm/v7"],
    ["linux/arm/7", undefined, "linux/arm/v7"],
    ["linux/arm/v6", undefined, "linux/arm/v6"],
    ["linux/i386", undefined, "linux/386"],
    ["Linux/AMD64", undefined, "linux/amd64"],
    ["macos/arm64", undefined, "darwin/arm64"],
    ["linux/riscv64", undefined, "linux/riscv64"],
    ["linux/s390x", undefined, "linux/s390x"],
    // One component: an OS takes the host's architecture, anything else is an architecture.
    ["amd64", ARM64_HOST, "linux/amd64"],
    ["aarch64", AMD64_HOST, "linux/arm64"],
    ["armhf", AMD64_HOST, "linux/arm/v7"],
    ["linux", ARM64_HOST, "linux/arm64"],
    ["windows", AMD64_HOST, "windows/amd64"],
  ];
  for (const [spec, host, expected] of cases) {
    test(`${spec} → ${expected}`, () => {
      assert.equal(formatPlatform(parsePlatform(spec, host)), expected);
    });
  }

  test("returns the normalised object", () => {
    assert.deepEqual(parsePlatform("linux/armhf"), { os: "linux", architecture: "arm", variant: "v7" });
    assert.deepEqual(parsePlatform("linux/aarch64/v8"), { os: "linux", architecture: "arm64" });
  });

  for (const bad of ["", "linux/", "/amd64", "a/b/c/d", "linux/amd 64", "linux/amd64/v8/"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => parsePlatform(bad, AMD64_HOST),
        (err: unknown) => isBerthError(err, "InvalidArgument") && err.message.startsWith("invalid platform"),
      );
    });
  }

  test("a single component needs the host platform", () => {
    assert.throws(
      () => parsePlatform("amd64"),
      (err: unknown) => isBerthError(err, "InvalidArgument"),
    );
  });
});

describe("normalizePlatform", () => {
  test("keeps os.version and features", () => {
    assert.deepEqual(
      normalizePlatform({
        os: "Windows",
        architecture: "x86_64",
        "os.version": "10.0.17763.1",
        features: ["f"],
      }),
      { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1", features: ["f"] },
    );
  });
});

describe("matchPlatform and compatiblePlatforms", () => {
  test("exact matches after normalisation", () => {
    assert.ok(matchPlatform(AMD64_HOST, { os: "linux", architecture: "amd64" }));
    assert.ok(matchPlatform(ARM64_HOST, { os: "linux", architecture: "arm64" }));
    assert.ok(
      matchPlatform(
        { os: "linux", architecture: "arm64" },
        { os: "linux", architecture: "aarch64", variant: "v8" },
      ),
    );
    assert.ok(
      matchPlatform(parsePlatform("linux/armhf"), { os: "linux", architecture: "arm", variant: "v7" }),
    );
  });

  test("other OS or architecture does not match", () => {
    assert.ok(!matchPlatform(AMD64_HOST, { os: "windows", architecture: "amd64" }));
    assert.ok(!matchPlatform(AMD64_HOST, { os: "linux", architecture: "arm64" }));
    assert.ok(!matchPlatform(ARM64_HOST, { os: "linux", architecture: "amd64" }));
    assert.ok(!matchPlatform(AMD64_HOST, { os: "unknown", architecture: "unknown" }));
  });

  test("newer variants do not run on older machines", () => {
    assert.ok(!matchPlatform(AMD64_HOST, { os: "linux", architecture: "amd64", variant: "v3" }));
    assert.ok(
      !matchPlatform(parsePlatform("linux/arm/v6"), { os: "linux", architecture: "arm", variant: "v7" }),
    );
  });

  test("fallbacks: older variants and 32-bit relatives, best first", () => {
    assert.deepEqual(compatiblePlatforms(parsePlatform("linux/amd64/v3")).map(formatPlatform), [
      "linux/amd64/v3",
      "linux/amd64/v2",
      "linux/amd64",
      "linux/386",
    ]);
    assert.deepEqual(compatiblePlatforms(ARM64_HOST).map(formatPlatform), [
      "linux/arm64",
      "linux/arm/v8",
      "linux/arm/v7",
      "linux/arm/v6",
      "linux/arm/v5",
    ]);
    assert.deepEqual(compatiblePlatforms(parsePlatform("linux/arm/v7")).map(formatPlatform), [
      "linux/arm/v7",
      "linux/arm/v6",
      "linux/arm/v5",
    ]);
    assert.equal(platformRank(AMD64_HOST, { os: "linux", architecture: "amd64" }), 0);
    assert.equal(platformRank(AMD64_HOST, { os: "linux", architecture: "386" }), 1);
    assert.equal(platformRank(AMD64_HOST, { os: "linux", architecture: "ppc64le" }), undefined);
  });
});
