/**
 * Containers through the real bin/berth on runc + conmon + overlayfs: the tutorial's scenes
 * (several containers of one image side by side, the writable layer vs a volume, rmi refused while
 * a container exists), lifecycle and state, exit codes as Docker's, isolation defaults.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { BERTH, runProgram, Store } from "./harness.js";

let store: Store;
let imageId: string;

before(async () => {
  store = await Store.create();
  imageId = await store.busybox();
});
after(async () => {
  await store.cleanup();
});

/** Waits for a condition (the shared poller, with this file's default timeout). */
const until = (what: string, fn: () => Promise<boolean>, ms = 10_000) => waitFor(what, fn, ms);

describe("conmon's exit command", () => {
  test("a store deleted since the container started is not created again", async () => {
    const gone = store.path("deleted-store");
    const r = await runProgram(BERTH, [
      "--root",
      gone,
      "--runroot",
      store.path("deleted-run"),
      "container",
      "cleanup",
      "0".repeat(64),
    ]);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(stat(gone), { code: "ENOENT" });
  });
});

describe("run and exit codes", () => {
  test("the container's own exit code, and 125/126/127 as Docker's", async () => {
    assert.equal((await store.berth(["run", "--rm", "busybox", "true"])).code, 0);
    // As Docker's CLI, `run --rm` returns once the container is removed, not merely exited.
    assert.equal((await store.ok(["ps", "-aq"])).stdout, "");
    assert.equal((await store.berth(["run", "--rm", "busybox", "sh", "-c", "exit 1"])).code, 1);
    assert.equal((await store.berth(["run", "--rm", "busybox", "sh", "-c", "exit 42"])).code, 42);
    const notFound = await store.berth(["run", "--rm", "busybox", "no-such-command"]);
    assert.equal(notFound.code, 127);
    assert.match(notFound.stderr, /executable file not found/);
    const notExec = await store.berth(["run", "--rm", "busybox", "/etc/passwd"]);
    assert.equal(notExec.code, 126);
    assert.match(notExec.stderr, /permission denied/);
    // (Never a registry beyond loopback: --pull never, and a registry on 127.0.0.1 that is not there.)
    const noImage = await store.berth(["run", "--rm", "--pull", "never", "no-such-image:1", "true"]);
    assert.equal(noImage.code, 125);
    assert.match(noImage.stderr, /No such image: no-such-image:1/);
    const noRegistry = await store.berth(["run", "--rm", "127.0.0.1:9/no-such-image:1", "true"]);
    assert.equal(noRegistry.code, 125);
    assert.match(noRegistry.stderr, /^Unable to find image '127\.0\.0\.1:9\/no-such-image:1' locally\n/);
    const badFlag = await store.berth(["run", "--bogus", "busybox"]);
    assert.equal(badFlag.code, 125);
    // Nothing half-created is left behind by the failures.
    assert.equal((await store.ok(["ps", "-aq"])).stdout, "");
  });

  test("stdout and stderr stay apart, stdin is passed with -i, -e/-w/-u apply", async () => {
    const r = await store.ok(["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2"]);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
    const cat = await store.ok(["run", "--rm", "-i", "busybox", "cat"], { input: "through stdin\n" });
    assert.equal(cat.stdout, "through stdin\n");
    const env = await store.ok([
      "run",
      "--rm",
      "-e",
      "A=1",
      "-w",
      "/tmp",
      "-u",
      "nobody",
      "--hostname",
      "box",
      "busybox",
      "sh",
      "-c",
      "echo $A $(pwd) $(id -u) $(hostname)",
    ]);
    assert.equal(env.stdout, "1 /tmp 65534 box\n");
  });

  test("the container's / is 0755 root:root, so a non-root user can read the image's files", async () => {
    const r = await store.ok([
      "run",
      "--rm",
      "-u",
      "nobody",
      "busybox",
      "sh",
      "-c",
      "stat -c '%a %u %g' /; head -1 /etc/passwd",
    ]);
    assert.equal(r.stdout, "755 0 0\nroot:x:0:0:root:/root:/bin/sh\n");
  });

  test("Docker's isolation defaults: 14 capabilities, seccomp filter, own PID namespace, masked /proc paths", async () => {
    const r = await store.ok([
      "run",
      "--rm",
      "busybox",
      "sh",
      "-c",
      "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; echo pid=$$; cat /proc/kcore | wc -c",
    ]);
    assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stdout, /NoNewPrivs:\s+0/);
    assert.match(r.stdout, /pid=1\n/);
    assert.match(r.stdout, /^0$/m);
    const priv = await store.ok([
      "run",
      "--rm",
      "--privileged",
      "busybox",
      "sh",
      "-c",
      "grep -E '^Seccomp:' /proc/self/status",
    ]);
    assert.match(priv.stdout, /Seccomp:\s+0/);
    const ro = await store.berth(["run", "--rm", "--read-only", "busybox", "touch", "/x"]);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    const limits = await store.ok([
      "run",
      "--rm",
      "--memory",
      "64m",
      "busybox",
      "sh",
      "-c",
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
    ]);
    assert.equal(limits.stdout.trim(), "67108864");
  });
});

