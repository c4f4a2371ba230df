/**
 * The call timeline: what the test caller saw and did, in order, in milliseconds on the CALL
 * CLOCK (0 = the 200 OK arrived, or for answered calls the ACK; earlier events are negative).
 *
 * Exactness (see README.md):
 * - `caller-speech-*`: the moment our media tick handed the packet to the socket (exact to the
 *   tick, sub-millisecond). `start` = the first packet of the clip carrying speech, `end` = the
 *   last one.
 * - `agent-speech-*`: the estimated ARRIVAL time of the first/last packet whose audio the detector
 *   found active (the frame's hand-out time minus the jitter buffer's measured holding time).
 */

export type ClipKind = 'speech' | 'noise';

export type TimelineEvent =
  | { readonly type: 'invite'; readonly ms: number; readonly to: string }
  /** We were called (answerNext). */
  | { readonly type: 'incoming'; readonly ms: number; readonly from: string; readonly to: string }
  | { readonly type: 'progress'; readonly ms: number; readonly status: number; readonly reason: string }
  | { readonly type: 'answered'; readonly ms: number; readonly codec: string }
  | { readonly type: 'caller-speech-start'; readonly ms: number; readonly clip: string; readonly kind: ClipKind }
  /** `cut`: the clip was stopped (stopSpeaking, hangup) before its last speech packet. */
  | { readonly type: 'caller-speech-end'; readonly ms: number; readonly clip: string; readonly kind: ClipKind; readonly cut: boolean }
  | { readonly type: 'agent-speech-start'; readonly ms: number }
  | { readonly type: 'agent-speech-end'; readonly ms: number; readonly startMs: number }
  | { readonly type: 'dtmf-sent'; readonly ms: number; readonly digit: string; readonly method: 'rfc4733' | 'info' }
  | { readonly type: 'dtmf-received'; readonly ms: number; readonly digit: string; readonly source: 'rfc4733' | 'sip-info' }
  | { readonly type: 'reinvite'; readonly ms: number; readonly hold: boolean }
  | { readonly type: 'rtp-timeout'; readonly ms: number; readonly silentMs: number }
  | { readonly type: 'bye'; readonly ms: number; readonly by: HangupBy };

export type TimelineEventType = TimelineEvent['type'];

/** Who ended the call: us (`hangup()`/`close()`), the far end (BYE), or a SIP failure (session timer, no ACK). */
export type HangupBy = 'caller' | 'remote' | 'error';

export interface ResponseLatency {
  /** The caller clip whose last speech packet starts the measurement. */
  readonly clip: string;
  readonly callerEndMs: number;
  readonly agentStartMs: number;
  readonly latencyMs: number;
}

/**
 * Caller's last speech packet → the agent's first speech packet after it, for every caller clip
 * of kind `speech` the agent answered before the caller spoke again.
 */
export function responseLatencies(events: readonly TimelineEvent[]): ResponseLatency[] {
  const out: ResponseLatency[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type !== 'caller-speech-end' || e.kind !== 'speech') continue;
    for (let j = i + 1; j < events.length; j++) {
      const f = events[j]!;
      if (f.type === 'caller-speech-start') break;
      if (f.type === 'agent-speech-start' && f.ms >= e.ms) {
        out.push({ clip: e.clip, callerEndMs: e.ms, agentStartMs: f.ms, latencyMs: round1(f.ms - e.ms) });
        break;
      }
    }
  }
  return out;
}

export interface BargeIn {
  readonly clip: string;
  readonly kind: ClipKind;
  /** Caller speech onset (first speech packet sent) while the agent was speaking. */
  readonly callerStartMs: number;
  /** The agent's last speech packet of the interrupted segment. */
  readonly agentEndMs: number | null;
  /** agentEndMs - callerStartMs; null when the agent never stopped within the timeline. */
  readonly reactionMs: number | null;
}

/**
 * Caller speech onsets that fell inside an agent speech segment: how long the agent went on
 * talking (caller onset → the agent's last speech packet of that segment).
 */
export function bargeIns(events: readonly TimelineEvent[]): BargeIn[] {
  const segments = agentSegments(events);
  const out: BargeIn[] = [];
  for (const e of events) {
    if (e.type !== 'caller-speech-start') continue;
    const seg = segments.find((s) => s.startMs <= e.ms && (s.endMs === null || s.endMs >= e.ms));
    if (!seg) continue;
    out.push({
      clip: e.clip, kind: e.kind, callerStartMs: e.ms, agentEndMs: seg.endMs,
      reactionMs: seg.endMs === null ? null : round1(seg.endMs - e.ms),
    });
  }
  return out;
}

/** Agent speech segments from a timeline (the last one has `endMs: null` if still open). */
export function agentSegments(events: readonly TimelineEvent[]): { startMs: number; endMs: number | null }[] {
  const out: { startMs: number; endMs: number | null }[] = [];
  for (const e of events) {
    if (e.type === 'agent-speech-start') out.push({ startMs: e.ms, endMs: null });
    else if (e.type === 'agent-speech-end') {
      const open = out[out.length - 1];
      if (open && open.endMs === null) open.endMs = e.ms;
    }
  }
  return out;
}

function describe(e: TimelineEvent): string {
  switch (e.type) {
    case 'invite': return `INVITE ${e.to}`;
    case 'incoming': return `INVITE from ${e.from} to ${e.to}`;
    case 'progress': return `${e.status} ${e.reason}`;
    case 'answered': return `answered (${e.codec})`;
    case 'caller-speech-start': return `caller ${e.kind} starts: ${e.clip}`;
    case 'caller-speech-end': return `caller ${e.kind} ends${e.cut ? ' (cut)' : ''}: ${e.clip}`;
    case 'agent-speech-start': return 'agent speech starts';
    case 'agent-speech-end': return `agent speech ends (${Math.round(e.ms - e.startMs)} ms)`;
    case 'dtmf-sent': return `DTMF ${e.digit} sent (${e.method})`;
    case 'dtmf-received': return `DTMF ${e.digit} received (${e.source})`;
    case 'reinvite': return `re-INVITE${e.hold ? ' (hold)' : ''}`;
    case 'rtp-timeout': return `no RTP for ${e.silentMs} ms`;
    case 'bye': return `BYE by ${e.by}`;
  }
}

/** One line per event: `   +1234.5 ms  agent speech starts`. For the demo and failing tests. */
export function formatTimeline(events: readonly TimelineEvent[]): string {
  return events.map((e) => `${(e.ms >= 0 ? '+' : '') + e.ms.toFixed(1)}`.padStart(10) + ' ms  ' + describe(e)).join('\n');
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
}

/** p50/p95 (nearest rank), max and mean of latencies gathered over many calls (for bench/). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, p50: NaN, p95: NaN, max: NaN, mean: NaN };
  const v = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))]!;
  return { n: v.length, p50: round1(rank(0.5)), p95: round1(rank(0.95)), max: round1(v[v.length - 1]!), mean: round1(v.reduce((a, b) => a + b, 0) / v.length) };
}
