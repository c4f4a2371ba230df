// A single-consumer async queue: producers push events, one `for await` drains them.
// `end()` finishes iteration after the queued items; `fail(err)` throws after them.

export class EventQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #failWaiter: ((e: unknown) => void) | undefined;
  #ended = false;
  #error: unknown = undefined;
  #iterating = false;

  get ended(): boolean { return this.#ended; }

  push(item: T): void {
    if (this.#ended) return;
    const w = this.#waiter;
    if (w) { this.#waiter = undefined; this.#failWaiter = undefined; w({ value: item, done: false }); }
    else this.#items.push(item);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const w = this.#waiter;
    if (w) { this.#waiter = undefined; this.#failWaiter = undefined; w({ value: undefined, done: true }); }
  }

  /** Ends at once, dropping whatever is still queued (cancellation). */
  discard(): void {
    this.#items = [];
    this.end();
  }

  fail(err: unknown): void {
    if (this.#ended) return;
    this.#error = err;
    this.#ended = true;
    const f = this.#failWaiter;
    if (f) { this.#waiter = undefined; this.#failWaiter = undefined; f(err); }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new Error('EventQueue supports a single consumer');
    this.#iterating = true;
    return {
      next: () => {
        if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift() as T, done: false });
        if (this.#ended) {
          if (this.#error !== undefined) { const e = this.#error; this.#error = undefined; return Promise.reject(e); }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise<IteratorResult<T>>((resolve, reject) => { this.#waiter = resolve; this.#failWaiter = reject; });
      },
      return: () => {
        this.#items = [];
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
