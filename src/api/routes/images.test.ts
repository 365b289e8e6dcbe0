import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import {
  decodeImageCreate,
  decodeImageList,
  decodeImagePush,
  decodeImageRemove,
  decodeImageTag,
  decodePlatformParam,
  loadMessages,
  registryAuthHeader,
} from "./images.js";

const q = (s: string) => new URLSearchParams(s);
const DIGEST = `sha256:${"0".repeat(64)}`;

test("X-Registry-Auth: base64url JSON; empty object and absent are no credentials", () => {
  const header = Buffer.from(
    JSON.stringify({ username: "u", password: "p?>", serveraddress: "h:5000" }),
  ).toString("base64url");
  assert.deepEqual(registryAuthHeader({ "x-registry-auth": header }), {
    username: "u",
    password: "p?>",
    serveraddress: "h:5000",
  });
  assert.equal(registryAuthHeader({ "x-registry-auth": "e30=" }), undefined);
  assert.equal(registryAuthHeader({}), undefined);
  // The legacy `auth` field: base64 of user:password.
  const legacy = Buffer.from(JSON.stringify({ auth: Buffer.from("me:secret").toString("base64") })).toString(
    "base64url",
  );
  assert.deepEqual(registryAuthHeader({ "x-registry-auth": legacy }), { username: "me", password: "secret" });
  assert.throws(() => registryAuthHeader({ "x-registry-auth": "bm90IGpzb24" }), /X-Registry-Auth/);
  const wrongType = Buffer.from(JSON.stringify({ username: 5 })).toString("base64url");
  assert.throws(
    () => registryAuthHeader({ "x-registry-auth": wrongType }),
    (e: unknown) => isBerthError(e, "InvalidArgument"),
  );
});

test("images/json: all, digests, shared-size, filters (both encodings); manifests refused", () => {
  assert.deepEqual(decodeImageList(q("all=1&filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D")), {
    all: true,
    digests: false,
    sharedSize: false,
    filters: { dangling: ["true"] },
  });
  assert.deepEqual(decodeImageList(q('shared-size=1&digests=1&filters={"reference":["a*"]}')), {
    all: false,
    digests: true,
    sharedSize: true,
    filters: { reference: ["a*"] },
  });
  assert.throws(
    () => decodeImageList(q("manifests=1")),
    (e: unknown) => isBerthError(e, "NotImplemented"),
  );
});

test("images/create: pulls as the docker CLI asks (tag, digest in tag, all tags, platform)", () => {
  assert.deepEqual(decodeImageCreate(q("fromImage=127.0.0.1%3A5000%2Fx%2Fy&tag=tag")), {
    kind: "pull",
    reference: "127.0.0.1:5000/x/y:tag",
    allTags: false,
  });
  assert.deepEqual(decodeImageCreate(q(`fromImage=127.0.0.1:5000/x&platform=linux/arm64&tag=${DIGEST}`)), {
    kind: "pull",
    reference: `127.0.0.1:5000/x@${DIGEST}`,
    allTags: false,
    platform: "linux/arm64",
  });
  assert.deepEqual(decodeImageCreate(q("fromImage=docker.io/library/busybox")), {
    kind: "pull",
    reference: "docker.io/library/busybox",
    allTags: true,
  });
  assert.deepEqual(decodeImageCreate(q("fromImage=busybox:1.36")), {
    kind: "pull",
    reference: "busybox:1.36",
    allTags: false,
  });
  assert.throws(
    () => decodeImageCreate(q("fromImage=UPPER")),
    (e: unknown) => isBerthError(e, "InvalidArgument"),
  );
});

test("images/create: fromSrc=- imports the body with repo, tag, changes, message", () => {
  assert.deepEqual(
    decodeImageCreate(q("changes=CMD+%5B%22x%22%5D&changes=ENV+A%3D1&fromSrc=-&message=msg&repo=repo%3Atg")),
    {
      kind: "import",
      reference: "repo:tg",
      changes: ['CMD ["x"]', "ENV A=1"],
      message: "msg",
    },
  );
  assert.deepEqual(decodeImageCreate(q("fromSrc=-&repo=r&tag=v2")), {
    kind: "import",
    reference: "r:v2",
    changes: [],
  });
  assert.throws(
    () => decodeImageCreate(q("fromSrc=http%3A%2F%2F127.0.0.1%2Fx.tar")),
    (e: unknown) => isBerthError(e, "NotImplemented"),
  );
  assert.throws(
    () => decodeImageCreate(q("")),
    (e: unknown) => isBerthError(e, "InvalidArgument"),
  );
});

test("push, tag and remove parameters", () => {
  assert.deepEqual(decodeImagePush("127.0.0.1:5000/x/y", q("tag=tag")), {
    reference: "127.0.0.1:5000/x/y:tag",
    allTags: false,
  });
  assert.deepEqual(decodeImagePush("127.0.0.1:5000/x/y", q("")), {
    reference: "127.0.0.1:5000/x/y",
    allTags: true,
  });
  assert.deepEqual(decodeImagePush("x:1", q("")), { reference: "x:1", allTags: false });
  assert.throws(
    () => decodeImagePush("x", q('platform={"os":"linux"}')),
    (e: unknown) => isBerthError(e, "NotImplemented"),
  );
  assert.equal(decodeImageTag(q("repo=docker.io%2Flibrary%2Fb&tag=c")), "b:c");
  assert.equal(decodeImageTag(q("repo=b")), "b");
  assert.throws(
    () => decodeImageTag(q("tag=c")),
    (e: unknown) => isBerthError(e, "InvalidArgument"),
  );
  assert.throws(
    () => decodeImageTag(q("repo=b&tag=-bad")),
    (e: unknown) => isBerthError(e, "InvalidArgument"),
  );
  assert.deepEqual(decodeImageRemove(q("force=1&noprune=1")), { force: true, noprune: true });
  assert.deepEqual(decodeImageRemove(q("")), { force: false, noprune: false });
});

test("platform of save/load: os/arch text or an OCI platform object", () => {
  assert.equal(decodePlatformParam(q("")), undefined);
  assert.equal(decodePlatformParam(q("platform=linux/amd64")), "linux/amd64");
  assert.equal(
    decodePlatformParam(
      q(`platform=${encodeURIComponent('{"os":"linux","architecture":"arm","variant":"v7"}')}`),
    ),
    "linux/arm/v7",
  );
  assert.throws(
    () => decodePlatformParam(q("platform=linux/amd64&platform=linux/arm64")),
    /more than one platform/,
  );
});

test("load messages: replaced tags first, then each image loaded", () => {
  assert.deepEqual(
    loadMessages({
      loaded: [{ reference: "docker.io/library/a:1", id: "sha256:1" }, { id: "sha256:2" }],
      replaced: [{ reference: "docker.io/library/a:1", previous: "sha256:0" }],
    }),
    [
      { stream: "The image a:1 already exists, renaming the old one with ID sha256:0 to empty string\n" },
      { stream: "Loaded image: a:1\n" },
      { stream: "Loaded image ID: sha256:2\n" },
    ],
  );
});
