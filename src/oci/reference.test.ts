import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { parseDigest } from "./digest.js";
import {
  familiarName,
  familiarString,
  isValidTag,
  parseAnyReference,
  parseImageArgument,
  parseNormalizedNamed,
  parseReference,
  type Reference,
  referenceString,
  repositoryName,
  trimReference,
  withDefaultTag,
  withTag,
} from "./reference.js";

const HEX = "0123456789abcdef".repeat(4);
const DIGEST = `sha256:${HEX}`;

interface Valid {
  input: string;
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
  /** referenceString of the result. */
  full: string;
  /** familiarString of the result. */
  familiar: string;
}

const VALID: Valid[] = [
  {
    input: "node",
    domain: "docker.io",
    path: "library/node",
    full: "docker.io/library/node",
    familiar: "node",
  },
  {
    input: "node:20",
    domain: "docker.io",
    path: "library/node",
    tag: "20",
    full: "docker.io/library/node:20",
    familiar: "node:20",
  },
  {
    input: "library/node",
    domain: "docker.io",
    path: "library/node",
    full: "docker.io/library/node",
    familiar: "node",
  },
  {
    input: "docker.io/node",
    domain: "docker.io",
    path: "library/node",
    full: "docker.io/library/node",
    familiar: "node",
  },
  {
    input: "docker.io/library/node:lts",
    domain: "docker.io",
    path: "library/node",
    tag: "lts",
    full: "docker.io/library/node:lts",
    familiar: "node:lts",
  },
  {
    input: "index.docker.io/node",
    domain: "docker.io",
    path: "library/node",
    full: "docker.io/library/node",
    familiar: "node",
  },
  {
    input: "index.docker.io/u/app:1",
    domain: "docker.io",
    path: "u/app",
    tag: "1",
    full: "docker.io/u/app:1",
    familiar: "u/app:1",
  },
  { input: "u/app", domain: "docker.io", path: "u/app", full: "docker.io/u/app", familiar: "u/app" },
  { input: "a/b/c", domain: "docker.io", path: "a/b/c", full: "docker.io/a/b/c", familiar: "a/b/c" },
  // library/ is dropped only for a single remaining component.
  {
    input: "library/a/b",
    domain: "docker.io",
    path: "library/a/b",
    full: "docker.io/library/a/b",
    familiar: "library/a/b",
  },
  // A first component without '.', ':' or uppercase, other than localhost, is a Hub namespace.
  {
    input: "registry/app",
    domain: "docker.io",
    path: "registry/app",
    full: "docker.io/registry/app",
    familiar: "registry/app",
  },
  {
    input: "localhost/app",
    domain: "localhost",
    path: "app",
    full: "localhost/app",
    familiar: "localhost/app",
  },
  {
    input: "localhost:5000/a/b:tag",
    domain: "localhost:5000",
    path: "a/b",
    tag: "tag",
    full: "localhost:5000/a/b:tag",
    familiar: "localhost:5000/a/b:tag",
  },
  // A lone name is always a Hub image, even localhost or host:port (which becomes name:tag).
  {
    input: "localhost",
    domain: "docker.io",
    path: "library/localhost",
    full: "docker.io/library/localhost",
    familiar: "localhost",
  },
  {
    input: "localhost:5000",
    domain: "docker.io",
    path: "library/localhost",
    tag: "5000",
    full: "docker.io/library/localhost:5000",
    familiar: "localhost:5000",
  },
  {
    input: "example.com/app",
    domain: "example.com",
    path: "app",
    full: "example.com/app",
    familiar: "example.com/app",
  },
  {
    input: "example.com:8080/ns/app:v1.2.3",
    domain: "example.com:8080",
    path: "ns/app",
    tag: "v1.2.3",
    full: "example.com:8080/ns/app:v1.2.3",
    familiar: "example.com:8080/ns/app:v1.2.3",
  },
  {
    input: "127.0.0.1:5000/app",
    domain: "127.0.0.1:5000",
    path: "app",
    full: "127.0.0.1:5000/app",
    familiar: "127.0.0.1:5000/app",
  },
  {
    input: "[::1]:5000/app:tag",
    domain: "[::1]:5000",
    path: "app",
    tag: "tag",
    full: "[::1]:5000/app:tag",
    familiar: "[::1]:5000/app:tag",
  },
  {
    input: "[2001:db8::1]/app",
    domain: "[2001:db8::1]",
    path: "app",
    full: "[2001:db8::1]/app",
    familiar: "[2001:db8::1]/app",
  },
  {
    input: "Example.com/app",
    domain: "Example.com",
    path: "app",
    full: "Example.com/app",
    familiar: "Example.com/app",
  },
  // An uppercase first component can only be a host.
  { input: "Foo/bar", domain: "Foo", path: "bar", full: "Foo/bar", familiar: "Foo/bar" },
  {
    input: "my-registry.local/x",
    domain: "my-registry.local",
    path: "x",
    full: "my-registry.local/x",
    familiar: "my-registry.local/x",
  },
  // Separators: one '.', one or two '_', any number of '-'.
  {
    input: "a.b_c",
    domain: "docker.io",
    path: "library/a.b_c",
    full: "docker.io/library/a.b_c",
    familiar: "a.b_c",
  },
  {
    input: "a__b",
    domain: "docker.io",
    path: "library/a__b",
    full: "docker.io/library/a__b",
    familiar: "a__b",
  },
  {
    input: "a---b",
    domain: "docker.io",
    path: "library/a---b",
    full: "docker.io/library/a---b",
    familiar: "a---b",
  },
  {
    input: "node:_Tag.1-x",
    domain: "docker.io",
    path: "library/node",
    tag: "_Tag.1-x",
    full: "docker.io/library/node:_Tag.1-x",
    familiar: "node:_Tag.1-x",
  },
  {
    input: `node:${"t".repeat(128)}`,
    domain: "docker.io",
    path: "library/node",
    tag: "t".repeat(128),
    full: `docker.io/library/node:${"t".repeat(128)}`,
    familiar: `node:${"t".repeat(128)}`,
  },
  {
    input: `node@${DIGEST}`,
    domain: "docker.io",
    path: "library/node",
    digest: DIGEST,
    full: `docker.io/library/node@${DIGEST}`,
    familiar: `node@${DIGEST}`,
  },
  {
    input: `node:20@${DIGEST}`,
    domain: "docker.io",
    path: "library/node",
    tag: "20",
    digest: DIGEST,
    full: `docker.io/library/node:20@${DIGEST}`,
    familiar: `node:20@${DIGEST}`,
  },
  {
    input: `localhost:5000/a@${DIGEST}`,
    domain: "localhost:5000",
    path: "a",
    digest: DIGEST,
    full: `localhost:5000/a@${DIGEST}`,
    familiar: `localhost:5000/a@${DIGEST}`,
  },
  // A short hex string is a name.
  {
    input: "abcd",
    domain: "docker.io",
    path: "library/abcd",
    full: "docker.io/library/abcd",
    familiar: "abcd",
  },
  {
    input: "sha256:abcd",
    domain: "docker.io",
    path: "library/sha256",
    tag: "abcd",
    full: "docker.io/library/sha256:abcd",
    familiar: "sha256:abcd",
  },
  // Length: the path (without domain) may have 255 characters.
  {
    input: `example.com/${"a".repeat(255)}`,
    domain: "example.com",
    path: "a".repeat(255),
    full: `example.com/${"a".repeat(255)}`,
    familiar: `example.com/${"a".repeat(255)}`,
  },
  {
    input: "a".repeat(247),
    domain: "docker.io",
    path: `library/${"a".repeat(247)}`,
    full: `docker.io/library/${"a".repeat(247)}`,
    familiar: "a".repeat(247),
  },
];

