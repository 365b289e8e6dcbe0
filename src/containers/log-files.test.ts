import assert from "node:assert/strict";
import { test } from "node:test";
import { parseJsonLogRecord } from "../runtime/logs.js";
import { jsonLogLine, jsonLogTime, logFileList } from "./log-files.js";

test("json-file times are Go's RFC3339Nano in UTC", () => {
  assert.equal(jsonLogTime("2026-12-07T01:49:01.445234005+00:00"), "2026-12-07T01:49:01.445234005Z");
  assert.equal(jsonLogTime("2026-12-07T01:49:01.445234000+00:00"), "2026-12-07T01:49:01.445234Z");
  assert.equal(jsonLogTime("2026-12-07T01:49:01.000000000+00:00"), "2026-12-07T01:49:01Z");
  assert.equal(jsonLogTime("2026-12-07T03:49:01.5+02:00"), "2026-12-07T01:49:01.5Z");
});

test("a json-file line has Docker's keys in Docker's order and reads back", () => {
  const line = jsonLogLine(
    {
      stream: "stderr",
      time: "2026-12-07T01:49:01.445234005+00:00",
      partial: false,
      data: Buffer.from('say "hi"'),
    },
    { tag: "web" },
  );
  assert.equal(
    line,
    '{"log":"say \\"hi\\"\\n","stream":"stderr","attrs":{"tag":"web"},"time":"2026-12-07T01:49:01.445234005Z"}\n',
  );
  const back = parseJsonLogRecord(Buffer.from(line.trimEnd()));
  assert.deepEqual(back && { ...back, data: back.data.toString() }, {
    stream: "stderr",
    time: "2026-12-07T01:49:01.445234005Z",
    partial: false,
    data: 'say "hi"',
  });
  const partial = jsonLogLine(
    { stream: "stdout", time: "2026-12-07T01:49:01Z", partial: true, data: Buffer.from("x") },
    undefined,
  );
  assert.equal(partial, '{"log":"x","stream":"stdout","time":"2026-12-07T01:49:01Z"}\n');
});

test("log files are listed oldest first", () => {
  assert.deepEqual(logFileList("/c/x.log", 3), ["/c/x.log.2", "/c/x.log.1", "/c/x.log"]);
  assert.deepEqual(logFileList("/c/x.log", 1), ["/c/x.log"]);
});
