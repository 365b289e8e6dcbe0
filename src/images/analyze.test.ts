import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { pack } from "tar-stream";
import {
  type AnalysisLayerInput,
  analyzeLayers,
  cleanPath,
  type LayerEntry,
  readLayerEntries,
} from "./analyze.js";

function file(name: string, size: number): LayerEntry {
  return { name, type: "file", size, mode: 0o644, uid: 0, gid: 0 };
}
function dir(name: string, mode = 0o755): LayerEntry {
  return { name, type: "directory", size: 0, mode, uid: 0, gid: 0 };
}
function layer(createdBy: string, entries: LayerEntry[]): AnalysisLayerInput {
  return { diffId: `sha256:${createdBy.length}`, digest: "sha256:blob", createdBy, entries };
}

test("cleanPath: tar names become absolute clean paths; the root is empty", () => {
  assert.equal(cleanPath("./etc/passwd"), "/etc/passwd");
  assert.equal(cleanPath("usr/bin/"), "/usr/bin");
  assert.equal(cleanPath("./"), "");
  assert.equal(cleanPath("a/./b//c"), "/a/b/c");
});

test("a file removed by a later layer is waste: dive's score and the D change with the bytes hidden", () => {
  const a = analyzeLayers([
    layer("base", [dir("./"), dir("bin/"), file("bin/sh", 1000)]),
    layer("RUN dd", [dir("data/"), file("data/big", 5000)]),
    layer("RUN rm", [dir("data/"), file("data/.wh.big", 0)]),
  ]);
  assert.deepEqual(
    a.Layers.map((l) => [l.Size, l.Added, l.Changed, l.Removed]),
    [
      [1000, 2, 0, 0],
      [5000, 2, 0, 0],
      [0, 0, 0, 1],
    ],
  );
  assert.deepEqual(a.Layers[2]?.Changes, [{ Kind: "D", Path: "/data/big", Size: 5000 }]);
  assert.deepEqual(a.Inefficiencies, [{ Path: "/data/big", Count: 2, WastedBytes: 5000 }]);
  assert.equal(a.WastedBytes, 5000);
  // Sightings: /bin/sh 1000, /data/big 5000 then 0: minimum 1000 of 6000 seen.
  assert.equal(a.Efficiency, 1000 / 6000);
  assert.equal(a.Size, 6000);
  assert.equal(a.UserSize, 5000);
  assert.equal(a.WastedUserPercent, 1);
  assert.deepEqual(a.LargestFiles, [{ Path: "/bin/sh", Size: 1000, Layer: 0 }]);
  assert.deepEqual(
    a.Layers.map((l) => l.CreatedBy),
    ["base", "RUN dd", "RUN rm"],
  );
});

test("an overwritten file counts every copy as waste, and is a change", () => {
  const a = analyzeLayers([layer("one", [file("app.js", 300)]), layer("two", [file("app.js", 100)])]);
  assert.deepEqual(a.Layers[1]?.Changes, [{ Kind: "C", Path: "/app.js", Size: 100 }]);
  assert.equal(a.WastedBytes, 400);
  assert.equal(a.Efficiency, 100 / 400);
  assert.deepEqual(a.LargestFiles, [{ Path: "/app.js", Size: 100, Layer: 1 }]);
});

test("a removed directory counts the bytes below it; an image without waste scores 1", () => {
  const a = analyzeLayers([
    layer("one", [dir("cache/"), file("cache/a", 10), file("cache/b", 20), file("keep", 5)]),
    layer("two", [file(".wh.cache", 0)]),
  ]);
  assert.deepEqual(a.Layers[1]?.Changes, [{ Kind: "D", Path: "/cache", Size: 30 }]);
  assert.equal(a.Layers[1]?.Removed, 1);
  // Each file below the removed directory is sighted again at 0 bytes.
  assert.equal(a.WastedBytes, 30);
  assert.equal(a.Efficiency, 5 / 35);
  assert.deepEqual(
    a.LargestFiles.map((f) => f.Path),
    ["/keep"],
  );
  assert.equal(analyzeLayers([layer("x", [file("a", 1), file("b", 2)])]).Efficiency, 1);
  assert.equal(analyzeLayers([]).Efficiency, 1);
});

test("an opaque directory removes what lower layers held in it, except what it writes again", () => {
  const a = analyzeLayers([
    layer("one", [dir("etc/"), file("etc/a", 7), file("etc/b", 9)]),
    layer("two", [dir("etc/"), file("etc/.wh..wh..opq", 0), file("etc/b", 3)]),
  ]);
  assert.deepEqual(a.Layers[1]?.Changes, [
    { Kind: "D", Path: "/etc/a", Size: 7 },
    { Kind: "A", Path: "/etc/b", Size: 3 },
  ]);
  assert.deepEqual(
    a.Inefficiencies.map((i) => [i.Path, i.Count, i.WastedBytes]),
    [
      ["/etc/b", 2, 12],
      ["/etc/a", 2, 7],
    ],
  );
  assert.deepEqual(
    a.LargestFiles.map((f) => f.Path),
    ["/etc/b"],
  );
});

test("directories: implied parents are added; a mode change is a change; a plain re-listing is not", () => {
  const a = analyzeLayers([
    layer("one", [dir("srv/"), dir("opt/")]),
    layer("two", [dir("srv/"), dir("opt/", 0o700), file("var/lib/x", 1)]),
  ]);
  assert.deepEqual(
    a.Layers[1]?.Changes.map((c) => `${c.Kind} ${c.Path}`),
    ["C /opt", "A /var", "A /var/lib", "A /var/lib/x"],
  );
});

test("readLayerEntries reads the headers of a real tar", async () => {
  const p = pack();
  p.entry({ name: "d/", type: "directory" });
  p.entry({ name: "d/f", size: 3 }, "abc");
  p.entry({ name: "d/.wh.g", size: 0 }, "");
  p.finalize();
  const entries = await readLayerEntries(Readable.from(p));
  assert.deepEqual(
    entries.map((e) => [e.name, e.type, e.size]),
    [
      ["d/", "directory", 0],
      ["d/f", "file", 3],
      ["d/.wh.g", "file", 0],
    ],
  );
});