const INVALID: { input: string; message: string }[] = [
  { input: "", message: "invalid reference format" },
  { input: "Foo", message: "invalid reference format: repository name (library/Foo) must be lowercase" },
  {
    input: "UPPERCASE_REPO:tag",
    message: "invalid reference format: repository name (library/UPPERCASE_REPO) must be lowercase",
  },
  { input: "foo/Bar", message: "invalid reference format: repository name (foo/Bar) must be lowercase" },
  {
    input: "docker.io/UPPER",
    message: "invalid reference format: repository name (library/UPPER) must be lowercase",
  },
  {
    input: "localhost:5000/Foo:tag",
    message: "invalid reference format: repository name (Foo) must be lowercase",
  },
  // The lowercase check looks at everything before the first ':'.
  {
    input: `node@SHA256:${HEX}`,
    message: "invalid reference format: repository name (library/node@SHA256) must be lowercase",
  },
  // An uppercase host that is not a valid host; the rest would parse when lowercased.
  { input: "Foo_Bar/x", message: "repository name must be lowercase" },
  {
    input: HEX,
    message: `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`,
  },
  { input: "node:", message: "invalid reference format" },
  { input: ":tag", message: "invalid reference format" },
  { input: "node@", message: "invalid reference format" },
  { input: "node:a:b", message: "invalid reference format" },
  { input: "-node", message: "invalid reference format" },
  { input: "node-", message: "invalid reference format" },
  { input: "a..b", message: "invalid reference format" },
  { input: "a___b", message: "invalid reference format" },
  { input: "a/", message: "invalid reference format" },
  { input: "/a", message: "invalid reference format" },
  { input: "a//b", message: "invalid reference format" },
  { input: "node :tag", message: "invalid reference format" },
  { input: "node:-tag", message: "invalid reference format" },
  { input: "node:.tag", message: "invalid reference format" },
  { input: `node:${"t".repeat(129)}`, message: "invalid reference format" },
  { input: "example.com:port/x", message: "invalid reference format" },
  { input: "[::1/x", message: "invalid reference format" },
  { input: "-example.com/x", message: "invalid reference format" },
  // berth refuses a dotted first component that is no valid host (Docker yields an empty domain).
  { input: "a_b.c/x", message: "invalid reference format" },
  {
    input: `example.com/${"a".repeat(256)}`,
    message: "repository name must not be more than 255 characters",
  },
  { input: "a".repeat(248), message: "repository name must not be more than 255 characters" },
  // Digests: fewer than 32 hex characters do not match the grammar at all.
  { input: "node@sha256:abc", message: "invalid reference format" },
  { input: `node@sha256:${HEX.slice(1)}`, message: "invalid checksum digest length" },
  { input: `node@sha256:${HEX}00`, message: "invalid checksum digest length" },
  { input: `node@sha256:${HEX.toUpperCase()}`, message: "invalid checksum digest format" },
  { input: `node@md5:${HEX.slice(0, 32)}`, message: "unsupported digest algorithm" },
  { input: `node@sha256+b64:${HEX}`, message: "unsupported digest algorithm" },
  // With a tag, the lowercase check stops at the tag, and the digest check has the last word.
  { input: `node:1@Sha256:${HEX}`, message: "invalid checksum digest format" },
  {
    input: `node@Sha256:${HEX}`,
    message: "invalid reference format: repository name (library/node@Sha256) must be lowercase",
  },
];

