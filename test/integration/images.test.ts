/**
 * The image commands through the real bin/berth, each test on a temporary root: import, images,
 * tag, history, inspect, rmi, prune, system df, and the global --root/BERTH_ROOT choice.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { busyboxRootfs } from "../../scripts/busybox-image.js";
import { BERTH, runProgram, Store } from "./harness.js";

let store: Store;
let rootfs: Buffer;
let busyboxId: string;

before(async () => {
  store = await Store.create();
  rootfs = await busyboxRootfs();
  busyboxId = await store.busybox();
});
after(async () => {
  await store.cleanup();
});

describe("global flags and usage errors", () => {
  test("--root and BERTH_ROOT keep separate stores side by side", async () => {
    const other = await Store.create();
    try {
      const mine = await store.ok(["images", "-q"]);
      assert.match(mine.stdout, /^[a-f0-9]{12}\n$/);
      const empty = await other.ok(["images", "-q"]);
      assert.equal(empty.stdout, "");
      const viaEnv = await runProgram(BERTH, ["images", "-q"], {
        env: { ...store.env, BERTH_ROOT: store.root, BERTH_RUNROOT: store.runroot },
      });
      assert.equal(viaEnv.stdout, mine.stdout);
    } finally {
      await other.cleanup();
    }
  });

  test("an unknown flag exits 125 with pflag's message and the usage", async () => {
    const r = await store.berth(["images", "--bogus"]);
    assert.equal(r.code, 125);
    assert.match(
      r.stderr,
      /^unknown flag: --bogus\n\nUsage: {2}berth images \[OPTIONS\] \[REPOSITORY\[:TAG\]\]\n/,
    );
    const s = await store.berth(["images", "-x"]);
    assert.equal(s.code, 125);
    assert.match(s.stderr, /^unknown shorthand flag: 'x' in -x/);
  });

  test("a wrong argument count exits 1 naming the command", async () => {
    const r = await store.berth(["tag", "busybox"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^berth: 'berth tag' requires 2 arguments\n/);
    const h = await store.berth(["history"]);
    assert.equal(h.code, 1);
    assert.match(h.stderr, /'berth history' requires 1 argument\n/);
  });

  test("--help prints the usage and flags", async () => {
    const r = await store.ok(["images", "--help"]);
    assert.match(r.stdout, /Usage: {2}berth images \[OPTIONS\] \[REPOSITORY\[:TAG\]\]/);
    assert.match(r.stdout, /-q, --quiet +Only show image IDs/);
  });
});

describe("import", () => {
  test("a rootfs tarball becomes a one-layer image with --change and -m applied", async () => {
    const r = await store.ok(
      [
        "import",
        "-c",
        'CMD ["/bin/sh", "-c", "echo hi"]',
        "-c",
        "ENV A=1 B=two",
        "-c",
        "WORKDIR /srv",
        "-c",
        "EXPOSE 8080",
        "-c",
        "LABEL x=y",
        "-m",
        "my message",
        "-",
        "imported:v1",
      ],
      { input: rootfs },
    );
    const id = r.stdout.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const inspect = JSON.parse((await store.ok(["image", "inspect", "imported:v1"])).stdout);
    assert.equal(inspect.length, 1);
    const img = inspect[0];
    assert.equal(img.Id, id);
    assert.deepEqual(img.RepoTags, ["imported:v1"]);
    assert.deepEqual(img.Config.Cmd, ["/bin/sh", "-c", "echo hi"]);
    assert.deepEqual(img.Config.Env, ["A=1", "B=two"]);
    assert.equal(img.Config.WorkingDir, "/srv");
    assert.deepEqual(img.Config.ExposedPorts, { "8080/tcp": {} });
    assert.deepEqual(img.Config.Labels, { x: "y" });
    assert.equal(img.Comment, "my message");
    assert.equal(img.Os, "linux");
    assert.equal(img.RootFS.Type, "layers");
    assert.equal(img.RootFS.Layers.length, 1);
    assert.ok(img.Size > 500_000, `size ${img.Size}`);
    const hist = await store.ok(["history", "--format", "{{.Comment}}|{{.CreatedBy}}", "imported:v1"]);
    assert.equal(hist.stdout, "my message|\n");
  });

  test("a file argument works and a missing file fails without changing the store", async () => {
    const before = await store.listing("blobs/sha256");
    const r = await store.berth(["import", store.path("nope.tar"), "x:y"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no such file or directory/);
    assert.deepEqual(await store.listing("blobs/sha256"), before);
  });

  test("an invalid change or tag is refused before anything is stored", async () => {
    const before = await store.listing("blobs/sha256");
    const bad = await store.berth(["import", "-c", "FROM x", "-", "ok:1"], { input: rootfs });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /FROM is not a valid change command/);
    const upper = await store.berth(["import", "-", "Upper:1"], { input: rootfs });
    assert.equal(upper.code, 1);
    assert.match(
      upper.stderr,
      /invalid reference format: repository name \(library\/Upper\) must be lowercase/,
    );
    const garbage = await store.berth(["import", "-", "garbage:1"], {
      input: Buffer.from("this is not a tar archive at all, just text padding ".repeat(20)),
    });
    assert.equal(garbage.code, 1);
    assert.deepEqual(await store.listing("blobs/sha256"), before);
    assert.equal((await store.berth(["image", "inspect", "garbage:1"])).code, 1);
  });
});

describe("images, tag and references", () => {
  test("tag normalises names like Docker and images lists one row per tag", async () => {
    await store.ok(["tag", "busybox", "localhost:5000/team/box:1.0"]);
    await store.ok(["tag", busyboxId.slice(7, 19), "box"]);
    const r = await store.ok([
      "images",
      "--format",
      "{{.Repository}}:{{.Tag}} {{.ID}}",
      "--filter",
      "reference=*box*",
    ]);
    const lines = r.stdout.trim().split("\n").sort();
    const short = busyboxId.slice(7, 19);
    assert.deepEqual(lines, [`box:latest ${short}`, `busybox:latest ${short}`]);
    const all = await store.ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert.ok(all.stdout.includes("localhost:5000/team/box:1.0"));
    const inspect = JSON.parse((await store.ok(["image", "inspect", "docker.io/library/box:latest"])).stdout);
    assert.equal(inspect[0].Id, busyboxId);
  });

  test("invalid references are refused with Docker's meaning", async () => {
    const cases: Array<[string, RegExp]> = [
      ["UPPER", /repository name \(library\/UPPER\) must be lowercase/],
      ["box:bad tag", /invalid reference format/],
      ["box@sha256:abc", /invalid reference format|invalid checksum digest length/],
      [`${"a".repeat(64)}`, /cannot specify 64-byte hexadecimal strings/],
    ];
    for (const [target, re] of cases) {
      const r = await store.berth(["tag", "busybox", target]);
      assert.equal(r.code, 1, target);
      assert.match(r.stderr, re, target);
    }
    const missing = await store.berth(["tag", "nosuch", "x"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nosuch/);
  });

  test("the default table has Docker's columns, and -q, --no-trunc, --digests and json work", async () => {
    const table = await store.ok(["images"]);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    assert.match(header ?? "", /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
    assert.ok(
      rows.some((l) =>
        /^busybox +latest +[a-f0-9]{12} +(Less than a second|\d+ seconds|About a minute|\d+ minutes) ago +\d+(\.\d+)?[kM]B$/.test(
          l,
        ),
      ),
      rows.join("\n"),
    );
    const noTrunc = await store.ok(["images", "--no-trunc", "--format", "{{.ID}}", "busybox"]);
    assert.equal(noTrunc.stdout.trim(), busyboxId);
    const digests = await store.ok(["images", "--digests", "busybox"]);
    assert.match(digests.stdout.split("\n")[0] ?? "", /^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$/);
    assert.match(digests.stdout.split("\n")[1] ?? "", /^busybox +latest +<none> /);
    const json = await store.ok(["images", "--format", "json", "busybox"]);
    const row = JSON.parse(json.stdout.trim());
    assert.equal(row.Repository, "busybox");
    assert.equal(row.Tag, "latest");
    assert.equal(row.ID, busyboxId.slice(7, 19));
  });

  test("filters: dangling, label, before/since, and a bad filter", async () => {
    const labelled = await store.ok(["images", "--filter", "label=org.berth.busybox.sha256", "-q"]);
    assert.ok(labelled.stdout.includes(busyboxId.slice(7, 19)));
    const none = await store.ok(["images", "--filter", "label=nope=1", "-q"]);
    assert.equal(none.stdout, "");
    const bad = await store.berth(["images", "--filter", "colour=red"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'colour'/);
    const badFormat = await store.berth(["images", "--filter", "dangling"]);
    assert.equal(badFormat.code, 125);
    assert.match(
      badFormat.stderr,
      /^invalid argument "dangling" for "-f, --filter" flag: bad format of filter \(expected name=value\)\n/,
    );
  });
});

describe("history and inspect", () => {
  test("history shows the tutorial's columns, -H=false, --no-trunc and -q", async () => {
    const r = await store.ok(["history", "busybox"]);
    const [header, row] = r.stdout.trimEnd().split("\n");
    assert.match(header ?? "", /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    assert.match(
      row ?? "",
      new RegExp(
        `^${busyboxId.slice(7, 19)} +\\S.* ago +\\d+(\\.\\d+)?[kM]B +busybox from Debian busybox-static$`,
      ),
    );
    const raw = await store.ok(["history", "-H=false", "--format", "{{.CreatedSince}} {{.Size}}", "busybox"]);
    assert.match(raw.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \d+\n$/);
    const q = await store.ok(["history", "-q", "--no-trunc", "busybox"]);
    assert.equal(q.stdout, `${busyboxId}\n`);
  });

  test("image inspect and inspect support --format, and missing names fail with exit 1", async () => {
    const f = await store.ok([
      "image",
      "inspect",
      "--format",
      "{{.Id}} {{json .Config.Cmd}} {{.Architecture}}",
      "busybox",
    ]);
    assert.match(f.stdout, new RegExp(`^${busyboxId} \\["sh"\\] \\S+\\n$`));
    const g = await store.ok([
      "inspect",
      "-f",
      "{{len .RootFS.Layers}} {{.Metadata.LastTagTime}}",
      "busybox",
    ]);
    assert.match(g.stdout, /^1 \d{4}-/);
    const missing = await store.berth(["image", "inspect", "busybox", "nosuch:1"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nosuch:1/);
    assert.equal(JSON.parse(missing.stdout).length, 1);
    const tmpl = await store.berth(["image", "inspect", "--format", "{{.Id", "busybox"]);
    assert.notEqual(tmpl.code, 0);
    assert.match(tmpl.stderr, /template parsing error/);
  });

  test("--platform of inspect, history and save selects the image when it is of that platform", async () => {
    const own = (
      await store.ok(["image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", "busybox"])
    ).stdout.trim();
    const other = own.endsWith("/arm64") ? "linux/amd64" : "linux/arm64";
    for (const platform of [own, "linux"]) {
      assert.equal(
        (await store.ok(["image", "inspect", "--platform", platform, "-f", "{{.Id}}", "busybox"])).stdout,
        `${busyboxId}\n`,
      );
      await store.ok(["history", "--platform", platform, "-q", "busybox"]);
    }
    const wrong = `image with reference busybox was found but does not match the specified platform: wanted ${other}, actual: ${own}`;
    for (const argv of [
      ["image", "inspect", "--platform", other, "busybox"],
      ["history", "--platform", other, "busybox"],
      ["save", "--platform", other, "-o", store.path("never.tar"), "busybox"],
    ]) {
      const r = await store.berth(argv);
      assert.notEqual(r.code, 0, argv.join(" "));
      assert.match(r.stderr, new RegExp(wrong.replaceAll("/", "\\/")), argv.join(" "));
      if (argv[0] !== "image") assert.equal(r.stdout, "", argv.join(" "));
    }
    assert.equal(existsSync(store.path("never.tar")), false, "save wrote nothing");
    const bad = await store.berth(["history", "--platform", "linux/", "busybox"]);
    assert.match(bad.stderr, /invalid platform: "linux\/"/);
  });
});

describe("rmi, prune and system df", () => {
  test("rmi untags while other tags remain, then deletes; several at once; missing ones fail", async () => {
    const id = (await store.ok(["import", "-", "rm-me:1"], { input: rootfs })).stdout.trim();
    await store.ok(["tag", "rm-me:1", "rm-me:2"]);
    await store.ok(["tag", "rm-me:1", "other-repo:1"]);
    const byId = await store.berth(["rmi", id.slice(7, 19)]);
    assert.equal(byId.code, 1);
    assert.match(byId.stderr, /image is referenced in multiple repositories/);
    const untag = await store.ok(["rmi", "rm-me:1", "other-repo:1"]);
    assert.equal(untag.stdout, "Untagged: rm-me:1\nUntagged: other-repo:1\n");
    const del = await store.ok(["rmi", "rm-me:2"]);
    assert.match(del.stdout, new RegExp(`^Untagged: rm-me:2\\nDeleted: ${id}\\n`));
    assert.equal((await store.berth(["image", "inspect", id])).code, 1);
    const missing = await store.berth(["rmi", "rm-me:2"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: rm-me:2/);
  });

  test("rmi -f by ID removes every tag; the shared layer stays for other images", async () => {
    await store.ok(["tag", "busybox", "keep:1"]);
    const id = (await store.ok(["import", "-", "force-a:1"], { input: rootfs })).stdout.trim();
    await store.ok(["tag", "force-a:1", "force-b:1"]);
    const r = await store.ok(["rmi", "-f", id]);
    assert.match(r.stdout, /Untagged: force-a:1\nUntagged: force-b:1\nDeleted: sha256:/);
    // busybox shares the layer: still intact and inspectable
    const ok = await store.ok(["image", "inspect", "-f", "{{.Id}}", "keep:1"]);
    assert.equal(ok.stdout.trim(), busyboxId);
    await store.ok(["rmi", "keep:1"]);
  });

  test("a retag leaves the old image dangling; image prune removes it and reports space", async () => {
    const first = (await store.ok(["import", "-", "dangle:1"], { input: rootfs })).stdout.trim();
    const second = (
      await store.ok(["import", "-m", "again", "-", "dangle:1"], { input: rootfs })
    ).stdout.trim();
    assert.notEqual(first, second);
    const dangling = await store.ok([
      "images",
      "--filter",
      "dangling=true",
      "--format",
      "{{.Repository}}:{{.Tag}} {{.ID}}",
    ]);
    assert.ok(dangling.stdout.includes(`<none>:<none> ${first.slice(7, 19)}`), dangling.stdout);
    const noAnswer = await store.ok(["image", "prune"]);
    assert.match(
      noAnswer.stdout,
      /WARNING! This will remove all dangling images\.\nAre you sure you want to continue\? \[y\/N\] /,
    );
    assert.equal((await store.berth(["image", "inspect", first])).code, 0);
    const pruned = await store.ok(["image", "prune", "-f"]);
    assert.match(pruned.stdout, new RegExp(`Deleted Images:\\ndeleted: ${first}\\n`));
    assert.match(pruned.stdout, /Total reclaimed space: \d/);
    assert.equal((await store.berth(["image", "inspect", first])).code, 1);
    await store.ok(["rmi", "dangle:1"]);
  });

  test("image prune -a removes every image no container uses, tagged or not", async () => {
    const other = await Store.create();
    try {
      await other.busybox();
      await other.ok(["tag", "busybox", "also:1"]);
      const r = await other.ok(["image", "prune", "-a", "-f"]);
      assert.match(
        r.stdout,
        /^Deleted Images:\n(untagged: (busybox:latest|also:1)\n){2}deleted: sha256:[a-f0-9]{64}\ndeleted: sha256:[a-f0-9]{64}\n\nTotal reclaimed space: 1(\.\d{1,3})?MB\n$/,
      );
      assert.equal((await other.ok(["images", "-a", "-q"])).stdout, "");
      assert.deepEqual(await other.listing("snapshots"), []);
      assert.deepEqual(await other.listing("blobs/sha256"), []);
    } finally {
      await other.cleanup();
    }
  });

  test("system df counts images and their size", async () => {
    const r = await store.ok(["system", "df"]);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
    assert.match(lines[1] ?? "", /^Images +\d+ +0 +\d+(\.\d+)?[kM]B +\d+(\.\d+)?[kM]B \(100%\)$/);
    const f = await store.ok(["system", "df", "--format", "{{.Type}}={{.TotalCount}}"]);
    assert.match(f.stdout, /^Images=\d+\nContainers=0\nLocal Volumes=0\nBuild Cache=0\n$/);
  });
});
