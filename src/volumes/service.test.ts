/** LocalVolumeService on a real SQLite file and a real volumes directory. */
import assert from "node:assert/strict";
import { link, mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { type MetadataDb, openDatabase } from "../metadata/db.js";
import { VolumeMetadata } from "../metadata/volumes.js";
import { ANONYMOUS_LABEL, directorySize, LocalVolumeService, validateVolumeName } from "./service.js";

const CID1 = "a".repeat(64);
const CID2 = "b".repeat(64);

/** A minimal container record, as the containers module will write one. */
function insertContainer(db: MetadataDb, id: string, name: string): void {
  db.sqlite
    .prepare(
      "INSERT INTO containers (id, name, image_id, image_ref, created, config, host_config) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .run(id, name, `sha256:${"c".repeat(64)}`, "busybox", Date.now(), "{}", "{}");
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe("LocalVolumeService", () => {
  let dir: string;
  let db: MetadataDb;
  let svc: LocalVolumeService;
  let clock: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-vol-"));
    db = openDatabase(join(dir, "berth.db"));
    clock = Date.parse("2024-05-06T07:08:09.123Z");
    svc = new LocalVolumeService({ db, dir: join(dir, "volumes"), now: () => clock });
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("Docker's name rule for the local driver, with Docker's message", () => {
    for (const ok of ["ab", "a1", "0x", "my-vol_1.2", "a..", "A-"]) validateVolumeName(ok);
    for (const bad of ["a", "", "-ab", ".ab", "_ab", "a b", "a/b", "..", "a:b", "/abs", "ünï"]) {
      assert.throws(
        () => validateVolumeName(bad),
        (e) => isBerthError(e, "InvalidArgument"),
        bad,
      );
    }
    assert.throws(() => validateVolumeName("a/b"), {
      message:
        'create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
    });
  });

  test("create makes _data and the record; inspect is Docker's JSON shape", async () => {
    const v = await svc.create({ Name: "data", Labels: { app: "web" } });
    assert.deepEqual(v, {
      CreatedAt: "2024-05-06T07:08:09Z",
      Driver: "local",
      Labels: { app: "web" },
      Mountpoint: join(dir, "volumes", "data", "_data"),
      Name: "data",
      Options: {},
      Scope: "local",
    });
    assert.deepEqual(Object.keys(v), [
      "CreatedAt",
      "Driver",
      "Labels",
      "Mountpoint",
      "Name",
      "Options",
      "Scope",
    ]);
    assert.ok((await stat(v.Mountpoint)).isDirectory());
    assert.deepEqual(await svc.inspect("data"), v);
    assert.equal(svc.get("data")?.anonymous, false);
    // Nothing temporary is left beside it.
    assert.deepEqual(await readdir(join(dir, "volumes")), ["data"]);
  });

  test("creating an existing name returns it unchanged, merging nothing", async () => {
    const first = await svc.create({ Name: "keep", Labels: { a: "1" } });
    await writeFile(join(first.Mountpoint, "f"), "x");
    clock += 60_000;
    const again = await svc.create({ Name: "keep", Labels: { b: "2" } });
    assert.deepEqual(again, first);
    assert.equal((await svc.list()).Volumes.length, 1);
    assert.deepEqual(await readdir(first.Mountpoint), ["f"]);
  });

  test("without a name: 64 hex digits, the anonymous label, and marked anonymous", async () => {
    const v = await svc.create({});
    assert.match(v.Name, /^[0-9a-f]{64}$/);
    assert.deepEqual(v.Labels, { [ANONYMOUS_LABEL]: "" });
    assert.equal(svc.get(v.Name)?.anonymous, true);
    const w = await svc.create({});
    assert.notEqual(v.Name, w.Name);
  });

  test("driver other than local, unknown options and mount options are refused and leave nothing", async () => {
    await assert.rejects(svc.create({ Name: "n1", Driver: "nfs" }), {
      kind: "NotFound",
      message: 'error looking up volume plugin nfs: plugin "nfs" not found',
    });
    await assert.rejects(svc.create({ Name: "n2", DriverOpts: { foo: "bar" } }), {
      kind: "InvalidArgument",
      message: 'invalid option key: "foo"',
    });
    await assert.rejects(
      svc.create({ Name: "n3", DriverOpts: { type: "tmpfs", device: "tmpfs", o: "size=100m" } }),
      (e) => isBerthError(e, "NotImplemented") && /device, o, type/.test(e.message),
    );
    assert.deepEqual((await svc.list()).Volumes, []);
    assert.deepEqual(
      (await readdir(join(dir, "volumes")).catch(() => [])).filter((n) => !n.startsWith(".")),
      [],
    );
  });

  test("list filters: dangling, name (part), driver, label key and key=value; bad keys refused", async () => {
    await svc.create({ Name: "web-data", Labels: { app: "web", tier: "front" } });
    await svc.create({ Name: "db-data", Labels: { app: "db" } });
    await svc.create({ Name: "cache" });
    insertContainer(db, CID1, "c1");
    new VolumeMetadata(db).attach(CID1, "db-data", "/var/lib/db");
    const names = async (filters: Record<string, string[]>) =>
      (await svc.list({ filters })).Volumes.map((v) => v.Name).sort();
    assert.deepEqual(await names({}), ["cache", "db-data", "web-data"]);
    assert.deepEqual(await names({ dangling: ["true"] }), ["cache", "web-data"]);
    assert.deepEqual(await names({ dangling: ["0"] }), ["db-data"]);
    assert.deepEqual(await names({ name: ["data"] }), ["db-data", "web-data"]);
    assert.deepEqual(await names({ name: ["cache", "web"] }), ["cache", "web-data"]);
    assert.deepEqual(await names({ driver: ["local"] }), ["cache", "db-data", "web-data"]);
    assert.deepEqual(await names({ driver: ["nfs"] }), []);
    assert.deepEqual(await names({ label: ["app"] }), ["db-data", "web-data"]);
    assert.deepEqual(await names({ label: ["app=web"] }), ["web-data"]);
    assert.deepEqual(await names({ label: ["app", "tier=front"] }), ["web-data"]);
    assert.deepEqual(await names({ dangling: ["true"], label: ["app"] }), ["web-data"]);
    await assert.rejects(svc.list({ filters: { bogus: ["1"] } }), { message: "invalid filter 'bogus'" });
    await assert.rejects(svc.list({ filters: { dangling: ["maybe"] } }), {
      message: "invalid filter 'dangling=maybe'",
    });
  });

  test("remove is refused while a container refers to the volume, with Docker's error", async () => {
    await svc.create({ Name: "busy" });
    insertContainer(db, CID1, "c1");
    insertContainer(db, CID2, "c2");
    const meta = new VolumeMetadata(db);
    meta.attach(CID1, "busy", "/data");
    meta.attach(CID2, "busy", "/other");
    assert.deepEqual(meta.containersUsing("busy"), [CID1, CID2]);
    assert.deepEqual(meta.volumesOf(CID1), [{ containerId: CID1, volumeName: "busy", destination: "/data" }]);
    await assert.rejects(svc.remove("busy"), {
      kind: "Conflict",
      message: `remove busy: volume is in use - [${CID1}, ${CID2}]`,
    });
    await assert.rejects(svc.remove("busy", { force: true }), { kind: "Conflict" });
    assert.ok(await exists(svc.mountpoint("busy")));
    // Deleting the containers drops their references (ON DELETE CASCADE).
    db.sqlite.prepare("DELETE FROM containers").run();
    await svc.remove("busy");
    assert.equal(svc.get("busy"), undefined);
    assert.deepEqual(await readdir(join(dir, "volumes")), []);
  });

  test("remove of a missing volume: NotFound, but not with force", async () => {
    await assert.rejects(svc.remove("nope"), { kind: "NotFound", message: "get nope: no such volume" });
    await svc.remove("nope", { force: true });
    await assert.rejects(svc.inspect("nope"), { kind: "NotFound", message: "get nope: no such volume" });
  });

  test("prune: only unused anonymous volumes by default, all unused with all=true, label filters", async () => {
    const anon = await svc.create({});
    const anonUsed = await svc.create({});
    await svc.create({ Name: "named", Labels: { keep: "no" } });
    await svc.create({ Name: "kept", Labels: { keep: "yes" } });
    await writeFile(join(anon.Mountpoint, "f"), Buffer.alloc(1000));
    await mkdir(join(anon.Mountpoint, "d"));
    await writeFile(join(anon.Mountpoint, "d", "g"), Buffer.alloc(24));
    insertContainer(db, CID1, "c1");
    new VolumeMetadata(db).attach(CID1, anonUsed.Name, "/x");

    const r1 = await svc.prune();
    assert.deepEqual(r1, { VolumesDeleted: [anon.Name], SpaceReclaimed: 1024 });
    assert.equal(await exists(anon.Mountpoint), false);

    await assert.rejects(svc.prune({ filters: { until: ["1h"] } }), { message: "invalid filter 'until'" });
    const r2 = await svc.prune({ filters: { all: ["true"], "label!": ["keep=yes"] } });
    assert.deepEqual(r2, { VolumesDeleted: ["named"], SpaceReclaimed: 0 });
    const r3 = await svc.prune({ filters: { all: ["1"], label: ["keep"] } });
    assert.deepEqual(r3.VolumesDeleted, ["kept"]);
    assert.deepEqual(
      (await svc.list()).Volumes.map((v) => v.Name),
      [anonUsed.Name],
    );
  });

  test("diskUsage: bytes in _data (hardlinks once) and the number of referring containers", async () => {
    const a = await svc.create({ Name: "a1" });
    await svc.create({ Name: "b1" });
    await writeFile(join(a.Mountpoint, "f"), Buffer.alloc(3000));
    await link(join(a.Mountpoint, "f"), join(a.Mountpoint, "f2"));
    insertContainer(db, CID1, "c1");
    new VolumeMetadata(db).attach(CID1, "a1", "/a");
    const du = await svc.diskUsage();
    assert.deepEqual(
      du.map((v) => [v.Name, v.UsageData]),
      [
        ["a1", { Size: 3000, RefCount: 1 }],
        ["b1", { Size: 0, RefCount: 0 }],
      ],
    );
    assert.equal(await directorySize(join(dir, "missing")), 0);
  });

  test("a directory left without a record (crash) is never adopted; stale temporaries are swept", async () => {
    const orphan = join(dir, "volumes", "ghost", "_data");
    await mkdir(orphan, { recursive: true });
    await writeFile(join(orphan, "secret"), "old data");
    const v = await svc.create({ Name: "ghost" });
    assert.deepEqual(await readdir(v.Mountpoint), []);
    assert.deepEqual(await readdir(join(dir, "volumes")), ["ghost"]);

    const oldTmp = join(dir, "volumes", ".tmp-1-aaaa");
    const newDel = join(dir, "volumes", ".del-1-bbbb");
    const oldCopy = join(dir, "volumes", "ghost", ".copy-1-cccc");
    for (const p of [oldTmp, newDel, oldCopy]) await mkdir(p, { recursive: true });
    const past = new Date(clock - 2 * 3600_000);
    await utimes(oldTmp, past, past);
    await utimes(oldCopy, past, past);
    await svc.cleanupStale(3600_000);
    assert.equal(await exists(oldTmp), false);
    assert.equal(await exists(oldCopy), false);
    assert.equal(await exists(newDel), true);
    assert.ok(await exists(v.Mountpoint));
  });

  test("two services on one database (two processes) agree on one volume per name", async () => {
    const db2 = openDatabase(join(dir, "berth.db"));
    try {
      const other = new LocalVolumeService({ db: db2, dir: join(dir, "volumes") });
      const [x, y] = await Promise.all([svc.create({ Name: "shared" }), other.create({ Name: "shared" })]);
      assert.equal(x.CreatedAt, y.CreatedAt);
      assert.deepEqual(await readdir(join(dir, "volumes")), ["shared"]);
    } finally {
      db2.close();
    }
  });
});
