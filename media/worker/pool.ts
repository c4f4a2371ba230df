/**
 * The owner side of the media workers: starts them, places each new session on the least loaded
 * one, routes commands out and event batches back to the `RemoteMediaSession`s.
 */
import type { Worker } from 'node:worker_threads';
import type { ClockStats } from '../clock.js';
import { MediaError } from '../errors.js';
import type { MediaErrorCode } from '../errors.js';
import { awaitWorkerStart, startModuleWorker } from '../threads.js';
import type { MediaSession, SessionOptions } from '../types.js';
import type { FromWorker, MediaThreadPriority, PriorityResult, ToWorker, VadCounters, WireError, WorkerEngineOptions, WorkerHealth } from './protocol.js';
import { RemoteMediaSession } from './remote-session.js';
import { SlotTable } from './slots.js';

type WithoutRid<T> = T extends unknown ? Omit<T, 'rid'> : never;

const SLOTS_PER_WORKER = 8192;
const HEALTH_MS = 1000;

function mediaError(e: WireError): Error {
  const err = new MediaError(e.code as MediaErrorCode, e.message);
  // Bind failures keep their errno code so the port allocator skips a taken pair.
  return e.code === 'EADDRINUSE' || e.code === 'EACCES' ? Object.assign(new Error(e.message), { code: e.code }) : err;
}

/** One worker thread, as seen from the owner. */
export class WorkerLink {
  readonly index: number;
  readonly table: SlotTable;
  readonly priority: PriorityResult;
  readonly #worker: Worker;
  readonly #sessions = new Map<number, RemoteMediaSession>();
  readonly #freeSlots: number[] = [];
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #nextRid = 1;
  #health: WorkerHealth | null = null;
  #failed: Error | null = null;
  #closing = false;

