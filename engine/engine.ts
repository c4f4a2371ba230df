import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { EngineConfig } from '../config/index.js';
import { Store } from './store/index.js';
import { buildApp } from './api/app.js';
import type { Telephony, VoiceCatalog } from './api/deps.js';
import { localVoiceCatalog } from './voices.js';
import { WebhookOutbox } from './webhooks/index.js';
import { CallService } from './call/service.js';
import { ProviderResolver } from './call/providers.js';
import { recoverCrashedCalls } from './call/records.js';
import { EngineMetrics } from './metrics.js';
import type { VadEngine } from '../media/index.js';
import { Dialer, type DialerOptions } from './campaigns/index.js';

export const VERSION = '0.1.0';

export interface RunningEngine {
  readonly config: EngineConfig;
  readonly store: Store;
  readonly api: FastifyInstance;
  /** e.g. http://127.0.0.1:8080/api/v1 */
  readonly apiUrl: string;
  /** The bootstrap key when it was created by this start (shown once), else null. */
  readonly createdApiKey: string | null;
  /** The telephony runtime (null when started without telephony). */
  readonly calls: CallService | null;
  readonly outbox: WebhookOutbox;
  /** The campaign dialler (null without telephony). */
  readonly dialer: Dialer | null;
  close(): Promise<void>;
}

export interface EngineParts {
  readonly voices?: VoiceCatalog;
  /** undefined: the real SIP/media runtime; null: none (API only); an object: that implementation. */
  readonly telephony?: Telephony | null;
  /** VAD for the media engine: undefined = Silero, null = none. */
  readonly vad?: VadEngine | null;
  readonly now?: () => number;
  /** Dialler settings (limits, retry policy, loop period); defaults in engine/campaigns. */
  readonly dialer?: Partial<Omit<DialerOptions, 'store' | 'telephony' | 'log'>>;
}

/**
 * Composition root: open store -> bootstrap -> API (SIP, media and the dialer join here as they
 * land). `close()` drains in reverse order and is idempotent.
 */
export async function startEngine(config: EngineConfig, log: Logger, parts: EngineParts = {}): Promise<RunningEngine> {
  const store = Store.open({ dataDir: config.dataDir, masterKey: config.masterKey });
  let api: FastifyInstance | undefined;
  let calls: CallService | null = null;
  let dialer: Dialer | null = null;
  const metrics = new EngineMetrics();
  const outbox = new WebhookOutbox({ repo: store.outbox, allowHttp: config.webhooks.allowHttp, log: log.child({ part: 'webhooks' }) });
  try {
    const boot = store.bootstrap(config.bootstrapApiKey);
    const voices = parts.voices ?? localVoiceCatalog();
    // Calls a crash left live end now; their reports go out through the outbox.
    recoverCrashedCalls(store, outbox, log);
    outbox.start();
    if (parts.telephony === undefined) {
      calls = new CallService({
        config, store, log, outbox, voices,
        providers: new ProviderResolver(config, store), metrics,
        ...(parts.vad !== undefined ? { vad: parts.vad } : {}),
      });
      await calls.start();
    }
    api = await buildApp({
      config, store, log, version: VERSION, voices,
      telephony: parts.telephony === undefined ? calls : parts.telephony, metrics,
      ...(parts.now ? { now: parts.now } : {}),
    });
    await api.listen({ host: config.api.host, port: config.api.port });
    const addr = api.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.api.port;
    const telephony = parts.telephony === undefined ? calls : parts.telephony;
    if (telephony) {
      dialer = new Dialer({ ...parts.dialer, store, telephony, log: log.child({ part: 'dialer' }) });
      await dialer.start();
    }
    const campaignDialer = dialer;
    const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
    let closing: Promise<void> | undefined;
    const app = api;
    const callService = calls;
    return {
      config, store, api: app, calls: callService, outbox, dialer: campaignDialer,
      apiUrl: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/api/v1`,
      createdApiKey: boot.apiKey,
      close: () => (closing ??= (async () => {
        await campaignDialer?.close();
        await callService?.close();
        await app.close();
        await outbox.close();
        metrics.close();
        store.close();
      })()),
    };
  } catch (e) {
    await dialer?.close();
    await calls?.close();
    await api?.close();
    await outbox.close({ abort: true });
    metrics.close();
    store.close();
    throw e;
  }
}
