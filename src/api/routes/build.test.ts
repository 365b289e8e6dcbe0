import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import type { BuildEvent } from "../../engine/types.js";
import { completedTar, decodeBuildPrune, decodeBuildQuery, legacyBuildMessages } from "./build.js";

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

test("decodeBuildQuery: the query the docker 28 CLI sends for build -t a:1 -t b --build-arg …", () => {
  const q = new URLSearchParams(
    "buildargs=%7B%22X%22%3A%221%22%2C%22Y%22%3Anull%7D&dockerfile=Dockerfile&labels=%7B%22l%22%3A%22v%22%7D&t=a%3A1&t=b&target=t&version=1",
  );
  const opts = decodeBuildQuery(q, { "x-registry-config": "e30=" });
  assert.deepEqual(opts.Tags, ["a:1", "b"]);
  assert.equal(opts.Dockerfile, "Dockerfile");
  assert.deepEqual(opts.BuildArgs, { X: "1", Y: null });
  assert.deepEqual(opts.Labels, { l: "v" });
  assert.equal(opts.Target, "t");
  assert.equal(opts.RegistryAuth, undefined);
});

test("decodeBuildQuery: zero values of unset options (older clients send them all) mean unset", () => {
  const q = new URLSearchParams(
    "t=x&rm=1&cpusetcpus=&networkmode=default&cpusetmems=&cpushares=0&cpuquota=0&cpuperiod=0&memory=0&memswap=0&cgroupparent=&shmsize=0&dockerfile=&target=&ulimits=null&buildargs=null&labels=null&cachefrom=null&version=1",
  );
  const opts = decodeBuildQuery(q);
  assert.deepEqual(opts.Tags, ["x"]);
  assert.equal(opts.NetworkMode, undefined);
  assert.equal(opts.Dockerfile, undefined);
  assert.equal(opts.BuildArgs, undefined);
});

test("decodeBuildQuery: q, nocache, pull, networkmode, platform, X-Registry-Config", () => {
  const q = new URLSearchParams(
    "q=1&nocache=1&pull=1&networkmode=host&platform=linux%2Famd64&forcerm=1&rm=0",
  );
  const auth = { "127.0.0.1:5000": { username: "u", password: "p", serveraddress: "127.0.0.1:5000" } };
  const opts = decodeBuildQuery(q, { "x-registry-config": b64(auth) });
  assert.equal(opts.SuppressOutput, true);
  assert.equal(opts.NoCache, true);
  assert.equal(opts.PullParent, true);
  assert.equal(opts.NetworkMode, "host");
  assert.equal(opts.Platform, "linux/amd64");
  assert.deepEqual(opts.RegistryAuth, auth);
});

test("decodeBuildQuery: options berth cannot honour are refused, each naming itself", () => {
  const cases: Array<[string, string, string]> = [
    ["cachefrom=%5B%22c1%22%5D", "NotImplemented", "cachefrom"],
    ["extrahosts=h%3A1.2.3.4", "NotImplemented", "extrahosts"],
    ["shmsize=1048576", "NotImplemented", "shmsize"],
    ["memory=100", "NotImplemented", "memory"],
    ["version=2", "NotImplemented", "BuildKit"],
    ["remote=https%3A%2F%2Fexample.invalid%2Fx.git", "NotImplemented", "remote"],
    ["networkmode=mynet", "NotImplemented", "mynet"],
    ["squash=1", "InvalidArgument", "experimental"],
    ["securityopt=seccomp%3Dunconfined", "InvalidArgument", "security options"],
    ["buildargs=%5B1%5D", "InvalidArgument", "build args"],
    ["labels=%7B%22a%22%3A1%7D", "InvalidArgument", "labels"],
    ["ulimits=%5B%7B%22Name%22%3A%22nofile%22%7D%5D", "NotImplemented", "ulimits"],
  ];
  for (const [query, kind, word] of cases) {
    assert.throws(
      () => decodeBuildQuery(new URLSearchParams(query)),
      (e: unknown) => isBerthError(e, kind as "NotImplemented") && e.message.includes(word),
      query,
    );
  }
  assert.throws(
    () => decodeBuildQuery(new URLSearchParams(""), { "x-registry-config": "!!notjson" }),
    (e: unknown) => isBerthError(e, "InvalidArgument") && e.message.includes("X-Registry-Config"),
  );
});

async function collect<T>(it: AsyncIterable<T>): Promise<{ items: T[]; error?: unknown }> {
  const items: T[] = [];
  try {
    for await (const x of it) items.push(x);
    return { items };
  } catch (error) {
    return { items, error };
  }
}

async function* events(list: readonly BuildEvent[], fail?: Error): AsyncIterable<BuildEvent> {
  yield* list;
  if (fail) throw fail;
}

const ID = `sha256:${"ab".repeat(32)}`;
const run: BuildEvent[] = [
  { kind: "vertex", id: 1, name: "[internal] load build definition from Dockerfile", status: "started" },
  { kind: "log", id: 1, stream: 1, data: Buffer.from("transferring dockerfile: 40B done\n") },
  { kind: "vertex", id: 1, name: "[internal] load build definition from Dockerfile", status: "done" },
  { kind: "vertex", id: 2, name: "[1/2] FROM docker.io/library/busybox:latest", status: "started" },
  { kind: "vertex", id: 2, name: "[1/2] FROM docker.io/library/busybox:latest", status: "done" },
  { kind: "vertex", id: 3, name: "[2/2] RUN echo hi", status: "started" },
  { kind: "log", id: 3, stream: 1, data: Buffer.from("hi\n") },
  { kind: "vertex", id: 3, name: "[2/2] RUN echo hi", status: "done" },
  { kind: "vertex", id: 4, name: "exporting to image", status: "started" },
  { kind: "result", imageId: ID, tags: ["a:1", "b:latest"] },
];

