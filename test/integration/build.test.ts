/**
 * `berth build` through the real bin/berth on busybox: the tutorial-shaped node Dockerfile and a
 * multi-stage one build and run; the cache re-runs only what an edit invalidates and a cached
 * rebuild gives the same image ID; --target, --build-arg, -q, --iidfile, -f, tar and stdin
 * contexts; history rows; file:line errors; escapes out of the context refused; ADD of local
 * archives and of http URLs (a server on 127.0.0.1); a failing RUN
 * leaves no image, workspace or mount; builder prune.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { REMOTE, runProgram, Store } from "./harness.js";

let s: Store;

before(async () => {
  s = await Store.create();
  await s.busybox();
});
after(async () => {
  await s.cleanup();
});

async function files(dir: string, entries: Record<string, string>): Promise<string> {
  for (const [name, content] of Object.entries(entries)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

/** BuildKit plain-progress step lines: "[2/5] RUN …" → "CACHED" | "DONE" | "ERROR". */
function stepStates(progress: string): Map<string, string> {
  const names = new Map<string, string>();
  const out = new Map<string, string>();
  for (const line of progress.split("\n")) {
    const start = /^#(\d+) (\[(?:[\w.-]+ )?\s*\d+\/\d+\] .*)$/.exec(line);
    if (start) names.set(start[1] as string, start[2] as string);
    const end = /^#(\d+) (CACHED|DONE|ERROR)/.exec(line);
    if (end && names.has(end[1] as string)) out.set(names.get(end[1] as string) as string, end[2] as string);
  }
  return out;
}

const NODE_LIKE = `FROM busybox
WORKDIR /app
COPY package*.json ./
RUN echo installing && mkdir -p node_modules && cat package.json > node_modules/installed.txt
COPY . .
EXPOSE 3000
CMD ["cat", "/app/server.js"]
`;

