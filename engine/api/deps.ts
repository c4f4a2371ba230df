import type { Logger } from 'pino';
import type { EngineConfig } from '../../config/index.js';
import type { Store } from '../store/index.js';
import type { EngineMetrics } from '../metrics.js';

/** A voice the local TTS can speak (spec §4.16). */
export interface LocalVoice {
  id: string;
  name: string;
  language: string;
  description?: { en?: string; nl?: string };
}

export interface VoiceCatalog {
  listLocalVoices(): Promise<{ available: boolean; voices: LocalVoice[] }>;
}

/** Live call operations; absent until telephony is wired, then the API answers 503. */
export interface Telephony {
  placeOutbound(orgId: string, request: OutboundPlan): Promise<{ callId: string }>;
  control(orgId: string, callId: string, command: ControlCommand): Promise<void>;
}

export type ControlCommand =
  | { type: 'inject-context'; content: string; trigger_response: boolean }
  | { type: 'say'; content: string; end_after: boolean }
  | { type: 'end-call'; message?: string }
  | { type: 'transfer'; destination: string; message?: string };

/** A validated outbound request: the resolved assistant config and the caller-ID number. */
export interface OutboundPlan {
  destination: string;
  numberId: string;
  assistantId: string | null;
  assistant: Record<string, unknown>;
  firstMessage: string | null;
  metadata: Record<string, unknown> | null;
}

export interface ApiDeps {
  readonly config: EngineConfig;
  readonly store: Store;
  readonly log: Logger;
  readonly voices: VoiceCatalog;
  readonly telephony: Telephony | null;
  readonly version: string;
  /** Prometheus registry served at /metrics (absent: no /metrics route). */
  readonly metrics?: EngineMetrics;
  /** Clock for rate limits (tests may replace it). */
  readonly now?: () => number;
}
