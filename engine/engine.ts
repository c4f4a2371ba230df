import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { EngineConfig } from '../config/index.js';
import { Store } from './store/index.js';
import { buildApp } from './api/app.js';
import type { Telephony, VoiceCatalog } from './api/deps.js';
import { localVoiceCatalog } from './voices.js';

export const VERSION = '0.1.0';

export interface RunningEngine {
  readonly config: EngineConfig;
  readonly store: Store;
  readonly api: FastifyInstance;
  /** e.g. http://127.0.0.1:8080/api/v1 */
  readonly apiUrl: string;
  /** The bootstrap key when it was created by this start (shown once), else null. */
  readonly createdApiKey: string | null;
  close(): Promise<void>;
}

export interface EngineParts {
  readonly voices?: VoiceCatalog;
  readonly telephony?: Telephony | null;
  readonly now?: () => number;
}

/**
 * Composition root: open store -> bootstrap -> API (SIP, media and the dialer join here as they
 * land). `close()` drains in reverse order and is idempotent.
 */
export async function startEngine(config: EngineConfig, log: Logger, parts: EngineParts = {}): Promise<RunningEngine> {
  const store = Store.open({ dataDir: config.dataDir, masterKey: config.masterKey });
  let api: FastifyInstance | undefined;
  try {
    const boot = store.bootstrap(config.bootstrapApiKey);
    api = await buildApp({
      config, store, log, version: VERSION,
      voices: parts.voices ?? localVoiceCatalog(),
      telephony: parts.telephony ?? null,
      ...(parts.now ? { now: parts.now } : {}),
    });
    await api.listen({ host: config.api.host, port: config.api.port });
    const addr = api.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.api.port;
    const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
    let closing: Promise<void> | undefined;
    const app = api;
    return {
      config, store, api: app,
      apiUrl: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/api/v1`,
      createdApiKey: boot.apiKey,
      close: () => (closing ??= (async () => {
        await app.close();
        store.close();
      })()),
    };
  } catch (e) {
    await api?.close();
    store.close();
    throw e;
  }
}
