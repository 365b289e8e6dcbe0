import assert from "node:assert/strict";
import { test } from "node:test";
import { isBerthError } from "./errors.js";
import { bestEffort, configureLog, type LogLevel, logEnabled, parseLogLevel } from "./log.js";

test("bestEffort returns the value, or undefined and a debug line naming the step", async () => {
  const lines: Array<[LogLevel, string]> = [];
  configureLog({ level: "debug", sink: (level, message) => lines.push([level, message]) });
  assert.equal(await bestEffort("reading", Promise.resolve(7)), 7);
  assert.equal(await bestEffort("unmounting /x", Promise.reject(new Error("busy"))), undefined);
  assert.equal(
    await bestEffort("CNI DEL", async () => {
      throw new Error("plugin failed");
    }),
    undefined,
  );
  assert.deepEqual(lines, [
    ["debug", "unmounting /x: busy"],
    ["debug", "CNI DEL: plugin failed"],
  ]);
});

test("below the configured level nothing is written", async () => {
  const lines: string[] = [];
  configureLog({ level: "info", sink: (_, message) => lines.push(message) });
  assert.equal(logEnabled("debug"), false);
  assert.equal(logEnabled("warn"), true);
  await bestEffort("quiet", Promise.reject(new Error("x")));
  assert.deepEqual(lines, []);
});

test("log levels parse as Docker's, any case; others are refused", () => {
  assert.equal(parseLogLevel("DEBUG"), "debug");
  assert.equal(parseLogLevel("fatal"), "fatal");
  assert.throws(
    () => parseLogLevel("verbose"),
    (err: unknown) => isBerthError(err, "InvalidArgument"),
  );
});
