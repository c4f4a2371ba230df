import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { RtpEngineAnchor } from '../../../media/index.js';
import type { MediaEngine, MediaSession } from '../../../media/index.js';
import { collectAudio, concat, delay, loudPart, sine, startEngine, medianToneSnrDb, waitFor } from '../../fixtures/media/helpers.js';

function sdp(port: number, codecs: { pt: number; name: string }[]): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP ${codecs.map((c) => c.pt).join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${c.pt} ${c.name}/8000`), 'a=sendrecv', ''].join('\r\n');
}
function media(s: string): { address: string; port: number; pts: number[] } {
  const c = /c=IN IP4 (\S+)/.exec(s), m = /m=audio (\d+) RTP\/AVP ([\d ]+)/.exec(s);
  assert.ok(c && m, `SDP without c=/m=: ${s}`);
  return { address: c[1]!, port: Number(m[1]), pts: m[2]!.trim().split(' ').map(Number) };
}

describe('rtpengine anchor (real rtpengine daemon, ng protocol)', () => {
  let engine: MediaEngine;
  let daemon: ChildProcess;
  let anchor: RtpEngineAnchor;
  let log = '';
  before(async () => {
    engine = await startEngine();
    const ng = 20000 + Math.floor(Math.random() * 10000);
    const portMin = 40000 + 2 * Math.floor(Math.random() * 5000);
    daemon = spawn('rtpengine', ['--config-file=none', '--table=-1', '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ng}`,
      `--port-min=${portMin}`, `--port-max=${portMin + 5000}`, '--foreground', '--log-stderr', '--log-level=5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stderr!.on('data', (d) => { log += String(d); });
    daemon.on('error', (err) => { throw new Error(`cannot run rtpengine (apt-get install rtpengine-daemon): ${err.message}`); });
    anchor = new RtpEngineAnchor({ host: '127.0.0.1', port: ng, timeoutMs: 1000 });
    for (let i = 0; ; i++) {
      try { await anchor.start(); break; } catch (err) {
        if (i > 40) throw new Error(`rtpengine did not answer: ${(err as Error).message}\n${log}`);
        anchor.close();
        anchor = new RtpEngineAnchor({ host: '127.0.0.1', port: ng, timeoutMs: 500 });
        await delay(250);
      }
    }
  });
  after(async () => {
    anchor.close();
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    await engine.close();
  });

  async function bridge(carrier: MediaSession, ours: MediaSession, offerCodecs: { pt: number; name: string }[], answerCodec: { pt: number; name: string }, transcode?: string[]) {
    const callId = `call-${Math.random()}`;
    const offer = await anchor.offer({ callId, fromTag: 'carrier', sdp: sdp(carrier.rtpPort, offerCodecs), replace: ['origin', 'session-connection'], flags: ['trust-address'], ...(transcode ? { codec: { transcode } } : {}) });
    const toUs = media(offer.sdp);
    assert.notEqual(toUs.port, carrier.rtpPort, 'rtpengine put itself in the path');
    if (transcode) for (const t of transcode) assert.ok(offer.sdp.includes(`${t}/8000`), `offer carries ${t}: ${offer.sdp}`);
    const answer = await anchor.answer({ callId, fromTag: 'carrier', toTag: 'engine', sdp: sdp(ours.rtpPort, [answerCodec]), replace: ['origin', 'session-connection'], flags: ['trust-address'] });
    const toCarrier = media(answer.sdp);
    const carrierCodec = offerCodecs.find((c) => c.pt === toCarrier.pts[0])!;
    ours.setRemote({ address: toUs.address, port: toUs.port, codec: { name: answerCodec.name, payloadType: answerCodec.pt, clockRate: 8000 }, direction: 'sendrecv' });
    carrier.setRemote({ address: toCarrier.address, port: toCarrier.port, codec: { name: carrierCodec.name, payloadType: carrierCodec.pt, clockRate: 8000 }, direction: 'sendrecv' });
    return callId;
  }

  test('relays PCMU both ways through rtpengine', async () => {
    const carrier = await engine.createSession();
    const ours = await engine.createSession();
    const callId = await bridge(carrier, ours, [{ pt: 0, name: 'PCMU' }], { pt: 0, name: 'PCMU' });
    const rxOurs = collectAudio(ours), rxCarrier = collectAudio(carrier);
    carrier.play({ id: 'c', format: 'pcm16', sampleRate: 8000, samples: sine(600, 8000, 800) });
    ours.play({ id: 'o', format: 'pcm16', sampleRate: 8000, samples: sine(900, 8000, 800) });
    await Promise.all([waitFor(carrier, 'played'), waitFor(ours, 'played')]);
    await delay(400);
    rxOurs.stop(); rxCarrier.stop();
    assert.ok(medianToneSnrDb(loudPart(concat(rxOurs.pcm), 1000, 200), 600, 8000) > 30);
    assert.ok(medianToneSnrDb(loudPart(concat(rxCarrier.pcm), 1000, 200), 900, 8000) > 30);
    const q = await anchor.query(callId);
    assert.equal(q.result, 'ok');
    await anchor.delete({ callId });
    await Promise.all([carrier.close(), ours.close()]);
  });

  test('transcodes: carrier speaks PCMU, we speak PCMA', async () => {
    const carrier = await engine.createSession();
    const ours = await engine.createSession();
    const callId = await bridge(carrier, ours, [{ pt: 0, name: 'PCMU' }], { pt: 8, name: 'PCMA' }, ['PCMA']);
    assert.equal(carrier.codecName, 'PCMU');
    assert.equal(ours.codecName, 'PCMA');
    const rx = collectAudio(ours);
    carrier.play({ id: 'c', format: 'pcm16', sampleRate: 8000, samples: sine(700, 8000, 1000) });
    await waitFor(carrier, 'played');
    await delay(400);
    rx.stop();
    const got = loudPart(concat(rx.pcm), 1000, 400);
    assert.ok(got.length > 4000, `received ${got.length} samples`);
    const snr = medianToneSnrDb(got, 700, 8000);
    assert.ok(snr > 25, `SNR after transcoding ${snr.toFixed(1)} dB`);
    await anchor.delete({ callId });
    await Promise.all([carrier.close(), ours.close()]);
  });

  test('errors come back as MediaError RTPENGINE', async () => {
    await assert.rejects(anchor.answer({ callId: 'no-such-call', fromTag: 'x', toTag: 'y', sdp: sdp(1234, [{ pt: 0, name: 'PCMU' }]) }),
      (e: unknown) => (e as { code?: string }).code === 'RTPENGINE');
  });
});
