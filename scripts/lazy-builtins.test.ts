import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { HELPER, rewrite } from "./lazy-builtins.js";

describe("lazy built-ins in the bundle", () => {
  test("a binding only read from becomes the lazy helper; one used as a value stays eager", () => {
    const text = [
      "var a,import_node_crypto,b;",
      'import_node_crypto=require("node:crypto");',
      'var import_node_zlib=require("zlib");',
      'var import_node_net=require("node:net");',
      'var import_node_fs=require("node:fs");',
      "function f(){return import_node_crypto.randomBytes(4).length+import_node_zlib.gzipSync.length}",
      "function g(){return Object.keys(import_node_net)}",
      "function h(){return import_node_fs.readFileSync}",
    ].join("\n");
    const r = rewrite(text);
    assert.deepEqual([...r.lazy].sort(), ["import_node_crypto", "import_node_zlib"]);
    assert.deepEqual(r.kept, ["import_node_net"]);
    assert.match(r.text, new RegExp(`import_node_crypto=${HELPER}\\("node:crypto"\\)`));
    assert.match(r.text, new RegExp(`import_node_zlib=${HELPER}\\("node:zlib"\\)`));
    assert.match(r.text, /import_node_net=require\("node:net"\)/);
    assert.match(r.text, /import_node_fs=require\("node:fs"\)/);
  });

  test("the rewritten text, run with the bundle's helper, loads a module only at its first use", () => {
    const loaded: string[] = [];
    const req = (id: string): unknown => {
      loaded.push(id);
      return { twice: (n: number) => n * 2 };
    };
    const r = rewrite('var import_node_os=require("node:os");\nresult=()=>import_node_os.twice(21);');
    assert.deepEqual(r.lazy, ["import_node_os"]);
    // The helper exactly as scripts/bundle.sh's banner defines it.
    const bundleSh = readFileSync(new URL("../../scripts/bundle.sh", import.meta.url), "utf8");
    const helper = new RegExp(`const ${HELPER} = .*?\\}\\)\\};`).exec(bundleSh)?.[0];
    assert.ok(helper, "the helper's definition in scripts/bundle.sh");
    const scope: { result?: () => number } = {};
    new Function("require", "scope", `${helper}\n${r.text.replace("result=", "scope.result=")}`)(req, scope);
    assert.deepEqual(loaded, []);
    assert.equal(scope.result?.(), 42);
    assert.equal(scope.result?.(), 42);
    assert.deepEqual(loaded, ["node:os"]);
  });
});
