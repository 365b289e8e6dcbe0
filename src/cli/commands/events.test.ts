import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventMessage } from "../../engine/types.js";
import { parseTemplate, runTemplate } from "../format/template.js";
import { eventTemplateData, formatEventTime, prettyEvent } from "./events.js";

const ev: EventMessage = {
  status: "die",
  id: "4f2a",
  from: "busybox",
  Type: "container",
  Action: "die",
  Actor: { ID: "4f2a", Attributes: { name: "web", image: "busybox", exitCode: "137" } },
  scope: "local",
  time: 1_700_000_000,
  timeNano: 1_700_000_000_123_456_000,
};

test("Docker's default line: fixed nanoseconds, local zone, sorted attributes", () => {
  assert.equal(
    prettyEvent(ev, () => 0),
    "2023-11-14T22:13:20.123456000Z container die 4f2a (exitCode=137, image=busybox, name=web)\n",
  );
  assert.equal(
    formatEventTime(ev.timeNano, () => -90),
    "2023-11-14T20:43:20.123456000-01:30",
  );
});

test("templates see Go's field names; {{json .}} gives the API's names in struct order", () => {
  const tmpl = parseTemplate("{{.Status}} {{.ID}} {{.From}} {{.Scope}} {{.Actor.Attributes.exitCode}}", {
    strictFields: true,
  });
  assert.equal(runTemplate(tmpl, eventTemplateData(ev)).output, "die 4f2a busybox local 137");
  const json = parseTemplate("{{json .}}");
  assert.equal(
    runTemplate(
      json,
      eventTemplateData({ ...ev, status: undefined, id: undefined, from: undefined, Type: "network" }),
    ).output,
    '{"Type":"network","Action":"die","Actor":{"ID":"4f2a","Attributes":{"exitCode":"137","image":"busybox","name":"web"}},"scope":"local","time":1700000000,"timeNano":1700000000123456000}',
  );
});
