/**
 * End-to-end harness: every fake provider on loopback, a real engine (SIP, media, Silero VAD,
 * API, outbox) pointed at them, and a provisioned organization (assistant, trunk admitting
 * 127.0.0.1, number). Shared by the e2e tests, `npm run demo` and the benchmarks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { loadConfig } from '../../config/index.js';
import { startEngine, type EngineParts, type RunningEngine } from '../../engine/engine.js';
import { startFakeDeepgram, type FakeDeepgram, type FakeDeepgramScript } from '../fakes/deepgram.js';
import { startFakeOpenAi, type FakeOpenAi, type FakeOpenAiScript } from '../fakes/openai.js';
import { startFakeElevenLabs, type FakeElevenLabs, type FakeElevenLabsScript } from '../fakes/elevenlabs.js';
import { startFakeXaiRealtime, type FakeXaiRealtime, type FakeXaiScript } from '../fakes/xai-realtime.js';

export interface HarnessOptions {
  deepgram?: Partial<FakeDeepgramScript>;
  openai?: Partial<FakeOpenAiScript>;
  elevenlabs?: Partial<FakeElevenLabsScript>;
  xai?: Partial<FakeXaiScript>;
  /** Extra environment for the engine (e.g. MAX_CALL_DURATION_SECONDS). */
  env?: Record<string, string>;
  parts?: EngineParts;
  logLevel?: string;
  /** Assistant fields for the provisioned assistant (POST /assistants body). */
  assistant?: Record<string, unknown>;
  dataDir?: string;
}

export interface Harness {
  engine: RunningEngine;
  apiUrl: string;
  key: string;
  sipHost: string;
  sipPort: number;
  /** The provisioned number (call this). */
  number: string;
  assistantId: string;
  trunkId: string;
  numberId: string;
  fakes: { deepgram: FakeDeepgram; openai: FakeOpenAi; elevenlabs: FakeElevenLabs; xai: FakeXaiRealtime; xaiText: FakeOpenAi };
  dataDir: string;
  log: Logger;
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Waits for a call record to reach a final status (and its report to be written). */
  waitForCall(predicate: (c: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

const randomRange = (): { min: number; max: number } => {
  const min = 20000 + 2 * Math.floor(Math.random() * 9000);
  return { min, max: min + 400 };
};

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const deepgram = await startFakeDeepgram({ script: { latencyMs: 40, interimEveryMs: 200, ...o.deepgram } });
  const openai = await startFakeOpenAi({ script: { ttftMs: 120, tokensPerSec: 120, ...o.openai } });
  const elevenlabs = await startFakeElevenLabs({ script: { firstChunkMs: 80, realtimeFactor: 4, ...o.elevenlabs } });
  const xaiText = await startFakeOpenAi({ apiKey: 'test-xai-key', script: { ttftMs: 100, tokensPerSec: 120 } });
  const xai = await startFakeXaiRealtime({ apiKey: 'test-xai-key', http: xaiText.handler, script: { firstAudioMs: 150, realtimeFactor: 2, ...o.xai } });
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'engine-e2e-'));
  const key = 'vk_test_' + 'e'.repeat(32);
  const rtp = randomRange();
  const config = loadConfig({
    DATA_DIR: dataDir, API_HOST: '127.0.0.1', API_PORT: '0', SIP_HOST: '127.0.0.1', SIP_PORT: '0',
    RTP_PORT_MIN: String(rtp.min), RTP_PORT_MAX: String(rtp.max), BOOTSTRAP_API_KEY: key, LOG_LEVEL: o.logLevel ?? 'silent',
    DEEPGRAM_BASE_URL: deepgram.url, DEEPGRAM_API_KEY: deepgram.apiKey,
    OPENAI_BASE_URL: openai.baseUrl, OPENAI_API_KEY: openai.apiKey,
    ELEVENLABS_BASE_URL: elevenlabs.url, ELEVENLABS_API_KEY: elevenlabs.apiKey,
    XAI_BASE_URL: xai.baseUrl, XAI_API_KEY: xai.apiKey,
    DRAIN_SECONDS: '0', API_RATE_LIMIT: '1000000',
    ...o.env,
  });
  const log = pino({ level: o.logLevel ?? 'silent' });
  const engine = await startEngine(config, log, o.parts ?? {});
  if (!engine.calls) throw new Error('harness: the engine started without telephony');
  const apiUrl = engine.apiUrl;
  const api = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(apiUrl + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  const must = async (method: string, path: string, body: unknown): Promise<Record<string, Record<string, unknown>>> => {
    const r = await api<Record<string, Record<string, unknown>>>(method, path, body);
    if (r.status >= 300) throw new Error(`harness: ${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const assistant = (await must('POST', '/assistants', {
    name: 'E2E assistant', first_message: 'Hello! How can I help you today?',
    llm_config: { provider: 'openai', model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are a helpful phone agent.' }] },
    stt_config: { provider: 'deepgram', model: 'nova-3', language: 'en' },
    tts_config: { provider: 'elevenlabs', voice_id: 'voice-e2e' },
    ...o.assistant,
  })).assistant as { id: string };
  const trunk = (await must('POST', '/sip-trunks', { name: 'Loopback', address: '127.0.0.1:5099', inbound_addresses: ['127.0.0.1/32'] })).trunk as { id: string };
  const number = '+31850835037';
  const num = (await must('POST', '/numbers', { phone_number: number, agent_id: assistant.id, transfer_trunk_id: trunk.id, name: 'E2E line' })).number as { id: string };

  const waitForCall = async (predicate: (c: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = await api<{ calls: Record<string, unknown>[] }>('GET', '/calls?limit=50');
      const c = r.body.calls.find(predicate);
      if (c) return c;
      if (Date.now() > end) throw new Error(`harness: no matching call within ${timeoutMs} ms; calls: ${JSON.stringify(r.body.calls.map((x) => [x.id, x.status, x.end_reason]))}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  };

  return {
    engine, apiUrl, key, sipHost: '127.0.0.1', sipPort: engine.calls.sipPort(), number, assistantId: assistant.id, trunkId: trunk.id,
    numberId: num.id, fakes: { deepgram, openai, elevenlabs, xai, xaiText }, dataDir, log, api, waitForCall,
    async close(c = {}) {
      await engine.close();
      await Promise.all([deepgram.close(), openai.close(), elevenlabs.close(), xai.close(), xaiText.close()]);
      if (!c.keepData && !o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
