import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dgram from 'node:dgram';
import { startStack, RtpSocket, sipp, autoAnswer, assertSippOk, media, randomPort, requireBinary, waitFor } from './helpers.js';
import type { RegistrationEvent, SipStack } from '../../../sip/index.js';

const CFG = fileURLToPath(new URL('./kamailio/kamailio.cfg', import.meta.url));
const USER = '+14155550100';
const PASSWORD = 'kam-secret';

async function udpBusy(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(true));
    s.bind(port, '127.0.0.1', () => { s.close(); resolve(false); });
  });
}

async function startKamailio(): Promise<{ port: number; stop(): Promise<void>; log(): string }> {
  requireBinary('kamailio');
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = randomPort();
    if (await udpBusy(port)) continue;
    const dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
    const cfg = join(dir, 'kamailio.cfg');
    writeFileSync(cfg, readFileSync(CFG, 'utf8').replaceAll('@PORT@', String(port)).replaceAll('@USER@', USER).replaceAll('@PASSWORD@', PASSWORD));
    const child = spawn('kamailio', ['-f', cfg, '-DD', '-E', '-Y', dir, '-w', dir, '-n', '1', '-m', '32', '-M', '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => { log += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
    let exited = false;
    const exit = new Promise<void>((r) => child.on('exit', () => { exited = true; r(); }));
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !(await udpBusy(port))) await new Promise((r) => setTimeout(r, 50));
    if (exited) {
      if (/bind|in use/i.test(log)) continue;
      throw new Error(`kamailio failed to start:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    return {
      port,
      log: () => log,
      stop: async () => { if (!exited) { child.kill('SIGTERM'); await Promise.race([exit, new Promise((r) => setTimeout(r, 3000))]); if (!exited) child.kill('SIGKILL'); } rmSync(dir, { recursive: true, force: true }); },
    };
  }
  throw new Error('could not start kamailio');
}

function nextEvent(reg: { once: (t: RegistrationEvent['type'], fn: (e: RegistrationEvent) => void) => () => void }, type: RegistrationEvent['type']): Promise<RegistrationEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${type}' registration event within 15 s`)), 15_000);
    reg.once(type, (e) => { clearTimeout(t); resolve(e); });
  });
}

test('kamailio: the engine registers (digest, qop=auth), refreshes, is called through kamailio, dials out through it with 407 auth, unregisters', async () => {
  const kam = await startKamailio();
  const rtp = new RtpSocket();
  await rtp.bind();
  const aa = autoAnswer(rtp);
  let stack: SipStack | undefined;
  try {
    stack = await startStack({ onCall: aa.onCall });
    const trunk = { id: 'kam', host: '127.0.0.1', port: kam.port, username: USER, password: PASSWORD };

    // Wrong password: failed with the last response, retried later.
    const bad = stack.register({ trunk: { ...trunk, password: 'nope' }, expires: 60, retryMinMs: 60_000 });
    const failed = nextEvent(bad, 'failed');
    bad.start();
    const f = await failed;
    assert.equal(f.type === 'failed' && f.status, 401);
    assert.equal(bad.status.state, 'failed');
    assert.equal(bad.status.lastStatus, 401);
    assert.ok((bad.status.retryAt ?? 0) > Date.now());
    await bad.stop();

    const reg = stack.register({ trunk, expires: 2 });
    const first = nextEvent(reg, 'registered');
    reg.start();
    const r1 = await first;
    assert.equal(r1.type === 'registered' && r1.expires, 2);
    assert.equal(reg.status.state, 'registered');
    // Refresh before expiry.
    const r2 = await nextEvent(reg, 'registered');
    assert.equal(r2.type, 'registered');

    // sipp → kamailio (lookup, record-route) → engine.
    const run = await sipp('uac-basic.xml', { remote: `127.0.0.1:${kam.port}`, args: ['-s', USER] });
    const d = await aa.next();
    assert.equal(aa.calls[0]?.calledNumber, USER);
    assert.equal(d.routeSet.length, 1, 'record-routed by kamailio');
    assertSippOk(await run.done);
    assert.equal(await d.closed, 'remote-bye');

    // Engine → kamailio (407 digest) → registered contact (the engine itself).
    const out = await stack.placeCall({
      trunk: { ...trunk, outboundProxy: `127.0.0.1:${kam.port}` }, to: USER, from: { user: USER, display: 'Engine' }, media: media(rtp.port),
    });
    const inbound = await aa.next();
    assert.match(out.initialRequest.headers.get('proxy-authorization') ?? '', /qop=auth/);
    await out.bye();
    assert.equal(await inbound.closed, 'remote-bye');

    const gone = nextEvent(reg, 'unregistered');
    await reg.stop();
    await gone;
    assert.equal(reg.status.state, 'unregistered');
    // No binding any more: kamailio answers 404 for the number.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    let answer = '';
    probe.on('message', (m) => { answer = m.toString(); });
    probe.send([
      `OPTIONS sip:${USER}@127.0.0.1:${kam.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${probe.address().port};branch=z9hG4bKprobe1`,
      'From: <sip:probe@127.0.0.1>;tag=1', `To: <sip:${USER}@127.0.0.1>`, 'Call-ID: probe-1', 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
    ].join('\r\n'), kam.port, '127.0.0.1');
    await waitFor(() => answer || undefined, 5000, 'kamailio answer');
    assert.match(answer, /^SIP\/2\.0 404/);
    probe.close();
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- kamailio log ---\n${kam.log().slice(-3000)}`);
  } finally {
    await stack?.close();
    await kam.stop();
    rtp.close();
  }
});
