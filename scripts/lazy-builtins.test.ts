import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { HELPER, rewrite } from "./lazy-builtins.js";

describe("lazy built-ins and packages in the bundle", () => {
  test("a binding only read from becomes the lazy helper; one used as a value stays eager", () => {
    const text = [
      "var a,import_node_crypto,b;",
      'import_node_crypto=require("node:crypto");',
      'var import_node_zlib=require("zlib");',
      'var import_node_net=require("node:net");',
      'var import_node_fs=require("node:fs");',
      "var import_tar_stream=__toESM(require_tar_stream(),1);",
      "var import_yaml=__toESM(require_dist(),1);",
      "function f(){return import_node_crypto.randomBytes(4).length+import_node_zlib.gzipSync.length}",
      "function g(){return Object.keys(import_node_net)}",
      "function h(){return import_node_fs.readFileSync}",
      "function i(){return import_tar_stream.pack()}",
      "function j(){return [import_yaml]}",
    ].join("\n");
    const r = rewrite(text);
    assert.deepEqual([...r.lazy].sort(), ["import_node_crypto", "import_node_zlib"]);
    assert.deepEqual(r.lazyPackages, ["import_tar_stream"]);
    assert.deepEqual([...r.kept].sort(), ["import_node_net", "import_yaml"]);
    assert.ok(r.text.includes(`import_node_crypto=${HELPER}(()=>require("node:crypto"))`));
    assert.ok(r.text.includes(`import_node_zlib=${HELPER}(()=>require("node:zlib"))`));
    assert.ok(r.text.includes(`import_tar_stream=${HELPER}(()=>__toESM(require_tar_stream(),1))`));
    assert.ok(r.text.includes('import_node_net=require("node:net")'));
    assert.ok(r.text.includes('import_node_fs=require("node:fs")'));
    assert.ok(r.text.includes("import_yaml=__toESM(require_dist(),1)"));
  });

  test("the rewritten text, run with the bundle's helper, loads a module only at its first use", () => {
    const loaded: string[] = [];
    const req = (id: string): unknown => {
      loaded.push(id);
      return { twice: (n: number) => n * 2 };
    };
    const requirePkg = () => {
      loaded.push("package");
      return { half: (n: number) => n / 2 };
    };
    const r = rewrite(
      [
        'var import_node_os=require("node:os");',
        "var import_pkg=__toESM(require_pkg(),1);",
        "result=()=>import_node_os.twice(21)+import_pkg.half(2);",
      ].join("\n"),
    );
    assert.deepEqual(r.lazy, ["import_node_os"]);
    assert.deepEqual(r.lazyPackages, ["import_pkg"]);
    // The helper exactly as scripts/bundle.sh's banner defines it.
    const bundleSh = readFileSync(new URL("../../scripts/bundle.sh", import.meta.url), "utf8");
    const helper = new RegExp(`const ${HELPER} = .*?\\}\\)\\};`).exec(bundleSh)?.[0];
    assert.ok(helper, "the helper's definition in scripts/bundle.sh");
    const scope: { result?: () => number } = {};
    const body = `${helper}\n${r.text.replace("result=", "scope.result=")}`;
    new Function("require", "__toESM", "require_pkg", "scope", body)(
      req,
      (m: unknown) => m,
      requirePkg,
      scope,
    );
    assert.deepEqual(loaded, []);
    assert.equal(scope.result?.(), 43);
    assert.equal(scope.result?.(), 43);
    assert.deepEqual(loaded, ["node:os", "package"]);
  });
});
