/**
 * Piped stdin through the real bin/berth: every byte reaches the container in order and stdin's
 * end-of-file is passed on, for `run -i`, `exec -i`, `start -a -i` and `attach`. Binary data of
 * sizes around conmon's 32 KiB attach-socket message, and several megabytes, checked by sha256.
 * Also: removing a container leaves none of conmon's attach links under `<runroot>/conmon`.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Store } from "./harness.js";

let store: Store;

const SIZES = [0, 1, 32767, 32768, 65537, 5 * 1024 * 1024];

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** busybox sha256sum's line for this input. */
const sumLine = (b: Buffer) => `${sha256(b)}  -\n`;

before(async () => {
  store = await Store.create();
  await store.busybox();
  await store.ok(["run", "-d", "--name", "box", "--network", "none", "busybox", "sleep", "1000"]);
});
after(async () => {
  await store.cleanup();
});

describe("piped stdin arrives whole, in order, with its end", () => {
  for (const size of SIZES) {
    test(`run -i: ${size} bytes`, async () => {
      const data = randomBytes(size);
      const r = await store.berth(["run", "--rm", "-i", "--network", "none", "busybox", "sha256sum"], {
        input: data,
      });
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.equal(r.stdout, sumLine(data));
    });

    test(`exec -i: ${size} bytes`, async () => {
      const data = randomBytes(size);
      const r = await store.berth(["exec", "-i", "box", "sha256sum"], { input: data });
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.equal(r.stdout, sumLine(data));
    });

    test(`start -a -i: ${size} bytes`, async () => {
      const name = `start-${size}`;
      await store.ok(["create", "-i", "--name", name, "--network", "none", "busybox", "sha256sum"]);
      const data = randomBytes(size);
      const r = await store.berth(["start", "-a", "-i", name], { input: data });
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.equal(r.stdout, sumLine(data));
      await store.ok(["rm", name]);
    });

    test(`attach: ${size} bytes`, async () => {
      // `create -i` (StdinOnce, as Docker's): the container's stdin closes when the attached client's does.
      const name = `attach-${size}`;
      await store.ok(["create", "-i", "--name", name, "--network", "none", "busybox", "sha256sum"]);
      await store.ok(["start", name]);
      const data = randomBytes(size);
      const r = await store.berth(["attach", name], { input: data });
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.equal(r.stdout, sumLine(data));
      await store.ok(["rm", name]);
    });
  }

  test("a byte count through `cat | wc -c` (the reported case)", async () => {
    const data = randomBytes(1_000_000);
    const r = await store.berth(
      ["run", "--rm", "-i", "--network", "none", "busybox", "sh", "-c", "cat | wc -c"],
      {
        input: data,
      },
    );
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), "1000000");
  });

  test("a container that exits with stdin unread still delivers its output", async () => {
    const lines = Buffer.from("y\n".repeat(500_000));
    for (const args of [
      ["run", "--rm", "-i", "--network", "none", "busybox", "head", "-2"],
      ["exec", "-i", "box", "head", "-2"],
    ]) {
      const r = await store.berth(args, { input: lines });
      assert.equal(r.stdout, "y\ny\n", `berth ${args.join(" ")}`);
      assert.equal(r.code, 0);
    }
  });
});

describe("removing a container leaves nothing under <runroot>/conmon", () => {
  test("run --rm, run -d then rm -f, create/start/rm, and an exec session", async () => {
    const conmonDir = join(store.runroot, "conmon");
    const before = new Set(await readdir(conmonDir));
    await store.ok(["run", "--rm", "--network", "none", "busybox", "true"]);
    const id = (await store.ok(["run", "-d", "--network", "none", "busybox", "sleep", "100"])).stdout.trim();
    await store.ok(["exec", id, "true"]);
    await store.ok(["rm", "-f", id]);
    const made = (await store.ok(["create", "--network", "none", "busybox", "true"])).stdout.trim();
    await store.ok(["start", "-a", made]);
    await store.ok(["rm", made]);
    const left = (await readdir(conmonDir)).filter((n) => !before.has(n));
    assert.deepEqual(left, []);
  });
});