describe("exposed ports", () => {
  test("run --expose takes a port range as Docker does: one exposed port per port of the range", async () => {
    await store.ok([
      "run",
      "--name",
      "exposed",
      "--expose",
      "7000-7002/udp",
      "--expose",
      "80",
      "busybox",
      "true",
    ]);
    const exposed = JSON.parse(
      (await store.ok(["inspect", "-f", "{{json .Config.ExposedPorts}}", "exposed"])).stdout,
    );
    assert.deepEqual(exposed, { "7000/udp": {}, "7001/udp": {}, "7002/udp": {}, "80/tcp": {} });
    await store.ok(["rm", "exposed"]);
    const reversed = await store.berth([
      "run",
      "--name",
      "reversed",
      "--expose",
      "7002-7000",
      "busybox",
      "true",
    ]);
    assert.equal(reversed.code, 125);
    assert.match(reversed.stderr, /invalid range specified for port: 7002-7000/);
    assert.equal((await store.ok(["ps", "-aq", "--filter", "name=reversed"])).stdout, "");
  });
});

describe("no stray file descriptors, --init, volumes removed with rm -v", () => {
  test("the container's process and its conmon hold no descriptor of berth's", async () => {
    const fds = await store.ok(["run", "--rm", "busybox", "ls", "/proc/self/fd"]);
    // 0-2 and the directory ls itself opened.
    assert.deepEqual(fds.stdout.trim().split("\n").map(Number).sort(), [0, 1, 2, 3]);
    const id = (await store.ok(["run", "-d", "busybox", "sleep", "30"])).stdout.trim();
    const conmonPid = (await readFile(join(store.runroot, "conmon", `${id}.pid`), "utf8")).trim();
    const targets = await Promise.all(
      (await readdir(`/proc/${conmonPid}/fd`)).map((fd) =>
        readlink(`/proc/${conmonPid}/fd/${fd}`).catch(() => ""),
      ),
    );
    assert.ok(targets.length > 0);
    for (const t of targets)
      assert.ok(!t.includes("berth.db") && !t.includes("/blobs/"), `conmon holds ${t}`);
    await store.ok(["rm", "-f", id]);
  });

  test("--init runs the process under an init that reaps, as PID 1", async () => {
    const r = await store.ok([
      "run",
      "--rm",
      "--init",
      "busybox",
      "sh",
      "-c",
      "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$",
    ]);
    const [cmdline, pid] = r.stdout.trim().split("\n");
    assert.match(cmdline ?? "", /^\/sbin\/docker-init -- sh -c /);
    assert.notEqual(pid, "1");
  });

  test("anonymous volumes (from -v /path) go with rm -v; named ones stay", async () => {
    await store.ok(["run", "--name", "anon", "-v", "/scratch", "-v", "kept-vol:/kept", "busybox", "true"]);
    const mounts = JSON.parse((await store.ok(["inspect", "-f", "{{json .Mounts}}", "anon"])).stdout);
    const anon = mounts.find((m: { Destination: string }) => m.Destination === "/scratch");
    assert.match(anon.Name, /^[a-f0-9]{64}$/);
    await store.ok(["rm", "-v", "anon"]);
    const vols = (await store.ok(["volume", "ls", "-q"])).stdout;
    assert.ok(!vols.includes(anon.Name));
    assert.ok(vols.includes("kept-vol"));
  });

  test("top and stats --no-stream show a running container", async () => {
    await store.ok(["run", "-d", "--name", "watched", "busybox", "sleep", "30"]);
    const top = await store.ok(["top", "watched"]);
    assert.match(top.stdout, /^UID\s+PID\s+PPID/);
    assert.match(top.stdout, /sleep 30/);
    const stats = await store.ok([
      "stats",
      "--no-stream",
      "--format",
      "{{.Name}} {{.PIDs}} {{.MemUsage}}",
      "watched",
    ]);
    assert.match(stats.stdout, /^watched 1 \d+(\.\d+)?[KMG]?i?B \/ \d+(\.\d+)?[KMG]iB\n$/);
    await store.ok(["rm", "-f", "watched"]);
  });
});