describe("parseNormalizedNamed", () => {
  for (const c of VALID) {
    test(`accepts ${JSON.stringify(c.input.length > 60 ? `${c.input.slice(0, 60)}…` : c.input)}`, () => {
      const ref = parseNormalizedNamed(c.input);
      const expected: Reference = {
        domain: c.domain,
        path: c.path,
        ...(c.tag === undefined ? {} : { tag: c.tag }),
        ...(c.digest === undefined ? {} : { digest: parseDigest(c.digest) }),
      };
      assert.deepEqual(ref, expected);
      assert.equal(referenceString(ref), c.full);
      assert.equal(familiarString(ref), c.familiar);
      // The full form parses back to the same reference, normalised or not.
      assert.deepEqual(parseNormalizedNamed(c.full), ref);
      assert.deepEqual(parseReference(c.full), ref);
    });
  }

  for (const c of INVALID) {
    test(`rejects ${JSON.stringify(c.input.length > 60 ? `${c.input.slice(0, 60)}…` : c.input)}`, () => {
      assert.throws(
        () => parseNormalizedNamed(c.input),
        (err: unknown) => {
          assert.ok(isBerthError(err, "InvalidArgument"), `not an InvalidArgument error: ${String(err)}`);
          assert.equal(err.message, c.message);
          return true;
        },
      );
    });
  }

  // How long the refusal takes is measured by the bench (bench/parsers.ts), not asserted here.
  test("hostile input (long runs a backtracking pattern would choke on) is refused", () => {
    const hostile = [
      `${"a-".repeat(20000)}!`,
      `${"a.".repeat(20000)}/a!`,
      `${"a__".repeat(20000)}_`,
      `${"aA-".repeat(20000)}:`,
      `[${"a:".repeat(20000)}!`,
      `a@sha256:${"0".repeat(40000)}!`,
    ];
    for (const s of hostile)
      assert.throws(
        () => parseNormalizedNamed(s),
        (err: unknown) => isBerthError(err, "InvalidArgument"),
        s.slice(0, 20),
      );
  });
});

describe("parseReference (canonical, no normalisation)", () => {
  test("keeps a name without domain as a bare path", () => {
    assert.deepEqual(parseReference("node:1"), { domain: "", path: "node", tag: "1" });
    assert.equal(referenceString(parseReference("node:1")), "node:1");
  });
  test("empty input has Docker's own message", () => {
    assert.throws(() => parseReference(""), { message: "repository name must have at least one component" });
  });
});

