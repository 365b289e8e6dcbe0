import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "../base/errors.js";
import { conmonLogSettings, expandTag, parseRamSize, resolveLogConfig } from "./log-config.js";

test("Docker's size units are binary multiples, case-insensitive, with an optional b/ib", () => {
  assert.equal(parseRamSize("100"), 100);
  assert.equal(parseRamSize("2k"), 2048);
  assert.equal(parseRamSize("10m"), 10 * 1024 * 1024);
  assert.equal(parseRamSize("1.5G"), 1.5 * 1024 ** 3);
  assert.equal(parseRamSize("512kb"), 512 * 1024);
  assert.equal(parseRamSize("1MiB"), 1024 * 1024);
  assert.equal(parseRamSize("lots"), undefined);
  assert.equal(parseRamSize("-1m"), undefined);
});

test("the default is k8s-file started afresh at 10m", () => {
  assert.deepEqual(resolveLogConfig(undefined), { Type: "k8s-file", Config: { "max-size": "10m" } });
  assert.deepEqual(conmonLogSettings(undefined), { log: true, sizeMax: 10 * 1024 * 1024 });
  assert.deepEqual(conmonLogSettings({ Type: "none", Config: {} }), { log: false });
});

test("refusals are InvalidArgument (a 400 through the API, as its other unsupported HostConfig fields)", () => {
  const kind = (cfg: { Type: string; Config: Record<string, string> }) => {
    try {
      resolveLogConfig(cfg);
      return "accepted";
    } catch (err) {
      return isBerthError(err) ? err.kind : "other";
    }
  };
  assert.equal(kind({ Type: "journald", Config: {} }), "InvalidArgument");
  assert.equal(kind({ Type: "json-file", Config: { compress: "true" } }), "InvalidArgument");
  assert.equal(kind({ Type: "json-file", Config: { labels: "a" } }), "InvalidArgument");
  assert.equal(kind({ Type: "k8s-file", Config: { tag: "x" } }), "InvalidArgument");
  assert.equal(kind({ Type: "json-file", Config: { tag: "{{.Bogus}}" } }), "InvalidArgument");
  assert.equal(kind({ Type: "json-file", Config: { tag: '{{printf "%s" .Name}}' } }), "InvalidArgument");
  assert.equal(kind({ Type: "k8s-file", Config: { "max-file": "0" } }), "InvalidArgument");
  assert.equal(kind({ Type: "json-file", Config: {} }), "accepted");
  assert.equal(kind({ Type: "k8s-file", Config: { "max-file": "2" } }), "accepted");
  assert.equal(kind({ Type: "json-file", Config: { tag: "{{.Name}}/{{.ID}}" } }), "accepted");
  assert.equal(kind({ Type: "bogus", Config: {} }), "InvalidArgument");
  assert.equal(kind({ Type: "k8s-file", Config: { "max-size": "0" } }), "InvalidArgument");
  assert.equal(kind({ Type: "none", Config: { "max-size": "1m" } }), "InvalidArgument");
  assert.equal(kind({ Type: "k8s-file", Config: { "max-size": "1m", "max-file": "1" } }), "accepted");
});

test("conmon starts the file afresh only for k8s-file with one file; berth rotates the rest", () => {
  assert.deepEqual(conmonLogSettings(resolveLogConfig({ Type: "k8s-file", Config: { "max-file": "3" } })), {
    log: true,
  });
  assert.deepEqual(conmonLogSettings(resolveLogConfig({ Type: "json-file", Config: {} })), { log: true });
  assert.deepEqual(resolveLogConfig({ Type: "json-file", Config: { "max-file": "3", "max-size": "1k" } }), {
    Type: "json-file",
    Config: { "max-file": "3", "max-size": "1k" },
  });
});

test("tag templates fill in Docker's names", () => {
  const c = { id: "a".repeat(64), name: "/web", imageId: `sha256:${"b".repeat(64)}`, imageName: "busybox" };
  assert.equal(
    expandTag("{{.Name}}/{{.ID}}/{{.ImageName}}/{{ .ImageID }}/{{.DaemonName}}", c),
    `web/${"a".repeat(12)}/busybox/${"b".repeat(12)}/berth`,
  );
  assert.equal(expandTag("{{.FullID}}", c), "a".repeat(64));
  assert.equal(expandTag("plain", c), "plain");
});