test("legacyBuildMessages: steps, their output, aux ID, Successfully built/tagged", async () => {
  const { items, error } = await collect(legacyBuildMessages(events(run)));
  assert.equal(error, undefined);
  assert.deepEqual(items, [
    { stream: "Step 1/2 : FROM docker.io/library/busybox:latest\n" },
    { stream: "Step 2/2 : RUN echo hi\n" },
    { stream: "hi\n" },
    { aux: { ID } },
    { stream: "Successfully built abababababab\n" },
    { stream: "Successfully tagged a:1\n" },
    { stream: "Successfully tagged b:latest\n" },
  ]);
});

test("legacyBuildMessages: a cached step, padded and stage-labelled step names", async () => {
  const { items } = await collect(
    legacyBuildMessages(
      events([
        { kind: "vertex", id: 5, name: "[builder  3/12] COPY . .", status: "started" },
        { kind: "vertex", id: 5, name: "[builder  3/12] COPY . .", status: "cached" },
      ]),
    ),
  );
  assert.deepEqual(items, [
    { stream: "[builder] Step 3/12 : COPY . .\n" },
    { stream: " ---> Using cache\n" },
  ]);
});

test("legacyBuildMessages: quiet yields only the image ID, or on failure what it held back", async () => {
  const ok = await collect(legacyBuildMessages(events(run), { quiet: true }));
  assert.deepEqual(ok.items, [{ stream: `${ID}\n` }]);
  const boom = new Error("exit code: 1");
  const failed = await collect(legacyBuildMessages(events(run.slice(0, 7), boom), { quiet: true }));
  assert.equal(failed.error, boom);
  assert.deepEqual(failed.items, [
    { stream: "Step 1/2 : FROM docker.io/library/busybox:latest\n" },
    { stream: "Step 2/2 : RUN echo hi\n" },
    { stream: "hi\n" },
  ]);
});

test("decodeBuildPrune: all, filters; space limits refused unless zero", () => {
  assert.deepEqual(decodeBuildPrune(new URLSearchParams("all=1&filters=")), { All: true });
  assert.deepEqual(decodeBuildPrune(new URLSearchParams('filters={"until":["24h"]}&keep-storage=0')), {
    All: false,
    Filters: { until: ["24h"] },
  });
  assert.throws(() => decodeBuildPrune(new URLSearchParams("keep-storage=1000")), /keep-storage/);
  assert.throws(() => decodeBuildPrune(new URLSearchParams("max-used-space=x")), /expects an integer/);
});

test("completedTar: pads a tar cut after its last file's bytes; compressed bodies pass unchanged", async () => {
  async function* chunks(...parts: Buffer[]): AsyncIterable<Uint8Array> {
    yield* parts;
  }
  const bytes = async (it: AsyncIterable<Uint8Array>) => {
    const out: Buffer[] = [];
    for await (const c of it) out.push(Buffer.from(c));
    return Buffer.concat(out);
  };
  const cut = Buffer.alloc(512 + 23, 7);
  const padded = await bytes(completedTar(chunks(cut.subarray(0, 100), cut.subarray(100))));
  assert.equal(padded.length, 1024 + 1024);
  assert.deepEqual(padded.subarray(0, cut.length), cut);
  assert.ok(padded.subarray(cut.length).every((b) => b === 0));
  const gz = Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]);
  assert.deepEqual(await bytes(completedTar(chunks(gz.subarray(0, 1), gz.subarray(1)))), gz);
  assert.equal((await bytes(completedTar(chunks()))).length, 0);
});

test("decodeBuildQuery: docker-py's defaults (rm=False, q=False, nocache=False, forcerm=False) build", () => {
  const opts = decodeBuildQuery(
    new URLSearchParams("t=py&q=False&nocache=False&rm=False&forcerm=False&pull=False"),
  );
  assert.deepEqual(opts, { Tags: ["py"], NoCache: false, PullParent: false, SuppressOutput: false });
});

test("decodeBuildQuery: berth's explaincache parameter, and a bad value refused", () => {
  const explain = (v: string) => decodeBuildQuery(new URLSearchParams({ explaincache: v })).CacheExplanations;
  assert.equal(decodeBuildQuery(new URLSearchParams("")).CacheExplanations, undefined);
  assert.equal(explain("all"), "all");
  assert.equal(explain("1"), "all");
  assert.equal(explain("none"), "none");
  assert.equal(explain("changed"), "changed");
  assert.throws(() => explain("sometimes"), /invalid explaincache value: "sometimes"/);
});

test("decodeBuildQuery: berth's contextkey parameter names the build's place", () => {
  assert.equal(decodeBuildQuery(new URLSearchParams("")).ContextKey, undefined);
  assert.equal(decodeBuildQuery(new URLSearchParams({ contextkey: "" })).ContextKey, undefined);
  assert.equal(decodeBuildQuery(new URLSearchParams({ contextkey: "/src/app" })).ContextKey, "/src/app");
});
