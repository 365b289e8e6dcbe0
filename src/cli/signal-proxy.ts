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
import type { CommandContext } from "./command.js";

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
  /** The container runs (its record says so): signals held until now are sent, later ones at once. */
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
 */
export function proxySignals(
  ctx: CommandContext,
  engine: Engine,
  id: string,
  opts: { readonly forward: boolean },
): SignalProxy {
  const source = ctx.io.signals;
  let isStarted = false;
  const held: NodeJS.Signals[] = [];
  let queue: Promise<void> = Promise.resolve();
  const send = (signal: NodeJS.Signals) => {
    queue = queue.then(async () => {
      await bestEffort(`forwarding ${signal} to ${id}`, engine.containerKill(id, signal.slice(3)));
    });
  };
  let unsubscribe = source
    ? source.subscribe(FORWARDED_SIGNALS, (signal) => {
        if (!isStarted) held.push(signal);
        else send(signal);
      })
    : () => undefined;
  const release = () => {
    if (isStarted) return;
    isStarted = true;
    if (opts.forward) {
      for (const s of held.splice(0)) send(s);
      return;
    }
    unsubscribe();
    unsubscribe = () => undefined;
    for (const s of held.splice(0)) source?.raise(s);
  };
  return {
    started: release,
    stop: async () => {
      release();
      unsubscribe();
      unsubscribe = () => undefined;
      await queue;
    },
  };
}
