import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, RtpSocket, sipp, autoAnswer, assertSippOk, media, waitFor } from './helpers.js';
import { CallFailedError, parseMessage } from '../../../sip/index.js';
import type { SipResponse, Dialog } from '../../../sip/index.js';

function options(port: number, proto: string, callId: string): string {
  return [
    `OPTIONS sip:engine@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/${proto} 127.0.0.1:1;branch=z9hG4bK${callId};rport`,
    'From: <sip:probe@127.0.0.1>;tag=p1', 'To: <sip:engine@127.0.0.1>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS',
    'Max-Forwards: 70', 'Content-Length: 0', '', '',
  ].join('\r\n');
}

test('malformed, oversized, unknown-method and unsupported-extension requests from sipp; garbage datagrams; the engine keeps serving', async () => {
  const stack = await startStack({});
  try {
    const port = stack.port('udp');
    const junk = dgram.createSocket('udp4');
    await new Promise<void>((r) => junk.bind(0, '127.0.0.1', () => r()));
    for (const g of ['\x00\x01garbage', 'INVITE sip:x SIP/2.0\r\n\r\n', 'SIP/2.0 200 OK\r\n\r\n', 'x'.repeat(60000)]) {
      junk.send(Buffer.from(g, 'latin1'), port, '127.0.0.1');
    }
    // A request without Via cannot be answered: dropped, counted.
    await waitFor(() => stack.stats().parseErrors >= 4 || undefined, 5000, 'parse errors counted');
    junk.close();
    const run = await sipp('uac-bad.xml', { remote: `127.0.0.1:${port}`, args: ['-s', 'engine'] });
    assertSippOk(await run.done);
    assert.ok(stack.stats().parseErrors >= 6);
  } finally {
    await stack.close();
  }
});

test('a flood of INVITEs from an unknown source: 403s up to the limit, then silence; allowed callers still served', async () => {
  const rtp = new RtpSocket();
  await rtp.bind();
  const aa = autoAnswer(rtp);
  const stack = await startStack({
    onCall: aa.onCall,
    authorize: (_req, source) => (source.address === '127.0.0.1' ? { allow: true, trunkId: 'loopback' } : { allow: false }),
    refusals: { max: 10, windowMs: 60_000 },
  });
  try {
    const port = stack.port('udp');
    const flood = await sipp('uac-flood.xml', { remote: `127.0.0.1:${port}`, ip: '127.0.0.2', calls: 60, args: ['-s', '+14155550100', '-r', '200', '-l', '100', '-bind_local'] });
    await flood.done;
    const st = stack.stats();
    assert.equal(st.refusals['127.0.0.2'], 10, 'refusals beyond the limit are not counted as answered');
    assert.ok(st.dropped >= 40, `dropped ${st.dropped}`);
    assert.equal(aa.calls.length, 0, 'no call ever reached the engine');
    const ok = await sipp('uac-basic.xml', { remote: `127.0.0.1:${port}`, args: ['-s', '+14155550100'] });
    assertSippOk(await ok.done);
    assert.equal(aa.calls.length, 1);
    assert.equal(aa.calls[0]?.trunkId, 'loopback');
  } finally {
    await stack.close();
    rtp.close();
  }
});

test('TCP: a full call from sipp over TCP (Content-Length framing)', async () => {
  const rtp = new RtpSocket();
  await rtp.bind();
  const aa = autoAnswer(rtp);
  const stack = await startStack({ onCall: aa.onCall });
  try {
    const run = await sipp('uac-basic.xml', { remote: `127.0.0.1:${stack.port('tcp')}`, transport: 't1', args: ['-s', '+14155550100'] });
    assertSippOk(await run.done);
    const d = await aa.next();
    await d.closed;
    assert.equal(d.closeReason, 'remote-bye');
  } finally {
    await stack.close();
    rtp.close();
  }
});

test('TCP: two requests in one segment and one request split over segments are framed correctly', async () => {
  const stack = await startStack({});
  try {
    const port = stack.port('tcp');
    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let buf = '';
    sock.on('data', (d: Buffer) => { buf += d.toString('latin1'); });
    sock.write(options(port, 'TCP', 'tcp-a') + options(port, 'TCP', 'tcp-b'));
    const c = options(port, 'TCP', 'tcp-c');
    sock.write(c.slice(0, 40));
    await new Promise((r) => setTimeout(r, 50));
    sock.write(c.slice(40));
    await waitFor(() => (buf.match(/SIP\/2\.0 200 OK/g)?.length ?? 0) >= 3 || undefined, 5000, 'three 200s');
    for (const id of ['tcp-a', 'tcp-b', 'tcp-c']) assert.ok(buf.includes(`Call-ID: ${id}`));
    sock.destroy();
  } finally {
    await stack.close();
  }
});

function makeCert(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sip-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  } catch (e) {
    throw new Error(`openssl is needed to make a test certificate: ${(e as Error).message}`);
  }
  const pair = { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  rmSync(dir, { recursive: true, force: true });
  return pair;
}

