/**
 * The event journal: Docker's events (EventMessage) appended to the `events` table by every
 * process that changes the store — the CLI, conmon's exit command (`container cleanup`), the
 * API server — and read back by `events()` (GET /events, `berth events`), past and live.
 *
 * Why a table and not a file: appends from many processes need an order and atomicity, which
 * SQLite's write lock already gives every berth process; an event can join the transaction of
 * the change it reports; and `since`/`until` are an indexed range instead of a scan.
 *
 * Bounded: the journal keeps the newest {@link EVENT_RETENTION} events. Each append deletes the
 * rows that fell out of that window (a primary-key range, so appends stay O(1)). A reader that
 * falls further behind than the window loses the oldest events, as a slow subscriber of
 * Docker's daemon does.
 *
 * Following: a reader polls for rows after the last sequence number it saw, every
 * {@link POLL_INTERVAL_MS} — one indexed query, no busy loop; the wait ends early on abort.
 */
import { sleep } from "../base/async.js";
import { invalidArgument } from "../base/errors.js";
import type { EventActor, EventMessage, EventsOptions, EventType, Filters } from "../engine/types.js";
import { familiarName, parseNormalizedNamed } from "../oci/reference.js";
import type { MetadataDb } from "./db.js";
import { jsonRecord, num, Queries, type Row, str } from "./rows.js";

/** How many events the journal keeps (Docker's daemon keeps 256 in memory; a store outlives processes). */
export const EVENT_RETENTION = 10_000;
/** How often a follower looks for new events. */
export const POLL_INTERVAL_MS = 100;
/** Rows read per query while catching up. */
const BATCH = 256;

/** Where state changes report their events. */
export interface EventSink {
  /** Appends one event, stamped now. Inside a `db.write` it joins that transaction. */
  emit(type: EventType, action: string, actor: EventActor): void;
}

/** A sink that drops everything (for services built without a journal, e.g. in unit tests). */
export const NO_EVENTS: EventSink = { emit: () => undefined };

export interface EventJournalOptions {
  /** The clock in ms since the epoch (fractional allowed); default Date.now. */
  readonly now?: () => number;
  readonly retention?: number;
  readonly pollIntervalMs?: number;
}

/** Filter keys `events` accepts (Docker's daemon/events filter). */
const FILTER_KEYS = new Set([
  "config",
  "container",
  "daemon",
  "event",
  "image",
  "label",
  "network",
  "node",
  "plugin",
  "scope",
  "secret",
  "service",
  "type",
  "volume",
]);

interface StoredEvent {
  readonly seq: number;
  readonly message: EventMessage;
}

/** ms (fractional) → ns, rounded to the nearest multiple of 1024 so that it is exact as a double. */
function stampNanos(ms: number): bigint {
  return BigInt(Math.round((ms * 1e6) / 1024)) * 1024n;
}

/** Unix seconds (fractional) → ns. */
function secondsToNanos(s: number): bigint {
  const whole = Math.floor(s);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((s - whole) * 1e9));
}

/** The EventMessage as Docker's daemon fills it, deprecated fields included. */
export function eventMessage(
  type: EventType,
  action: string,
  actor: EventActor,
  timeNano: bigint,
  scope: "local" | "swarm" = "local",
): EventMessage {
  const legacy: Pick<EventMessage, "status" | "id" | "from"> =
    type === "container"
      ? { status: action, id: actor.ID, from: actor.Attributes.image ?? "" }
      : type === "image"
        ? { status: action, id: actor.ID }
        : {};
  return {
    ...legacy,
    Type: type,
    Action: action,
    Actor: { ID: actor.ID, Attributes: { ...actor.Attributes } },
    scope,
    time: Number(timeNano / 1_000_000_000n),
    timeNano: Number(timeNano),
  };
}

function isEventType(v: string): v is EventType {
  return [
    "builder",
    "config",
    "container",
    "daemon",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "volume",
  ].includes(v);
}

function fromRow(row: Row): StoredEvent {
  const type = str(row, "type");
  const scope = str(row, "scope");
  const timeNano = row.time_nano;
  return {
    seq: num(row, "seq"),
    message: eventMessage(
      isEventType(type) ? type : "daemon",
      str(row, "action"),
      { ID: str(row, "actor_id"), Attributes: jsonRecord(row, "attributes") },
      typeof timeNano === "bigint" ? timeNano : BigInt(num(row, "time_nano")),
      scope === "swarm" ? "swarm" : "local",
    ),
  };
}

