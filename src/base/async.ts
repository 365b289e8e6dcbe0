/** Small async helpers shared by every module. Pure: no host access. */

/**
 * Waits `ms`. An abort of `signal` rejects with its reason, or, with `resolveOnAbort`, ends the
 * wait early without an error (for polling loops that check the signal themselves).
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  opts: { resolveOnAbort?: boolean } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => (opts.resolveOnAbort ? resolve() : reject(signal?.reason));
    if (signal?.aborted) {
      stop();
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      stop();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Polls `check` until it answers something other than `undefined` or `false`, and resolves with
 * that answer; rejects with "timed out waiting for <what>" after `timeoutMs`. For waiting on a
 * condition instead of sleeping a fixed time.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Collects an async iterable into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping result order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return results;
}

/** The events of a writable stream that `drainedOrClosed` waits for. */
interface DrainEvents {
  on(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}

/**
 * Resolves when `stream` (whose last write returned false) drains or closes. Both listeners go
 * once either fires: a large copy waits here many times, and a 'close' listener left per wait
 * piles up (MaxListenersExceededWarning on stderr).
 */
export function drainedOrClosed(stream: DrainEvents): Promise<void> {
  return new Promise<void>((resolve) => {
    const go = (): void => {
      stream.off("drain", go);
      stream.off("close", go);
      resolve();
    };
    stream.on("drain", go);
    stream.on("close", go);
  });
}
