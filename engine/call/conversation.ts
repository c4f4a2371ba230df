/**
 * What a Call composes to hold a conversation: the pipeline (STT -> LLM -> TTS) or a realtime
 * speech-to-speech session, behind one interface. Conversations never touch SIP: they ask the
 * Call to end or transfer through events.
 */
import type { ProviderError } from '../providers/errors.js';

export interface CallMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type EndReason =
  | 'user_hangup' | 'assistant_hangup' | 'control_end_call' | 'silence_timeout' | 'voicemail' | 'max_duration'
  | 'transferred' | 'rejected' | 'no_answer' | 'busy' | 'failed_to_connect' | 'assistant_request_failed' | 'error';

/** One caller turn, measured on the engine's clock (ms). */
export interface TurnLatency {
  turn: number;
  /** VAD silence + wait for the STT final + turn-taking delay, from the caller's last speech. */
  endpointing_ms: number;
  /** Caller's last speech -> the STT final that completed the turn. */
  stt_final_ms: number | null;
  /** Turn end -> first LLM text. */
  llm_first_token_ms: number | null;
  /** LLM request sent -> first sentence (or clause) complete and handed to the TTS. */
  llm_first_sentence_ms: number | null;
  /** First text sent to TTS -> first audio back. */
  tts_first_audio_ms: number | null;
  /** Turn end -> first audio handed to the pacer, less the LLM's first sentence and the TTS's first audio. */
  engine_overhead_ms: number | null;
  /** Caller's last speech -> first agent audio handed to the pacer (it leaves within one 20 ms tick). */
  first_packet_ms: number | null;
}

export interface ToolInvocation {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  /** The canonical tool definition (llm_config.tools entry). */
  tool: Record<string, unknown>;
}

export interface ToolOutcome {
  id: string;
  /** Text for the LLM (results serialised; failures as "Tool <name> failed: ..."). */
  result: string;
}

/** Runs function tools through the tool-calls webhook (the Call provides it). */
export interface ToolRunner {
  run(calls: readonly ToolInvocation[], signal: AbortSignal): Promise<ToolOutcome[]>;
}

export type ConversationEvent =
  | { type: 'message'; index: number; message: CallMessage }
  | { type: 'turn-latency'; latency: TurnLatency }
  | { type: 'agent-speaking'; speaking: boolean }
  | { type: 'caller-speech'; speaking: boolean }
  | { type: 'barge-in'; heardMs: number; phase: 'interrupt' | 'confirm' | 'resume' }
  | { type: 'end-call'; reason: EndReason; detail?: string }
  | { type: 'transfer'; destination: string }
  | { type: 'voicemail'; indicator: string; leftMessage: boolean }
  | { type: 'provider-error'; error: ProviderError; fatal: boolean };

export interface Conversation {
  /** Connects providers and starts listening; resolves when ready to speak. */
  start(): Promise<void>;
  /** Speaks the greeting (first_message) at once; resolves when queued. */
  greet(text: string | null): Promise<void>;
  /** spec §7.1 */
  injectContext(content: string, triggerResponse: boolean): void;
  /** spec §7.2: speaks verbatim; resolves when played. */
  say(content: string, opts: { interruptible: boolean }): Promise<void>;
  /** Speaks a last message (if any), resolves when played. */
  farewell(message: string | null): Promise<void>;
  readonly messages: readonly CallMessage[];
  close(): Promise<void>;
}
