import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav } from '../../../media/index.js';
import type { MediaEngine } from '../../../media/index.js';
import { createSileroVad } from '../../../media/vad/index.js';
import { EnergyVadEngine } from '../../fixtures/media/energy-vad.js';
import { segmentCorrelation, collectAudio, concat, connect, delay, startEngine, waitFor } from '../../fixtures/media/helpers.js';

function run(cmd: string, args: string[]): void {
  try { execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] }); }
  catch (err) { throw new Error(`${cmd} is required (apt-get install espeak-ng sox): ${(err as Error).message}`); }
}

describe('espeak-ng speech through G.722 and PCMU sessions, VAD boundaries', () => {
  let engine: MediaEngine;
  let silero: MediaEngine;
  let dir: string;
  let speech16: Int16Array;
  let speech8: Int16Array;
  before(async () => {
    engine = await startEngine({ vad: new EnergyVadEngine(), vadConfig: { minSilenceMs: 500, minSpeechMs: 100 } });
    silero = await startEngine({ vad: await createSileroVad(), vadConfig: { minSilenceMs: 500, minSpeechMs: 100 } });
    dir = mkdtempSync(join(tmpdir(), 'speech-'));
    run('espeak-ng', ['-v', 'en', '-s', '160', '-w', join(dir, 'raw.wav'), 'Hello, thank you for calling. How can I help you today?']);
    run('sox', [join(dir, 'raw.wav'), '-r', '16000', '-c', '1', '-b', '16', join(dir, 's16.wav')]);
    run('sox', [join(dir, 'raw.wav'), '-r', '8000', '-c', '1', '-b', '16', join(dir, 's8.wav')]);
    speech16 = parseWav(readFileSync(join(dir, 's16.wav'))).channels[0]!;
    speech8 = parseWav(readFileSync(join(dir, 's8.wav'))).channels[0]!;
  });
  after(async () => { await engine.close(); await silero.close(); rmSync(dir, { recursive: true, force: true }); });

  for (const [name, pt, rate, detector] of [['G722', 9, 16000, 'energy'], ['PCMU', 0, 8000, 'energy'], ['PCMU', 0, 8000, 'silero'], ['G722', 9, 16000, 'silero']] as const) {
    test(`${name} + ${detector} VAD: received speech correlates with what was sent; speech-start/end bracket it`, async (t) => {
      const e = detector === 'silero' ? silero : engine;
      const a = await e.createSession();
      const b = await e.createSession();
      connect(a, b, { name, payloadType: pt, clockRate: 8000 });
      const rx = collectAudio(b);
      const vad: { type: string; atMs: number }[] = [];
      let onsetMs = -1, endMs = -1;
      b.on((ev) => {
        if (ev.type === 'speech-start' || ev.type === 'speech-end') vad.push({ type: ev.type, atMs: ev.atMs });
        if (ev.type === 'audio') {
          const first = ev.pcm.findIndex((x) => Math.abs(x) > 300);
          if (first >= 0 && onsetMs < 0) onsetMs = ev.atMs + (first * 1000) / ev.sampleRate;
          let last = ev.pcm.length - 1;
          while (last >= 0 && Math.abs(ev.pcm[last]!) <= 300) last--;
          if (last >= 0) endMs = ev.atMs + ((last + 1) * 1000) / ev.sampleRate;
        }
      });
      const src = rate === 16000 ? speech16 : speech8;
      a.play({ id: 'lead', format: 'pcm16', sampleRate: rate, samples: new Int16Array(rate / 2) });
      a.play({ id: 'speech', format: 'pcm16', sampleRate: 16000, samples: speech16 });
      await waitFor(a, 'played', (e) => e.id === 'speech', 15_000);
      await waitFor(b, 'speech-end', () => true, 5000);
      await delay(200);
      rx.stop();
      const got = concat(rx.pcm);
      const onset = got.findIndex((x) => Math.abs(x) > 300);
      const srcOnset = src.findIndex((x) => Math.abs(x) > 300);
      const corr = segmentCorrelation(src.subarray(srcOnset), got.subarray(Math.max(0, onset - 200)), rate);
      const st = b.getStats();
      const why = `jitter buffer ${JSON.stringify(st.jitterBuffer)}, skipped ticks ${st.skippedTicks}, late ${st.lateWakeups}`;
      assert.ok(corr > (name === 'G722' ? 0.9 : 0.85), `${name} correlation ${corr.toFixed(3)}; ${why}`);
      // VAD: one utterance; start near the onset, end near the last loud sample (energy VAD, 32 ms windows).
      const starts = vad.filter((v) => v.type === 'speech-start');
      const ends = vad.filter((v) => v.type === 'speech-end');
      assert.ok(starts.length >= 1 && ends.length === starts.length, JSON.stringify(vad));
      t.diagnostic(`median segment correlation ${corr.toFixed(3)}; onset ${onsetMs} ms, speech-start ${starts[0]!.atMs}; end ${endMs}, speech-end ${ends.at(-1)!.atMs}`);
      assert.ok(Math.abs(starts[0]!.atMs - onsetMs) <= 150, `speech-start ${starts[0]!.atMs} vs onset ${onsetMs}`);
      assert.ok(Math.abs(ends.at(-1)!.atMs - endMs) <= 250, `speech-end ${ends.at(-1)!.atMs} vs end ${endMs}`);
      await Promise.all([a.close(), b.close()]);
    });
  }
});
