import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { MediaEngine } from '../../../media/index.js';
import { startEngine, waitFor } from '../../fixtures/media/helpers.js';

const scenario = fileURLToPath(new URL('../../fixtures/media/sipp/uas-play-pcap.xml', import.meta.url));

function pcapPath(name: string): string {
  const r = spawnSync('dpkg', ['-L', 'sip-tester'], { encoding: 'utf8' });
  const p = (r.stdout ?? '').split('\n').find((l) => l.endsWith(`/${name}`));
  if (!p) throw new Error(`${name} not found: install Debian's sip-tester (apt-get install sip-tester)`);
  return p;
}

function sipMessage(lines: string[], body = ''): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

describe('DTMF from sipp playing Debian\'s dtmf_2833 pcaps', () => {
  let engine: MediaEngine;
  before(async () => { engine = await startEngine(); });
  after(async () => { await engine.close(); });

  for (const [file, digit] of [['dtmf_2833_1.pcap', '1'], ['dtmf_2833_pound.pcap', '#']] as const) {
    test(`${file} -> one dtmf event '${digit}'`, async () => {
      const session = await engine.createSession();
      const sipPort = 20000 + Math.floor(Math.random() * 20000);
      const mediaPort = sipPort + 2 + Math.floor(Math.random() * 100) * 2;
      const sipp = spawn('sipp', ['-sf', scenario, '-i', '127.0.0.1', '-p', String(sipPort), '-mp', String(mediaPort), '-m', '1',
        '-key', 'pcap', pcapPath(file), '-timeout', '20s', '-nostdin'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      sipp.stderr.on('data', (d) => { stderr += String(d); });
      const exited = new Promise<number | null>((r) => sipp.on('exit', (code) => r(code)));
      sipp.on('error', (err) => { throw new Error(`cannot run sipp (apt-get install sip-tester): ${err.message}`); });

      const ua = createSocket('udp4');
      await new Promise<void>((r) => ua.bind(0, '127.0.0.1', () => r()));
      const uaPort = ua.address().port;
      const callId = `dtmf-${Date.now()}@127.0.0.1`;
      const sdp = ['v=0', 'o=test 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${session.rtpPort} RTP/AVP 0 101`,
        'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', ''].join('\r\n');
      const common = (method: string, cseq: number, toTag = '') => [
        `Via: SIP/2.0/UDP 127.0.0.1:${uaPort};branch=z9hG4bK${method}${Date.now()}`, `From: <sip:test@127.0.0.1>;tag=abc`,
        `To: <sip:sipp@127.0.0.1:${sipPort}>${toTag}`, `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, `Contact: <sip:test@127.0.0.1:${uaPort}>`, 'Max-Forwards: 70',
      ];
      const got200 = new Promise<string>((resolve) => ua.on('message', (m) => { const s = String(m); if (s.startsWith('SIP/2.0 200') && s.includes('INVITE')) resolve(s); }));
      // sipp needs a moment to bind; retransmit the INVITE like a real UAC would (Timer A).
      const invite = sipMessage([`INVITE sip:sipp@127.0.0.1:${sipPort} SIP/2.0`, ...common('INVITE', 1), 'Content-Type: application/sdp'], sdp);
      let answered = false;
      const retransmit = (async () => {
        for (let i = 0; i < 20 && !answered; i++) { ua.send(invite, sipPort, '127.0.0.1'); await new Promise((r) => setTimeout(r, 250)); }
      })();
      const ok = await got200;
      answered = true;
      await retransmit;
      const toTag = /^To:.*?(;tag=[^\r\n;]+)/im.exec(ok)?.[1] ?? '';
      const m = /m=audio (\d+)/.exec(ok);
      assert.ok(m, 'sipp answered with SDP');
      session.setRemote({ address: '127.0.0.1', port: Number(m[1]), codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 }, telephoneEventPt: 101, direction: 'sendrecv' });
      const digits: string[] = [];
      session.on((ev) => { if (ev.type === 'dtmf') digits.push(ev.digit); });
      const dtmf = waitFor(session, 'dtmf', () => true, 15_000);
      ua.send(sipMessage([`ACK sip:sipp@127.0.0.1:${sipPort} SIP/2.0`, ...common('ACK', 1, toTag)]), sipPort, '127.0.0.1');
      const ev = await dtmf;
      assert.equal(ev.digit, digit);
      assert.equal(ev.source, 'rfc4733');
      assert.ok(ev.durationMs >= 40 && ev.durationMs <= 2000, `duration ${ev.durationMs}`);
      await new Promise((r) => setTimeout(r, 600));
      assert.deepEqual(digits, [digit], 'the three end packets produce one digit');
      assert.equal(session.getStats().dtmfIn, 1);
      ua.send(sipMessage([`BYE sip:sipp@127.0.0.1:${sipPort} SIP/2.0`, ...common('BYE', 2, toTag)]), sipPort, '127.0.0.1');
      const code = await exited;
      assert.equal(code, 0, `sipp failed: ${stderr}`);
      ua.close();
      await session.close();
    });
  }
});
