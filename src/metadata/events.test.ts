/** The event journal on a real database: append, retention, since/until, filters, following. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isBerthError } from "../base/errors.js";
import type { EventMessage } from "../engine/types.js";
import { type MetadataDb, openDatabase } from "./db.js";
import { EventJournal, eventMatches, eventMessage } from "./events.js";

async function collect(
  it: AsyncIterable<EventMessage>,
  max = Number.POSITIVE_INFINITY,
): Promise<EventMessage[]> {
  const out: EventMessage[] = [];
  for await (const ev of it) {
    out.push(ev);
    if (out.length >= max) break;
  }
  return out;
}

describe("EventJournal", () => {
  let dir: string;
  let db: MetadataDb;
  let clock: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-events-"));
    db = openDatabase(join(dir, "berth.db"));
    clock = 1_700_000_000_000;
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("fills Docker's fields, deprecated ones included for containers", () => {
    const j = new EventJournal(db, { now: () => clock });
    j.emit("container", "start", { ID: "abc", Attributes: { image: "busybox", name: "web" } });
    j.emit("network", "create", { ID: "n1", Attributes: { name: "net", type: "bridge" } });
    return collect(j.stream({ since: 0, until: clock / 1000 })).then((evs) => {
      assert.deepEqual(evs[0], {
        status: "start",
        id: "abc",
        from: "busybox",
        Type: "container",
        Action: "start",
        Actor: { ID: "abc", Attributes: { image: "busybox", name: "web" } },
        scope: "local",
        time: 1_700_000_000,
        timeNano: 1_700_000_000_000_000_000,
      });
      assert.equal(evs[1]?.status, undefined);
      assert.equal(evs[1]?.Type, "network");
    });
  });

  test("keeps only the newest `retention` events", async () => {
    const j = new EventJournal(db, { now: () => clock, retention: 5 });
    for (let i = 0; i < 12; i++) j.emit("volume", "create", { ID: `v${i}`, Attributes: {} });
    const evs = await collect(j.stream({ since: 0, until: clock / 1000 }));
    assert.deepEqual(
      evs.map((e) => e.Actor.ID),
      ["v7", "v8", "v9", "v10", "v11"],
    );
  });

  test("since and until select by time, inclusive at both ends", async () => {
    const j = new EventJournal(db, { now: () => clock });
    for (let i = 0; i < 5; i++) {
      clock = 1_700_000_000_000 + i * 1000;
      j.emit("volume", "create", { ID: `v${i}`, Attributes: {} });
    }
    const evs = await collect(j.stream({ since: 1_700_000_001, until: 1_700_000_003 }));
    assert.deepEqual(
      evs.map((e) => e.Actor.ID),
      ["v1", "v2", "v3"],
    );
    await assert.rejects(collect(j.stream({ since: 10, until: 5 })), (e) =>
      isBerthError(e, "InvalidArgument"),
    );
    await assert.rejects(collect(j.stream({ filters: { colour: ["red"] } })), (e) =>
      isBerthError(e, "InvalidArgument"),
    );
  });

  test("follows events appended after the call by another connection, until aborted", async () => {
    const reader = new EventJournal(db, { pollIntervalMs: 10 });
    const otherDb = openDatabase(join(dir, "berth.db"));
    try {
      const writer = new EventJournal(otherDb);
      writer.emit("volume", "create", { ID: "before", Attributes: {} });
      const abort = new AbortController();
      const seen: string[] = [];
      const done = (async () => {
        for await (const ev of reader.stream({ signal: abort.signal, filters: { type: ["container"] } })) {
          seen.push(`${ev.Action} ${ev.Actor.ID}`);
          if (seen.length === 2) abort.abort();
        }
      })();
      writer.emit("container", "create", { ID: "c1", Attributes: {} });
      writer.emit("volume", "create", { ID: "v1", Attributes: {} });
      writer.emit("container", "start", { ID: "c1", Attributes: {} });
      await done;
      assert.deepEqual(seen, ["create c1", "start c1"]);
    } finally {
      otherDb.close();
    }
  });

  test("a stream with until in the future ends when it passes", async () => {
    const j = new EventJournal(db, { pollIntervalMs: 10 });
    const until = Date.now() / 1000 + 0.2;
    const evs = await collect(j.stream({ until }));
    assert.deepEqual(evs, []);
    assert.ok(Date.now() / 1000 >= until - 0.001);
  });
});

describe("eventMatches (Docker's filter rules)", () => {
  const ev = (type: EventMessage["Type"], action: string, id: string, attrs: Record<string, string>) =>
    eventMessage(type, action, { ID: id, Attributes: attrs }, 1n);
  const start = ev("container", "start", "4f2a9c", { image: "busybox:latest", name: "web", tier: "front" });
  const pull = ev("image", "pull", "busybox:latest", { name: "busybox" });
  const connect = ev("network", "connect", "9e0b", { container: "4f2a9c", name: "bridge", type: "bridge" });
  const exec = ev("container", "exec_start: sh -c true", "4f2a9c", { execID: "e1", name: "web" });

  test("no filters match everything", () => {
    assert.ok(eventMatches({}, start));
  });
  test("container by ID prefix or name; other types are not containers", () => {
    assert.ok(eventMatches({ container: ["4f2"] }, start));
    assert.ok(eventMatches({ container: ["web"] }, start));
    assert.ok(!eventMatches({ container: ["db"] }, start));
    assert.ok(!eventMatches({ container: ["4f2"] }, connect));
  });
  test("values of one key are alternatives, keys are all required", () => {
    assert.ok(eventMatches({ container: ["db", "web"] }, start));
    assert.ok(eventMatches({ container: ["web"], event: ["start"] }, start));
    assert.ok(!eventMatches({ container: ["web"], event: ["stop"] }, start));
  });
  test("image by reference with or without tag, for container and image events", () => {
    assert.ok(eventMatches({ image: ["busybox"] }, start));
    assert.ok(eventMatches({ image: ["busybox:latest"] }, start));
    assert.ok(eventMatches({ image: ["busybox"] }, pull));
    assert.ok(!eventMatches({ image: ["alpine"] }, pull));
  });
  test("type, label (key or key=value over the attributes), network, scope", () => {
    assert.ok(eventMatches({ type: ["image", "network"] }, pull));
    assert.ok(!eventMatches({ type: ["volume"] }, pull));
    assert.ok(eventMatches({ label: ["tier"] }, start));
    assert.ok(eventMatches({ label: ["tier=front"] }, start));
    assert.ok(!eventMatches({ label: ["tier=back"] }, start));
    assert.ok(eventMatches({ network: ["bridge"] }, connect));
    assert.ok(eventMatches({ scope: ["local"] }, connect));
    assert.ok(!eventMatches({ scope: ["swarm"] }, connect));
  });
  test("event=exec_start matches the action with its command", () => {
    assert.ok(eventMatches({ event: ["exec_start"] }, exec));
    assert.ok(!eventMatches({ event: ["exec"] }, exec));
    assert.ok(!eventMatches({ event: ["start"] }, exec));
  });
});
