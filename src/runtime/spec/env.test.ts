import assert from "node:assert/strict";
import { test } from "node:test";
import { envKey, processEnv, replaceOrAppendEnv } from "./env.js";

test("replaceOrAppendEnv replaces, appends and removes a bare name (moby ReplaceOrAppendEnvValues)", () => {
  assert.deepEqual(replaceOrAppendEnv(["A=1", "B=2", "C=3"], ["B=x", "D=4", "C", "Z"]), [
    "A=1",
    "B=x",
    "D=4",
  ]);
});

test("envKey is the name before the first '=', or the whole of a bare name", () => {
  assert.equal(envKey("A=b=c"), "A");
  assert.equal(envKey("A="), "A");
  assert.equal(envKey("BARE"), "BARE");
});

test("processEnv: PATH, HOSTNAME, TERM with a terminal, each layer over the last, then HOME when unset", () => {
  assert.deepEqual(processEnv({ hostname: "h", tty: false, layers: [["X=1"]], home: "/root" }), [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOSTNAME=h",
    "X=1",
    "HOME=/root",
  ]);
  assert.deepEqual(
    processEnv({ hostname: "", tty: true, layers: [["PATH=/p", "HOME=/h"], ["PATH"]], home: "/root" }),
    ["HOSTNAME=", "TERM=xterm", "HOME=/h"],
  );
});
