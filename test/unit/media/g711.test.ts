import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alawDecode, alawEncode, alawToUlaw, ulawDecode, ulawEncode, ulawToAlaw } from '../../../media/index.js';

function ffmpeg(args: string[]): void {
  try { execFileSync('ffmpeg', ['-y', '-loglevel', 'error', ...args]); }
  catch (err) { throw new Error(`ffmpeg is required for this test (apt-get install ffmpeg): ${(err as Error).message}`); }
}

/** Every 16-bit value once: the strongest reference vector there is. */
const ramp = new Int16Array(65536).map((_, i) => i - 32768);

describe('G.711 (table-driven)', () => {
  test('known reference values (ITU-T G.711 / Sun g711.c)', () => {
    assert.equal(ulawEncode(new Int16Array([0]))[0], 0xff);
    assert.equal(alawEncode(new Int16Array([0]))[0], 0xd5);
    assert.deepEqual([...ulawDecode(new Uint8Array([0x00, 0x80, 0xff, 0x7f]))], [-32124, 32124, 0, 0]);
    assert.deepEqual([...alawDecode(new Uint8Array([0xd5, 0x55, 0xaa, 0x2a]))], [8, -8, 32256, -32256]);
    assert.equal(ulawEncode(new Int16Array([32767]))[0], 0x80);
    assert.equal(ulawEncode(new Int16Array([-32768]))[0], 0x00);
    assert.equal(alawEncode(new Int16Array([32767]))[0], 0xaa);
    assert.equal(alawEncode(new Int16Array([-32768]))[0], 0x2a);
  });

  test('decode(encode(x)) is idempotent on every code word', () => {
    const codes = new Uint8Array(256).map((_, i) => i);
    const u = ulawEncode(ulawDecode(codes));
    const a = alawEncode(alawDecode(codes));
    for (let i = 0; i < 256; i++) {
      if (i !== 0x7f) assert.equal(u[i], i, `mu-law code ${i}`); // 0x7f is "negative zero" = 0xff
      assert.equal(a[i], i, `A-law code ${i}`);
    }
    assert.deepEqual(ulawToAlaw(new Uint8Array([0x80, 0x00, 0xff])), new Uint8Array([0xaa, 0x2a, 0xd5]));
    assert.deepEqual(alawToUlaw(new Uint8Array([0xaa, 0x2a])), new Uint8Array([0x80, 0x00]));
  });

  // ffmpeg builds its encoder table by rounding to the NEAREST decoded level, the Sun/ITU-T STL
  // reference (ours) applies the G.711 decision levels, so the two differ by one step on a few
  // hundred boundary inputs. Decoding must be bit-exact; encoding must agree everywhere else.
  test('matches ffmpeg pcm_mulaw/pcm_alaw over all 65536 input values (decode bit-exact)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'g711-'));
    try {
      writeFileSync(join(dir, 'in.raw'), Buffer.from(ramp.buffer));
      for (const [fmt, enc, dec] of [['mulaw', ulawEncode, ulawDecode], ['alaw', alawEncode, alawDecode]] as const) {
        ffmpeg(['-f', 's16le', '-ar', '8000', '-ac', '1', '-i', join(dir, 'in.raw'), '-f', fmt, join(dir, `out.${fmt}`)]);
        const theirs = new Uint8Array(readFileSync(join(dir, `out.${fmt}`)));
        const ours = enc(ramp);
        let mismatches = 0;
        for (let i = 0; i < ours.length; i++) {
          if (ours[i] === theirs[i]) continue;
          mismatches++;
          // Only ever the neighbouring level: the two decoded values bracket the input.
          const a = dec(new Uint8Array([ours[i]!]))[0]!, b = dec(new Uint8Array([theirs[i]!]))[0]!;
          const x = ramp[i]!;
          assert.ok(Math.min(a, b) <= x + 8 && x - 8 <= Math.max(a, b), `${fmt} input ${x}: ${a} vs ${b}`);
        }
        assert.ok(mismatches < 65536 * 0.02, `${fmt}: ${mismatches} of 65536 code words differ from ffmpeg`);
        const codes = new Uint8Array(256).map((_, i) => i);
        writeFileSync(join(dir, 'codes.raw'), codes);
        ffmpeg(['-f', fmt, '-ar', '8000', '-ac', '1', '-i', join(dir, 'codes.raw'), '-f', 's16le', join(dir, 'dec.raw')]);
        const ffdec = new Int16Array(new Uint8Array(readFileSync(join(dir, 'dec.raw'))).buffer);
        assert.deepEqual([...dec(codes)], [...ffdec], `${fmt} decode table`);
      }
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
