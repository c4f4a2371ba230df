// Text LLM provider contract: one streamed completion per turn.
import type { ProviderError } from './errors.js';

export interface LlmToolFunction {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
}

export interface LlmToolCall {
  id: string;
  name: string;
  /** The raw JSON text of the arguments, exactly as the model produced it. */
  arguments: string;
}

export type LlmMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: readonly LlmToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface LlmRequest {
  model: string;
  messages: readonly LlmMessage[];
  temperature?: number;
  maxCompletionTokens?: number;
  tools?: readonly LlmToolFunction[];
  /** Fail with `timeout` when the first delta has not arrived within this time (default 15000). */
  firstTokenTimeoutMs?: number;
  /** Fail with `timeout` when the stream stalls this long between chunks (default 15000). */
  idleTimeoutMs?: number;
}

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export type LlmEvent =
  | { type: 'text'; delta: string }
  /** Emitted once per tool call, with its arguments fully assembled from the streamed fragments. */
  | { type: 'tool-call'; call: LlmToolCall }
  | { type: 'usage'; usage: LlmUsage }
  | { type: 'done'; finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other' };

export interface LlmProvider {
  readonly provider: string;
  /**
   * Streams one completion. Iteration throws ProviderError (retryable or not) on failure; an
   * aborted signal throws ProviderError code 'aborted' and closes the HTTP stream at once.
   */
  complete(req: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmEvent>;
}

export type { ProviderError };
