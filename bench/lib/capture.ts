/**
 * Kernel timestamps of packets on the loopback interface (dumpcap), decoded by tshark: what a
 * peer's NIC would see, independent of any process's event loop. Used for time to first audio
 * (ACK -> first RTP packet) and for the pacing of the agent's RTP under load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class CaptureError extends Error {
  readonly code: 'DUMPCAP_FAILED' | 'TSHARK_FAILED';
  constructor(code: 'DUMPCAP_FAILED' | 'TSHARK_FAILED', message: string) {
    super(message);
    this.name = 'CaptureError';
    this.code = code;
  }
}

export interface RtpPacket {
  /** Kernel timestamp, ms since the epoch (microsecond resolution). */
  readonly t: number;
  readonly src: number;
  readonly dst: number;
  readonly seq: number;
  readonly ts: number;
  readonly ssrc: number;
  readonly marker: boolean;
  /** Peak |sample| of a G.711 payload (PCMU/PCMA), when decoded with `{ payload: true }`. */
  readonly peak?: number;
}

export interface SipPacket {
  readonly t: number;
  readonly method: string | null;
  readonly status: number | null;
  readonly callId: string;
  readonly cseqMethod: string;
}

export interface Capture {
  /** Stops dumpcap; returns the file (call `rtp()` / `sip()` to decode, `dispose()` when done). */
  stop(): Promise<void>;
  rtp(opts?: { payload?: boolean }): RtpPacket[];
  sip(sipPort: number): SipPacket[];
  dispose(): void;
}

/** Starts dumpcap on `lo` with a BPF `filter`; resolves once it is capturing. */
export async function startCapture(filter: string, bufferMb = 256): Promise<Capture> {
  const file = join(tmpdir(), `bench-${process.pid}-${Date.now()}.pcapng`);
  const p = spawn('dumpcap', ['-i', 'lo', '-f', filter, '-B', String(bufferMb), '-q', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const ok = await new Promise<boolean>((res) => {
    p.on('error', () => res(false));
    p.stderr!.on('data', (d) => { err += String(d); if (err.includes('Capturing on')) res(true); });
    p.on('exit', () => res(false));
    setTimeout(() => res(err.includes('Capturing on')), 5000);
  });
  if (!ok) {
    p.kill();
    throw new CaptureError('DUMPCAP_FAILED', `dumpcap could not capture on lo: ${err.trim() || 'no output'} (needs CAP_NET_RAW or root)`);
  }
  let stopped: Promise<void> | null = null;
  const fields = (args: string[]): string[][] => {
    const out = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=\t', ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (out.status !== 0) throw new CaptureError('TSHARK_FAILED', `tshark failed: ${out.stderr}`);
    return out.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
  };
  return {
    stop() {
      stopped ??= new Promise<void>((r) => {
        if (p.exitCode !== null) return r();
        p.once('exit', () => r());
        p.kill('SIGINT');
      });
      return stopped;
    },
    rtp(opts = {}) {
      const rows = fields(['-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp && !rtcp', '-e', 'frame.time_epoch', '-e', 'udp.srcport', '-e', 'udp.dstport',
        '-e', 'rtp.seq', '-e', 'rtp.timestamp', '-e', 'rtp.ssrc', '-e', 'rtp.marker', '-e', 'rtp.p_type', ...(opts.payload ? ['-e', 'rtp.payload'] : [])]);
      return rows.map((r) => ({
        t: Number(r[0]) * 1000, src: Number(r[1]), dst: Number(r[2]), seq: Number(r[3]), ts: Number(r[4]),
        ssrc: Number(r[5]), marker: r[6] === '1' || r[6] === 'True',
        ...(opts.payload ? { peak: g711Peak(r[8] ?? '', Number(r[7]) === 8 ? 'alaw' : 'ulaw') } : {}),
      }));
    },
    sip(sipPort: number) {
      const rows = fields(['-d', `udp.port==${sipPort},sip`, '-Y', 'sip', '-e', 'frame.time_epoch', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'sip.Call-ID', '-e', 'sip.CSeq.method']);
      return rows.map((r) => ({
        t: Number(r[0]) * 1000, method: r[1] || null, status: r[2] ? Number(r[2]) : null, callId: r[3] ?? '', cseqMethod: r[4] ?? '',
      }));
    },
    dispose() {
      rmSync(file, { force: true });
    },
  };
}

function ulaw(b: number): number {
  const u = ~b & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}
function alaw(b: number): number {
  const a = b ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = seg === 0 ? t + 8 : seg === 1 ? t + 0x108 : (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** Peak |sample| of a hex G.711 payload as tshark prints it ("ff:fe:..." or "fffe..."). */
export function g711Peak(hex: string, law: 'ulaw' | 'alaw'): number {
  const h = hex.replace(/:/g, '');
  let peak = 0;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const b = parseInt(h.slice(i, i + 2), 16);
    const v = Math.abs(law === 'ulaw' ? ulaw(b) : alaw(b));
    if (v > peak) peak = v;
  }
  return peak;
}

export interface StreamPacing {
  /** |inter-arrival - ptime| for consecutive packets (same SSRC, seq + 1), ms. */
  readonly deviations: number[];
  readonly packets: number;
  readonly streams: number;
  /** Sequence numbers missing inside streams as seen on the wire (the sender never sent them). */
  readonly seqGaps: number;
  /** Consecutive packets whose RTP timestamps are not one ptime apart (frames skipped by a late sender). */
  readonly tsJumps: number;
}

/**
 * Pacing per RTP stream (grouped by destination port + SSRC). The engine sends one packet per
 * 20 ms tick for the whole call (silence included), so every consecutive pair should arrive
 * `ptimeMs` apart.
 */
export function rtpPacing(packets: readonly RtpPacket[], ptimeMs = 20, clockRate = 8000): StreamPacing {
  const streams = new Map<string, RtpPacket[]>();
  for (const p of packets) {
    const k = `${p.dst}/${p.ssrc}`;
    let a = streams.get(k);
    if (!a) { a = []; streams.set(k, a); }
    a.push(p);
  }
  const deviations: number[] = [];
  let seqGaps = 0, tsJumps = 0;
  const step = (ptimeMs * clockRate) / 1000;
  for (const a of streams.values()) {
    for (let i = 1; i < a.length; i++) {
      const x = a[i - 1]!, y = a[i]!;
      const dseq = (y.seq - x.seq + 65536) % 65536;
      if (dseq === 0 || dseq > 30000) continue; // duplicate or reordered
      if (dseq > 1) { seqGaps += dseq - 1; continue; }
      if (((y.ts - x.ts + 2 ** 32) % 2 ** 32) !== step) tsJumps++;
      deviations.push(Math.abs(y.t - x.t - ptimeMs));
    }
  }
  return { deviations, packets: packets.length, streams: streams.size, seqGaps, tsJumps };
}
