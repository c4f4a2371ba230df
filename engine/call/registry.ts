import type { Call } from './call.js';

/** Live calls by id, for call control and drain. Owned by the CallService (no global state). */
export class CallRegistry {
  readonly #calls = new Map<string, Call>();

  add(call: Call): void {
    this.#calls.set(call.id, call);
  }

  remove(call: Call): void {
    if (this.#calls.get(call.id) === call) this.#calls.delete(call.id);
  }

  get(id: string): Call | undefined {
    return this.#calls.get(id);
  }

  get size(): number {
    return this.#calls.size;
  }

  all(): Call[] {
    return [...this.#calls.values()];
  }
}
