/**
 * Prometheus metrics (prom-client), served at /metrics on the API port. Counters and histograms
 * are fed by the call layer as things happen; gauges of live state (calls, RTP, pacer, VAD,
 * registrations) are read from the running parts at scrape time.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TurnLatency } from './call/conversation.js';

/** What the metrics read at scrape time (all optional: an API-only engine has none). */
export interface MetricsSources {
  liveCalls?: () => number;
  /** RTP stats of every live call. */
  rtp?: () => { packetsLost: number; jitterMs: number; packetsIn: number; packetsOut: number }[];
  pacer?: () => { ticks: number; lateWakeups: number; skippedTicks: number; maxLateMs: number };
  vad?: () => { windows: number; batches: number; droppedWindows: number; gatedWindows: number };
  /** The worst media worker's event-loop delay p99 (ms) over its last second; null without workers. */
  mediaWorkerLoopP99Ms?: () => number | null;
  registrations?: () => { trunkId: string; name: string; status: string | null }[];
}

const LOOP_RESOLUTION_MS = 10;
const TURN_PARTS = ['endpointing_ms', 'stt_final_ms', 'llm_first_token_ms', 'tts_first_audio_ms', 'engine_overhead_ms', 'first_packet_ms'] as const;

export class EngineMetrics {
  readonly registry = new Registry();
  readonly #loop: IntervalHistogram;
  #sources: MetricsSources = {};
  readonly callsEnded: Counter<'end_reason' | 'direction'>;
  readonly sipMessages: Counter<'direction' | 'kind' | 'code'>;
  readonly turnLatency: Histogram<'part'>;
  readonly bargeIn: Counter<'phase'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'engine_process_' });
    // Samples include the sampling interval itself; it is subtracted when reported.
    this.#loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.#loop.enable();
    const r = this.registry;
    this.callsEnded = new Counter({ name: 'engine_calls_ended_total', help: 'Calls ended, by end reason', labelNames: ['end_reason', 'direction'], registers: [r] });
    this.sipMessages = new Counter({ name: 'engine_sip_messages_total', help: 'SIP messages in and out: requests by method, responses by status code', labelNames: ['direction', 'kind', 'code'], registers: [r] });
    this.turnLatency = new Histogram({
      name: 'engine_turn_latency_ms', help: 'Per-turn latency parts (ms): endpointing, STT final, LLM first token, TTS first audio, engine overhead, caller speech end to first agent packet',
      labelNames: ['part'], buckets: [5, 10, 15, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000], registers: [r],
    });
    this.bargeIn = new Counter({ name: 'engine_barge_in_total', help: 'Barge-in events: interrupt (pacer cleared), confirm (turn given up), resume (false interruption)', labelNames: ['phase'], registers: [r] });
    const src = (): MetricsSources => this.#sources;
    new Gauge({ name: 'engine_active_calls', help: 'Live calls', registers: [r], collect() { this.set(src().liveCalls?.() ?? 0); } });
    new Gauge({ name: 'engine_rtp_packets_lost', help: 'RTP packets lost (RFC 3550 cumulative) summed over live calls', registers: [r], collect() { this.set((src().rtp?.() ?? []).reduce((a, s) => a + s.packetsLost, 0)); } });
    new Gauge({ name: 'engine_rtp_jitter_ms_max', help: 'Largest RFC 3550 interarrival jitter among live calls (ms)', registers: [r], collect() { this.set(Math.max(0, ...(src().rtp?.() ?? []).map((s) => s.jitterMs))); } });
    new Gauge({ name: 'engine_rtp_packets_in', help: 'RTP packets received by live calls', registers: [r], collect() { this.set((src().rtp?.() ?? []).reduce((a, s) => a + s.packetsIn, 0)); } });
    new Gauge({ name: 'engine_rtp_packets_out', help: 'RTP packets sent by live calls', registers: [r], collect() { this.set((src().rtp?.() ?? []).reduce((a, s) => a + s.packetsOut, 0)); } });
    new Gauge({ name: 'engine_pacer_ticks', help: '20 ms media clock ticks since start', registers: [r], collect() { this.set(src().pacer?.().ticks ?? 0); } });
    new Gauge({ name: 'engine_pacer_late_wakeups', help: 'Media clock ticks that started more than 2 ms late', registers: [r], collect() { this.set(src().pacer?.().lateWakeups ?? 0); } });
    new Gauge({ name: 'engine_pacer_skipped_ticks', help: 'Media clock ticks skipped after a stall', registers: [r], collect() { this.set(src().pacer?.().skippedTicks ?? 0); } });
    new Gauge({ name: 'engine_pacer_max_late_ms', help: 'Largest media clock lateness seen (ms)', registers: [r], collect() { this.set(src().pacer?.().maxLateMs ?? 0); } });
    new Gauge({ name: 'engine_media_worker_eventloop_delay_p99_seconds', help: 'Worst media worker thread event-loop delay p99 over its last second (absent without workers)', registers: [r], collect() { const v = src().mediaWorkerLoopP99Ms?.(); if (v !== null && v !== undefined) this.set(v / 1000); } });
    new Gauge({ name: 'engine_vad_windows', help: 'VAD windows inferred', registers: [r], collect() { this.set(src().vad?.().windows ?? 0); } });
    new Gauge({ name: 'engine_vad_batches', help: 'VAD inference calls (windows of many calls batched)', registers: [r], collect() { this.set(src().vad?.().batches ?? 0); } });
    new Gauge({ name: 'engine_vad_gated_windows', help: 'VAD windows below the level gate (VAD_GATE_DBFS): counted as silence without inference', registers: [r], collect() { this.set(src().vad?.().gatedWindows ?? 0); } });
    new Gauge({ name: 'engine_vad_dropped_windows', help: 'VAD windows dropped (overload)', registers: [r], collect() { this.set(src().vad?.().droppedWindows ?? 0); } });
    const loop = this.#loop;
    new Gauge({
      name: 'engine_event_loop_delay_ms', help: 'Event-loop delay (ms) since the last scrape', labelNames: ['quantile'], registers: [r],
      collect() {
        const ms = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
        this.set({ quantile: '0.5' }, ms(loop.percentile(50)));
        this.set({ quantile: '0.99' }, ms(loop.percentile(99)));
        this.set({ quantile: 'max' }, ms(loop.max));
        loop.reset();
      },
    });
    new Gauge({
      name: 'engine_trunk_registered', help: 'Trunk registration state (1 = registered)', labelNames: ['trunk_id', 'trunk', 'status'], registers: [r],
      collect() {
        this.reset();
        for (const t of src().registrations?.() ?? []) this.set({ trunk_id: t.trunkId, trunk: t.name, status: t.status ?? 'none' }, t.status === 'registered' ? 1 : 0);
      },
    });
  }

  setSources(s: MetricsSources): void {
    this.#sources = s;
  }

  turn(l: TurnLatency): void {
    for (const p of TURN_PARTS) {
      const v = l[p];
      if (typeof v === 'number') this.turnLatency.observe({ part: p.replace(/_ms$/, '') }, v);
    }
  }

  /** Counts a SIP message from its first line ("INVITE sip:..." or "SIP/2.0 200 OK"). */
  sip(direction: 'in' | 'out', firstLine: string): void {
    const m = /^SIP\/2\.0 (\d{3})/.exec(firstLine);
    if (m) this.sipMessages.inc({ direction, kind: 'response', code: m[1] as string });
    else this.sipMessages.inc({ direction, kind: 'request', code: firstLine.split(' ')[0] ?? 'unknown' });
  }

  close(): void {
    this.#loop.disable();
  }
}
