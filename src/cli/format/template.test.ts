import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import { sprintf } from "./go-fmt.js";
import { executeTemplate, headerFunctions, markStruct, parseTemplate, runTemplate } from "./template.js";

const run = (text: string, data: unknown, opts = {}) => executeTemplate(parseTemplate(text, opts), data);

function execError(text: string, data: unknown, opts = {}): string {
  try {
    run(text, data, opts);
  } catch (err) {
    assert.ok(isBerthError(err, "InvalidArgument"));
    return err.message;
  }
  return assert.fail("no error");
}

test("strictFields makes the data object a struct; nested objects stay maps", () => {
  const row = { ID: "abc", Labels: { a: "1" } };
  assert.equal(run("{{.ID}} {{.Labels.b}}", row, { strictFields: true }), "abc <no value>");
  assert.equal(
    execError("{{.Nope}}", row, { strictFields: true, typeName: "*formatter.ImageContext" }),
    'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ImageContext',
  );
  assert.equal(run("{{.Nope}}", row), "<no value>");
  assert.equal(
    execError("{{.ID 1}}", row, { strictFields: true }),
    'template: :1:2: executing "" at <.ID>: ID has arguments but cannot be invoked as function',
  );
});

test("class instances are structs: methods are called, unknown fields fail, %v prints {…}", () => {
  class Row {
    constructor(readonly Name: string) {}
    Upper(suffix: string): string {
      return this.Name.toUpperCase() + suffix;
    }
    Fail(): string {
      throw new Error("boom");
    }
  }
  const r = new Row("web");
  assert.equal(run('{{.Upper "!"}} {{"?" | .Upper}} {{.}}', r), "WEB! WEB? {web}");
  assert.equal(run('{{printf "%+v" .}}', r), "&{Name:web}");
  assert.equal(
    execError("{{.Nope}}", r),
    'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *Row',
  );
  assert.equal(
    execError("{{.Upper}}", r),
    'template: :1:2: executing "" at <.Upper>: wrong number of args for Upper: want 1 got 0',
  );
  assert.equal(
    execError("{{.Fail}}", r),
    'template: :1:2: executing "" at <.Fail>: error calling Fail: boom',
  );
  const plain = markStruct({ A: 1 });
  assert.equal(
    execError("{{.B}}", plain),
    'template: :1:2: executing "" at <.B>: can\'t evaluate field B in type struct',
  );
});

test("methods on plain objects take arguments, Maps are maps, call invokes function values", () => {
  const data = {
    Label: (k: unknown) => `L(${String(k)})`,
    M: new Map<string, unknown>([
      ["b", 2],
      ["a", (x: unknown) => Number(x) * 2],
    ]),
  };
  assert.equal(run('{{.Label "x"}} {{.M.b}} {{call (index .M "a") 21}} {{len .M}}', data), "L(x) 2 42 2");
  assert.equal(run("{{range $k, $v := .M}}{{$k}}{{end}}", data), "ab");
});

test("extra functions: plain or typed; per-execution overrides like Docker's header functions", () => {
  const t = parseTemplate('{{greet "bob"}} {{upper .}}', { funcs: { greet: (n) => `hi ${String(n)}` } });
  assert.equal(executeTemplate(t, "x"), "hi bob X");
  assert.equal(executeTemplate(t, "x", { funcs: headerFunctions }), "hi bob x");
  assert.equal(
    execError('{{twice "a"}}', null, {
      funcs: { twice: { params: ["int"], fn: (n: unknown) => Number(n) * 2 } },
    }),
    'template: :1:8: executing "" at <"a">: expected integer; found "a"',
  );
});

test("missingKey options behave like Go's missingkey", () => {
  assert.equal(run("[{{.B}}]", { A: "x" }, { missingKey: "zero" }), "[]");
  assert.equal(run("[{{.B}}]", { A: 1 }, { missingKey: "zero" }), "[0]");
  assert.equal(
    execError("{{.B}}", { A: 1 }, { missingKey: "error" }),
    'template: :1:2: executing "" at <.B>: map has no entry for key "B"',
  );
  assert.equal(
    execError("{{.B.C}}", {}, { missingKey: "error" }),
    'template: :1:4: executing "" at <.B.C>: map has no entry for key "B"',
  );
});

test("values print as Go prints them", () => {
  assert.equal(run("{{.}}", new Date(Date.UTC(2024, 1, 3, 4, 5, 6, 700))), "2024-02-03 04:05:06.7 +0000 UTC");
  assert.equal(run("{{.}}", 12345678901234567890n), "12345678901234567890");
  assert.equal(run("{{.}}", [1.5, "a", null, true, { k: [] }]), "[1.5 a <nil> true map[k:[]]]");
  assert.equal(
    run("{{json .}}", { d: new Date(Date.UTC(2024, 0, 1)), b: new Uint8Array([1, 2]) }),
    '{"d":"2024-01-01T00:00:00Z","b":"AQI="}',
  );
  assert.equal(
    execError("{{json .}}", Number.NaN),
    'template: :1:2: executing "" at <json .>: error calling json: json: unsupported value: NaN',
  );
  assert.equal(run("{{truncate . 2}}", "日本語"), "日本");
});

test("runTemplate returns the output written before a failure", () => {
  const r = runTemplate(parseTemplate("a{{.X}}b{{index .L 3}}c"), { L: ["p"] });
  assert.equal(r.output, "a<no value>b");
  assert.match(r.error?.message ?? "", /index out of range: 3$/);
});

test("sprintf: rounding is exact, half to even, like Go", () => {
  assert.equal(sprintf("%.0f %.0f %.1f %.2f %.3g", [0.5, 2.5, 0.25, 1.005, 1.125]), "0 2 0.2 1.00 1.12");
  assert.equal(
    sprintf("%v %v %v %v", [1e21, 1e-7, 123456789.5, 1e20 + 0.5]),
    "1e+21 1e-07 1.234567895e+08 1e+20",
  );
  assert.equal(sprintf("%5.1f%%|%-7.2e|%G", [99.95, 0.000123, 1e-10]), "100.0%|1.23e-04|1E-10");
});