/** Checks the keys of an events filter (Docker's keys; anything else is refused). */
export function validateEventFilters(filters: Filters): void {
  for (const key of Object.keys(filters)) {
    if (!FILTER_KEYS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
  }
}

function values(filters: Filters, key: string): readonly string[] {
  return filters[key] ?? [];
}

/** filters.Args.ExactMatch: no values for the key, or one equal to `source`. */
function exactMatch(filters: Filters, key: string, source: string): boolean {
  const vs = values(filters, key);
  return vs.length === 0 || vs.includes(source);
}

/** filters.Args.FuzzyMatch: exact, or a value that is a prefix of `source`. */
function fuzzyMatch(filters: Filters, key: string, source: string): boolean {
  if (exactMatch(filters, key, source)) return true;
  return values(filters, key).some((v) => source.startsWith(v));
}

/** The actor's ID or name starts with a value of the filter (container=, network=, volume=…). */
function fuzzyMatchName(filters: Filters, key: string, ev: EventMessage): boolean {
  return fuzzyMatch(filters, key, ev.Actor.ID) || fuzzyMatch(filters, key, ev.Actor.Attributes.name ?? "");
}

/** An image reference without its tag, in familiar form (Docker's stripTag); itself if unparsable. */
function stripTag(image: string): string {
  try {
    return familiarName(parseNormalizedNamed(image));
  } catch {
    return image;
  }
}

function matchImage(filters: Filters, ev: EventMessage): boolean {
  const id = ev.Actor.ID;
  const name = ev.Actor.Attributes[ev.Type === "image" ? "name" : "image"] ?? "";
  return (
    exactMatch(filters, "image", id) ||
    exactMatch(filters, "image", name) ||
    exactMatch(filters, "image", stripTag(id)) ||
    exactMatch(filters, "image", stripTag(name))
  );
}

/** `label=key` or `label=key=value` against the actor's attributes (filters.Args.MatchKVList). */
function matchLabels(filters: Filters, attrs: Readonly<Record<string, string>>): boolean {
  for (const want of values(filters, "label")) {
    const eq = want.indexOf("=");
    if (eq < 0) {
      if (!(want in attrs)) return false;
    } else if (attrs[want.slice(0, eq)] !== want.slice(eq + 1)) {
      return false;
    }
  }
  return true;
}

/**
 * Whether an event passes the filters, with Docker's rules: values of one key are alternatives
 * (OR), different keys must all match (AND); container/network/volume/… match the actor's ID or
 * name by prefix; `event=exec_start` matches `exec_start: sh -c …`; image matches the image's
 * reference with or without its tag, or its ID.
 */
export function eventMatches(filters: Filters, ev: EventMessage): boolean {
  const fuzzyEvents = values(filters, "event").some((v) =>
    ["health_status", "exec_create", "exec_start"].includes(v),
  );
  const eventOk = fuzzyEvents
    ? fuzzyMatch(filters, "event", ev.Action)
    : exactMatch(filters, "event", ev.Action);
  return (
    eventOk &&
    exactMatch(filters, "type", ev.Type) &&
    exactMatch(filters, "scope", ev.scope) &&
    fuzzyMatchName(filters, "daemon", ev) &&
    fuzzyMatchName(filters, "container", ev) &&
    fuzzyMatchName(filters, "plugin", ev) &&
    fuzzyMatchName(filters, "volume", ev) &&
    fuzzyMatchName(filters, "network", ev) &&
    matchImage(filters, ev) &&
    fuzzyMatchName(filters, "node", ev) &&
    fuzzyMatchName(filters, "service", ev) &&
    fuzzyMatchName(filters, "secret", ev) &&
    fuzzyMatchName(filters, "config", ev) &&
    matchLabels(filters, ev.Actor.Attributes)
  );
}

/** The `events` table: append, trim, read past and live. */
export class EventJournal extends Queries implements EventSink {
  private readonly now: () => number;
  private readonly retention: number;
  private readonly pollIntervalMs: number;

  constructor(db: MetadataDb, opts: EventJournalOptions = {}) {
    super(db);
    this.now = opts.now ?? Date.now;
    this.retention = opts.retention ?? EVENT_RETENTION;
    this.pollIntervalMs = opts.pollIntervalMs ?? POLL_INTERVAL_MS;
  }

  emit(type: EventType, action: string, actor: EventActor): void {
    const append = () => {
      const info = this.db.sqlite
        .prepare(
          "INSERT INTO events (time_nano, type, action, actor_id, attributes, scope) VALUES (?, ?, ?, ?, ?, 'local')",
        )
        .run(stampNanos(this.now()), type, action, actor.ID, JSON.stringify(actor.Attributes));
      const seq = Number(info.lastInsertRowid);
      if (seq > this.retention) this.run("DELETE FROM events WHERE seq <= ?", seq - this.retention);
    };
    if (this.db.sqlite.inTransaction) append();
    else this.db.write(append);
  }

  /** The sequence number of the newest event (0 when there is none). */
  lastSeq(): number {
    const row = this.one("SELECT COALESCE(MAX(seq), 0) AS seq FROM events");
    return row ? num(row, "seq") : 0;
  }

  private after(seq: number, limit: number): StoredEvent[] {
    return this.all("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit).map(fromRow);
  }

  /**
   * Events as GET /events gives them: with `since`, the journal's events from that time on
   * (up to `until`), then — unless `until` has passed — live events until `until` or abort.
   */
  async *stream(opts: EventsOptions = {}): AsyncGenerator<EventMessage> {
    const filters = opts.filters ?? {};
    validateEventFilters(filters);
    // Stamps are multiples of 1024 ns: the bounds are widened to that grain, so an event stamped
    // at `since` or `until` itself is inside the window.
    const since = opts.since === undefined ? undefined : (secondsToNanos(opts.since) / 1024n) * 1024n;
    const until =
      opts.until === undefined ? undefined : ((secondsToNanos(opts.until) + 1023n) / 1024n) * 1024n;
    if (since !== undefined && until !== undefined && until < since) {
      throw invalidArgument(`\`since\` time (${opts.since}) cannot be after \`until\` time (${opts.until})`);
    }
    const { signal } = opts;
    const pass = (ev: StoredEvent) => {
      const t = BigInt(ev.message.timeNano);
      if (since !== undefined && t < since) return false;
      if (until !== undefined && t > until) return false;
      return eventMatches(filters, ev.message);
    };
    // Past events: everything up to now that is in the window, in journal order.
    let seq = this.lastSeq();
    if (since !== undefined) {
      const start = this.one("SELECT COALESCE(MIN(seq), 0) AS seq FROM events WHERE time_nano >= ?", since);
      let cursor = start && num(start, "seq") > 0 ? num(start, "seq") - 1 : seq;
      while (cursor < seq && !signal?.aborted) {
        const batch = this.all(
          "SELECT * FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
          cursor,
          seq,
          BATCH,
        ).map(fromRow);
        if (batch.length === 0) break;
        for (const ev of batch) if (pass(ev)) yield ev.message;
        cursor = (batch[batch.length - 1] as StoredEvent).seq;
      }
    }
    // Live events, until `until` passes or the caller aborts.
    const untilMs = until === undefined ? undefined : Number(until / 1_000_000n);
    for (;;) {
      if (signal?.aborted) return;
      if (untilMs !== undefined && this.now() >= untilMs) {
        // Whatever was appended before `until` still counts.
        for (let batch = this.after(seq, BATCH); batch.length > 0; batch = this.after(seq, BATCH)) {
          for (const ev of batch) {
            seq = ev.seq;
            if (pass(ev)) yield ev.message;
          }
        }
        return;
      }
      const batch = this.after(seq, BATCH);
      for (const ev of batch) {
        seq = ev.seq;
        if (pass(ev)) yield ev.message;
      }
      if (batch.length === BATCH) continue;
      const wait =
        untilMs === undefined ? this.pollIntervalMs : Math.min(this.pollIntervalMs, untilMs - this.now() + 1);
      await sleep(Math.max(1, wait), signal, { resolveOnAbort: true });
    }
  }
}
