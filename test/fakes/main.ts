// `npm run fakes`: starts every fake provider on 127.0.0.1 (ephemeral ports) with realistic
// latency, prints the environment lines that point the engine at them, and runs until
// SIGINT/SIGTERM. Usage: eval "$(npm run -s fakes | grep '=')" is not possible for a long-running
// process, so copy the printed lines, or pass `--write-env PATH` to have them written to a file.
import { writeFileSync } from 'node:fs';
import { startFakeDeepgram } from './deepgram.js';
import { startFakeOpenAi } from './openai.js';
import { startFakeElevenLabs } from './elevenlabs.js';
import { startFakeXaiRealtime } from './xai-realtime.js';
import type { FakeServer } from './common.js';

interface ResendModule { startFakeResend(opts?: { apiKey?: string }): Promise<{ url: string; close(): Promise<void> }> }

async function main(): Promise<void> {
  const envFile = process.argv.includes('--write-env') ? process.argv[process.argv.indexOf('--write-env') + 1] : undefined;
  const servers: FakeServer[] = [];
  const env: [string, string][] = [];

  const dg = await startFakeDeepgram({ script: { fallbackText: 'Hello, I would like to book a table for two tonight.', latencyMs: 60 } });
  servers.push(dg);
  env.push(['DEEPGRAM_BASE_URL', dg.url], ['DEEPGRAM_API_KEY', dg.apiKey]);

  const oa = await startFakeOpenAi({ script: { ttftMs: 250, tokensPerSec: 60, fallback: { text: 'Certainly. Let me check that for you.' } } });
  servers.push(oa);
  env.push(['OPENAI_BASE_URL', oa.baseUrl], ['OPENAI_API_KEY', oa.apiKey]);
  env.push(['MISTRAL_BASE_URL', oa.baseUrl], ['MISTRAL_API_KEY', oa.apiKey]);

  const el = await startFakeElevenLabs({ script: { firstChunkMs: 150, realtimeFactor: 2 } });
  servers.push(el);
  env.push(['ELEVENLABS_BASE_URL', el.url], ['ELEVENLABS_API_KEY', el.apiKey]);

  // xAI text and realtime share XAI_BASE_URL and key: mount a chat fake on the realtime server.
  const xaiText = await startFakeOpenAi({ apiKey: 'test-xai-key', script: { ttftMs: 200, tokensPerSec: 80 } });
  servers.push(xaiText);
  const xai = await startFakeXaiRealtime({ apiKey: 'test-xai-key', http: xaiText.handler, script: { firstAudioMs: 300, realtimeFactor: 1 } });
  servers.push(xai);
  env.push(['XAI_BASE_URL', xai.baseUrl], ['XAI_API_KEY', xai.apiKey]);

  try {
    const mod = (await import(new URL('./resend.js', import.meta.url).href)) as Partial<ResendModule>;
    if (typeof mod.startFakeResend === 'function') {
      const rs = await mod.startFakeResend({ apiKey: 're_test_key' });
      servers.push({ url: rs.url, port: Number(new URL(rs.url).port), close: () => rs.close() });
      env.push(['RESEND_BASE_URL', rs.url], ['RESEND_API_KEY', 're_test_key']);
    }
  } catch (e) {
    process.stderr.write(`fakes: resend fake not started (${e instanceof Error ? e.message : String(e)})\n`);
  }

  const lines = env.map(([k, v]) => `${k}=${v}`).join('\n');
  process.stdout.write(`${lines}\n`);
  if (envFile) writeFileSync(envFile, `${lines}\n`);
  process.stderr.write('fakes: running on 127.0.0.1; Ctrl-C to stop\n');

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.all(servers.map((s) => s.close()));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main();
