import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { PortAllocator } from '../../../media/index.js';

function bindPair(port: number): Promise<Socket[]> {
  const socks = [createSocket('udp4'), createSocket('udp4')];
  const bind = (s: Socket, p: number) => new Promise<void>((res, rej) => { s.once('error', rej); s.bind({ port: p, address: '127.0.0.1', exclusive: true }, () => res()); });
  return (async () => {
    try { await bind(socks[0]!, port); await bind(socks[1]!, port + 1); return socks; }
    catch (err) { for (const s of socks) { try { s.close(); } catch { /* not bound */ } } throw err; }
  })();
}

describe('PortAllocator', () => {
  test('even RTP ports with RTP+1 for RTCP, exhaustion is a MediaError, release makes a pair reusable', async () => {
    const base = 40000 + 2 * Math.floor(Math.random() * 10000);
    const pa = new PortAllocator(base + 1, base + 6); // normalised to base+2 .. base+5: two pairs
    assert.equal(pa.pairs, 2);
    const a = await pa.allocate(bindPair);
    const b = await pa.allocate(bindPair);
    assert.ok(a.port % 2 === 0 && b.port % 2 === 0 && a.port !== b.port);
    await assert.rejects(pa.allocate(bindPair), (e: unknown) => (e as { code?: string }).code === 'PORTS_EXHAUSTED');
    assert.equal(pa.inUse, 2);
    for (const s of a.value) s.close();
    pa.release(a.port);
    const c = await pa.allocate(bindPair);
    assert.equal(c.port, a.port);
    for (const s of [...b.value, ...c.value]) s.close();
    pa.release(b.port); pa.release(c.port);
    assert.equal(pa.inUse, 0);
  });

  test('a pair taken by another process is skipped, not leaked', async () => {
    const base = 40000 + 2 * Math.floor(Math.random() * 10000);
    const squatter = createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(base + 1, '127.0.0.1', () => r())); // RTCP port of the first pair
    const pa = new PortAllocator(base, base + 3);
    const got = await pa.allocate(bindPair);
    assert.equal(got.port, base + 2);
    assert.equal(pa.inUse, 1);
    await assert.rejects(pa.allocate(bindPair), (e: unknown) => (e as { code?: string }).code === 'PORTS_EXHAUSTED');
    assert.equal(pa.inUse, 1);
    for (const s of got.value) s.close();
    squatter.close();
  });
});