describe("the tutorial's scenes", () => {
  test("four containers of one image run side by side with independent state", async () => {
    const names = ["my-app-prod", "my-app-dev", "my-app-staging", "my-app-test"];
    for (const n of names) {
      await store.ok([
        "run",
        "-d",
        "--name",
        n,
        "busybox",
        "sh",
        "-c",
        `echo ${n} > /tmp/who; while true; do sleep 1; done`,
      ]);
    }
    const ps = await store.ok(["ps", "--format", "table {{.Names}}\t{{.Image}}\t{{.Status}}"]);
    const lines = ps.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^NAMES\s+IMAGE\s+STATUS$/);
    for (const n of names)
      assert.ok(
        lines.some((l) => new RegExp(`^${n}\\s+busybox\\s+Up `).test(l)),
        ps.stdout,
      );
    for (const n of names) {
      await until(`${n} wrote its file`, async () => (await store.berth(["logs", n])).code === 0);
    }
    // Each has its own writable layer: the file written by one is absent from another.
    await store.ok(["stop", "-t", "0", "my-app-test"]);
    const ancestor = await store.ok(["ps", "-aq", "--filter", `ancestor=busybox`]);
    assert.equal(ancestor.stdout.trim().split("\n").length, 4);
    const df = await store.ok(["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"]);
    assert.match(df.stdout, /^Containers 4 3$/m);
    const sizes = await store.ok(["ps", "-s", "--format", "{{.Names}} {{.Size}}"]);
    assert.match(sizes.stdout, /my-app-prod \d+(\.\d+)?k?B \(virtual \d+(\.\d+)?MB\)/);
    await store.ok(["rm", "-f", ...names]);
    assert.equal((await store.ok(["ps", "-aq"])).stdout, "");
  });

  test("the writable layer dies with the container; a named volume keeps its data", async () => {
    await store.ok(["run", "--name", "w1", "busybox", "sh", "-c", "echo temporary > /tmp/myfile.txt"]);
    const other = await store.berth(["run", "--rm", "busybox", "cat", "/tmp/myfile.txt"]);
    assert.equal(other.code, 1);
    await store.ok(["rm", "w1"]);
    const again = await store.berth(["run", "--name", "w1", "busybox", "cat", "/tmp/myfile.txt"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /No such file or directory/);
    await store.ok(["rm", "w1"]);
    await store.ok([
      "run",
      "--name",
      "v1",
      "-v",
      "app-data:/app/data",
      "busybox",
      "sh",
      "-c",
      "echo persistent > /app/data/f",
    ]);
    await store.ok(["rm", "v1"]);
    const kept = await store.ok(["run", "--rm", "-v", "app-data:/app/data", "busybox", "cat", "/app/data/f"]);
    assert.equal(kept.stdout, "persistent\n");
  });

  test("rmi is refused while a stopped container uses the image, and works after rm", async () => {
    // An image of its own (one tag), as the tutorial's my-node-app:v1.0.
    const appId = await store.busybox("tutorial-app:v1.0");
    assert.notEqual(appId, imageId);
    const id = (
      await store.ok(["create", "--name", "user-of-image", "tutorial-app:v1.0", "true"])
    ).stdout.trim();
    const refused = await store.berth(["rmi", "tutorial-app:v1.0"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(`container ${id.slice(0, 12)} is using its referenced image ${appId.slice(7, 19)}`),
    );
    const byId = await store.berth(["rmi", appId]);
    assert.equal(byId.code, 1);
    assert.match(byId.stderr, /image is being used by stopped container/);
    const ids = (await store.ok(["ps", "-aq", "--filter", "ancestor=tutorial-app:v1.0"])).stdout
      .trim()
      .split("\n");
    assert.deepEqual(ids, [id.slice(0, 12)]);
    await store.ok(["rm", ...ids]);
    const ok = await store.ok(["rmi", "tutorial-app:v1.0"]);
    assert.match(ok.stdout, new RegExp(`^Untagged: tutorial-app:v1.0\nDeleted: ${appId}\n`));
  });
});

describe("interactive terminals, logs options and ps filters", () => {
  test("run -it detaches with Ctrl-P Ctrl-Q and attach re-attaches to the same shell", async () => {
    const cmd = `${BERTH} --root ${store.root} --runroot ${store.runroot}`;
    const first = await runProgram("script", ["-qec", `${cmd} run -it --name tty1 busybox sh`, "/dev/null"], {
      env: { ...store.env },
      input: "",
      // The shell's prompt shows the session is attached (and the terminal raw, which it is
      // before the container starts); the echo's result shows the shell read the line.
      stdinScript: [
        [/\/ # /, "echo first-$((40+2))\n"],
        [/first-42/, "\x10\x11"],
      ],
    });
    assert.equal(first.code, 0, first.stdout);
    assert.match(first.stdout, /first-42/);
    assert.match((await store.ok(["ps", "--filter", "name=tty1", "--format", "{{.Status}}"])).stdout, /^Up /);
    const second = await runProgram("script", ["-qec", `${cmd} attach tty1`, "/dev/null"], {
      env: { ...store.env },
      // attach prints nothing before the first key: the line waits in the terminal until read.
      stdinScript: [[/(?:)/, "echo again-$((1+1)); exit 4\n"]],
    });
    assert.match(second.stdout, /again-2/);
    assert.equal(second.code, 4);
    assert.equal((await store.ok(["wait", "tty1"])).stdout, "4\n");
    await store.ok(["rm", "tty1"]);
  });

  test("--detach-keys on run and attach: the given sequence detaches, Ctrl-P Ctrl-Q then is input", async () => {
    const cmd = `${BERTH} --root ${store.root} --runroot ${store.runroot}`;
    const first = await runProgram(
      "script",
      ["-qec", `${cmd} run -it --detach-keys ctrl-x,q --name tty2 busybox sh`, "/dev/null"],
      {
        env: { ...store.env },
        input: "",
        // Ctrl-P Ctrl-Q is not the sequence now: the shell gets it and goes on to echo.
        stdinScript: [
          [/\/ # /, "\x10\x11echo first-$((40+2))\n"],
          [/first-42/, "\x18q"],
        ],
      },
    );
    assert.equal(first.code, 0, first.stdout);
    assert.match(first.stdout, /read escape sequence/);
    assert.match((await store.ok(["ps", "--filter", "name=tty2", "--format", "{{.Status}}"])).stdout, /^Up /);
    const second = await runProgram(
      "script",
      ["-qec", `${cmd} attach --detach-keys ctrl-a,d tty2`, "/dev/null"],
      {
        env: { ...store.env },
        stdinScript: [
          [/(?:)/, "echo again-$((1+1))\n"],
          [/again-2/, "\x01d"],
        ],
      },
    );
    assert.equal(second.code, 0, second.stdout);
    assert.match(second.stdout, /again-2/);
    assert.match((await store.ok(["ps", "--filter", "name=tty2", "--format", "{{.Status}}"])).stdout, /^Up /);
    await store.ok(["rm", "-f", "tty2"]);
  });

  test("bad --detach-keys notation is refused before anything is created or started", async () => {
    const before = (await store.ok(["ps", "-aq", "--no-trunc"])).stdout;
    const run = await store.berth([
      "run",
      "-it",
      "--detach-keys",
      "ctrl-1",
      "--name",
      "badkeys",
      "busybox",
      "sh",
    ]);
    assert.equal(run.code, 125);
    assert.equal(run.stderr, "berth: Error: Invalid detach keys (ctrl-1) provided\n");
    assert.equal((await store.ok(["ps", "-aq", "--no-trunc"])).stdout, before);
    await store.ok(["create", "--name", "keys-created", "busybox", "true"]);
    const start = await store.berth(["start", "-a", "--detach-keys", "shift-a", "keys-created"]);
    assert.equal(start.code, 1);
    assert.match(start.stderr, /Invalid detach keys \(shift-a\) provided/);
    assert.equal(
      (await store.ok(["ps", "-a", "--filter", "name=keys-created", "--format", "{{.State}}"])).stdout,
      "created\n",
    );
    const attach = await store.berth(["attach", "--detach-keys", "a,,b", "keys-created"]);
    assert.equal(attach.code, 1);
    assert.match(attach.stderr, /Invalid detach keys \(a,,b\) provided/);
    await store.ok(["rm", "keys-created"]);
  });

  test("logs -t, --since and --until", async () => {
    await store.ok(["run", "--name", "timed", "busybox", "sh", "-c", "echo one; sleep 1.2; echo two"]);
    const stamped = await store.ok(["logs", "-t", "timed"]);
    const lines = stamped.stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (one|two)$/);
    const secondAt = Date.parse((lines[1] ?? "").split(" ")[0] ?? "");
    const since = await store.ok(["logs", "--since", String((secondAt - 300) / 1000), "timed"]);
    assert.equal(since.stdout, "two\n");
    const until = await store.ok(["logs", "--until", String((secondAt - 300) / 1000), "timed"]);
    assert.equal(until.stdout, "one\n");
    await store.ok(["rm", "timed"]);
  });

  test("ps filters: status=, exited=, volume=, label=", async () => {
    await store.ok(["run", "--name", "ok0", "-l", "team=a", "busybox", "true"]);
    await store
      .ok(["run", "--name", "bad3", "-v", "filter-vol:/v", "busybox", "sh", "-c", "exit 3"])
      .catch(() => undefined);
    await store.berth(["run", "--name", "bad3b", "busybox", "sh", "-c", "exit 3"]);
    const up = (await store.ok(["run", "-d", "--name", "up1", "busybox", "sleep", "30"])).stdout.trim();
    const names = async (...f: string[]) =>
      (await store.ok(["ps", "-a", "--format", "{{.Names}}", ...f.flatMap((x) => ["--filter", x])])).stdout
        .trim()
        .split("\n")
        .filter(Boolean)
        .sort();
    assert.deepEqual(await names("status=running"), ["up1"]);
    assert.deepEqual(await names("exited=3"), ["bad3", "bad3b"]);
    assert.deepEqual(await names("volume=filter-vol"), ["bad3"]);
    assert.deepEqual(await names("exited=0"), ["ok0"]);
    assert.deepEqual(await names("label=team=a"), ["ok0"]);
    const bad = await store.berth(["ps", "--filter", "status=sleepy"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'status=sleepy'/);
    await store.ok(["rm", "-f", "ok0", "bad3", "bad3b", up]);
  });
});

describe("images that plant symlinks, volume copy-up, --rm and anonymous volumes", () => {
  test("symlinks where runc mounts: hidden by the init layer, or refused before anything runs", async () => {
    const { pack } = await import("tar-stream");
    const image = async (
      tag: string,
      planted: ReadonlyArray<{ name: string; dir?: boolean; link?: string }>,
    ) => {
      const p = pack();
      const chunks: Buffer[] = [];
      p.on("data", (c: unknown) => {
        if (Buffer.isBuffer(c)) chunks.push(c);
      });
      const done = new Promise<void>((r) => p.on("end", () => r()));
      p.entry({ name: "bin", type: "directory", mode: 0o755 });
      p.entry({ name: "bin/busybox", mode: 0o755 }, await readFile("/bin/busybox"));
      p.entry({ name: "bin/sh", type: "symlink", linkname: "busybox" });
      for (const e of planted) {
        if (e.dir) p.entry({ name: e.name, type: "directory", mode: 0o755 });
        else p.entry({ name: e.name, type: "symlink", linkname: e.link ?? "/" });
      }
      p.finalize();
      await done;
      await store.ok(["import", "-c", 'CMD ["/bin/sh"]', "-", tag], { input: Buffer.concat(chunks) });
    };
    // Docker's init layer puts real /proc and /dev directories above the image's.
    for (const [name, link] of [
      ["proc", "/"],
      ["dev", "/tmp"],
    ] as const) {
      await image(`evil-${name}:1`, [{ name, link }]);
      const r = await store.berth([
        "run",
        "--rm",
        `evil-${name}:1`,
        "sh",
        "-c",
        "test -d /proc/self && echo ran",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "ran\n");
    }
    // Below the init layer's directories an image's symlink would still be followed: refused.
    await image("evil-mqueue:1", [
      { name: "dev", dir: true },
      { name: "dev/mqueue", link: "/" },
    ]);
    const r = await store.berth(["run", "--rm", "evil-mqueue:1", "sh", "-c", "echo ran"]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /\/dev\/mqueue as a symlink/);
    assert.doesNotMatch(r.stdout, /ran/);
  });

  test("a new named volume is filled from the image's content at its mount path", async () => {
    const r = await store.ok(["run", "--rm", "-v", "etc-copy:/etc", "busybox", "cat", "/etc/hostname"]);
    assert.ok(r.stdout.length > 0);
    const again = await store.ok(["run", "--rm", "-v", "etc-copy:/mnt", "busybox", "ls", "/mnt"]);
    assert.match(again.stdout, /passwd/);
  });

  test("--rm also removes the container's anonymous volumes", async () => {
    const before = (await store.ok(["volume", "ls", "-q"])).stdout;
    await store.ok(["run", "--rm", "-v", "/scratch", "busybox", "sh", "-c", "echo x > /scratch/f"]);
    await until(
      "the anonymous volume to go",
      async () => (await store.ok(["volume", "ls", "-q"])).stdout === before,
    );
  });
});

describe("rmi -f of an image a stopped container uses", () => {
  test("deletes the image as Docker does, and the container still starts from its own layers", async () => {
    const doomed = await store.busybox("doomed:1");
    await store.ok(["create", "--name", "survivor", "doomed:1", "sh", "-c", "echo still here"]);
    const r = await store.ok(["rmi", "-f", "doomed:1"]);
    assert.match(r.stdout, new RegExp(`^Untagged: doomed:1\nDeleted: ${doomed}\n`));
    assert.equal((await store.berth(["image", "inspect", doomed])).code, 1);
    const started = await store.ok(["start", "-a", "survivor"]);
    assert.equal(started.stdout, "still here\n");
    await store.ok(["rm", "survivor"]);
    // With the last user gone, the next prune of unused layers can take them.
    await store.ok(["image", "prune", "-f"]);
  });
});

describe("lifecycle and state", () => {
  test("a detached container keeps running and logging after the CLI exited", async () => {
    const id = (
      await store.ok([
        "run",
        "-d",
        "--name",
        "logger",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done",
      ])
    ).stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    await until(
      "three log lines",
      async () => (await store.ok(["logs", "logger"])).stdout.split("\n").length > 3,
    );
    const tail = await store.ok(["logs", "--tail", "1", "logger"]);
    assert.match(tail.stdout, /^tick \d+\n$/);
    const inspect = JSON.parse((await store.ok(["inspect", "logger"])).stdout)[0];
    assert.equal(inspect.State.Status, "running");
    assert.equal(inspect.State.Running, true);
    assert.ok(inspect.State.Pid > 0);
    assert.equal(inspect.Name, "/logger");
    assert.deepEqual(inspect.Args, ["-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]);
    await store.ok(["stop", "-t", "1", "logger"]);
    const stopped = JSON.parse((await store.ok(["inspect", "logger"])).stdout)[0];
    assert.equal(stopped.State.Status, "exited");
    assert.equal(stopped.State.ExitCode, 137);
    const ps = await store.ok(["ps", "-a", "--filter", "name=logger", "--format", "{{.Status}}"]);
    assert.match(ps.stdout, /^Exited \(137\) (Less than a second|\d+ seconds?) ago\n$/);
    await store.ok(["rm", "logger"]);
  });

  test("--rm -d removes the container after its process exits, with no CLI around", async () => {
    const id = (await store.ok(["run", "--rm", "-d", "busybox", "sh", "-c", "sleep 0.3"])).stdout.trim();
    await until(
      "the --rm container to be gone",
      async () => (await store.berth(["inspect", "--type", "container", id])).code !== 0,
    );
    assert.equal((await store.ok(["ps", "-aq", "--no-trunc"])).stdout.includes(id), false);
  });

  test("a process that dies while no berth runs shows its real exit code", async () => {
    await store.ok(["run", "-d", "--name", "dies", "busybox", "sh", "-c", "sleep 0.2; exit 7"]);
    // Waits for the death by watching conmon's exit file (written once it reaped the process),
    // so that no berth command runs meanwhile.
    const id = (await store.ok(["inspect", "-f", "{{.Id}}", "dies"])).stdout.trim();
    await until("conmon to record the exit", async () => existsSync(join(store.runroot, "exits", id)));
    const r = await store.ok(["ps", "-a", "--filter", "name=dies", "--format", "{{.Status}}"]);
    assert.match(r.stdout, /^Exited \(7\)/);
    assert.equal((await store.ok(["wait", "dies"])).stdout, "7\n");
    await store.ok(["rm", "dies"]);
  });

  test("an exit is shown at once while another process holds the container to record it", async () => {
    // The container exits when told to; this test holds its lock meanwhile, as conmon's exit
    // command or a verb in progress does, so readers find an exit the record does not show yet.
    const dir = await mkdtemp(join(tmpdir(), "berth-exit-"));
    try {
      const script = "while [ ! -e /sig/go ]; do sleep 0.05; done; exit 7";
      await store.ok(["run", "-d", "--name", "held", "-v", `${dir}:/sig`, "busybox", "sh", "-c", script]);
      const id = (await store.ok(["inspect", "-f", "{{.Id}}", "held"])).stdout.trim();
      const holder = spawn("flock", [join(store.runroot, "locks", id), "-c", "echo held; read x"], {
        stdio: ["pipe", "pipe", "inherit"],
      });
      try {
        let out = "";
        holder.stdout.on("data", (b: Buffer) => {
          out += b.toString();
        });
        await until("the lock to be held", async () => out.includes("held"));
        await writeFile(join(dir, "go"), "");
        await until("conmon to record the exit", async () => existsSync(join(store.runroot, "exits", id)));
        const ps = await store.ok(["ps", "-a", "--filter", "name=held", "--format", "{{.Status}}"]);
        assert.match(ps.stdout, /^Exited \(7\)/);
        const exited = await store.ok([
          "ps",
          "-aq",
          "--no-trunc",
          "--filter",
          "status=exited",
          "--filter",
          "exited=7",
        ]);
        assert.ok(exited.stdout.split("\n").includes(id), "status and exited filters see the exit");
        const running = await store.ok(["ps", "-q", "--no-trunc"]);
        assert.ok(!running.stdout.split("\n").includes(id), "ps without -a leaves it out");
        const state = await store.ok([
          "inspect",
          "-f",
          "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}",
          "held",
        ]);
        assert.equal(state.stdout, "exited 7 false\n");
      } finally {
        holder.stdin.end();
        await new Promise((r) => holder.once("close", r));
      }
      // Released: the exit is recorded by whoever looks next (or the exit command) and stays.
      assert.equal((await store.ok(["wait", "held"])).stdout, "7\n");
      await store.ok(["rm", "held"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("restart policy on-failure restarts through conmon's exit command", async () => {
    await store.ok([
      "run",
      "-d",
      "--name",
      "flaky",
      "--restart",
      "on-failure:2",
      "busybox",
      "sh",
      "-c",
      "exit 3",
    ]);
    await until("two restarts", async () => {
      const r = JSON.parse((await store.ok(["inspect", "flaky"])).stdout)[0];
      return r.RestartCount === 2 && r.State.Status === "exited";
    });
    await store.ok(["rm", "-f", "flaky"]);
  });

  test("name conflicts, rename, kill, pause, rm of a running container, and prune", async () => {
    const id = (await store.ok(["run", "-d", "--name", "c1", "busybox", "sleep", "60"])).stdout.trim();
    const dup = await store.berth(["run", "-d", "--name", "c1", "busybox", "true"]);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, new RegExp(`The container name "/c1" is already in use by container "${id}"`));
    await store.ok(["rename", "c1", "c2"]);
    const running = await store.berth(["rm", "c2"]);
    assert.equal(running.code, 1);
    assert.match(running.stderr, /container is running: stop the container before removing or force remove/);
    await store.ok(["pause", "c2"]);
    assert.match(
      (await store.ok(["ps", "--format", "{{.Status}}", "--filter", "name=c2"])).stdout,
      /\(Paused\)/,
    );
    await store.ok(["unpause", "c2"]);
    await store.ok(["kill", "c2"]);
    assert.equal((await store.ok(["wait", "c2"])).stdout, "137\n");
    const pruned = await store.ok(["container", "prune", "-f"]);
    assert.match(pruned.stdout, new RegExp(`Deleted Containers:\\n${id}\\n`));
    const missing = await store.berth(["rm", "c2"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such container: c2/);
  });

  test("20 run -d at once all succeed with distinct names", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.berth(["run", "-d", "busybox", "sleep", "30"])),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const names = (await store.ok(["ps", "--format", "{{.Names}}"])).stdout.trim().split("\n");
    assert.equal(names.length, 20);
    assert.equal(new Set(names).size, 20);
    for (const n of names) assert.match(n, /^[a-z]+_[a-z]+\d?$/);
    const ids = results.map((r) => r.stdout.trim());
    await store.ok(["rm", "-f", ...ids]);
    assert.equal((await store.ok(["ps", "-aq"])).stdout, "");
  });

  test("kill -9 of a foreground berth leaves a container that ps shows and rm -f removes", async () => {
    const child = spawn(
      BERTH,
      ["--root", store.root, "--runroot", store.runroot, "run", "--name", "orphan", "busybox", "sleep", "30"],
      { stdio: "ignore", env: { ...process.env, ...store.env } },
    );
    await until(
      "the container to run",
      async () => (await store.ok(["ps", "-q", "--filter", "name=orphan"])).stdout.trim() !== "",
    );
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    assert.match(
      (await store.ok(["ps", "--filter", "name=orphan", "--format", "{{.Status}}"])).stdout,
      /^Up /,
    );
    await store.ok(["rm", "-f", "orphan"]);
    assert.equal((await store.ok(["ps", "-aq"])).stdout, "");
  });
});
