import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lostPaths } from "../../engine/removal.js";
import type { ContainerChange } from "../../engine/types.js";
import { hintsEnabled, pruneSummary, removalHint } from "./hints.js";

describe("hints", () => {
  test("lostPaths keeps leaves outside mounts", () => {
    const changes: ContainerChange[] = [
      { Kind: 0, Path: "/var" },
      { Kind: 0, Path: "/var/lib" },
      { Kind: 1, Path: "/var/lib/data" },
      { Kind: 1, Path: "/var/note" },
      { Kind: 1, Path: "/etc/x.conf" },
      { Kind: 2, Path: "/bin/ls" },
      { Kind: 1, Path: "/emptydir" },
    ];
    assert.deepEqual(lostPaths(changes, ["/var/lib/data", "/etc/x.conf"]), [
      "/bin/ls",
      "/emptydir",
      "/var/note",
    ]);
    assert.deepEqual(lostPaths([{ Kind: 1, Path: "/data" }], ["/data"]), []);
  });

  test("BERTH_HINTS=0 (or false/off/no) turns hints off", () => {
    assert.equal(hintsEnabled({}), true);
    assert.equal(hintsEnabled({ BERTH_HINTS: "1" }), true);
    for (const v of ["0", "false", "off", "no"]) assert.equal(hintsEnabled({ BERTH_HINTS: v }), false);
  });

  test("removalHint: nothing to say is empty; volumes removed with -v are not mentioned", () => {
    const none = { name: "c", paths: [], bytes: 0, anonymousVolumes: [] };
    assert.equal(removalHint(none, { program: "berth", volumesRemoved: false }), "");
    const vols = { ...none, anonymousVolumes: [{ name: "a".repeat(64), destination: "/cache" }] };
    assert.equal(removalHint(vols, { program: "berth", volumesRemoved: true }), "");
    assert.match(removalHint(vols, { program: "berth", volumesRemoved: false }), /anonymous volume remains/);
    const lost = { ...none, paths: ["/a/1", "/a/2", "/a/3", "/a/4"], bytes: 2048 };
    const text = removalHint(lost, { program: "berth", volumesRemoved: false });
    assert.match(text, /4 changed files \(2\.048kB\).*\/a\/1, \/a\/2, \/a\/3 and 1 more/);
    assert.match(text, /-v NAME:\/a\)/);
    assert.equal(pruneSummary([none], "berth"), "");
  });
});
