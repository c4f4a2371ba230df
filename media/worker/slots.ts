/**
 * Shared memory between the thread that owns a call (the control plane) and the media worker
 * that plays its audio. One slot of Int32 fields per session, in a SharedArrayBuffer per worker.
 *
 * Why shared memory and not a message: `clear()` is the barge-in path. It must take effect on
 * the very next packet even when the worker's message queue is busy, and it must say exactly how
 * much of each item the caller received. The owner writes `CLEAR_UP_TO` (every item with an
 * ordinal up to it is dropped) and reads what was played under the slot's lock; the worker takes
 * the same lock around "apply clear, take one frame, publish what was played". The lock is held
 * for microseconds (one frame), a futex-style mutex (Drepper's "mutex2") on Atomics.
 */

export const SLOT = {
  LOCK: 0,
  /** Owner -> worker: drop every play item whose ordinal <= this. */
  CLEAR_UP_TO: 1,
  /** Worker -> owner: the highest ordinal played to its end. */
  FINISHED_UP_TO: 2,
  /** Worker -> owner: the ordinal of the item at the head of the queue (0 = none). */
  HEAD: 3,
  /** Worker -> owner: ms of the head item sent so far. */
  HEAD_PLAYED_MS: 4,
  /**
   * Owner -> worker: an armed interruption. When the caller's speech run number ARMED_RUN has
   * lasted ARMED_AFTER_MS since its onset reached the socket, the worker mutes playout by itself
   * (MUTED = 1: silence goes out, the queue stays where it stopped) so a busy owner thread cannot
   * delay the barge-in. The owner's clear() (or disarm) resets both.
   */
  ARMED_RUN: 5,
  ARMED_AFTER_MS: 6,
  MUTED: 7,
} as const;
export const SLOT_INTS = 8;

const UNLOCKED = 0, LOCKED = 1, CONTENDED = 2;

export class SlotTable {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly #a: Int32Array;

  constructor(capacityOrBuffer: number | SharedArrayBuffer) {
    this.buffer = typeof capacityOrBuffer === 'number' ? new SharedArrayBuffer(capacityOrBuffer * SLOT_INTS * 4) : capacityOrBuffer;
    this.#a = new Int32Array(this.buffer);
    this.capacity = this.#a.length / SLOT_INTS;
  }

  get(slot: number, field: number): number { return Atomics.load(this.#a, slot * SLOT_INTS + field); }
  set(slot: number, field: number, value: number): void { Atomics.store(this.#a, slot * SLOT_INTS + field, value); }

  /** Zeroes a slot before a new session uses it (no one else holds it then). */
  reset(slot: number): void {
    for (let f = 0; f < SLOT_INTS; f++) Atomics.store(this.#a, slot * SLOT_INTS + f, 0);
  }

  lock(slot: number): void {
    const a = this.#a, i = slot * SLOT_INTS + SLOT.LOCK;
    let c = Atomics.compareExchange(a, i, UNLOCKED, LOCKED);
    if (c === UNLOCKED) return;
    do {
      if (c === CONTENDED || Atomics.compareExchange(a, i, LOCKED, CONTENDED) !== UNLOCKED) Atomics.wait(a, i, CONTENDED, 5);
    } while ((c = Atomics.compareExchange(a, i, UNLOCKED, CONTENDED)) !== UNLOCKED);
  }

  unlock(slot: number): void {
    const a = this.#a, i = slot * SLOT_INTS + SLOT.LOCK;
    if (Atomics.sub(a, i, 1) !== LOCKED) {
      Atomics.store(a, i, UNLOCKED);
      Atomics.notify(a, i, 1);
    }
  }
}

/** What a session running in a worker uses to honour the owner's clear() and report playout. */
export interface PlayoutControl {
  lock(): void;
  unlock(): void;
  /** Items with an ordinal <= this must be dropped. */
  readonly clearUpTo: number;
  publish(finishedUpTo: number, head: number, headPlayedMs: number): void;
  /** The armed interruption: speech run number (0 = none) and its threshold. */
  readonly armedRun: number;
  readonly armedAfterMs: number;
  readonly muted: boolean;
  mute(): void;
}

export function slotControl(table: SlotTable, slot: number): PlayoutControl {
  return {
    lock: () => table.lock(slot),
    unlock: () => table.unlock(slot),
    get clearUpTo() { return table.get(slot, SLOT.CLEAR_UP_TO); },
    publish: (finishedUpTo, head, headPlayedMs) => {
      table.set(slot, SLOT.FINISHED_UP_TO, finishedUpTo);
      table.set(slot, SLOT.HEAD, head);
      table.set(slot, SLOT.HEAD_PLAYED_MS, headPlayedMs);
    },
    get armedRun() { return table.get(slot, SLOT.ARMED_RUN); },
    get armedAfterMs() { return table.get(slot, SLOT.ARMED_AFTER_MS); },
    get muted() { return table.get(slot, SLOT.MUTED) !== 0; },
    mute: () => { table.set(slot, SLOT.MUTED, 1); table.set(slot, SLOT.ARMED_RUN, 0); },
  };
}
