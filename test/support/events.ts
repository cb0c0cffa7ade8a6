// Waiting for events instead of sleeping: a test that sleeps and then asserts passes or fails with
// the machine's speed; one that waits for what it is about does not.
import { once, type EventEmitter } from 'node:events';

/** The next `count` emissions of `event` (listened for from the call on), in order. */
export function next<T = unknown>(emitter: EventEmitter, event: string, count = 1): Promise<T[]> {
  return new Promise((resolve) => {
    const seen: T[] = [];
    const on = (value: T) => {
      seen.push(value);
      if (seen.length < count) return;
      emitter.off(event, on);
      resolve(seen);
    };
    emitter.on(event, on);
  });
}

/**
 * Resolves when a DgramGuard has handed over or refused every datagram it held: each batch ends
 * with its peers' 'registered' or 'peer-error' events, emitted after the batch's bookkeeping, so
 * `pending` is up to date when they fire.
 */
export async function guardIdle(guard: EventEmitter & { stats: { pending: number } }): Promise<void> {
  while (guard.stats.pending > 0) {
    const done = new AbortController();
    try {
      await Promise.race([once(guard, 'registered', { signal: done.signal }), once(guard, 'peer-error', { signal: done.signal })]);
    } finally {
      done.abort();
    }
  }
}
