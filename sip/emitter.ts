/** A tiny typed event emitter for tagged unions, plus an async-iterable view. */
type Listener<E> = (event: E) => void;

export class TypedEmitter<E extends { type: string }> {
  #listeners = new Map<string, Set<Listener<E>>>();
  #all = new Set<Listener<E>>();

  on<K extends E['type']>(type: K, fn: (event: Extract<E, { type: K }>) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    const l = fn as unknown as Listener<E>;
    set.add(l);
    return () => set!.delete(l);
  }

  once<K extends E['type']>(type: K, fn: (event: Extract<E, { type: K }>) => void): () => void {
    const off = this.on(type, (e) => { off(); fn(e); });
    return off;
  }

  /** Every event, in order. */
  onAny(fn: (event: E) => void): () => void {
    this.#all.add(fn);
    return () => this.#all.delete(fn);
  }

  protected emit(event: E): void {
    for (const fn of [...(this.#listeners.get(event.type) ?? [])]) {
      try { fn(event); } catch (e) { process.emitWarning(`sip: event listener threw: ${e instanceof Error ? e.message : String(e)}`); }
    }
    for (const fn of [...this.#all]) {
      try { fn(event); } catch (e) { process.emitWarning(`sip: event listener threw: ${e instanceof Error ? e.message : String(e)}`); }
    }
  }

  /** Iterate events until `signal` aborts or `until(event)` returns true (that event is yielded). */
  async *events(signal?: AbortSignal, until?: (e: E) => boolean): AsyncGenerator<E> {
    const queue: E[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const off = this.onAny((e) => { queue.push(e); wake?.(); });
    const onAbort = () => { done = true; wake?.(); };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      while (!done) {
        const e = queue.shift();
        if (e) {
          yield e;
          if (until?.(e)) return;
          continue;
        }
        await new Promise<void>((r) => { wake = r; });
        wake = undefined;
      }
    } finally {
      off();
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
