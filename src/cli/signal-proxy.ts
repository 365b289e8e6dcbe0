/**
 * Signal proxying of a foreground `run`, `start -a` and `attach` (`--sig-proxy`, Docker's
 * default): every catchable signal this process receives is sent to the container's process
 * instead of acting on berth, one after the other, so a trap in the container runs and its exit
 * code comes back through `wait`. A signal that cannot be delivered (the container is not running
 * yet or any more) is dropped, as Docker's CLI drops it.
 *
 * Docker's CLI forwards everything Go's signal.Notify catches except SIGCHLD, SIGPIPE and SIGURG.
 * Node.js cannot listen to the real-time signals, and a listener for SIGSEGV, SIGBUS, SIGFPE or
 * SIGILL would leave berth looping on a fault of its own: those stay with berth.
 */

import { bestEffort } from "../base/log.js";
import type { Engine } from "../engine/engine.js";
import type { SignalSource } from "./command.js";

export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGTRAP",
  "SIGABRT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCONT",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS",
];

export interface SignalProxy {
  /** The container runs (its record says so): signals held until now take effect, later ones at once. */
  started(): void;
  /** Stops proxying; resolves once the signals already received have been sent. */
  stop(): Promise<void>;
}

/**
 * Forwards the process's signals to container `id` until stopped (`forward`), or only keeps them
 * from interrupting the container's start (`--sig-proxy=false`, a terminal's `start -a`): then
 * they are held until `started()` and take their usual effect on berth from there.
 *
 * A signal received while the container is being started is held until `started()`: the
 * container's output can arrive before its start is recorded, and a user answering that output
 * with Ctrl-C must neither be ignored (proxying) nor leave a started container recorded as created
 * (berth killed between starting the process and recording it).
 *
 * Without `forward`, a signal's listener is removed only once that signal has come (then it is
 * raised again, to act on berth as if never listened to), never at `started()` or `stop()`: a
 * signal the process has caught but its event loop has not dispatched yet is lost when the last
 * listener for it goes (Node.js closes its signal handle, and the handle drops what it queued),
 * so a listener removed at any other moment could swallow a SIGTERM that arrived just before.
 * The listeners left after `stop()` are that same "usual effect", for the rest of the process.
 */
export function proxySignals(
  source: SignalSource | undefined,
  engine: Pick<Engine, "containerKill">,
  id: string,
  opts: { readonly forward: boolean },
): SignalProxy {
  let isStarted = false;
  const held: NodeJS.Signals[] = [];
  let queue: Promise<void> = Promise.resolve();
  const send = (signal: NodeJS.Signals) => {
    queue = queue.then(async () => {
      await bestEffort(`forwarding ${signal} to ${id}`, engine.containerKill(id, signal.slice(3)));
    });
  };
  // One subscription per signal, so that one can be given back without the others.
  const subscriptions = new Map<NodeJS.Signals, () => void>();
  /** Without `forward`: `signal` acts on berth as if berth had never listened to it. */
  const takeEffect = (signal: NodeJS.Signals) => {
    const unsubscribe = subscriptions.get(signal);
    if (!unsubscribe) return;
    subscriptions.delete(signal);
    unsubscribe();
    source?.raise(signal);
  };
  const onSignal = (s: NodeJS.Signals) => {
    if (!isStarted) held.push(s);
    else if (opts.forward) send(s);
    else takeEffect(s);
  };
  if (source)
    for (const signal of FORWARDED_SIGNALS) subscriptions.set(signal, source.subscribe([signal], onSignal));
  const release = () => {
    if (isStarted) return;
    isStarted = true;
    for (const s of held.splice(0)) {
      if (opts.forward) send(s);
      else takeEffect(s);
    }
  };
  return {
    started: release,
    stop: async () => {
      release();
      if (opts.forward) {
        for (const unsubscribe of subscriptions.values()) unsubscribe();
        subscriptions.clear();
      }
      await queue;
    },
  };
}
