/**
 * A media worker thread: an in-thread MediaEngine (its own 20 ms clock, resampler and Silero VAD)
 * whose sessions are driven by the owner thread's messages. Events of all sessions go back in one
 * message per tick; clear() and the playout position go through the shared slots.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { MediaEngine } from '../engine.js';
import type { LocalMediaSession } from '../session.js';
import type { MediaEvent } from '../types.js';
import type { VadEngine } from '../vad/types.js';
import type { FromWorker, MediaThreadPriority, PriorityResult, ToWorker, VadCounters, WireError, WorkerSetup } from './protocol.js';
import { SlotTable, slotControl } from './slots.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const post = (m: FromWorker): void => port.postMessage(m);

function wireError(err: unknown): WireError {
  const e = err as { code?: unknown; message?: unknown };
  return { code: typeof e?.code === 'string' ? e.code : 'WORKER_ERROR', message: typeof e?.message === 'string' ? e.message : String(err) };
}

let pending: (readonly [number, MediaEvent])[] = [];
let flushScheduled = false;
function flush(): void {
  flushScheduled = false;
  if (!pending.length) return;
  const batch = pending;
  pending = [];
  post({ type: 'events', batch });
}
function queueEvent(slot: number, ev: MediaEvent): void {
  pending.push([slot, ev]);
  if (!flushScheduled) { flushScheduled = true; setImmediate(flush); }
}
/** Replies go after the events that preceded them (a close reply after its `closed` event). */
function reply(rid: number, error: WireError | null): void {
  flush();
  post({ type: 'reply', rid, error });
}

/**
 * Raises this thread (not the process) above the control plane, as media servers do: under CPU
 * contention the 20 ms deadlines then win over provider sockets and JSON. Linux: the thread id
 * from /proc/thread-self, setpriority(2) on it. Without CAP_SYS_NICE this fails and is reported.
 */
function raisePriority(wanted: MediaThreadPriority): PriorityResult {
  let tid: number | null = null;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) tid = null;
  } catch {
    tid = null;
  }
  if (wanted === 'normal') return { applied: 'normal', error: null, tid };
  if (tid === null) return { applied: 'normal', error: 'thread priorities need Linux (/proc/thread-self)', tid };
  try {
    setPriority(tid, -10);
  } catch (err) {
    return { applied: 'normal', error: `nice -10: ${(err as Error).message}`, tid };
  }
  if (wanted === 'high') return { applied: 'high', error: null, tid };
  try {
    execFileSync('chrt', ['--fifo', '--pid', '10', String(tid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { applied: 'realtime', error: null, tid };
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    return { applied: 'high', error: `SCHED_FIFO (chrt): ${stderr || (err as Error).message}`, tid };
  }
}

async function main(): Promise<void> {
  let vad: (VadEngine & { stats?: () => VadCounters }) | undefined;
  if (setup.vad === 'silero') {
    const { createSileroVad } = await import('../vad/index.js');
    vad = await createSileroVad(setup.options.vadGateDbfs !== undefined ? { gateDbfs: setup.options.vadGateDbfs } : {});
  }
  const engine = new MediaEngine();
  await engine.start({ ...setup.options, ...(vad ? { vad } : {}) });
  const table = new SlotTable(setup.slots);
  const sessions = new Map<number, LocalMediaSession>();
  // The histogram holds whole timer intervals (>= the resolution): the delay is the excess.
  const RESOLUTION_MS = 10;
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  const health = setInterval(() => {
    const s = engine.stats();
    post({ type: 'health', health: { sessions: sessions.size, clock: s.clock, vad: s.vad, loopDelayP99Ms: Math.max(0, loop.percentile(99) / 1e6 - RESOLUTION_MS) } });
    loop.reset();
  }, setup.healthIntervalMs);
  health.unref();

  /** A command for a session that is gone or throws: reported as that session's `error` event. */
  const onSession = (slot: number, fn: (s: LocalMediaSession) => void): void => {
    const s = sessions.get(slot);
    if (!s) return;
    try { fn(s); } catch (err) { const e = wireError(err); queueEvent(slot, { type: 'error', code: e.code, message: e.message }); }
  };

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'open':
        table.reset(m.slot);
        engine.openLocal(m.port, m.opts, { control: slotControl(table, m.slot), ssrc: m.ssrc, onClosed: () => sessions.delete(m.slot) }).then((s) => {
          sessions.set(m.slot, s);
          s.on((ev) => queueEvent(m.slot, ev));
          reply(m.rid, null);
        }, (err: unknown) => reply(m.rid, wireError(err)));
        return;
      case 'set-remote': onSession(m.slot, (s) => s.setRemote(m.remote)); return;
      case 'play': onSession(m.slot, (s) => s.enqueue(m.item, m.ordinal)); return;
      case 'send-dtmf': onSession(m.slot, (s) => s.sendDtmf(m.digit, m.durationMs)); return;
      case 'inject-dtmf': onSession(m.slot, (s) => s.injectDtmf(m.digit, m.durationMs)); return;
      case 'start-recording':
      case 'stop-recording':
      case 'close': {
        const s = sessions.get(m.slot);
        if (!s) { reply(m.rid, m.type === 'start-recording' ? { code: 'CLOSED', message: 'media session is closed' } : null); return; }
        const op = m.type === 'start-recording' ? s.startRecording(m.path) : m.type === 'stop-recording' ? s.stopRecording() : s.close();
        op.then(() => reply(m.rid, null), (err: unknown) => reply(m.rid, wireError(err)));
        return;
      }
      case 'shutdown':
        clearInterval(health);
        engine.close().then(() => reply(m.rid, null), (err: unknown) => reply(m.rid, wireError(err)));
        return;
    }
  });
  post({ type: 'ready', priority: raisePriority(setup.priority) });
}

main().catch((err: unknown) => post({ type: 'init-error', error: wireError(err) }));
