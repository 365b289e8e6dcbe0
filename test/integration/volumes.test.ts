/**
 * Volume commands through the real bin/berth: create, ls (filters, -q, --format), inspect (-f),
 * rm (several, -f, in use), prune (anonymous only, -a, --filter, the prompt) and the
 * "Local Volumes" row of system df.
 */
import assert from "node:assert/strict";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { Store } from "./harness.js";

let s: Store;

before(async () => {
  s = await Store.create();
});
after(async () => {
  await s.cleanup();
});

const CID = "f".repeat(64);

/** Puts a reference from a (fake, minimal) container record to a volume, as `run -v` will. */
function attachFakeContainer(root: string, volume: string): void {
  const db = new Database(join(root, "berth.db"));
  try {
    db.prepare(
      "INSERT OR IGNORE INTO containers (id, name, image_id, image_ref, created, config, host_config) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(CID, "fake", `sha256:${"0".repeat(64)}`, "busybox", Date.now(), "{}", "{}");
    db.prepare("INSERT INTO container_volumes (container_id, volume_name, destination) VALUES (?, ?, ?)").run(
      CID,
      volume,
      `/mnt/${volume}`,
    );
  } finally {
    db.close();
  }
}

function detachFakeContainer(root: string): void {
  const db = new Database(join(root, "berth.db"));
  try {
    db.prepare("DELETE FROM containers WHERE id = ?").run(CID);
  } finally {
    db.close();
  }
}

describe("volume commands", () => {
  test("create: named, with labels; unnamed gets 64 hex; errors worded as Docker", async () => {
    assert.equal(
      (await s.ok(["volume", "create", "--label", "app=web", "--label", "tier", "webdata"])).stdout,
      "webdata\n",
    );
    assert.equal((await s.ok(["volume", "create", "--name", "dbdata", "-d", "local"])).stdout, "dbdata\n");
    // Creating it again returns the same volume (labels are not merged).
    assert.equal((await s.ok(["volume", "create", "--label", "x=y", "webdata"])).stdout, "webdata\n");
    const anon = (await s.ok(["volume", "create"])).stdout.trim();
    assert.match(anon, /^[0-9a-f]{64}$/);

    const bad = await s.berth(["volume", "create", "a b"]);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      'Error: create a b: "a b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path\n',
    );
    const both = await s.berth(["volume", "create", "--name", "x1", "x2"]);
    assert.equal(both.code, 1);
    assert.match(
      both.stderr,
      /conflicting options: cannot specify a volume-name through both --name and as a positional arg/,
    );
    const driver = await s.berth(["volume", "create", "-d", "nfs", "n1"]);
    assert.equal(driver.code, 1);
    assert.match(driver.stderr, /plugin "nfs" not found/);
    const tmpfs = await s.berth([
      "volume",
      "create",
      "-o",
      "type=tmpfs",
      "-o",
      "device=tmpfs",
      "-o",
      "o=size=100m",
      "t1",
    ]);
    assert.equal(tmpfs.code, 1);
    assert.match(tmpfs.stderr, /not supported by berth/);
    const many = await s.berth(["volume", "create", "a1", "a2"]);
    assert.equal(many.code, 1);
    assert.match(many.stderr, /'berth volume create' accepts at most 1 argument/);
  });

  test("inspect: Docker's JSON, -f templates, a missing volume", async () => {
    const r = await s.ok(["volume", "inspect", "webdata"]);
    const parsed: unknown = JSON.parse(r.stdout);
    assert.ok(Array.isArray(parsed) && parsed.length === 1);
    const v = parsed[0] as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), [
      "CreatedAt",
      "Driver",
      "Labels",
      "Mountpoint",
      "Name",
      "Options",
      "Scope",
    ]);
    assert.match(String(v.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(v.Labels, { app: "web", tier: "" });
    assert.equal(v.Mountpoint, join(s.root, "volumes", "webdata", "_data"));
    assert.deepEqual([v.Driver, v.Name, v.Scope, v.Options], ["local", "webdata", "local", {}]);
    assert.ok((await stat(String(v.Mountpoint))).isDirectory());

    const f = await s.ok([
      "volume",
      "inspect",
      "-f",
      '{{.Name}} {{.Driver}} {{index .Labels "app"}}',
      "webdata",
      "dbdata",
    ]);
    assert.equal(f.stdout, "webdata local web\ndbdata local <no value>\n");
    const missing = await s.berth(["volume", "inspect", "webdata", "nope"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "Error: get nope: no such volume\n");
    assert.equal((JSON.parse(missing.stdout) as unknown[]).length, 1);
  });

  test("ls: table, -q, --format fields, filters", async () => {
    const table = await s.ok(["volume", "ls"]);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0] as string, /^DRIVER\s+VOLUME NAME$/);
    assert.ok(lines.some((l) => /^local\s+webdata$/.test(l)));
    assert.equal(lines.length, 4);

    const quiet = (await s.ok(["volume", "ls", "-q"])).stdout.trim().split("\n");
    assert.equal(quiet.length, 3);
    assert.deepEqual(
      quiet.filter((n) => !/^[0-9a-f]{64}$/.test(n)),
      ["dbdata", "webdata"],
    );
    assert.deepEqual([...quiet].sort(), quiet, "sorted by name");

    const fmt = await s.ok([
      "volume",
      "ls",
      "--filter",
      "name=web",
      "--format",
      '{{.Name}}|{{.Driver}}|{{.Scope}}|{{.Labels}}|{{.Label "app"}}|{{.Links}}|{{.Size}}|{{.Mountpoint}}',
    ]);
    assert.equal(
      fmt.stdout,
      `webdata|local|local|app=web,tier=|web|N/A|N/A|${join(s.root, "volumes", "webdata", "_data")}\n`,
    );
    const json = await s.ok(["volume", "ls", "-f", "name=dbdata", "--format", "json"]);
    const row = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(row.Name, "dbdata");
    assert.equal(row.Driver, "local");
    const hdr = await s.ok([
      "volume",
      "ls",
      "-f",
      "label=app=web",
      "--format",
      "table {{.Name}}\t{{.Mountpoint}}\t{{.Links}}",
    ]);
    assert.match(hdr.stdout, /^VOLUME NAME\s+MOUNTPOINT\s+LINKS\nwebdata\s+/);
    const byLabel = await s.ok(["volume", "ls", "-q", "-f", "label=tier"]);
    assert.equal(byLabel.stdout, "webdata\n");
    // ("dbdat": a part no 64-hex anonymous volume name can contain.)
    const driverF = await s.ok(["volume", "ls", "-q", "-f", "driver=local", "-f", "name=dbdat"]);
    assert.equal(driverF.stdout, "dbdata\n");

    attachFakeContainer(s.root, "dbdata");
    assert.equal((await s.ok(["volume", "ls", "-q", "-f", "dangling=false"])).stdout, "dbdata\n");
    const dangling = (await s.ok(["volume", "ls", "-q", "-f", "dangling=true"])).stdout;
    assert.doesNotMatch(dangling, /dbdata/);
    assert.match(dangling, /webdata/);

    const badKey = await s.berth(["volume", "ls", "-f", "until=1h"]);
    assert.equal(badKey.code, 1);
    assert.equal(badKey.stderr, "Error: invalid filter 'until'\n");
  });

  test("rm: several at once, in use refused with Docker's error, -f on a missing one", async () => {
    await s.ok(["volume", "create", "gone1"]);
    await s.ok(["volume", "create", "gone2"]);
    const r = await s.ok(["volume", "rm", "gone1", "gone2"]);
    assert.equal(r.stdout, "gone1\ngone2\n");
    assert.equal(await s.exists("volumes/gone1"), false);

    const busy = await s.berth(["volume", "rm", "dbdata", "nope"]);
    assert.equal(busy.code, 1);
    assert.equal(
      busy.stderr,
      `Error response from daemon: remove dbdata: volume is in use - [${CID}]\nError response from daemon: get nope: no such volume\n`,
    );
    assert.ok(await s.exists("volumes/dbdata/_data"));
    const forced = await s.berth(["volume", "rm", "-f", "nope"]);
    assert.equal(forced.code, 0);
    assert.equal(forced.stdout, "nope\n");
  });

  test("system df: the Local Volumes row counts volumes, active ones, sizes and what is reclaimable", async () => {
    await writeFile(join(s.root, "volumes", "webdata", "_data", "blob"), Buffer.alloc(2000));
    await writeFile(join(s.root, "volumes", "dbdata", "_data", "blob"), Buffer.alloc(6000));
    const df = await s.ok([
      "system",
      "df",
      "--format",
      "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}",
    ]);
    const row = df.stdout.split("\n").find((l) => l.startsWith("Local Volumes|"));
    assert.equal(row, "Local Volumes|3|1|8kB|2kB (25%)");
  });

  test("prune: the prompt, anonymous only by default, -a for all unused, --filter label", async () => {
    const no = await s.berth(["volume", "prune"], { input: "n\n" });
    assert.equal(no.code, 0);
    assert.equal(
      no.stdout,
      "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ",
    );
    const anon = (
      await s.ok(["volume", "ls", "-q", "-f", "label=com.docker.volume.anonymous"])
    ).stdout.trim();
    assert.match(anon, /^[0-9a-f]{64}$/);

    const yes = await s.ok(["volume", "prune"], { input: "y\n" });
    assert.match(
      yes.stdout,
      new RegExp(`\\[y/N\\] Deleted Volumes:\\n${anon}\\n\\nTotal reclaimed space: 0B\\n$`),
    );
    assert.equal(await s.exists(`volumes/${anon}`), false);
    assert.match((await s.ok(["volume", "ls", "-q"])).stdout, /webdata/);

    await s.ok(["volume", "create", "--label", "keep=1", "kept"]);
    const all = await s.ok(["volume", "prune", "-a", "-f", "--filter", "label!=keep"]);
    assert.equal(all.stdout, "Deleted Volumes:\nwebdata\n\nTotal reclaimed space: 2kB\n");
    assert.equal((await s.ok(["volume", "ls", "-q"])).stdout, "dbdata\nkept\n");

    const promptAll = await s.berth(["volume", "prune", "--all"], { input: "" });
    assert.match(
      promptAll.stdout,
      /^WARNING! This will remove all local volumes not used by at least one container\./,
    );

    detachFakeContainer(s.root);
    const rest = await s.ok(["volume", "prune", "-af"]);
    assert.equal(rest.stdout, "Deleted Volumes:\ndbdata\nkept\n\nTotal reclaimed space: 6kB\n");
    assert.equal((await s.ok(["volume", "ls", "-q"])).stdout, "");
    assert.deepEqual(
      (await s.listing("volumes")).filter((n) => !n.startsWith(".")),
      [],
    );
    const df = await s.ok(["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Size}}"]);
    assert.match(df.stdout, /^Local Volumes 0 0B$/m);
  });

  test("help and usage match Docker's wording", async () => {
    const help = await s.ok(["volume", "rm", "--help"]);
    assert.match(
      help.stdout,
      /^Usage: {2}berth volume rm \[OPTIONS\] VOLUME \[VOLUME\.\.\.\]\n\nRemove one or more volumes\. You cannot remove a volume that is in use by a container\.\n/,
    );
    assert.match(help.stdout, /-f, --force\s+Force the removal of one or more volumes/);
    const group = await s.ok(["volume", "--help"]);
    for (const c of ["create", "inspect", "ls", "prune", "rm"])
      assert.match(group.stdout, new RegExp(`^  ${c}\\s`, "m"));
    const noArgs = await s.berth(["volume", "inspect"]);
    assert.equal(noArgs.code, 1);
    assert.match(noArgs.stderr, /'berth volume inspect' requires at least 1 argument/);
  });
});