test('TLS: OPTIONS over TLS, and a stack-to-stack call over TLS with a 407 digest challenge (SHA-256) and trunk identification', async () => {
  const { cert, key } = makeCert();
  const rtp = new RtpSocket();
  await rtp.bind();
  let dialogB: Dialog | undefined;
  const b = await startStack({
    tls: { cert, key, port: 0 },
    authorize: () => ({ challenge: { realm: 'engine.test', lookup: (u) => (u === 'alice' ? { password: 'wonderland', trunkId: 'trunk-digest' } : undefined) } }),
    onCall: (c) => { void c.answer({ media: media(rtp.port) }).then((d) => { dialogB = d; }); },
  });
  const a = await startStack({ tls: { cert, key } });
  try {
    const tlsPort = b.port('tls');
    const sock = tls.connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false });
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    let buf = '';
    sock.on('data', (d: Buffer) => { buf += d.toString('latin1'); });
    sock.write(options(tlsPort, 'TLS', 'tls-1'));
    await waitFor(() => buf.includes('\r\n\r\n') || undefined, 5000, 'TLS response');
    const res = parseMessage(Buffer.from(buf, 'latin1')) as SipResponse;
    assert.equal(res.status, 200);
    sock.destroy();

    const trunk = { host: '127.0.0.1', port: tlsPort, transport: 'tls' as const, username: 'alice', password: 'wonderland' };
    const d = await a.placeCall({ trunk, to: '+15550100', from: { user: '+15550199' }, media: media(rtp.port) });
    const db = await waitFor(() => dialogB);
    assert.equal(db.trunkId, 'trunk-digest');
    assert.match(db.initialRequest.headers.get('proxy-authorization') ?? '', /algorithm=SHA-256/);
    const seen: string[] = [];
    const iterate = (async () => { for await (const e of db.events()) { seen.push(e.type === 'dtmf' ? `dtmf:${e.digit}` : e.type); if (e.type === 'closed') break; } })();
    const info = await d.sendDtmf('7');
    assert.equal(info.status, 200);
    const held = await d.modify({ hold: true });
    assert.equal(held.localDirection, 'sendonly');
    assert.equal(db.remoteHold, true);
    const resumed = await d.modify({ hold: false });
    assert.equal(resumed.localDirection, 'sendrecv');
    await d.bye();
    assert.equal(await db.closed, 'remote-bye');
    await iterate;
    // Every re-INVITE carrying Session-Expires also refreshes the session (RFC 4028 §10).
    assert.deepEqual(seen, ['dtmf:7', 'session-refresh', 'reinvite', 'session-refresh', 'reinvite', 'bye', 'closed']);

    await assert.rejects(
      a.placeCall({ trunk: { ...trunk, password: 'wrong' }, to: '+15550100', from: { user: '+15550199' }, media: media(rtp.port) }),
      (e: unknown) => e instanceof CallFailedError && e.reason === 'rejected' && e.status === 403,
    );
    assert.equal(b.stats().refusals['127.0.0.1'], 1);
  } finally {
    await a.close();
    await b.close();
    rtp.close();
  }
});

function invite(port: number, branch: string): string {
  return [
    `INVITE sip:+14155550100@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:1;branch=${branch};rport`,
    'From: <sip:caller@127.0.0.1>;tag=m1', 'To: <sip:+14155550100@127.0.0.1>', 'Call-ID: merged-1@test', 'CSeq: 7 INVITE',
    'Contact: <sip:caller@127.0.0.1:1>', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
  ].join('\r\n');
}

test('merged request (same From tag, Call-ID and CSeq, another branch) → 482; every message traced with its Call-ID', async () => {
  const trace: { direction: string; callId: string | undefined; summary: string }[] = [];
  const stack = await startStack({ onCall: (c) => c.progress({ status: 180 }), trace: (e) => trace.push(e) });
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString().split('\r\n')[0]!));
    const port = stack.port('udp');
    sock.send(invite(port, 'z9hG4bKmerge1'), port, '127.0.0.1');
    await waitFor(() => got.includes('SIP/2.0 180 Ringing') || undefined, 5000, '180');
    sock.send(invite(port, 'z9hG4bKmerge2'), port, '127.0.0.1');
    await waitFor(() => got.includes('SIP/2.0 482 Loop Detected') || undefined, 5000, '482');
    assert.ok(trace.some((t) => t.direction === 'in' && t.callId === 'merged-1@test' && t.summary.startsWith('INVITE')));
    assert.ok(trace.some((t) => t.direction === 'out' && t.callId === 'merged-1@test' && t.summary === 'SIP/2.0 482 Loop Detected'));
  } finally {
    sock.close();
    await stack.close();
  }
});

test('422 from the far end: the INVITE is retried with its Min-SE and the session timer runs with us refreshing', async () => {
  const rtp = new RtpSocket();
  await rtp.bind();
  let dialogB: Dialog | undefined;
  const b = await startStack({ sessionTimer: { minSE: 2000 }, onCall: (c) => { void c.answer({ media: media(rtp.port) }).then((d) => { dialogB = d; }); } });
  const a = await startStack({ sessionTimer: { expires: 1800, minSE: 90 } });
  try {
    const d = await a.placeCall({ trunk: { host: '127.0.0.1', port: b.port('udp') }, to: '+15550100', from: { user: '+15550199' }, media: media(rtp.port) });
    assert.deepEqual(d.sessionTimer, { interval: 2000, refresher: 'local' });
    assert.equal(d.initialRequest.headers.get('session-expires'), '2000');
    const db = await waitFor(() => dialogB);
    assert.deepEqual(db.sessionTimer, { interval: 2000, refresher: 'remote' });
    await d.bye();
  } finally {
    await a.close();
    await b.close();
    rtp.close();
  }
});