describe("berth build", () => {
  let app: string;
  let firstId: string;

  test("a tutorial-shaped Dockerfile builds and the image runs", async () => {
    app = await files(s.path("app"), {
      Dockerfile: NODE_LIKE,
      "package.json": '{"name":"app"}\n',
      "package-lock.json": "{}\n",
      "server.js": "console.log('hello from server')\n",
      ".dockerignore": "node_modules\n*.log\n",
      "debug.log": "ignored\n",
    });
    const r = await s.berth(["build", "--progress=plain", "-t", "my-node-app:v1.0", app]);
    assert.equal(r.code, 0, r.stderr);
    const states = stepStates(r.stderr);
    assert.equal(
      states.get(
        "[4/5] RUN echo installing && mkdir -p node_modules && cat package.json > node_modules/installed.txt",
      ),
      "DONE",
    );
    assert.match(r.stderr, /#\d+ [\d.]+ installing/, "RUN output is shown in plain mode");
    const inspect = JSON.parse((await s.ok(["image", "inspect", "my-node-app:v1.0"])).stdout)[0];
    firstId = inspect.Id;
    assert.deepEqual(inspect.Config.Cmd, ["cat", "/app/server.js"]);
    assert.equal(inspect.Config.WorkingDir, "/app");
    assert.deepEqual(inspect.Config.ExposedPorts, { "3000/tcp": {} });
    const run = await s.ok(["run", "--rm", "my-node-app:v1.0"]);
    assert.equal(run.stdout, "console.log('hello from server')\n");
    const ls = await s.ok(["run", "--rm", "my-node-app:v1.0", "ls", "/app", "/app/node_modules"]);
    assert.doesNotMatch(ls.stdout, /debug\.log/, ".dockerignore'd files are not copied");
    assert.match(ls.stdout, /installed\.txt/);
  });

  test("history has one row per instruction, 0B for metadata, sizes for RUN and COPY", async () => {
    const h = await s.ok([
      "history",
      "--no-trunc",
      "--format",
      "{{.CreatedBy}}|{{.Size}}",
      "my-node-app:v1.0",
    ]);
    const rows = h.stdout.trim().split("\n").slice(0, 6);
    assert.deepEqual(
      rows.map((r) => r.split("|")[0]),
      [
        'CMD ["cat" "/app/server.js"]',
        "EXPOSE [3000/tcp]",
        "COPY . . # buildkit",
        "RUN /bin/sh -c echo installing && mkdir -p node_modules && cat package.json > node_modules/installed.txt # buildkit",
        "COPY package*.json ./ # buildkit",
        "WORKDIR /app",
      ],
    );
    assert.equal(rows[0]?.split("|")[1], "0B");
    assert.equal(rows[1]?.split("|")[1], "0B");
    assert.notEqual(rows[2]?.split("|")[1], "0B");
    assert.notEqual(rows[3]?.split("|")[1], "0B");
  });

  test("a cached rebuild runs no step and gives the same image ID", async () => {
    const r = await s.berth(["build", "--progress=plain", "-q", app]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), firstId);
    const p = await s.berth(["build", "--progress=plain", app]);
    const states = [...stepStates(p.stderr).entries()].filter(([n]) => !n.includes("FROM"));
    assert.ok(states.length >= 4);
    for (const [name, state] of states) assert.equal(state, "CACHED", name);
  });

  test("editing one copied file re-runs only the steps from that COPY on", async () => {
    await writeFile(join(app, "server.js"), "console.log('edited')\n");
    const r = await s.berth(["build", "--progress=plain", "-t", "my-node-app:v1.1", app]);
    assert.equal(r.code, 0, r.stderr);
    const states = stepStates(r.stderr);
    assert.equal(states.get("[2/5] WORKDIR /app"), "CACHED");
    assert.equal(states.get("[3/5] COPY package*.json ./"), "CACHED");
    assert.equal(
      states.get(
        "[4/5] RUN echo installing && mkdir -p node_modules && cat package.json > node_modules/installed.txt",
      ),
      "CACHED",
    );
    assert.equal(states.get("[5/5] COPY . ."), "DONE");
    assert.equal((await s.ok(["run", "--rm", "my-node-app:v1.1"])).stdout, "console.log('edited')\n");
    // Editing a manifest invalidates from its COPY on.
    await writeFile(join(app, "package.json"), '{"name":"app","version":"2"}\n');
    const again = stepStates((await s.ok(["build", "--progress=plain", app])).stderr);
    assert.equal(again.get("[3/5] COPY package*.json ./"), "DONE");
    assert.equal(
      again.get(
        "[4/5] RUN echo installing && mkdir -p node_modules && cat package.json > node_modules/installed.txt",
      ),
      "DONE",
    );
    // --no-cache runs everything.
    const none = stepStates((await s.ok(["build", "--progress=plain", "--no-cache", app])).stderr);
    assert.ok([...none.values()].every((v) => v === "DONE"));
  });

  test("multi-stage: only needed stages run, the image carries only its stage's layers; --target and --build-arg", async () => {
    const dir = await files(s.path("multi"), {
      Dockerfile: `ARG BASE=busybox
FROM $BASE AS builder
ARG VERSION=1.0
WORKDIR /src
RUN echo "built $VERSION" > out.txt && dd if=/dev/zero of=/src/big bs=1024 count=512 2>/dev/null
FROM busybox AS unused
RUN echo never-runs
FROM \${BASE}
COPY --from=builder /src/out.txt /app/
CMD ["cat", "/app/out.txt"]
`,
    });
    const r = await s.berth([
      "build",
      "--progress=plain",
      "-t",
      "multi:1",
      "--build-arg",
      "VERSION=2.5",
      dir,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /never-runs/);
    assert.match(r.stderr, /\[builder 3\/3\] RUN/);
    assert.equal((await s.ok(["run", "--rm", "multi:1"])).stdout, "built 2.5\n");
    const layers = JSON.parse((await s.ok(["image", "inspect", "multi:1"])).stdout)[0].RootFS.Layers;
    const base = JSON.parse((await s.ok(["image", "inspect", "busybox"])).stdout)[0].RootFS.Layers;
    assert.equal(layers.length, base.length + 1, "the builder stage's layers are not in the image");
    const t = await s.berth(["build", "-q", "--target", "builder", dir]);
    assert.equal(t.code, 0, t.stderr);
    const id = t.stdout.trim();
    assert.equal((await s.ok(["run", "--rm", id, "cat", "/src/out.txt"])).stdout, "built 1.0\n");
  });

  test("-f, --iidfile, --label, a tar context and a Dockerfile on stdin", async () => {
    const dir = await files(s.path("ctx2"), {
      "docker/Build.df": 'FROM busybox\nCOPY hello.txt /\nCMD ["cat", "/hello.txt"]\n',
      "hello.txt": "hi\n",
    });
    const iid = s.path("iid.txt");
    await s.ok([
      "build",
      "-f",
      join(dir, "docker/Build.df"),
      "--iidfile",
      iid,
      "--label",
      "stage=test",
      "-t",
      "ctx2",
      dir,
    ]);
    const id = (await readFile(iid, "utf8")).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const inspect = JSON.parse((await s.ok(["image", "inspect", "ctx2"])).stdout)[0];
    assert.equal(inspect.Id, id);
    assert.equal(inspect.Config.Labels.stage, "test");
    const tarFile = s.path("ctx2.tar");
    await runProgram("tar", ["-C", dir, "-czf", tarFile, "."]);
    const fromTar = await s.berth(["build", "-q", "-f", "docker/Build.df", tarFile]);
    assert.equal(fromTar.code, 0, fromTar.stderr);
    assert.equal((await s.ok(["run", "--rm", fromTar.stdout.trim()])).stdout, "hi\n");
    const stdin = await s.berth(["build", "-q", "-"], {
      input: 'FROM busybox\nRUN echo from-stdin > /x\nCMD ["cat", "/x"]\n',
    });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal((await s.ok(["run", "--rm", stdin.stdout.trim()])).stdout, "from-stdin\n");
  });

  test("every instruction: ONBUILD triggers in a child build, heredocs, --chown/--chmod, metadata in the config", async () => {
    const parent = await files(s.path("onbuild-parent"), {
      Dockerfile:
        'FROM busybox\nONBUILD COPY trigger.txt /trigger.txt\nONBUILD RUN echo ran-trigger > /ran\nCMD ["true"]\n',
    });
    await s.ok(["build", "-q", "-t", "onbuild-parent", parent]);
    const child = await files(s.path("onbuild-child"), {
      "trigger.txt": "from the child context\n",
      "owned.txt": "owned\n",
      Dockerfile: `FROM onbuild-parent
MAINTAINER someone@example.com
ARG GREETING=hi
ENV APP_HOME=/srv/app
LABEL org.example.name="child image" version=1
SHELL ["/bin/sh", "-ec"]
WORKDIR $APP_HOME
RUN <<EOF
echo "$GREETING from heredoc" > heredoc.txt
id -u >> heredoc.txt
EOF
COPY <<EOF /srv/app/inline.txt
greeting=\${GREETING}
EOF
COPY --chown=nobody:nogroup --chmod=640 owned.txt ./
USER nobody
VOLUME /data
EXPOSE 8080/udp
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --retries=2 CMD true
ENTRYPOINT ["/bin/sh", "-c"]
`,
    });
    const r = await s.berth(["build", "--progress=plain", "-t", "onbuild-child", child]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[ ?2\/\d+\] ONBUILD COPY trigger\.txt \/trigger\.txt/);
    const cat = await s.ok([
      "run",
      "--rm",
      "onbuild-child",
      "cat /trigger.txt /ran heredoc.txt inline.txt && stat -c '%U:%G %a' owned.txt && pwd",
    ]);
    assert.equal(
      cat.stdout,
      "from the child context\nran-trigger\nhi from heredoc\n0\ngreeting=hi\nnobody:nogroup 640\n/srv/app\n",
    );
    const c = JSON.parse((await s.ok(["image", "inspect", "onbuild-child"])).stdout)[0];
    assert.equal(c.Author, "someone@example.com");
    assert.equal(c.Config.OnBuild, null, "the parent's triggers do not carry over");
    assert.equal(c.Config.Cmd, null, "ENTRYPOINT resets the inherited CMD");
    assert.deepEqual(c.Config.Entrypoint, ["/bin/sh", "-c"]);
    assert.equal(c.Config.User, "nobody");
    assert.equal(c.Config.WorkingDir, "/srv/app");
    assert.ok(c.Config.Env.includes("APP_HOME=/srv/app"));
    assert.equal(c.Config.Labels["org.example.name"], "child image");
    assert.equal(c.Config.Labels.version, "1");
    assert.deepEqual(c.Config.Volumes, { "/data": {} });
    assert.deepEqual(c.Config.ExposedPorts, { "8080/udp": {} });
    assert.equal(c.Config.StopSignal, "SIGINT");
    assert.deepEqual(c.Config.Healthcheck.Test, ["CMD-SHELL", "true"]);
    assert.deepEqual(c.Config.Shell, ["/bin/sh", "-ec"]);
    const p = JSON.parse((await s.ok(["image", "inspect", "onbuild-parent"])).stdout)[0];
    assert.deepEqual(p.Config.OnBuild, ["COPY trigger.txt /trigger.txt", "RUN echo ran-trigger > /ran"]);
  });

  test("malformed Dockerfiles fail with file:line errors", async () => {
    const cases: Array<[string, RegExp]> = [
      ["FROM busybox\nRUN true\nCOPPY a b\n", /Dockerfile:3: unknown instruction: COPPY/i],
      ["FROM busybox\nCOPY --frm=x a b\n", /Dockerfile:2: unknown flag: --frm/],
      ["FROM busybox\nEXPOSE 99999\n", /Dockerfile:2: invalid range/],
      ["RUN true\n", /Dockerfile:1: no build stage/],
    ];
    for (const [text, pattern] of cases) {
      const dir = await files(s.path(`bad-${cases.indexOf([text, pattern]) + Math.random()}`), {
        Dockerfile: text,
      });
      const r = await s.berth(["build", dir]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
  });

  test("nothing outside the context can be copied", async () => {
    const dir = await files(s.path("escape/ctx"), { "ok.txt": "ok\n" });
    await writeFile(s.path("escape/secret.txt"), "secret\n");
    await symlink("/etc/shadow", join(dir, "abs-link"));
    await symlink("../secret.txt", join(dir, "rel-link"));
    await mkdir(join(dir, "d"));
    await symlink("/etc", join(dir, "d", "etc-link"));
    const build = async (df: string) => {
      await writeFile(join(dir, "Dockerfile"), df);
      return s.berth(["build", "-q", dir]);
    };
    const up = await build("FROM busybox\nCOPY ../secret.txt /\n");
    assert.equal(up.code, 1);
    assert.match(up.stderr, /forbidden path outside the build context: \.\.\/secret\.txt/);
    // An absolute source is context-relative: /etc/passwd is looked up inside the context.
    const abs = await build("FROM busybox\nCOPY /etc/passwd /p\n");
    assert.equal(abs.code, 1);
    assert.match(abs.stderr, /"\/etc\/passwd": not found/);
    // Symlinks given as sources resolve inside the context, never out of it.
    for (const link of ["abs-link", "rel-link"]) {
      const r = await build(`FROM busybox\nCOPY ${link} /x\n`);
      assert.equal(r.code, 1, `${link}: ${r.stdout}`);
      assert.match(r.stderr, /not found/);
    }
    // Symlinks inside a copied directory are copied as symlinks, not followed.
    const dirCopy = await build("FROM busybox\nCOPY d /d\n");
    assert.equal(dirCopy.code, 0, dirCopy.stderr);
    const out = await s.ok(["run", "--rm", dirCopy.stdout.trim(), "readlink", "/d/etc-link"]);
    assert.equal(out.stdout, "/etc\n");
    // A tar context with traversal is refused by the contained extraction.
    const evil = s.path("escape/evil.tar");
    await writeFile(join(dir, "Dockerfile"), "FROM busybox\n");
    await runProgram("tar", ["-P", "-C", dir, "-cf", evil, "Dockerfile", "../secret.txt"]);
    const t = await s.berth(["build", evil]);
    assert.equal(t.code, 1, t.stderr);
    assert.match(t.stderr, /path escapes the layer: "\.\.\/secret\.txt"/);
  });

  test("ADD extracts local tar archives (gzip, bzip2, xz) and copies other files", async () => {
    const dir = await files(s.path("add"), { "payload/a.txt": "A\n", "payload/sub/b.txt": "B\n" });
    await runProgram("tar", ["-C", join(dir, "payload"), "-czf", join(dir, "p.tar.gz"), "."]);
    await runProgram("tar", ["-C", join(dir, "payload"), "-cjf", join(dir, "p.tar.bz2"), "."]);
    await runProgram("tar", ["-C", join(dir, "payload"), "-cJf", join(dir, "p.tar.xz"), "."]);
    await runProgram("sh", ["-c", `echo not-a-tar | gzip > ${join(dir, "plain.gz")}`]);
    await writeFile(
      join(dir, "Dockerfile"),
      "FROM busybox\nADD p.tar.gz /opt/\nADD p.tar.bz2 /bz/\nADD p.tar.xz /xz/\nADD plain.gz /g/\n",
    );
    const r = await s.berth(["build", "-q", dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = await s.ok([
      "run",
      "--rm",
      r.stdout.trim(),
      "sh",
      "-c",
      "cat /opt/a.txt /opt/sub/b.txt /bz/a.txt /xz/sub/b.txt; ls /g",
    ]);
    assert.equal(out.stdout, "A\nB\nA\nB\nplain.gz\n");
  });

  test("ADD <http URL> downloads into the layer (not extracted), 0600, Last-Modified, --chmod/--chown/--checksum, cache by content", async () => {
    const dir = await files(s.path("add-url"), { "payload/a.txt": "A\n" });
    await runProgram("tar", ["-C", join(dir, "payload"), "-czf", join(dir, "p.tar.gz"), "."]);
    let archive = await readFile(join(dir, "p.tar.gz"));
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? "");
      if (req.url === "/go") {
        res.writeHead(301, { Location: "/dl/p.tar.gz" });
        res.end();
        return;
      }
      res.writeHead(200, {
        "Content-Length": archive.length,
        "Last-Modified": "Tue, 15 Nov 1994 08:12:31 GMT",
      });
      res.end(archive);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const sum = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
      const dockerfile = (checksum: string) =>
        "FROM busybox\n" +
        `ADD ${base}/dl/p.tar.gz /url/\n` +
        `ADD --chmod=644 --chown=12:34 ${base}/go /named.tgz\n` +
        `ADD --checksum=${checksum} ${base}/dl/p.tar.gz /checked/\n`;
      await writeFile(join(dir, "Dockerfile"), dockerfile(sum(archive)));
      const r = await s.berth(["build", "--progress=plain", "-t", "addurl:1", dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /downloading http:\/\/127\.0\.0\.1:\d+\/dl\/p\.tar\.gz/);
      const out = await s.ok([
        "run",
        "--rm",
        "addurl:1",
        "sh",
        "-c",
        "stat -c '%n %a %u:%g %Y' /url/p.tar.gz /named.tgz /checked/p.tar.gz; ls /url; md5sum /url/p.tar.gz",
      ]);
      const md5 = createHash("md5").update(archive).digest("hex");
      assert.equal(
        out.stdout,
        "/url/p.tar.gz 600 0:0 784887151\n/named.tgz 644 12:34 784887151\n/checked/p.tar.gz 600 0:0 784887151\n" +
          `p.tar.gz\n${md5}  /url/p.tar.gz\n`,
      );
      // Same content: cached. Other content at the same URL: the steps run again.
      const again = await s.ok(["build", "--progress=plain", "-t", "addurl:2", dir]);
      const states = [...stepStates(again.stderr)].filter(([n]) => n.includes("] ADD "));
      assert.equal(states.length, 3, again.stderr);
      for (const [n, st] of states) assert.equal(st, "CACHED", n);
      const sameId = (await s.ok(["images", "-q", "--no-trunc", "addurl:1"])).stdout;
      assert.equal((await s.ok(["images", "-q", "--no-trunc", "addurl:2"])).stdout, sameId);
      archive = Buffer.concat([archive, Buffer.from("changed")]);
      await writeFile(join(dir, "Dockerfile"), dockerfile(sum(archive)));
      await s.ok(["build", "-q", "-t", "addurl:3", dir]);
      assert.notEqual((await s.ok(["images", "-q", "--no-trunc", "addurl:3"])).stdout, sameId);
      // A wrong checksum, a git URL, COPY of a URL: one-line errors, no image.
      await writeFile(join(dir, "Dockerfile"), dockerfile(`sha256:${"0".repeat(64)}`));
      const bad = await s.berth(["build", "-t", "addurl:bad", dir]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /digest mismatch: expected sha256:0{64}, got sha256:[0-9a-f]{64}/);
      for (const [df, re] of [
        ["FROM busybox\nADD git@github.com:moby/moby.git /src\n", /git repositories are not supported/],
        [`FROM busybox\nADD ${base}/repo.git /src\n`, /git repositories are not supported/],
        [`FROM busybox\nCOPY ${base}/dl/p.tar.gz /x\n`, /source can't be a URL for COPY/],
        [
          `FROM busybox\nADD --checksum=sha256:${"0".repeat(64)} p.tar.gz /x\n`,
          /checksum can't be specified for non-HTTP\(S\) sources/,
        ],
      ] as const) {
        await writeFile(join(dir, "Dockerfile"), df);
        const e = await s.berth(["build", "-t", "addurl:bad", dir]);
        assert.equal(e.code, 1, df);
        assert.match(e.stderr, re, df);
      }
      assert.equal((await s.berth(["image", "inspect", "addurl:bad"])).code, 1);
      assert.deepEqual(await readdir(join(s.root, "tmp")).catch(() => []), [], "downloads removed");
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test("a failing RUN names the step and exit code and leaves no image, workspace or mount", async () => {
    const dir = await files(s.path("fail"), {
      Dockerfile: "FROM busybox\nRUN echo partial > /p && exit 3\n",
    });
    const before = (await s.ok(["images", "-aq", "--no-trunc"])).stdout;
    const r = await s.berth(["build", "--progress=plain", "-t", "failing", dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /#\d+ \[2\/2\] RUN echo partial > \/p && exit 3/);
    assert.match(
      r.stderr,
      /process "\/bin\/sh -c echo partial > \/p && exit 3" did not complete successfully: exit code: 3/,
    );
    assert.equal((await s.ok(["images", "-aq", "--no-trunc"])).stdout, before);
    assert.equal((await s.berth(["image", "inspect", "failing"])).code, 1);
    assert.deepEqual(await s.listing("builds"), []);
    assert.deepEqual(
      (await s.listing("snapshots")).filter((n) => n.startsWith(".")),
      [],
    );
    const mounts = await readFile("/proc/self/mountinfo", "utf8");
    assert.ok(!mounts.includes(`${s.root}/builds`), "no workspace mount is left");
    assert.equal((await s.ok(["ps", "-aq"])).stdout, "", "build steps are never containers");
    // A failure in one stage cancels the stages running beside it.
    await writeFile(
      join(dir, "Dockerfile"),
      "FROM busybox AS slow\nRUN sleep 30\nFROM busybox AS bad\nRUN exit 7\nFROM busybox\nCOPY --from=slow /etc/passwd /a\nCOPY --from=bad /etc/passwd /b\n",
    );
    const multi = await s.berth(["build", "--progress=plain", dir]);
    assert.equal(multi.code, 1);
    assert.match(multi.stderr, /#(\d+) \[slow 2\/2\] RUN sleep 30\n(?:.*\n)*#\1 CANCELED/);
    assert.match(
      multi.stderr,
      /ERROR: failed to solve: process "\/bin\/sh -c exit 7" did not complete successfully: exit code: 7/,
    );
    assert.deepEqual(await s.listing("builds"), []);
  });

  test("a build killed during a RUN leaves nothing the next command does not remove", async () => {
    const dir = await files(s.path("killed"), { Dockerfile: "FROM busybox\nRUN echo started; sleep 60\n" });
    const [cmd = "", ...args] = s.argv(["build", "--progress=plain", dir]);
    const child = spawn(cmd, args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...s.env },
    });
    const closed = new Promise((r) => child.on("close", r));
    await new Promise<void>((resolve) => {
      let seen = "";
      child.stderr.on("data", (c: Buffer) => {
        seen += c.toString();
        if (/#\d+ [\d.]+ started/.test(seen)) resolve();
      });
    });
    child.kill("SIGKILL");
    await closed;
    if (REMOTE) {
      // The process killed is the client: the server cancels the build when its connection
      // closes, as dockerd does, and removes the step's workspace without waiting for a command.
      await waitFor(
        "the server to cancel the build",
        async () => (await s.listing("builds")).length === 0,
        15_000,
      );
    } else {
      // The process killed is the builder: its workspace stays until a command finds it dead.
      assert.equal((await s.listing("builds")).length, 1, "the killed build's workspace is there");
      await s.ok(["images"]);
      assert.deepEqual(await s.listing("builds"), []);
    }
    const mounts = await readFile("/proc/self/mountinfo", "utf8");
    assert.ok(!mounts.includes(`${s.root}/builds`));
    const runc = await runProgram("runc", ["--root", join(s.runroot, "runc"), "list", "-q"]);
    assert.equal(runc.stdout.trim(), "", "the step's runc container is gone");
  });

  test("RUN is on the default bridge by default; --network=none gives loopback only", async () => {
    const dir = await files(s.path("net"), {
      Dockerfile:
        "FROM busybox\nRUN ip -4 addr show eth0 > /default.txt\nRUN --network=none ip link > /none.txt\n",
    });
    const r = await s.berth(["build", "-q", dir]);
    assert.equal(r.code, 0, r.stderr);
    const image = r.stdout.trim();
    const def = await s.ok(["run", "--rm", "--network", "none", image, "cat", "/default.txt"]);
    const subnet = (s.env.BERTH_BIP ?? "").split(".").slice(0, 3).join("\\.");
    assert.match(def.stdout, new RegExp(`inet ${subnet}\\.\\d+/24`));
    const none = await s.ok(["run", "--rm", "--network", "none", image, "cat", "/none.txt"]);
    assert.match(none.stdout, /\blo\b/);
    assert.doesNotMatch(none.stdout, /eth0/);
    assert.deepEqual(
      (await readdir(join(s.runroot, "netns")).catch(() => [])).length,
      0,
      "the step's namespace is gone",
    );
  });

  test("RUN steps get the resolv.conf a container gets and BuildKit's /etc/hosts; neither lands in the image", async () => {
    const dir = await files(s.path("resolv"), {
      Dockerfile:
        "FROM busybox\nRUN cat /etc/resolv.conf > /resolv.txt && cat /etc/hosts > /hosts.txt && hostname > /name.txt\n",
    });
    const r = await s.berth(["build", "-q", dir]);
    assert.equal(r.code, 0, r.stderr);
    const image = r.stdout.trim();
    const show = async (path: string) =>
      (await s.ok(["run", "--rm", "--network", "none", image, "cat", path])).stdout;
    const container = (await s.ok(["run", "--rm", "busybox", "cat", "/etc/resolv.conf"])).stdout;
    assert.equal(await show("/resolv.txt"), container);
    assert.match(container, /^nameserver /m);
    assert.equal(
      await show("/hosts.txt"),
      "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    );
    assert.equal(await show("/name.txt"), "buildkitsandbox\n");
    // The step's layer holds only what the step wrote: /etc as in the base image.
    const etc = async (img: string) => {
      const id = (await s.ok(["create", img])).stdout.trim();
      const tar = await runProgram("sh", ["-c", `"$@" export ${id} | tar -t`, "sh", ...s.argv([])], {
        env: s.env,
      });
      await s.ok(["rm", id]);
      return tar.stdout
        .split("\n")
        .filter((l) => l.startsWith("etc/"))
        .sort();
    };
    assert.deepEqual(await etc(image), await etc("busybox"));
  });

  test("builder prune removes the cache; a rebuild then runs its steps again", async () => {
    const dir = await files(s.path("prune"), { Dockerfile: "FROM busybox\nRUN echo 1 > /one\n" });
    await s.ok(["build", "-q", dir]);
    const p = await s.ok(["builder", "prune", "-a", "-f"]);
    assert.match(p.stdout, /Deleted build cache objects:\n/);
    assert.match(p.stdout, /Total reclaimed space: /);
    const again = stepStates((await s.ok(["build", "--progress=plain", dir])).stderr);
    assert.equal(again.get("[2/2] RUN echo 1 > /one"), "DONE");
    const names = await readdir(join(s.root, "builds")).catch(() => []);
    assert.deepEqual(names, []);
  });
});

describe("a base image without PATH", () => {
  test("ENV PATH=/x:$PATH expands with the default PATH, as BuildKit sets it", async () => {
    // An image whose config has no Env at all: busybox's filesystem through export/import.
    const id = (await s.ok(["create", "busybox", "true"])).stdout.trim();
    const tar = join(s.dir, "nopath.tar");
    await s.ok(["export", "-o", tar, id]);
    await s.ok(["rm", id]);
    await s.ok(["import", tar, "nopath:1"]);
    const env = await s.ok(["image", "inspect", "--format", "{{json .Config.Env}}", "nopath:1"]);
    assert.ok(!env.stdout.includes("PATH="), env.stdout);
    const dir = await files(join(s.dir, "ctx-nopath"), {
      Dockerfile: "FROM nopath:1\nENV PATH=/x:$PATH\nRUN echo ran > /ran\n",
    });
    await s.ok(["build", "-q", "-t", "withpath:1", dir]);
    const built = await s.ok(["image", "inspect", "--format", "{{json .Config.Env}}", "withpath:1"]);
    assert.deepEqual(JSON.parse(built.stdout), [
      "PATH=/x:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ]);
    const r = await s.ok(["run", "--rm", "--network", "none", "withpath:1", "cat", "/ran"]);
    assert.equal(r.stdout, "ran\n");
  });
});
