import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../config/index.js';

test('MEDIA_WORKERS: auto (null) by default, an integer 0..64, anything else names the variable', () => {
  assert.equal(loadConfig({}).rtp.workers, null);
  assert.equal(loadConfig({ MEDIA_WORKERS: 'auto' }).rtp.workers, null);
  assert.equal(loadConfig({ MEDIA_WORKERS: '0' }).rtp.workers, 0);
  assert.equal(loadConfig({ MEDIA_WORKERS: '3' }).rtp.workers, 3);
  for (const bad of ['-1', '65', 'two', '1.5']) {
    assert.throws(() => loadConfig({ MEDIA_WORKERS: bad }), (e: unknown) => e instanceof ConfigError && e.message.includes('MEDIA_WORKERS'), bad);
  }
});

test('MEDIA_PRIORITY: realtime by default; normal, high or realtime; anything else names the variable', () => {
  assert.equal(loadConfig({}).rtp.priority, 'realtime');
  for (const p of ['normal', 'high', 'realtime'] as const) assert.equal(loadConfig({ MEDIA_PRIORITY: p }).rtp.priority, p);
  assert.throws(() => loadConfig({ MEDIA_PRIORITY: 'max' }), (e: unknown) => e instanceof ConfigError && e.message.includes('MEDIA_PRIORITY'));
});

test('one load does not leak into the next (environment values never reach the defaults)', () => {
  // Regression: the merge shared DEFAULTS' nested objects, so a value set from the environment
  // stayed in DEFAULTS and showed up in every later loadConfig() of the process.
  loadConfig({ MEDIA_WORKERS: '5', RTP_PORT_MIN: '24000' });
  const again = loadConfig({});
  assert.equal(again.rtp.workers, null);
  assert.equal(again.rtp.portMin, 20000);
});

test('VAD_GATE_DBFS: -60 by default; a level from -120 to 0; off disables the gate; anything else names the variable', () => {
  assert.equal(loadConfig({}).rtp.vadGateDbfs, -60);
  assert.equal(loadConfig({ VAD_GATE_DBFS: '-72.5' }).rtp.vadGateDbfs, -72.5);
  assert.equal(loadConfig({ VAD_GATE_DBFS: '0' }).rtp.vadGateDbfs, 0);
  assert.equal(loadConfig({ VAD_GATE_DBFS: 'off' }).rtp.vadGateDbfs, null);
  for (const bad of ['6', '-130', 'quiet', '']) {
    assert.throws(() => loadConfig({ VAD_GATE_DBFS: bad }), (e: unknown) => e instanceof ConfigError && e.message.includes('VAD_GATE_DBFS'), bad);
  }
});

test('MEDIA_WORKERS=auto: half the cores, but two wherever there are two cores, one on a single core', async () => {
  const { autoMediaWorkers } = await import('../../../engine/call/service.js');
  assert.deepEqual([1, 2, 3, 4, 6, 8, 16].map(autoMediaWorkers), [1, 2, 2, 2, 3, 4, 8]);
});