  private constructor(index: number, worker: Worker, table: SlotTable, priority: PriorityResult) {
    this.index = index;
    this.priority = priority;
    this.#worker = worker;
    this.table = table;
    for (let s = table.capacity - 1; s >= 0; s--) this.#freeSlots.push(s);
    worker.on('message', (m: FromWorker) => this.#onMessage(m));
    worker.on('error', (err) => this.#fail(new MediaError('WORKER_FAILED', `media worker ${index} crashed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => { if (!this.#closing) this.#fail(new MediaError('WORKER_FAILED', `media worker ${index} exited with code ${code}`)); });
    worker.unref();
  }

  static start(index: number, options: WorkerEngineOptions, vad: 'silero' | 'none', priority: MediaThreadPriority): Promise<WorkerLink> {
    const table = new SlotTable(SLOTS_PER_WORKER);
    const worker = startModuleWorker(import.meta.url, './media-worker', { index, options, vad, slots: table.buffer, healthIntervalMs: HEALTH_MS, priority });
    return awaitWorkerStart<FromWorker, WorkerLink>(worker,
      (m) => (m.type === 'ready' ? new WorkerLink(index, worker, table, m.priority)
        : m.type === 'init-error' ? new MediaError('WORKER_FAILED', `media worker ${index} failed to start: ${m.error.message}`) : undefined),
      (reason, cause) => new MediaError('WORKER_FAILED', `media worker ${index} ${reason}`, cause ? { cause } : undefined));
  }

  get load(): number { return this.#sessions.size; }
  get health(): WorkerHealth | null { return this.#health; }
  get failed(): boolean { return this.#failed !== null; }

  post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (this.#failed) return;
    this.#worker.postMessage(m, transfer);
  }

  /** A command with a reply (`rid` is filled in here). */
  request(m: WithoutRid<Extract<ToWorker, { rid: number }>>): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const rid = this.#nextRid++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(rid, { resolve, reject });
      this.#keepAlive();
      this.#worker.postMessage({ ...m, rid });
    });
  }

  async open(o: { id: string; rtpPort: number; opts: SessionOptions; onClosed: (s: MediaSession) => void }, localAddress: string): Promise<RemoteMediaSession> {
    const slot = this.#freeSlots.pop();
    if (slot === undefined) throw new MediaError('PORTS_EXHAUSTED', `media worker ${this.index} has no free session slot`);
    const ssrc = (Math.random() * 0x1_0000_0000) >>> 0;
    const session = new RemoteMediaSession({
      link: this, slot, id: o.id, localAddress, rtpPort: o.rtpPort, ssrc,
      onClosed: (s) => { this.#sessions.delete(slot); this.#freeSlots.push(slot); this.#keepAlive(); o.onClosed(s); },
    });
    this.#sessions.set(slot, session);
    try {
      await this.request({ type: 'open', slot, port: o.rtpPort, ssrc, opts: { ...o.opts, id: o.id } });
    } catch (err) {
      this.#sessions.delete(slot);
      this.#freeSlots.push(slot);
      this.#keepAlive();
      throw err;
    }
    return session;
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (!this.#failed) await this.request({ type: 'shutdown' }).catch(() => undefined);
    await this.#worker.terminate();
  }

  /** Like sessions in this thread (the clock's timer), live sessions and requests keep the process up. */
  #keepAlive(): void {
    if (this.#pending.size > 0 || this.#sessions.size > 0) this.#worker.ref(); else this.#worker.unref();
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'events':
        for (const [slot, ev] of m.batch) this.#sessions.get(slot)?.deliver(ev);
        return;
      case 'reply': {
        const p = this.#pending.get(m.rid);
        if (!p) return;
        this.#pending.delete(m.rid);
        this.#keepAlive();
        if (m.error) p.reject(mediaError(m.error)); else p.resolve();
        return;
      }
      case 'health':
        this.#health = m.health;
        return;
      default:
        return;
    }
  }

  /** The worker died: every session on it reports the failure and closes; later commands fail. */
  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    for (const s of [...this.#sessions.values()]) s.fail(err);
  }
}

export class MediaWorkerPool {
  readonly #links: WorkerLink[];
  readonly #localAddress: string;

  private constructor(links: WorkerLink[], localAddress: string) {
    this.#links = links;
    this.#localAddress = localAddress;
  }

  static async start(n: number, options: WorkerEngineOptions, vad: 'silero' | 'none', priority: MediaThreadPriority): Promise<MediaWorkerPool> {
    const started = await Promise.allSettled(Array.from({ length: n }, (_, i) => WorkerLink.start(i, options, vad, priority)));
    const links = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await Promise.allSettled(links.map((l) => l.close()));
      throw failure.reason;
    }
    return new MediaWorkerPool(links, options.bindAddress ?? '0.0.0.0');
  }

  get size(): number { return this.#links.length; }
  /** Per worker: the priority its thread runs at, and why the requested one failed (if it did). */
  get priorities(): PriorityResult[] { return this.#links.map((l) => l.priority); }

  /** Opens the session on the least loaded live worker. */
  open(o: { id: string; rtpPort: number; opts: SessionOptions; onClosed: (s: MediaSession) => void }): Promise<RemoteMediaSession> {
    let best: WorkerLink | null = null;
    for (const l of this.#links) if (!l.failed && (!best || l.load < best.load)) best = l;
    if (!best) return Promise.reject(new MediaError('WORKER_FAILED', 'no live media worker'));
    return best.open(o, this.#localAddress);
  }

  stats(): { clock: ClockStats; vad: VadCounters; workers: number; workerLoopDelayP99Ms: number | null } {
    const clock = { ticks: 0, lateWakeups: 0, skippedTicks: 0, maxLateMs: 0, listenerErrors: 0 };
    const vad = { windows: 0, batches: 0, droppedWindows: 0, gatedWindows: 0 };
    let loop: number | null = null;
    for (const l of this.#links) {
      const h = l.health;
      if (!h) continue;
      clock.ticks += h.clock.ticks; clock.lateWakeups += h.clock.lateWakeups; clock.skippedTicks += h.clock.skippedTicks;
      clock.listenerErrors += h.clock.listenerErrors; clock.maxLateMs = Math.max(clock.maxLateMs, h.clock.maxLateMs);
      vad.windows += h.vad.windows; vad.batches += h.vad.batches; vad.droppedWindows += h.vad.droppedWindows; vad.gatedWindows += h.vad.gatedWindows;
      loop = Math.max(loop ?? 0, h.loopDelayP99Ms);
    }
    return { clock, vad, workers: this.#links.length, workerLoopDelayP99Ms: loop };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#links.map((l) => l.close()));
  }
}
