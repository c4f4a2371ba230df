import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chooseCodec, CODEC_CAPABILITIES, createCodec, opusPacketSamples } from '../../../media/index.js';

describe('codec capabilities and choice (plain data for SDP negotiation)', () => {
  test('the capability list is plain, frozen data with the static payload types', () => {
    assert.ok(Object.isFrozen(CODEC_CAPABILITIES));
    const byName = (n: string, r: number) => CODEC_CAPABILITIES.find((c) => c.name === n && c.clockRate === r);
    assert.deepEqual(byName('PCMU', 8000), { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 });
    assert.equal(byName('PCMA', 8000)!.payloadType, 8);
    assert.equal(byName('G722', 8000)!.payloadType, 9);
    assert.equal(byName('opus', 48000)!.channels, 2);
    assert.ok(byName('telephone-event', 8000) && byName('telephone-event', 48000) && byName('CN', 8000));
    assert.deepEqual(JSON.parse(JSON.stringify(CODEC_CAPABILITIES)), CODEC_CAPABILITIES);
  });

  test('picks our preferred codec among the offered ones, with the remote payload types', () => {
    const offer = [
      { payloadType: 96, name: 'opus', clockRate: 48000, channels: 2 },
      { payloadType: 8, name: 'PCMA', clockRate: 8000 },
      { payloadType: 0, name: 'pcmu', clockRate: 8000 },
      { payloadType: 100, name: 'telephone-event', clockRate: 48000 },
      { payloadType: 101, name: 'telephone-event', clockRate: 8000 },
      { payloadType: 13, name: 'CN', clockRate: 8000 },
    ];
    assert.deepEqual(chooseCodec(offer), { codec: { name: 'PCMU', payloadType: 0, clockRate: 8000, channels: 1 }, telephoneEventPt: 101, comfortNoise: true });
    assert.deepEqual(chooseCodec(offer, 'remote'), { codec: { name: 'opus', payloadType: 96, clockRate: 48000, channels: 2 }, telephoneEventPt: 100, comfortNoise: true });
    assert.deepEqual(chooseCodec(offer, ['G722', 'PCMA'])!.codec.name, 'PCMA');
    assert.equal(chooseCodec([{ payloadType: 18, name: 'G729', clockRate: 8000 }]), null);
    assert.equal(chooseCodec([{ payloadType: 96, name: 'opus', clockRate: 48000, channels: 1 }]), null, 'opus must be /48000/2');
    assert.equal(chooseCodec([{ payloadType: 9, name: 'G722', clockRate: 16000 }]), null, 'G.722 is 8000 in SDP');
  });

  test('codec framing: 20 ms frames and Opus TOC durations', () => {
    const pcmu = createCodec('PCMU'), g722 = createCodec('G722'), opus = createCodec('opus', 48000);
    assert.deepEqual([pcmu.frameSamples, pcmu.frameTicks, g722.frameSamples, g722.frameTicks, opus.frameSamples, opus.frameTicks], [160, 160, 320, 160, 320, 960]);
    const pkt = opus.encode(new Int16Array(320));
    assert.equal(opusPacketSamples(pkt, 16000), 320);
    assert.equal(opusPacketSamples(new Uint8Array([(3 << 3) | 0]), 48000), 2880); // SILK 60 ms
    assert.equal(opusPacketSamples(new Uint8Array([(31 << 3) | 1]), 48000), 1920); // CELT 20 ms x2
    assert.throws(() => createCodec('G729'), (e: unknown) => (e as { code?: string }).code === 'UNSUPPORTED_CODEC');
    opus.close();
  });
});
