/**
 * Logging options through the real bin/berth: the default LogConfig in force (k8s-file, started
 * afresh at 10m), a small max-size bounding the file on disk while `logs` returns the newest
 * lines in order, the `none` driver refusing `logs` as Docker does, and refusals of drivers and
 * options berth does not have creating nothing.
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../src/base/async.js";
import { Store } from "./harness.js";

let store: Store;

before(async () => {
  store = await Store.create();
  await store.busybox();
});
after(async () => {
  await store.cleanup();
});

const inspect = async (name: string, tpl: string) =>
  (await store.ok(["inspect", "-f", tpl, name])).stdout.trim();

describe("logging", () => {
  test("the default LogConfig is k8s-file with max-size 10m, shown by inspect", async () => {
    await store.ok(["create", "--name", "deflog", "busybox", "true"]);
    assert.equal(
      await inspect("deflog", "{{json .HostConfig.LogConfig}}"),
      '{"Type":"k8s-file","Config":{"max-size":"10m"}}',
    );
  });

  test("max-size bounds the file; logs returns the newest lines, in order, ending at the last", async () => {
    await store.ok([
      "run",
      "--name",
      "small",
      "--log-opt",
      "max-size=2k",
      "--log-opt",
      "max-file=1",
      "busybox",
      "sh",
      "-c",
      "i=1; while [ $i -le 400 ]; do echo line-$i; i=$((i+1)); done",
    ]);
    assert.equal(
      await inspect("small", "{{json .HostConfig.LogConfig}}"),
      '{"Type":"k8s-file","Config":{"max-file":"1","max-size":"2k"}}',
    );
    const logPath = await inspect("small", "{{.LogPath}}");
    const size = (await stat(logPath)).size;
    assert.ok(size <= 2048, `log file is ${size} bytes, over max-size`);
    const lines = (await store.ok(["logs", "small"])).stdout.trim().split("\n");
    assert.ok(lines.length > 0 && lines.length < 400, `${lines.length} lines kept`);
    const numbers = lines.map((l) => Number(/^line-(\d+)$/.exec(l)?.[1]));
    assert.equal(numbers.at(-1), 400);
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => 400 - numbers.length + 1 + i),
    );
    const tail = (await store.ok(["logs", "--tail", "3", "small"])).stdout;
    assert.equal(tail, "line-398\nline-399\nline-400\n");
  });

  test("the none driver writes no log and logs refuses as Docker", async () => {
    await store.ok(["run", "--name", "quiet", "--log-driver", "none", "busybox", "echo", "hello"]);
    assert.equal(await inspect("quiet", "{{json .HostConfig.LogConfig}}"), '{"Type":"none","Config":{}}');
    const r = await store.berth(["logs", "quiet"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /configured logging driver does not support reading/);
    const id = await inspect("quiet", "{{.Id}}");
    const size = await stat(join(store.root, "containers", id, "container.log")).then(
      (s) => s.size,
      () => 0,
    );
    assert.equal(size, 0);
  });

  test("drivers and options berth does not have are refused in one line, creating nothing", async () => {
    const before = (await store.ok(["ps", "-aq"])).stdout;
    for (const [args, message] of [
      [["--log-driver", "journald"], /log driver "journald" is not supported/],
      [
        ["--log-driver", "json-file", "--log-opt", "compress=true"],
        /log opt 'compress' of the json-file log driver is not supported/,
      ],
      [
        ["--log-driver", "json-file", "--log-opt", "labels=a"],
        /log opt 'labels' of the json-file log driver is not supported/,
      ],
      [
        ["--log-driver", "json-file", "--log-opt", "tag={{.Bogus}}"],
        /template "\{\{\.Bogus\}\}" is not supported/,
      ],
      [["--log-driver", "nosuch"], /no log driver named 'nosuch' is registered/],
      [["--log-opt", "color=red"], /unknown log opt 'color' for k8s-file log driver/],
      [["--log-opt", "max-size=lots"], /invalid size: 'lots'/],
      [["--log-opt", "max-file=0"], /max-file cannot be less than 1/],
      [["--log-opt", "tag={{.Name}}"], /log opt 'tag' is not supported/],
      [
        ["--log-driver", "none", "--log-opt", "max-size=1m"],
        /unknown log opt 'max-size' for none log driver/,
      ],
      [["--log-opt", "novalue"], /invalid key value pair format in log options: novalue/],
    ] as const) {
      const r = await store.berth(["run", "-d", ...args, "busybox", "true"]);
      assert.notEqual(r.code, 0, `${args.join(" ")} was accepted`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.equal((await store.ok(["ps", "-aq"])).stdout, before);
  });

  test("k8s-file with max-size=1k max-file=3: exactly 3 files, logs reads them in order", async () => {
    await store.ok([
      "run",
      "-d",
      "--name",
      "rotating",
      "--log-opt",
      "max-size=1k",
      "--log-opt",
      "max-file=3",
      "busybox",
      "sh",
      "-c",
      "i=1; while [ $i -le 600 ]; do echo line-$i; i=$((i+1)); usleep 5000; done; echo finished; sleep 600",
    ]);
    assert.equal(
      await inspect("rotating", "{{json .HostConfig.LogConfig}}"),
      '{"Type":"k8s-file","Config":{"max-file":"3","max-size":"1k"}}',
    );
    const logPath = await inspect("rotating", "{{.LogPath}}");
    // Waits for the output's end, after which the log no longer changes.
    await waitFor(
      "the container's output to end",
      async () => (await store.ok(["logs", "--tail", "1", "rotating"])).stdout.includes("finished"),
      120_000,
      200,
    );
    const dir = join(logPath, "..");
    const files = (await readdir(dir)).filter((f) => f.startsWith("container.log")).sort();
    assert.deepEqual(files, ["container.log", "container.log.1", "container.log.2"]);
    const lines = (await store.ok(["logs", "rotating"])).stdout.trim().split("\n");
    assert.equal(lines.at(-1), "finished");
    const numbers = lines.slice(0, -1).map((l) => Number(/^line-(\d+)$/.exec(l)?.[1]));
    assert.ok(numbers.length > 10 && numbers.length < 600, `${numbers.length} lines kept`);
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => 600 - numbers.length + 1 + i),
      "consecutive lines, oldest first, ending at the last",
    );
    // The rotated files hold the older lines: the oldest file starts the listing.
    const oldest = (await readFile(join(dir, "container.log.2"), "utf8")).split("\n")[0] ?? "";
    assert.match(oldest, new RegExp(` stdout F line-${numbers[0]}$`));
  });

  test("json-file: Docker's lines (log, stream, attrs with the tag, time), rotation, logs", async () => {
    await store.ok([
      "run",
      "--name",
      "jsonlog",
      "--log-driver",
      "json-file",
      "--log-opt",
      "max-size=1k",
      "--log-opt",
      "max-file=2",
      "--log-opt",
      "tag={{.Name}}/{{.ImageName}}",
      "busybox",
      "sh",
      "-c",
      // Pauses between the streams: conmon reads stdout and stderr from two pipes; only time orders them.
      "i=1; while [ $i -le 100 ]; do echo line-$i; i=$((i+1)); done; sleep 0.3; echo err-line >&2; sleep 0.3; printf no-newline",
    ]);
    // The last lines are converted by conmon's exit command, which may still be at work when
    // `run` returns; `logs` converts what is left before it reads.
    const out = await store.ok(["logs", "jsonlog"]);
    const logPath = await inspect("jsonlog", "{{.LogPath}}");
    const id = await inspect("jsonlog", "{{.Id}}");
    assert.equal(logPath, join(store.root, "containers", id, `${id}-json.log`));
    const dir = join(logPath, "..");
    const files = (await readdir(dir)).filter((f) => f.startsWith(`${id}-json.log`)).sort();
    assert.deepEqual(files, [`${id}-json.log`, `${id}-json.log.1`]);
    const records: Array<{ log: string; stream: string; attrs?: { tag: string }; time: string }> = [];
    for (const f of [`${id}-json.log.1`, `${id}-json.log`]) {
      const text = await readFile(join(dir, f), "utf8");
      assert.ok(Buffer.byteLength(text) <= 1024, `${f} is over max-size`);
      for (const line of text.split("\n").filter(Boolean)) {
        const v: unknown = JSON.parse(line);
        assert.ok(typeof v === "object" && v !== null);
        // Docker's key order: log, stream, attrs, time.
        assert.deepEqual(Object.keys(v), ["log", "stream", "attrs", "time"]);
        records.push(v as (typeof records)[number]);
      }
    }
    for (const r of records) {
      assert.deepEqual(r.attrs, { tag: "jsonlog/busybox" });
      assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    }
    const last = records.filter((r) => r.stream === "stdout").at(-1);
    assert.equal(last?.log, "no-newline");
    assert.ok(records.some((r) => r.stream === "stderr" && r.log === "err-line\n"));
    const lines = out.stdout.split("\n");
    assert.equal(lines.at(-1), "no-newline");
    const numbers = lines.slice(0, -1).map((l) => Number(/^line-(\d+)$/.exec(l)?.[1]));
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => 100 - numbers.length + 1 + i),
    );
    assert.equal(out.stderr, "err-line\n");
    const tail = await store.ok(["logs", "--tail", "3", "jsonlog"]);
    assert.equal(tail.stdout, "line-99\nline-100\nno-newline");
    const stamped = await store.ok(["logs", "-t", "jsonlog"]);
    assert.match(stamped.stdout.split("\n")[0] ?? "", /^\d{4}-\d\d-\d\dT\S+Z line-\d+$/);
  });

  test("logs -f follows across rotations: consecutive lines, ending at the last", async () => {
    await store.ok([
      "run",
      "-d",
      "--name",
      "followed",
      "--log-opt",
      "max-size=1k",
      "--log-opt",
      "max-file=2",
      "busybox",
      "sh",
      "-c",
      "i=1; while [ $i -le 400 ]; do echo line-$i; i=$((i+1)); usleep 5000; done",
    ]);
    const r = await store.ok(["logs", "-f", "followed"]);
    const numbers = r.stdout
      .trim()
      .split("\n")
      .map((l) => Number(/^line-(\d+)$/.exec(l)?.[1]));
    assert.equal(numbers.at(-1), 400);
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => 400 - numbers.length + 1 + i),
      "no line lost or repeated while the files rotated",
    );
    const id = await inspect("followed", "{{.Id}}");
    const rotated = await stat(join(store.root, "containers", id, "container.log.1")).then(
      () => true,
      () => false,
    );
    assert.ok(rotated, "the log rotated while it was followed");
  });
});
