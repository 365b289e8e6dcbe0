/**
 * The proxy's bookkeeping of listeners, against a signal source that records what is subscribed
 * and raised (the real one, process signals, is exercised through bin/berth by
 * test/integration/signals.test.ts). What matters most: without forwarding, no listener is removed
 * before its signal has come, since removing the last listener of a signal the process caught but
 * had not dispatched yet loses that signal (the CLI then never dies of it).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SignalSource } from "./command.js";
import { FORWARDED_SIGNALS, proxySignals } from "./signal-proxy.js";

class RecordingSource implements SignalSource {
  readonly listeners = new Map<NodeJS.Signals, Set<(s: NodeJS.Signals) => void>>();
  readonly raised: NodeJS.Signals[] = [];
  /** The signals whose listener was removed, in order. */
  readonly removed: NodeJS.Signals[] = [];

  subscribe(signals: readonly NodeJS.Signals[], handler: (signal: NodeJS.Signals) => void): () => void {
    for (const s of signals) {
      const set = this.listeners.get(s) ?? new Set();
      set.add(handler);
      this.listeners.set(s, set);
    }
    return () => {
      for (const s of signals) {
        if (this.listeners.get(s)?.delete(handler)) this.removed.push(s);
      }
    };
  }

  raise(signal: NodeJS.Signals): void {
    this.raised.push(signal);
  }

  /** The process receives `signal`: its listeners run (none: it would take its usual effect). */
  deliver(signal: NodeJS.Signals): void {
    for (const h of [...(this.listeners.get(signal) ?? [])]) h(signal);
  }

  listened(): NodeJS.Signals[] {
    return [...this.listeners].filter(([, set]) => set.size > 0).map(([s]) => s);
  }
}

const noKill = {
  containerKill: async (): Promise<void> => assert.fail("a signal was forwarded without --sig-proxy"),
};

describe("without forwarding (--sig-proxy=false, a terminal's start -a)", () => {
  test("a signal received while the container starts is held, then acts on berth", () => {
    const source = new RecordingSource();
    const proxy = proxySignals(source, noKill, "c1", { forward: false });
    assert.deepEqual(source.listened(), [...FORWARDED_SIGNALS]);
    source.deliver("SIGTERM");
    assert.deepEqual(source.raised, []);
    proxy.started();
    // Its own listener was gone before it was raised, and only its own.
    assert.deepEqual(source.removed, ["SIGTERM"]);
    assert.deepEqual(source.raised, ["SIGTERM"]);
  });

  test("started() and stop() remove no listener: a later signal removes its own and is raised", async () => {
    const source = new RecordingSource();
    const proxy = proxySignals(source, noKill, "c1", { forward: false });
    proxy.started();
    assert.deepEqual(source.removed, []);
    source.deliver("SIGHUP");
    assert.deepEqual(source.removed, ["SIGHUP"]);
    assert.deepEqual(source.raised, ["SIGHUP"]);
    await proxy.stop();
    assert.deepEqual(source.removed, ["SIGHUP"]);
    // After the session too, a signal acts on berth as if never listened to.
    source.deliver("SIGTERM");
    assert.deepEqual(source.raised, ["SIGHUP", "SIGTERM"]);
    assert.deepEqual(source.removed, ["SIGHUP", "SIGTERM"]);
    source.deliver("SIGTERM");
    assert.deepEqual(source.raised, ["SIGHUP", "SIGTERM"], "a listener that is gone does not run");
  });

  test("stop() before started() (the start failed) lets the held signals act on berth", async () => {
    const source = new RecordingSource();
    const proxy = proxySignals(source, noKill, "c1", { forward: false });
    source.deliver("SIGINT");
    await proxy.stop();
    assert.deepEqual(source.raised, ["SIGINT"]);
  });
});

describe("forwarding (--sig-proxy, Docker's default)", () => {
  test("held signals go to the container in order once it runs, later ones at once; stop() waits for them", async () => {
    const source = new RecordingSource();
    const sent: string[] = [];
    const proxy = proxySignals(
      source,
      {
        containerKill: async (id, signal) => {
          await new Promise((resolve) => setImmediate(resolve));
          sent.push(`${id} ${signal}`);
        },
      },
      "c1",
      { forward: true },
    );
    source.deliver("SIGINT");
    source.deliver("SIGUSR1");
    proxy.started();
    source.deliver("SIGTERM");
    await proxy.stop();
    assert.deepEqual(sent, ["c1 INT", "c1 USR1", "c1 TERM"]);
    assert.deepEqual(source.raised, []);
    assert.deepEqual(source.listened(), [], "no listener is left once forwarding stops");
  });
});
