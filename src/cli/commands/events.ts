/** `berth events` (and `system events`): the store's events, past and live, as Docker's CLI prints them. */

import { parseTimeArgument } from "../../base/timestamps.js";
import type { EventMessage } from "../../engine/types.js";
import { type Command, filterFlag, none, TEMPLATE_FORMAT_FLAG } from "../command.js";
import { parseFilterFlags } from "../flags.js";
import { templateText } from "../format/render.js";
import { markStruct, parseTemplate, runTemplate, type Template } from "../format/template.js";

/** Go's RFC3339NanoFixed in the local zone: `2006-01-02T15:04:05.000000000-07:00`. */
export function formatEventTime(timeNano: number, offsetMinutes: (ms: number) => number): string {
  // Stamps are multiples of 1024 ns (exact as numbers); shown to the microsecond they stand for.
  const ns = BigInt(Math.round(timeNano / 1000)) * 1000n;
  const ms = Number(ns / 1_000_000n);
  const off = offsetMinutes(ms);
  const wall = new Date(ms + off * 60_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const frac = String(ns % 1_000_000_000n).padStart(9, "0");
  const zone =
    off === 0
      ? "Z"
      : `${off < 0 ? "-" : "+"}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return (
    `${wall.getUTCFullYear()}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}.${frac}${zone}`
  );
}

/** Docker's default line: time, type, action, actor ID and the attributes sorted by key. */
export function prettyEvent(ev: EventMessage, offsetMinutes: (ms: number) => number): string {
  let line = "";
  if (ev.timeNano) line += `${formatEventTime(ev.timeNano, offsetMinutes)} `;
  else if (ev.time) line += `${formatEventTime(ev.time * 1e9, offsetMinutes)} `;
  line += `${ev.Type} ${ev.Action} ${ev.Actor.ID}`;
  const keys = Object.keys(ev.Actor.Attributes).sort();
  if (keys.length > 0) line += ` (${keys.map((k) => `${k}=${ev.Actor.Attributes[k]}`).join(", ")})`;
  return `${line}\n`;
}

function sortedAttributes(attrs: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(attrs).sort()) out[k] = attrs[k] as string;
  return out;
}

/**
 * The value a template sees: Go's events.Message struct (fields Status, ID, From, Type, Action,
 * Actor, Scope, Time, TimeNano), which `{{json .}}` encodes with its JSON names and omitempty.
 */
export function eventTemplateData(ev: EventMessage | undefined): object {
  const attrs = sortedAttributes(ev?.Actor.Attributes ?? {});
  const actor = markStruct({ ID: ev?.Actor.ID ?? "", Attributes: attrs });
  const data = markStruct({
    Status: ev?.status ?? "",
    ID: ev?.id ?? "",
    From: ev?.from ?? "",
    Type: ev?.Type ?? "",
    Action: ev?.Action ?? "",
    Actor: actor,
    Scope: ev?.scope ?? "",
    Time: ev?.time ?? 0,
    TimeNano: ev?.timeNano ?? 0,
  });
  const json = () => ({
    ...(data.Status ? { status: data.Status } : {}),
    ...(data.ID ? { id: data.ID } : {}),
    ...(data.From ? { from: data.From } : {}),
    Type: data.Type,
    Action: data.Action,
    Actor: { ID: actor.ID, Attributes: attrs },
    ...(data.Scope ? { scope: data.Scope } : {}),
    ...(data.Time ? { time: data.Time } : {}),
    ...(data.TimeNano ? { timeNano: data.TimeNano } : {}),
  });
  Object.defineProperty(data, "toJSON", { value: json, enumerable: false });
  return data;
}

const eventsCommand: Command = {
  path: "system events",
  aliases: ["events"],
  usage: "[OPTIONS]",
  description: "Get real time events from the server",
  args: none,
  flags: [
    filterFlag(),
    TEMPLATE_FORMAT_FLAG,
    {
      name: "since",
      type: "string",
      valueName: "string",
      description: "Show all events created since timestamp",
    },
    { name: "until", type: "string", valueName: "string", description: "Stream events until this timestamp" },
  ],
  async run(ctx, flags) {
    const now = Date.now();
    const filters = parseFilterFlags(flags.list("filter"), "--filter");
    const sinceText = flags.string("since");
    const untilText = flags.string("until");
    const since = sinceText ? parseTimeArgument(sinceText, { now }) : undefined;
    const until = untilText ? parseTimeArgument(untilText, { now }) : undefined;
    const format = flags.string("format") ?? "";
    let tmpl: Template | undefined;
    if (format !== "") {
      tmpl = parseTemplate(templateText(format), { strictFields: true, typeName: "*events.Message" });
      // As Docker's CLI: run it once on an empty message, so a bad field fails before any event.
      const probe = runTemplate(tmpl, eventTemplateData(undefined));
      if (probe.error) throw probe.error;
    }
    const offset = (ms: number) => -new Date(ms).getTimezoneOffset();
    const engine = await ctx.engine();
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      for await (const ev of engine.events({
        filters,
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        signal: abort.signal,
      })) {
        if (!tmpl) {
          ctx.io.stdout.write(prettyEvent(ev, offset));
          continue;
        }
        const r = runTemplate(tmpl, eventTemplateData(ev));
        if (r.error) throw r.error;
        ctx.io.stdout.write(`${r.output}\n`);
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    return 0;
  },
};

export const eventsCommands: readonly Command[] = [eventsCommand];
