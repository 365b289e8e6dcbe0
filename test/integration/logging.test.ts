/**
 * Logging options through the real bin/berth: the default LogConfig in force (k8s-file, started
 * afresh at 10m), a small max-size bounding the file on disk while `logs` returns the newest
 * lines in order, the `none` driver refusing `logs` as Docker does, and refusals of drivers and
 * options berth does not have creating nothing.
 */
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
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
      [["--log-driver", "json-file"], /log driver "json-file" is not supported/],
      [["--log-driver", "nosuch"], /no log driver named 'nosuch' is registered/],
      [["--log-opt", "color=red"], /unknown log opt 'color' for k8s-file log driver/],
      [["--log-opt", "max-size=lots"], /invalid size: 'lots'/],
      [["--log-opt", "max-file=3"], /max-file=3 is not supported/],
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
});
