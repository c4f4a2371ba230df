import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { startStack, RtpSocket, autoAnswer, media, randomPort, requireBinary, waitFor } from './helpers.js';

interface Baresip { port: number; output(): string; stop(): Promise<void> }

async function udpBusy(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(true));
    s.bind(port, '127.0.0.1', () => { s.close(); resolve(false); });
  });
}

/** Headless baresip: sine-wave audio source, no sound card, auto answer, config in a temp dir. */
async function startBaresip(commands: string[] = []): Promise<Baresip> {
  requireBinary('baresip');
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = randomPort();
    const rtpBase = randomPort() & ~1;
    if (await udpBusy(port)) continue;
    const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
    writeFileSync(join(dir, 'config'), [
      'poll_method epoll', `sip_listen 127.0.0.1:${port}`, 'sip_trans_def udp',
      'audio_player aubridge,sink', 'audio_source ausine,440', 'audio_alert aubridge,sink', 'ausrc_srate 48000', 'auplay_srate 48000', 'ausrc_channels 2', 'auplay_channels 1', `rtp_ports ${rtpBase}-${rtpBase + 20}`,
      'module_path /usr/lib/baresip/modules', 'module g711.so', 'module ausine.so', 'module aubridge.so',
      'module_app account.so', 'module_app menu.so', '',
    ].join('\n'));
    writeFileSync(join(dir, 'accounts'), '<sip:baresip@127.0.0.1>;regint=0;answermode=auto\n');
    const args = ['-f', dir, '-t', '30', ...commands.flatMap((c) => ['-e', c])];
    const child = spawn('baresip', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    let exited = false;
    const exit = new Promise<void>((r) => child.on('exit', () => { exited = true; r(); }));
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !out.includes('baresip is ready')) await new Promise((r) => setTimeout(r, 50));
    if (exited) {
      if (/bind|in use/i.test(out)) continue;
      throw new Error(`baresip failed to start:\n${out.slice(-3000)}`);
    }
    return {
      port,
      output: () => out,
      stop: async () => { if (!exited) { child.kill('SIGTERM'); await Promise.race([exit, new Promise((r) => setTimeout(r, 3000))]); if (!exited) child.kill('SIGKILL'); } rmSync(dir, { recursive: true, force: true }); },
    };
  }
  throw new Error('could not start baresip');
}

test('baresip calls the engine: answered, RTP from baresip arrives, engine hangs up', async () => {
  const rtp = new RtpSocket();
  await rtp.bind();
  const aa = autoAnswer(rtp);
  const stack = await startStack({ onCall: aa.onCall });
  const bs = await startBaresip([`/dial sip:+14155550100@127.0.0.1:${stack.port('udp')}`]);
  try {
    const d = await aa.next();
    assert.equal(aa.calls[0]?.calledNumber, '+14155550100');
    assert.equal(d.media?.codec.name, 'PCMU');
    await waitFor(() => rtp.received >= 10 || undefined, 10_000, 'RTP from baresip');
    await d.bye();
    await waitFor(() => /terminated|closed|BYE/i.test(bs.output()) || undefined, 10_000, 'baresip sees the hangup');
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- baresip ---\n${bs.output().slice(-3000)}`);
  } finally {
    await bs.stop();
    await stack.close();
    rtp.close();
  }
});

test('the engine calls baresip (auto answer): RTP both ways, hold and resume by re-INVITE, baresip hangs up on BYE', async () => {
  const rtp = new RtpSocket();
  await rtp.bind();
  const stack = await startStack({});
  const bs = await startBaresip();
  try {
    const d = await stack.placeCall({
      trunk: { host: '127.0.0.1', port: bs.port }, to: 'baresip', from: { user: '+15550199', display: 'Agent' }, media: media(rtp.port), ringTimeoutMs: 10_000,
    });
    assert.equal(d.media?.codec.name, 'PCMU');
    await rtp.sendRtp(d.media!.remoteAddress, d.media!.remotePort, 5);
    await waitFor(() => rtp.received >= 10 || undefined, 10_000, 'RTP from baresip');
    const held = await d.modify({ hold: true });
    assert.equal(held.localDirection, 'sendonly');
    assert.equal(held.remoteDirection, 'recvonly');
    const resumed = await d.modify({ hold: false });
    assert.equal(resumed.localDirection, 'sendrecv');
    await d.bye();
    assert.equal(d.closeReason, 'local-bye');
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- baresip ---\n${bs.output().slice(-3000)}`);
  } finally {
    await bs.stop();
    await stack.close();
    rtp.close();
  }
});