describe("familiar and full forms", () => {
  test("familiarName drops docker.io and library/ only where Docker does", () => {
    assert.equal(familiarName({ domain: "docker.io", path: "library/x" }), "x");
    assert.equal(familiarName({ domain: "docker.io", path: "u/x" }), "u/x");
    assert.equal(familiarName({ domain: "docker.io", path: "library/a/b" }), "library/a/b");
    assert.equal(familiarName({ domain: "quay.io", path: "library/x" }), "quay.io/library/x");
  });
  test("repositoryName is domain/path without tag or digest", () => {
    assert.equal(repositoryName(parseNormalizedNamed(`node:1@${DIGEST}`)), "docker.io/library/node");
  });
  test("withDefaultTag adds latest only to a bare name", () => {
    assert.equal(
      referenceString(withDefaultTag(parseNormalizedNamed("node"))),
      "docker.io/library/node:latest",
    );
    assert.equal(referenceString(withDefaultTag(parseNormalizedNamed("node:1"))), "docker.io/library/node:1");
    assert.equal(
      referenceString(withDefaultTag(parseNormalizedNamed(`node@${DIGEST}`))),
      `docker.io/library/node@${DIGEST}`,
    );
  });
  test("trimReference and withTag", () => {
    const ref = parseNormalizedNamed(`u/app:1@${DIGEST}`);
    assert.deepEqual(trimReference(ref), { domain: "docker.io", path: "u/app" });
    assert.equal(familiarString(withTag(ref, "2")), `u/app:2@${DIGEST}`);
    assert.throws(() => withTag(ref, "-bad"), { message: "invalid tag format" });
    assert.equal(isValidTag("v1.0_x-y"), true);
    assert.equal(isValidTag(".x"), false);
  });
});

describe("parseAnyReference", () => {
  test("64 hex characters are an image ID", () => {
    assert.deepEqual(parseAnyReference(HEX), { kind: "digest", digest: DIGEST });
  });
  test("a full sha256 digest is an image ID", () => {
    assert.deepEqual(parseAnyReference(DIGEST), { kind: "digest", digest: DIGEST });
  });
  test("anything else is a name", () => {
    assert.deepEqual(parseAnyReference("sha256:abcd"), {
      kind: "named",
      reference: { domain: "docker.io", path: "library/sha256", tag: "abcd" },
    });
    assert.deepEqual(parseAnyReference("node"), {
      kind: "named",
      reference: { domain: "docker.io", path: "library/node" },
    });
  });
  test("errors are the reference parser's", () => {
    assert.throws(() => parseAnyReference("Foo"), {
      message: "invalid reference format: repository name (library/Foo) must be lowercase",
    });
  });
});

describe("parseImageArgument", () => {
  test("a full ID, bare or prefixed, is looked up by ID only", () => {
    assert.deepEqual(parseImageArgument(HEX), { kind: "id", id: DIGEST });
    assert.deepEqual(parseImageArgument(DIGEST), { kind: "id", id: DIGEST });
  });
  test("4 to 63 hex characters are a reference first, then an ID prefix", () => {
    assert.deepEqual(parseImageArgument("abcd"), {
      kind: "reference",
      reference: { domain: "docker.io", path: "library/abcd", tag: "latest" },
      idPrefix: "abcd",
    });
    assert.deepEqual(parseImageArgument(HEX.slice(0, 12)), {
      kind: "reference",
      reference: { domain: "docker.io", path: `library/${HEX.slice(0, 12)}`, tag: "latest" },
      idPrefix: HEX.slice(0, 12),
    });
    assert.deepEqual(parseImageArgument("sha256:abcd12"), {
      kind: "reference",
      reference: { domain: "docker.io", path: "library/sha256", tag: "abcd12" },
      idPrefix: "abcd12",
    });
  });
  test("shorter or non-hex strings are only references", () => {
    assert.deepEqual(parseImageArgument("abc"), {
      kind: "reference",
      reference: { domain: "docker.io", path: "library/abc", tag: "latest" },
    });
    assert.deepEqual(parseImageArgument("abcd:1"), {
      kind: "reference",
      reference: { domain: "docker.io", path: "library/abcd", tag: "1" },
    });
    assert.deepEqual(parseImageArgument(`node@${DIGEST}`), {
      kind: "reference",
      reference: { domain: "docker.io", path: "library/node", digest: DIGEST },
    });
  });
  test("an invalid argument throws InvalidArgument", () => {
    assert.throws(
      () => parseImageArgument("ABCD"),
      (err: unknown) => isBerthError(err, "InvalidArgument"),
    );
  });
});
