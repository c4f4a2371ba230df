/** The event fan-out of a media session: listeners, and an async-iterable view until `closed`. */
import type { MediaEvent, MediaEventListener } from './types.js';

export class EventHub {
  readonly #listeners = new Set<MediaEventListener>();
  #closed = false;

  on(listener: MediaEventListener): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  emit(ev: MediaEvent): void {
    if (ev.type === 'closed') this.#closed = true;
    for (const l of this.#listeners) {
      try { l(ev); } catch { /* a listener's bug must not stop the media loop */ }
    }
    if (ev.type === 'closed') this.#listeners.clear();
  }

  /** Async iterable of events until the session closes or `signal` aborts. */
  async *events(signal?: AbortSignal): AsyncIterable<MediaEvent> {
    const queue: MediaEvent[] = [];
    let wake: (() => void) | null = null;
    const off = this.on((ev) => { queue.push(ev); wake?.(); });
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        while (queue.length) {
          const ev = queue.shift()!;
          yield ev;
          if (ev.type === 'closed') return;
        }
        if (signal?.aborted || this.#closed) return;
        await new Promise<void>((r) => { wake = r; });
        wake = null;
      }
    } finally {
      off();
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
