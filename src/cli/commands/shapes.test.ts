import assert from "node:assert/strict";
import { test } from "node:test";
import { deletedImageLines, deletedList } from "./shapes.js";

test("a prune's list of what it deleted, as Docker prints it (nothing when none)", () => {
  assert.equal(deletedList("build cache objects", []), "");
  assert.equal(
    deletedList("build cache objects", ["abc", "def"]),
    "Deleted build cache objects:\nabc\ndef\n\n",
  );
  assert.equal(deletedList("Volumes", ["v"]), "Deleted Volumes:\nv\n\n");
});

test("an image prune's items read as untagged:/deleted: lines, in order", () => {
  assert.deepEqual(
    deletedImageLines([
      { Untagged: "busybox:latest" },
      { Deleted: "sha256:a" },
      { Untagged: "x:1", Deleted: "sha256:b" },
    ]),
    ["untagged: busybox:latest", "deleted: sha256:a", "untagged: x:1", "deleted: sha256:b"],
  );
});
