import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../../base/errors.js";
import { renderInspect, renderList, templateText } from "./render.js";

const HEADERS = {
  Repository: "REPOSITORY",
  Tag: "TAG",
  ID: "IMAGE ID",
  CreatedSince: "CREATED",
  Size: "SIZE",
};
const DEFAULT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const ROWS = [
  { Repository: "busybox", Tag: "latest", ID: "abc123", CreatedSince: "2 days ago", Size: "4.26MB" },
  { Repository: "alpine", Tag: "3.19", ID: "def456", CreatedSince: "3 weeks ago", Size: "7.4MB" },
];
const opts = (format?: string) => ({ format, defaultTableFormat: DEFAULT, headers: HEADERS });

const TABLE =
  "REPOSITORY   TAG       IMAGE ID   CREATED       SIZE\n" +
  "busybox      latest    abc123     2 days ago    4.26MB\n" +
  "alpine       3.19      def456     3 weeks ago   7.4MB\n";

test("no format, empty format and bare 'table' print the default table", () => {
  assert.equal(renderList(ROWS, opts()), TABLE);
  assert.equal(renderList(ROWS, opts("")), TABLE);
  assert.equal(renderList(ROWS, opts("table")), TABLE);
});

test("an empty list with a table format still prints the header", () => {
  assert.equal(renderList([], opts()), "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n");
  assert.equal(renderList([], opts("{{.ID}}")), "");
});

test("a custom table format with escaped \\t gets a header and aligned columns", () => {
  assert.equal(
    renderList(ROWS, opts("table {{.ID}}\\t{{.Repository}}:{{.Tag}}")),
    "IMAGE ID   REPOSITORY:TAG\nabc123     busybox:latest\ndef456     alpine:3.19\n",
  );
});

test("a non-table format prints one line per row and no header; \\n becomes a newline", () => {
  assert.equal(renderList(ROWS, opts("{{.Repository}}:{{.Tag}}")), "busybox:latest\nalpine:3.19\n");
  assert.equal(renderList(ROWS.slice(0, 1), opts("  {{.ID}}\\n{{.Size}}  ")), "abc123\n4.26MB\n");
});

test("--format json prints each row as JSON with sorted keys and no HTML escaping", () => {
  assert.equal(
    renderList([{ Z: "<a&b>", A: 1 }], { format: "json", defaultTableFormat: DEFAULT, headers: {} }),
    '{"A":1,"Z":"<a&b>"}\n',
  );
});

test("quiet prints the quiet format, whatever the format", () => {
  assert.equal(renderList(ROWS, { ...opts("table {{.Size}}"), quiet: true }), "abc123\ndef456\n");
});

test("header: fields missing from the header map are empty; header functions keep titles", () => {
  const rows = [{ ID: "x1", Extra: "e" }];
  const h = { ID: "IMAGE ID" };
  assert.equal(
    renderList(rows, { format: "table {{.ID}}\t{{.Extra}}|", defaultTableFormat: DEFAULT, headers: h }),
    "IMAGE ID   |\nx1         e|\n",
  );
  assert.equal(
    renderList(rows, {
      format: "table {{upper .ID}}\t{{json .ID}}\t{{pad .ID 1 1}}",
      defaultTableFormat: DEFAULT,
      headers: h,
    }),
    'IMAGE ID   IMAGE ID    IMAGE ID \nX1         "x1"        x1 \n',
  );
});

test("rows may expose methods; the header's Label method titles label columns", () => {
  const rows = [{ ID: "c1", Label: (k: unknown) => (k === "com.example.app-name" ? "web" : "") }];
  assert.equal(
    renderList(rows, {
      format: 'table {{.ID}}\t{{.Label "com.example.app-name"}}',
      defaultTableFormat: DEFAULT,
      headers: { ID: "CONTAINER ID" },
    }),
    "CONTAINER ID   app name\nc1             web\n",
  );
});

test("an unknown field on a row is an error with Docker's prefix", () => {
  assert.throws(
    () => renderList(ROWS, { ...opts("{{.Nope}}"), typeName: "*formatter.ImageContext" }),
    (err: unknown) =>
      isBerthError(err, "InvalidArgument") &&
      err.message ===
        'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ImageContext',
  );
  assert.throws(
    () => renderList(ROWS, opts("{{nope .ID}}")),
    (err: unknown) =>
      isBerthError(err, "InvalidArgument") &&
      err.message === 'template parsing error: template: :1: function "nope" not defined',
  );
});

test("templateText prepares a --format value like the Docker CLI", () => {
  assert.equal(templateText("table {{.ID}}\\t{{.Size}} "), "{{.ID}}\t{{.Size}}");
  assert.equal(templateText("json"), "{{json .}}");
  assert.equal(templateText("table"), "");
  assert.equal(templateText("\t{{.ID}}"), "\t{{.ID}}");
});

const DOC = {
  Id: "sha256:abc",
  RepoTags: ["busybox:latest"],
  Config: { Labels: { a: "1" }, Env: [] },
  Size: 5,
};

test("inspect without a format prints a JSON array indented with 4 spaces", () => {
  assert.equal(
    renderInspect([DOC]),
    "[\n" +
      "    {\n" +
      '        "Id": "sha256:abc",\n' +
      '        "RepoTags": [\n' +
      '            "busybox:latest"\n' +
      "        ],\n" +
      '        "Config": {\n' +
      '            "Labels": {\n' +
      '                "a": "1"\n' +
      "            },\n" +
      '            "Env": []\n' +
      "        },\n" +
      '        "Size": 5\n' +
      "    }\n" +
      "]\n",
  );
  assert.equal(renderInspect([]), "[]\n");
  assert.equal(renderInspect([], "{{.Id}}"), "\n");
});

test("inspect --format json prints the array on one line", () => {
  assert.equal(renderInspect([{ a: "<x>" }, { b: 1 }], "json"), '[{"a":"<x>"},{"b":1}]\n');
});

test("inspect with a template prints one line per object", () => {
  const docs = [DOC, { ...DOC, Id: "sha256:def", Size: 7 }];
  assert.equal(renderInspect(docs, "{{.Id}} {{.Size}}"), "sha256:abc 5\nsha256:def 7\n");
  assert.equal(
    renderInspect([DOC], '{{.Config.Labels.b}}|{{index .Config.Labels "b"}}|{{json .Config}}'),
    '<no value>||{"Labels":{"a":"1"},"Env":[]}\n',
  );
  assert.equal(renderInspect([DOC], "{{range .RepoTags}}{{.}} {{end}}"), "busybox:latest \n");
  assert.throws(
    () => renderInspect([DOC], "{{.Nope}}"),
    (err: unknown) =>
      isBerthError(err, "InvalidArgument") &&
      err.message ===
        'template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"',
  );
});
