import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { OpenAiCompatibleLlm } from '../../../engine/providers/openai/llm.js';

test('npm run fakes (test/fakes/main.ts) prints env lines pointing at live loopback fakes', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fakes/main.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const env = await new Promise<Record<string, string>>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`no env lines: ${out}`)), 60_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('XAI_API_KEY=')) { clearTimeout(t); resolve(Object.fromEntries(out.trim().split('\n').map((l) => l.split('=', 2) as [string, string]))); }
      });
      child.on('exit', (code) => reject(new Error(`fakes exited ${code}`)));
    });
    for (const k of ['DEEPGRAM_BASE_URL', 'OPENAI_BASE_URL', 'ELEVENLABS_BASE_URL', 'XAI_BASE_URL']) assert.match(env[k]!, /^http:\/\/127\.0\.0\.1:\d+/);
    const llm = new OpenAiCompatibleLlm('xai', { apiKey: env.XAI_API_KEY!, baseUrl: env.XAI_BASE_URL! });
    let text = '';
    for await (const e of llm.complete({ model: 'grok-4-1-fast-non-reasoning', messages: [{ role: 'user', content: 'hi' }] })) if (e.type === 'text') text += e.delta;
    assert.equal(text, 'OK.');
  } finally {
    child.kill('SIGTERM');
  }
});
