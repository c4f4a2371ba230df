/**
 * Starts a real engine (real SQLite file in a temp dir, real HTTP on 127.0.0.1, random port) for
 * API tests, and a tiny JSON client for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../config/index.js';
import { startEngine, type EngineParts, type RunningEngine } from '../../engine/engine.js';
import type { LocalVoice } from '../../engine/api/deps.js';

export interface TestEngine {
  readonly engine: RunningEngine;
  readonly url: string;
  readonly key: string;
  readonly dataDir: string;
  /** Same data dir, same key: a restart of the app on the same file. */
  restart(): Promise<TestEngine>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export interface Res<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A fixed voice list so API tests do not depend on espeak-ng being installed. */
export const TEST_VOICES: LocalVoice[] = [
  { id: 'en-us', name: 'English (America)', language: 'en', description: { en: 'English (America)' } },
  { id: 'nl', name: 'Dutch', language: 'nl', description: { en: 'Dutch', nl: 'Nederlands' } },
];

export async function startTestEngine(opts: { env?: Record<string, string>; parts?: EngineParts; dataDir?: string } = {}): Promise<TestEngine> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'engine-test-'));
  const key = 'vk_test_' + 'k'.repeat(32);
  const config = loadConfig({
    DATA_DIR: dataDir, API_HOST: '127.0.0.1', API_PORT: '0', BOOTSTRAP_API_KEY: key, LOG_LEVEL: 'silent', ...opts.env,
  });
  // API tests run without telephony unless they ask for it (parts.telephony undefined = real SIP).
  const parts: EngineParts = {
    voices: { listLocalVoices: async () => ({ available: true, voices: TEST_VOICES }) },
    telephony: null,
    ...opts.parts,
  };
  const engine = await startEngine(config, pino({ level: 'silent' }), parts);
  const self: TestEngine = {
    engine, url: engine.apiUrl, key, dataDir,
    async restart() {
      await engine.close();
      return startTestEngine({ ...opts, dataDir });
    },
    async close(o = {}) {
      await engine.close();
      if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

/** JSON request against the test engine; `key: null` sends no Authorization header. */
export async function api<T = Record<string, unknown>>(
  t: { url: string; key: string }, method: string, path: string,
  body?: unknown, o: { key?: string | null; headers?: Record<string, string>; raw?: string } = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = { ...o.headers };
  const key = o.key === undefined ? t.key : o.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let payload: string | undefined;
  if (o.raw !== undefined) payload = o.raw;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const res = await fetch(t.url + path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
}
